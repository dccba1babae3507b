"""Exit status of `scrapy crawl` (docs/OPERATING.md, "Exit codes").

The rules on literal stats first, then each failure in a real `scrapy crawl`
subprocess, in replay with every socket forbidden (tests.support.nosocket): the
process status, the one log line that says why, and the stat. The "no DNS" case
crawls live with the same guard, so every name lookup is refused.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kspider.extensions import (
    EXIT_BAD_ARGUMENT,
    EXIT_BAD_START,
    EXIT_DOWNLOADS_FAILED,
    EXIT_MONITOR_FAILED,
    EXIT_STORE_UNREACHABLE,
    EXIT_TOO_FEW_ITEMS,
    crawl_failures,
)
from tests.test_incremental import FIXTURES_021CF, ROOT, crawl_env

POST_540 = "http://suzhou.021cf.cn/index.php/post/540.html"
POST_528 = "http://suzhou.021cf.cn/index.php/post/528.html"
TITLE_540 = "嘉定工业区一批标准厂房竣工交付 新增产业空间9万平方米"
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "RETRY_TIMES=0"]


def crawl(work: Path, *args: str, replay_dir: Any = FIXTURES_021CF, spider: str = "021cf") -> dict[str, Any]:
    """One `scrapy crawl` in a subprocess: its status, log, stats and refused network attempts."""
    work.mkdir(parents=True, exist_ok=True)
    net, stats = work / "net.txt", work / "stats.json"
    cmd = [sys.executable, "-m", "tests.support.nosocket", str(net), "crawl", spider, *FAST,
           "-s", f"EMBEDDED_DB_DIR={work / 'db'}", "-s", f"SPILL_DIR={work / 'spill'}",
           "-s", f"STATS_FILE={stats}", "-s", f"SPIDERMON_REPORT_FILE={work / 'report.json'}", *args]
    if replay_dir is not None:
        cmd += ["-s", f"REPLAY_DIR={replay_dir}"]
    proc = subprocess.run(cmd, cwd=ROOT, env=crawl_env(), capture_output=True, text=True, timeout=300)
    return {"code": proc.returncode, "log": proc.stderr, "net": net.read_text() if net.exists() else "",
            "stats": json.loads(stats.read_text(encoding="utf-8")) if stats.exists() else {}}


def error_lines(log: str) -> list[str]:
    return [line.split("] ERROR: ", 1)[1] for line in log.splitlines() if "] ERROR: " in line]


# --- the rules, on literal stats ------------------------------------------------------------
def test_each_condition_has_its_code_and_the_highest_wins():
    stats = {
        "spider/bad_argument/site": 1,
        "route/bad_start_url": 2,
        "download/failed/a.example": 3, "download/failed_reason/a.example/DNSLookupError": 3,
        "download/ok/b.example": 5,
        "store/spilled_items": 7,
        "monitor/site_items/b.example": 1,
        "spidermon/failed": 1, "spidermon/failed/Limits": 1,
    }
    failures = crawl_failures(stats, "021cf", {"b.example": 4}, fail_on_monitor=True)
    assert [(f.code, f.reason) for f in failures] == [
        (EXIT_BAD_ARGUMENT, "bad_argument"), (EXIT_BAD_START, "bad_start_url"),
        (EXIT_DOWNLOADS_FAILED, "downloads_failed"), (EXIT_STORE_UNREACHABLE, "store_unreachable"),
        (EXIT_MONITOR_FAILED, "monitor_failed")]
    assert failures[2].message == ("spider 021cf: every download of site a.example failed "
                                   "(3 of 3: DNSLookupError 3)")
    assert failures[3].message.startswith("spider 021cf: the store was unreachable; 7 item(s) spilled")
    # Nothing was crawled: the site is not judged on its items. Without the argument error it is.
    del stats["spider/bad_argument/site"]
    codes = [f.code for f in crawl_failures(stats, "021cf", {"b.example": 4}, fail_on_monitor=True)]
    assert codes == [EXIT_BAD_START, EXIT_DOWNLOADS_FAILED, EXIT_STORE_UNREACHABLE, EXIT_TOO_FEW_ITEMS,
                     EXIT_MONITOR_FAILED]


def test_a_site_with_some_good_downloads_and_a_clean_run_are_no_failure():
    stats = {"download/failed/a.example": 2, "download/failed_reason/a.example/http_404": 2,
             "download/ok/a.example": 9, "monitor/site_items/a.example": 4, "spidermon/failed": 0}
    assert crawl_failures(stats, "021cf", {"a.example": 1}, fail_on_monitor=True) == []
    # A failed monitor alone fails the exit status only with SPIDERMON_FAIL_EXIT.
    stats.update({"spidermon/failed": 1, "spidermon/failed/TemplateDrift": 1})
    assert crawl_failures(stats, "021cf", {"a.example": 1}, fail_on_monitor=False) == []


def test_a_worker_of_a_shared_frontier_that_drew_only_dead_links_is_no_failure():
    stats = {"distributed/worker": "021cf:host:1", "download/failed/a.example": 1,
             "download/failed_reason/a.example/http_404": 1}
    assert crawl_failures(stats, "021cf", {"a.example": 1}, False) == []
    stats.update({"download/failed/b.example": 2, "download/failed_reason/b.example/DNSLookupError": 2})
    assert [f.message for f in crawl_failures(stats, "021cf", {}, False)] == [
        "spider 021cf: every download of site b.example failed (2 of 2: DNSLookupError 2)"]


def test_too_few_items_is_not_reported_for_a_site_whose_downloads_all_failed():
    stats = {"download/failed/a.example": 1, "download/failed_reason/a.example/TimeoutError": 1}
    assert [f.reason for f in crawl_failures(stats, "x", {"a.example": 1}, False)] == ["downloads_failed"]


# --- real crawls ----------------------------------------------------------------------------
def test_green_run_exits_zero(tmp_path):
    run = crawl(tmp_path, "-a", f"urls={POST_540}")
    assert run["code"] == 0, run["log"][-3000:]
    assert run["stats"]["exit/code"] == 0
    assert run["stats"]["item_scraped_count"] >= 1 and run["net"] == ""
    assert not [k for k in run["stats"] if k.startswith("exit/failure/")]
    from tests.test_incremental import open_test_store

    store = open_test_store(tmp_path)
    try:
        stored = store.find("articles", {"url": POST_540})
        assert [doc["title"] for doc in stored] == [TITLE_540]
    finally:
        store.close()


def test_misspelt_argument_exits_8_and_crawls_nothing(tmp_path):
    run = crawl(tmp_path, "-a", "site=suzhou.021cf.cn")
    assert run["code"] == EXIT_BAD_ARGUMENT
    assert ("unknown spider argument -a site=… (spider 021cf accepts full, sites, urls); did you mean -a sites=?; "
            "nothing crawled") in error_lines(run["log"])
    assert "crawl failed [bad_argument, exit 8]: spider 021cf: unknown argument(s) site; nothing crawled" in \
        error_lines(run["log"])
    assert run["stats"]["spider/bad_argument/site"] == 1 and run["stats"]["exit/code"] == EXIT_BAD_ARGUMENT
    assert run["stats"].get("downloader/request_count", 0) == 0


def test_sites_naming_no_registry_host_exits_8(tmp_path):
    run = crawl(tmp_path, "-a", "sites=www.example.com")
    assert run["code"] == EXIT_BAD_ARGUMENT
    assert run["stats"]["spider/unknown_site/www.example.com"] == 1
    assert any("-a sites= names 1 host(s) no registry entry of this spider covers (www.example.com)" in line
               for line in error_lines(run["log"]))
    assert run["stats"].get("downloader/request_count", 0) == 0


def test_missing_replay_dir_exits_7_without_going_live(tmp_path):
    run = crawl(tmp_path, replay_dir=tmp_path / "no-such-set")
    assert run["code"] == EXIT_BAD_START
    assert run["net"] == ""  # never live instead
    assert run["stats"]["replay/dir_missing"] == 1 and run["stats"]["exit/failure/replay_dir_missing"] == 1
    assert f"REPLAY_DIR {tmp_path / 'no-such-set'} does not exist (or is not a directory): nothing to replay" in \
        error_lines(run["log"])
    assert run["stats"].get("downloader/request_count", 0) == 0


def test_refused_start_url_exits_7_and_the_others_are_crawled(tmp_path):
    run = crawl(tmp_path, "-a", f"urls=not-a-url,http://www.example.com/index.php/post/1.html,{POST_540}")
    assert run["code"] == EXIT_BAD_START
    assert run["stats"]["route/bad_start_url"] == 2
    assert "crawl failed [bad_start_url, exit 7]: spider 021cf: 2 start URL(s) invalid or refused " \
           "(each logged above), limit 0" in error_lines(run["log"])
    assert run["stats"]["item_scraped_count"] >= 1  # the good start URL was crawled


def test_every_download_failing_exits_6(tmp_path):
    # Live (no REPLAY_DIR) with every name lookup refused: a crawl with no DNS.
    run = crawl(tmp_path, "-a", "urls=http://suzhou.021cf.cn/", replay_dir=None)
    assert run["code"] == EXIT_DOWNLOADS_FAILED
    assert "suzhou.021cf.cn" in run["net"]
    assert run["stats"]["download/failed/suzhou.021cf.cn"] == 1
    assert run["stats"].get("download/ok/suzhou.021cf.cn", 0) == 0
    lines = [line for line in error_lines(run["log"]) if line.startswith("crawl failed [downloads_failed, exit 6]")]
    assert len(lines) == 1 and "every download of site suzhou.021cf.cn failed (1 of 1: " in lines[0]


def test_requests_refused_by_robots_txt_are_no_failed_downloads(tmp_path):
    """A site whose robots.txt refuses the page: nothing was downloaded, so nothing failed to download;
    the site gave nothing (exit 4), not "every download failed" (exit 6)."""
    import shutil

    fixtures = tmp_path / "set"
    shutil.copytree(FIXTURES_021CF, fixtures)
    (fixtures / "suzhou.021cf.cn" / "robots.txt").write_text("User-agent: *\nDisallow: /\n", encoding="utf-8")
    manifest = fixtures / "manifest.jsonl"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('"Content-Length": "36", ', ""),
                        encoding="utf-8")
    run = crawl(tmp_path / "run", "-a", f"urls={POST_540}", replay_dir=fixtures)
    assert run["stats"]["robotstxt/forbidden"] == 1
    assert "download/failed/suzhou.021cf.cn" not in run["stats"]
    assert run["code"] == EXIT_TOO_FEW_ITEMS


def test_store_unreachable_exits_5(tmp_path):
    # A MongoDB the guard refuses: every write spills.
    run = crawl(tmp_path, "-a", f"urls={POST_540}", "-s", "MONGO_URI=mongodb://127.0.0.1:9/",
                "-s", "MONGO_TIMEOUT_MS=200")
    assert run["code"] == EXIT_STORE_UNREACHABLE, [k for k in run["stats"] if k.startswith("store/")]
    assert run["stats"]["store/spilled_items"] >= 1
    assert any(line.startswith("crawl failed [store_unreachable, exit 5]: spider 021cf: the store was unreachable; ")
               for line in error_lines(run["log"]))
    assert any((tmp_path / "spill").iterdir())


def test_a_site_that_yields_nothing_exits_4(tmp_path):
    # The one article crawled is off the site's topic (a history piece on a park-news crawl): the
    # download worked, the spider dropped it on purpose, and the site gave nothing.
    off_topic = "https://xinjiapo.news/news/41561"
    run = crawl(tmp_path, "-a", f"urls={off_topic}", replay_dir=ROOT / "fixtures" / "xinjiapo", spider="xinjiapo")
    assert run["code"] == EXIT_TOO_FEW_ITEMS
    assert run["stats"]["download/ok/xinjiapo.news"] >= 1 and run["stats"]["topic/dropped"] == 1
    assert ("crawl failed [too_few_items, exit 4]: spider xinjiapo: site xinjiapo.news gave 0 item(s) (stored or "
            "already known), expected at least 1 (Site.min_items)") in error_lines(run["log"])
    assert run["stats"]["exit/failure/too_few_items"] == 1


def test_failed_monitor_exits_3_with_spidermon_fail_exit_and_one_readable_line(tmp_path):
    missing = "http://suzhou.021cf.cn/index.php/post/99999.html"  # not in the fixture set: a replay miss
    run = crawl(tmp_path, "-a", f"urls={POST_540},{missing}", "-s", "SPIDERMON_FAIL_EXIT=1")
    assert run["code"] == EXIT_MONITOR_FAILED == 3
    assert "monitor Limits failed: spider 021cf: replay/miss=1, limit 0" in error_lines(run["log"])
    assert "Traceback" not in run["log"] and "AssertionError" not in run["log"]
    assert run["stats"]["spidermon/failed/Limits"] == 1 and run["stats"]["exit/failure/monitor_failed"] == 1
    # The same run without SPIDERMON_FAIL_EXIT: the site gave its item, a page missing is no exit failure.
    again = crawl(tmp_path / "again", "-a", f"urls={POST_540},{missing}")
    assert again["code"] == 0 and again["stats"]["spidermon/failed/Limits"] == 1


def test_exit_on_failure_off_keeps_the_log_line_and_exits_zero(tmp_path):
    run = crawl(tmp_path, "-a", f"urls=not-a-url,{POST_540}", "-s", "EXIT_ON_FAILURE=0")
    assert run["code"] == 0
    assert run["stats"]["exit/failure/bad_start_url"] == 1 and run["stats"]["exit/code"] == 0
    assert "EXIT_ON_FAILURE is off: exit status 0 despite 1 failure(s)" in run["log"]


def test_scrapyd_job_process_exits_non_zero(tmp_path):
    """Scrapyd starts each job as `python -m scrapyd.runner crawl SPIDER -a _job=ID ...`."""
    # What Scrapyd's runner sets up from the deployed egg (its settings entry point).
    env = dict(crawl_env(), SCRAPY_PROJECT="kspider", SCRAPY_SETTINGS_MODULE="kspider.settings")
    proc = subprocess.run(
        [sys.executable, "-m", "scrapyd.runner", "crawl", "021cf", "-s", f"REPLAY_DIR={FIXTURES_021CF}",
         "-s", f"EMBEDDED_DB_DIR={tmp_path / 'db'}", "-s", f"STATS_FILE={tmp_path / 'stats.json'}",
         "-a", "_job=6487ec7a", "-a", "full=1", "-a", "sities=suzhou.021cf.cn"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == EXIT_BAD_ARGUMENT, proc.stderr[-3000:]
    stats = json.loads((tmp_path / "stats.json").read_text(encoding="utf-8"))
    # Scrapyd's own _job argument is accepted; only the misspelt one is refused.
    assert [k for k in stats if k.startswith("spider/bad_argument/")] == ["spider/bad_argument/sities"]
