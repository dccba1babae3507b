"""Incremental crawls: posts already stored are not fetched again, fully-known listings stop.

The rules are tested as a pure function on real requests, then end to end: the
021cf spider replays fixtures/021cf four times into one embedded store, in a
subprocess with every socket forbidden. The fixture set (fixtures/021cf/README.md)
has 2 start hosts with 11 listing pages (kunshanmaigao: home ×2, category-1,
category-2, category-3 ×2; suzhou: home ×2, category-3 ×2, category-4), 17 post
URLs (16 post pages, 15 articles: 2051 redirects to 2050) and a robots.txt per host.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import pytest
from scrapy import Request

from kspider.extract.ids import url_fingerprint
from kspider.incremental import STREAK_KEY, filter_output, recover_jobdir, since_iso

ROOT = Path(__file__).resolve().parent.parent
FIXTURES_021CF = ROOT / "fixtures" / "021cf"
# Replay needs no politeness delay; a 1 s delay per request would only slow the tests down.
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "LOG_LEVEL=DEBUG"]
CRAWLED = re.compile(r"Crawled \((\d+)\) <GET ([^>]+)>")


# --- helpers shared by the operations tests --------------------------------------
def crawl_env() -> dict[str, str]:
    """The environment of a subprocess crawl: the repository importable, no settings leaking in."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for name in ("REPLAY_DIR", "RECORD_DIR", "MONGO_URI", "EMBEDDED_DB_DIR", "SPIDERMON_FAIL_EXIT",
                 "SPIDERMON_REPORT_FILE", "SPIDERMON_REPORT_DIR", "STATS_FILE", "http_proxy", "HTTP_PROXY"):
        env.pop(name, None)
    return env


def crawl_cmd(spider: str, replay_dir: Path, work: Path, run: str, *extra: str) -> list[str]:
    """`scrapy crawl` through tests.support.nosocket (any network attempt is refused and recorded)."""
    return [
        sys.executable, "-m", "tests.support.nosocket", str(work / f"{run}.net"),
        "crawl", spider, *FAST,
        "-s", f"REPLAY_DIR={replay_dir}",
        "-s", f"EMBEDDED_DB_DIR={work / 'db'}",
        "-s", f"SPILL_DIR={work / 'spill'}",
        "-s", f"STATS_FILE={work / (run + '.stats.json')}",
        "-s", f"SPIDERMON_REPORT_FILE={work / (run + '.report.json')}",
        *extra,
    ]


def run_crawl(spider: str, replay_dir: Path, work: Path, run: str, *extra: str,
              errors_expected: bool = False) -> dict[str, Any]:
    """Run one crawl to its end; its final stats (plus `_returncode`, `_log`, `_fetched`)."""
    proc = subprocess.run(crawl_cmd(spider, replay_dir, work, run, *extra), cwd=ROOT, env=crawl_env(),
                          capture_output=True, text=True, timeout=300)
    stats_path = work / f"{run}.stats.json"
    assert stats_path.exists(), f"crawl {run} wrote no stats:\n{proc.stderr[-3000:]}"
    stats = json.loads(stats_path.read_text(encoding="utf-8"))
    assert (work / f"{run}.net").read_text() == "", "a replay crawl tried to use the network"
    if not errors_expected:
        error_lines = [line for line in proc.stderr.splitlines() if "] ERROR:" in line]
        assert stats.get("log_count/ERROR", 0) == 0, f"crawl {run} logged errors: {error_lines}"
    stats["_returncode"] = proc.returncode
    stats["_log"] = proc.stderr
    # Every URL downloaded, in order (Scrapy's DEBUG line per response).
    stats["_fetched"] = [url for _, url in CRAWLED.findall(proc.stderr)]
    return stats


def open_test_store(work: Path) -> Any:
    from kspider.store import open_store

    return open_store({"EMBEDDED_DB_DIR": str(work / "db"), "SPILL_DIR": str(work / "spill"), "MONGO_URI": ""})


def stored_urls(work: Path, collection: str = "articles") -> list[str]:
    store = open_test_store(work)
    try:
        return sorted(doc["canonical_url"] for doc in store.collections[collection].find({}))
    finally:
        store.close()


# --- the rules, as a pure function ------------------------------------------------
def post(url: str) -> Request:
    return Request(url, meta={"route": "parse_post", "page_kind": "post"})


def listing(url: str, **meta: Any) -> Request:
    return Request(url, meta={"route": "parse_listing", "page_kind": "listing", **meta})


