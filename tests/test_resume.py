"""Resumable jobs: ``-s JOBDIR=…`` survives a hard kill and a graceful stop.

A replay crawl of the 021cf spider runs in a subprocess with ``HaltAfterItems``
(below) as its last pipeline: after N items have passed the store pipeline
(``STORE_BATCH_SIZE=1``, so they are written) it prints a line and blocks
reading its stdin. The test waits for that line — an event, not a clock — and
then kills the process (SIGKILL), or stops it gracefully (SIGTERM, then
unblocks it). A second run with the same JOBDIR must complete the job: the
store then holds exactly the documents of an uninterrupted reference crawl,
and every post URL of the fixture set once.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.test_incremental import FIXTURES_021CF, ROOT, crawl_cmd, crawl_env, open_test_store, run_crawl

HALT_LINE = "KSPIDER-TEST-HALTED"
HALT_AFTER = 4


class HaltAfterItems:
    """Test pipeline: after ``HALT_AFTER_ITEMS`` items, announce it on stdout and block on stdin."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> "HaltAfterItems":
        return cls(crawler.settings.getint("HALT_AFTER_ITEMS", 0))

    def process_item(self, item: Any, spider: Any = None) -> Any:
        self.count += 1
        if self.count == self.limit:
            print(HALT_LINE, flush=True)
            sys.stdin.readline()  # the test kills us here, or writes a line to let us finish
        return item


def store_snapshot(work: Path) -> dict[str, Any]:
    """Article and ad `_id`s, and every URL the articles answer for (canonical and alternate)."""
    store = open_test_store(work)
    try:
        articles = list(store.collections["articles"].find({}))
        ads = list(store.collections["rental_ads"].find({}))
    finally:
        store.close()
    urls = [doc["canonical_url"] for doc in articles] + [u for doc in articles for u in doc.get("alt_urls") or []]
    return {"article_ids": sorted(d["_id"] for d in articles), "ad_ids": sorted(d["_id"] for d in ads),
            "urls": sorted(urls)}


def expected_post_urls() -> list[str]:
    expected = json.loads((FIXTURES_021CF / "expected.json").read_text(encoding="utf-8"))
    return sorted(u for u in expected["crawl"]["urls"] if "/post/" in u)