HOME = "http://kunshanmaigao.021cf.cn/"
P2068 = "http://kunshanmaigao.021cf.cn/index.php/post/2068.html"
P2066 = "http://kunshanmaigao.021cf.cn/index.php/post/2066.html"
PAGE2 = "http://kunshanmaigao.021cf.cn/index.php/page_2.html"
CAT1 = "http://kunshanmaigao.021cf.cn/index.php/category-1.html"


def test_known_posts_dropped_and_unknown_kept_with_streak_reset():
    outputs = [post(P2068), post(P2066), listing(PAGE2), {"title": "an item passes through"}]
    kept, counts = filter_output(outputs, {url_fingerprint(P2066)}, True, 0, 1)
    assert [getattr(o, "url", o) for o in kept] == [P2068, PAGE2, {"title": "an item passes through"}]
    assert counts == {"skipped": 1, "stopped": 0, "dropped_pages": 0, "would_stop": 0}
    assert kept[1].meta[STREAK_KEY] == 0


def test_fully_known_listing_stops_its_pagination_but_not_marked_chain_starts():
    outputs = [post(P2068), post(P2066), listing(PAGE2), listing(CAT1, pagination=False)]
    known = {url_fingerprint(P2068), url_fingerprint(P2066)}
    kept, counts = filter_output(outputs, known, True, 0, 1)
    assert [o.url for o in kept] == [CAT1]
    assert kept[0].meta[STREAK_KEY] == 0
    assert counts == {"skipped": 2, "stopped": 1, "dropped_pages": 1, "would_stop": 0}


def test_stop_pages_two_needs_two_known_pages_in_a_row():
    known = {url_fingerprint(P2068)}
    kept, counts = filter_output([post(P2068), listing(PAGE2)], known, True, 0, 2)
    assert [o.url for o in kept] == [PAGE2] and kept[0].meta[STREAK_KEY] == 1 and counts["stopped"] == 0
    # The next page arrives carrying streak 1 and is fully known again: its next page is dropped.
    kept, counts = filter_output([post(P2068), listing(CAT1)], known, True, 1, 2)
    assert kept == [] and counts == {"skipped": 1, "stopped": 1, "dropped_pages": 1, "would_stop": 0}


def test_empty_listing_does_not_count_as_known_and_post_pages_never_stop():
    kept, counts = filter_output([listing(PAGE2)], set(), True, 3, 1)
    assert [o.url for o in kept] == [PAGE2] and kept[0].meta[STREAK_KEY] == 0 and counts["stopped"] == 0
    # A post page's own links (related posts) are filtered, but nothing stops there.
    kept, counts = filter_output([post(P2068), listing(PAGE2)], {url_fingerprint(P2068)}, False, 0, 1)
    assert [o.url for o in kept] == [PAGE2] and counts == {"skipped": 1, "stopped": 0, "dropped_pages": 0, "would_stop": 0}


def test_since_iso_is_refetch_days_before_now():
    from datetime import datetime, timezone

    assert since_iso(datetime(2026, 2, 19, 8, 0, tzinfo=timezone.utc), 7) == "2026-02-12T08:00:00+00:00"
    assert since_iso(datetime(2026, 2, 19, 8, 0, tzinfo=timezone.utc), 0.5) == "2026-02-18T20:00:00+00:00"


def test_recover_jobdir_drops_request_state_only_after_a_killed_run(tmp_path):
    (tmp_path / "requests.queue").mkdir()
    (tmp_path / "requests.queue" / "active.json").write_text("{}")
    (tmp_path / "requests.seen").write_text("abc\n")
    (tmp_path / "spider.state").write_bytes(b"state")
    assert recover_jobdir(tmp_path) is False  # no marker: a graceful stop, resume as Scrapy does
    assert (tmp_path / "requests.seen").exists()
    (tmp_path / "kspider.running").write_text("running\n")
    assert recover_jobdir(tmp_path) is True
    assert not (tmp_path / "requests.seen").exists() and not (tmp_path / "requests.queue").exists()
    assert (tmp_path / "spider.state").read_bytes() == b"state"


LISTINGS = {
    "http://kunshanmaigao.021cf.cn/", "http://kunshanmaigao.021cf.cn/index.php/page_2.html",
    "http://kunshanmaigao.021cf.cn/index.php/category-1.html", "http://kunshanmaigao.021cf.cn/index.php/category-2.html",
    "http://kunshanmaigao.021cf.cn/index.php/category-3.html", "http://kunshanmaigao.021cf.cn/index.php/category-3_2.html",
    "http://suzhou.021cf.cn/", "http://suzhou.021cf.cn/index.php/page_2.html",
    "http://suzhou.021cf.cn/index.php/category-3.html", "http://suzhou.021cf.cn/index.php/category-3_2.html",
    "http://suzhou.021cf.cn/index.php/category-4.html",
}


# --- end to end: recrawling the 021cf fixture set --------------------------------------
@pytest.fixture(scope="module")
def recrawls(tmp_path_factory):
    if not (FIXTURES_021CF / "manifest.jsonl").exists():
        pytest.fail("fixtures/021cf/manifest.jsonl is missing")
    work = tmp_path_factory.mktemp("incremental")
    runs: dict[str, Any] = {"work": work}
    runs["first"] = run_crawl("021cf", FIXTURES_021CF, work, "first")
    runs["first_urls"] = stored_urls(work)
    runs["again"] = run_crawl("021cf", FIXTURES_021CF, work, "again")
    runs["no_stop"] = run_crawl("021cf", FIXTURES_021CF, work, "no_stop", "-s", "INCREMENTAL_STOP_PAGES=0")
    runs["full"] = run_crawl("021cf", FIXTURES_021CF, work, "full", "-a", "full=1")
    runs["expired"] = run_crawl("021cf", FIXTURES_021CF, work, "expired", "-s", "REFETCH_DAYS=0")
    # A post that is new to the store: delete it, then crawl incrementally again.
    store = open_test_store(work)
    try:
        assert store.collections["articles"].delete_many({"_id": url_fingerprint(P2068)}).deleted_count == 1
    finally:
        store.close()
    runs["one_new"] = run_crawl("021cf", FIXTURES_021CF, work, "one_new")
    runs["final_urls"] = stored_urls(work)
    return runs


def test_first_crawl_fetches_every_page(recrawls):
    first = recrawls["first"]
    assert first["incremental/mode"] == "incremental"
    assert first["template/post_pages"] == 16
    # 2 robots.txt + 11 listing pages + 16 post pages, each fetched once (a home page's
    # link to itself as page 1 is filtered as a duplicate of the start request).
    assert first["downloader/request_count"] == 29
    assert "incremental/skipped" not in first
    # 16 post pages, 15 articles: 2051 redirects to 2050, one document with an alternate URL.
    assert len(recrawls["first_urls"]) == 15
    assert "http://kunshanmaigao.021cf.cn/index.php/post/2068.html" in recrawls["first_urls"]


def test_unchanged_recrawl_fetches_listing_pages_only(recrawls):
    again = recrawls["again"]
    # robots.txt and the two home pages: each lists only stored posts, so no post and no next page is fetched.
    assert again["downloader/request_count"] == 4
    assert sorted(again["_fetched"]) == [
        "http://kunshanmaigao.021cf.cn/", "http://kunshanmaigao.021cf.cn/robots.txt",
        "http://suzhou.021cf.cn/", "http://suzhou.021cf.cn/robots.txt",
    ]
    assert again.get("template/post_pages", 0) == 0
    assert again["incremental/skipped"] == 9  # 5 posts on kunshanmaigao's home page, 4 on suzhou's
    assert again["incremental/skipped/kunshanmaigao.021cf.cn"] == 5
    assert again["incremental/stopped_listings"] == 2
    assert again.get("item_scraped_count", 0) == 0
    # Skipped posts count toward Site.min_items: an unchanged site is not a failed crawl.
    assert again["spidermon/failed"] == 0 and again["_returncode"] == 0


def test_without_stopping_every_listing_page_and_no_post_is_fetched(recrawls):
    no_stop = recrawls["no_stop"]
    assert {url for url in no_stop["_fetched"] if not url.endswith("robots.txt")} == LISTINGS
    # 2 robots.txt + 11 listing pages, each once.
    assert no_stop["downloader/request_count"] == 2 + 11
    assert no_stop.get("template/post_pages", 0) == 0
    assert no_stop.get("incremental/stopped_listings", 0) == 0


def test_full_argument_and_expired_window_fetch_every_post(recrawls):
    for run in ("full", "expired"):
        stats = recrawls[run]
        assert stats["template/post_pages"] == 16, run
        assert stats["downloader/request_count"] == 29, run
        assert stats.get("incremental/skipped", 0) == 0, run
    assert recrawls["full"]["incremental/mode"] == "full"


def test_a_post_missing_from_the_store_is_the_only_post_fetched(recrawls):
    one_new = recrawls["one_new"]
    assert one_new["template/post_pages"] == 1
    assert [url for url in one_new["_fetched"] if "/post/" in url] == [P2068]
    assert one_new["item_valid/article"] == 1
    assert recrawls["final_urls"] == recrawls["first_urls"]