def halted_run(work: Path, run: str, jobdir: Path, stop: str) -> subprocess.CompletedProcess:
    """Start a JOBDIR crawl, wait until it halts after HALT_AFTER items, then stop it with `stop`."""
    cmd = crawl_cmd("021cf", FIXTURES_021CF, work, run,
                    "-s", f"JOBDIR={jobdir}", "-s", "STORE_BATCH_SIZE=1", "-s", "CONCURRENT_REQUESTS=1",
                    "-s", f"HALT_AFTER_ITEMS={HALT_AFTER}",
                    "-s", 'ITEM_PIPELINES={"kspider.pipelines.clean.CleaningPipeline": 100, '
                          '"kspider.pipelines.validate.ValidationPipeline": 300, '
                          '"kspider.pipelines.store.StorePipeline": 800, '
                          '"tests.test_resume.HaltAfterItems": 900}')
    proc = subprocess.Popen(cmd, cwd=ROOT, env=crawl_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdin is not None
    halted = False
    for line in proc.stdout:  # blocks until the pipeline announces the halt (or the process ends)
        if line.strip() == HALT_LINE:
            halted = True
            break
    if not halted:
        out, err = proc.communicate(timeout=60)
        pytest.fail(f"the crawl ended without halting after {HALT_AFTER} items:\n{err[-3000:]}")
    if stop == "kill":
        proc.send_signal(signal.SIGKILL)
    else:
        proc.send_signal(signal.SIGTERM)  # Scrapy's graceful stop, handled once the pipeline returns
        proc.stdin.write("go on\n")
        proc.stdin.flush()
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("resume_reference")
    stats = run_crawl("021cf", FIXTURES_021CF, work, "reference")
    assert stats["finish_reason"] == "finished"
    return store_snapshot(work)


def test_reference_crawl_stores_every_post_once(reference):
    assert reference["urls"] == expected_post_urls()
    assert len(reference["urls"]) == 16 and len(reference["article_ids"]) == 15  # 532 ≡ 1873 (same text)


def test_kill_then_resume_stores_every_item_exactly_once(tmp_path, reference):
    jobdir = tmp_path / "job"
    killed = halted_run(tmp_path, "killed", jobdir, "kill")
    assert killed.returncode == -signal.SIGKILL
    assert (jobdir / "kspider.running").exists()  # the killed run could not clear its marker
    before = store_snapshot(tmp_path)
    stored_before = len(before["article_ids"]) + len(before["ad_ids"])
    assert 1 <= stored_before <= HALT_AFTER
    assert stored_before < len(reference["article_ids"]) + len(reference["ad_ids"])

    resumed = run_crawl("021cf", FIXTURES_021CF, tmp_path, "resumed", "-s", f"JOBDIR={jobdir}")
    assert resumed["finish_reason"] == "finished"
    assert resumed["jobdir/recovered_after_kill"] == 1
    assert resumed.get("scheduler/unserializable", 0) == 0  # every request went to the disk queue
    assert resumed["scheduler/enqueued/disk"] >= 1
    # Posts stored before the kill are not fetched again.
    refetched = set(resumed["_fetched"]) & set(before["urls"])
    assert refetched == set()
    assert resumed["incremental/skipped"] >= 1
    after = store_snapshot(tmp_path)
    assert after == reference
    assert not (jobdir / "kspider.running").exists()


def test_graceful_stop_then_resume_continues_the_queue(tmp_path, reference):
    jobdir = tmp_path / "job"
    stopped = halted_run(tmp_path, "stopped", jobdir, "term")
    assert stopped.returncode == 0, stopped.stderr[-3000:]
    first = json.loads((tmp_path / "stopped.stats.json").read_text(encoding="utf-8"))
    assert first["finish_reason"] == "shutdown"
    assert not (jobdir / "kspider.running").exists()
    assert (jobdir / "requests.seen").stat().st_size > 0  # Scrapy's own state, kept for the resume

    resumed = run_crawl("021cf", FIXTURES_021CF, tmp_path, "resumed", "-s", f"JOBDIR={jobdir}")
    assert resumed["finish_reason"] == "finished"
    assert "jobdir/recovered_after_kill" not in resumed
    # The resumed run picked pending requests from the saved queue.
    assert resumed["scheduler/dequeued/disk"] >= 1
    after = store_snapshot(tmp_path)
    assert after == reference


def test_seen_requests_of_a_killed_run_do_not_hide_unstored_posts(tmp_path, reference):
    """A killed run whose dupefilter reached the disk (big crawls do; this small one does not
    before the kill above) must not make the next run filter out posts that were never stored."""
    jobdir = tmp_path / "job"
    # A run cut short keeps its seen-set (a finished one clears it): 20 of the 29 pages fetched.
    done = run_crawl("021cf", FIXTURES_021CF, tmp_path, "complete", "-s", f"JOBDIR={jobdir}",
                     "-s", "CLOSESPIDER_PAGECOUNT=20", "-s", "CONCURRENT_REQUESTS=1")
    assert done["finish_reason"] == "closespider_pagecount" and (jobdir / "requests.seen").stat().st_size > 0
    # As if the process had been killed after its seen-set was written but before any item was stored.
    (jobdir / "kspider.running").write_text("running\n")
    store = open_test_store(tmp_path)
    try:
        store.collections["articles"].delete_many({})
        store.collections["rental_ads"].delete_many({})
    finally:
        store.close()
    rerun = run_crawl("021cf", FIXTURES_021CF, tmp_path, "rerun", "-s", f"JOBDIR={jobdir}")
    assert rerun["jobdir/recovered_after_kill"] == 1
    assert rerun["template/post_pages"] == 16
    assert store_snapshot(tmp_path) == reference


def test_a_finished_job_does_not_filter_the_next_scheduled_run(tmp_path, reference):
    """A JOBDIR is one job: after it finished, the same command on the next schedule is a new job
    whose requests the old seen-set must not filter (its posts are skipped by the store instead)."""
    jobdir = tmp_path / "job"
    first = run_crawl("021cf", FIXTURES_021CF, tmp_path, "first", "-s", f"JOBDIR={jobdir}")
    assert first["finish_reason"] == "finished" and first["template/post_pages"] == 16
    assert not (jobdir / "requests.seen").exists()
    store = open_test_store(tmp_path)
    try:
        assert store.collections["articles"].delete_many({"_id": {"$in": reference["article_ids"][:3]}}).deleted_count == 3
    finally:
        store.close()
    again = run_crawl("021cf", FIXTURES_021CF, tmp_path, "again", "-s", f"JOBDIR={jobdir}")
    assert again["finish_reason"] == "finished" and again["template/post_pages"] >= 3
    snapshot = store_snapshot(tmp_path)
    assert (snapshot["article_ids"], snapshot["ad_ids"]) == (reference["article_ids"], reference["ad_ids"])
