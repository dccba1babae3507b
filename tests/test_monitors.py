"""Spidermon monitors: the checks on literal stats, then a drifted template end to end.

The drifted fixture set is a copy of fixtures/021cf made at test time, with the
post pages' markup changed the way a theme update would change it (the
transform asserts that it hit every post page, so a change to the fixture set
cannot make this test pass vacuously): ``<span class="date">`` becomes
``<span class="pubdate">``, so the template's date selector finds nothing and
the generic extractor has to read the dates.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import pytest

from kspider.monitors import (
    coverage_problems,
    crawled_hosts,
    drift_problems,
    failure_message,
    fallback_warnings,
    limit_problems,
    min_items_problems,
    record_fallback_url,
)
from kspider.sites import host_of, sites_for_spider
from tests.test_incremental import FIXTURES_021CF, run_crawl

# The hosts the 021cf spider starts from; the set's other hosts are only reached with -a urls.
CRAWLED = {"kunshanmaigao.021cf.cn", "suzhou.021cf.cn"}
COVERAGE = {"article/title": 0.95, "article/published_at": 0.8, "article/content_text": 0.9,
            "rental_ad/area_or_price": 0.7}


# --- the checks, on literal stats ------------------------------------------------------
def test_min_items_counts_stored_and_already_known_items_per_site():
    stats = {"monitor/site_items/suzhou.021cf.cn": 1, "incremental/skipped/kunshanmaigao.021cf.cn": 5}
    assert min_items_problems(stats, "021cf", {"suzhou.021cf.cn": 1, "kunshanmaigao.021cf.cn": 1}) == []
    assert min_items_problems(stats, "021cf", {"suzhou.021cf.cn": 3}) == [
        "spider 021cf: site suzhou.021cf.cn gave 1 item(s) (stored or already known), expected at least 3 "
        "(Site.min_items)"
    ]


def test_crawled_hosts_follow_the_spider_arguments():
    registry = sites_for_spider("021cf")
    assert crawled_hosts(SimpleNamespace(arg_urls=[], only_hosts=set(), registry=registry)) == [
        "kunshanmaigao.021cf.cn", "suzhou.021cf.cn"]
    assert crawled_hosts(SimpleNamespace(arg_urls=["http://taicang.021cf.cn/index.php/post/88.html"],
                                         only_hosts=set(), registry=registry)) == ["taicang.021cf.cn"]
    assert crawled_hosts(SimpleNamespace(arg_urls=[], only_hosts={"anting.021cf.cn"}, registry=registry)) == [
        "anting.021cf.cn"]


def test_coverage_names_the_field_below_its_threshold():
    stats = {"coverage/article/items": 20, "coverage/article/title": 20, "coverage/article/published_at": 15,
             "coverage/article/content_text": 19, "coverage/rental_ad/items": 4,
             "coverage/rental_ad/area_or_price": 2}
    assert coverage_problems(stats, "xinjiapo", COVERAGE) == [
        "spider xinjiapo: field published_at present on 75% of 20 article item(s), below 80%",
        "spider xinjiapo: field area_or_price present on 50% of 4 rental_ad item(s), below 70%",
    ]
    assert coverage_problems({}, "xinjiapo", COVERAGE) == []  # nothing stored: nothing to measure


def test_limits_on_invalid_items_replay_misses_and_errors():
    stats = {"item_invalid/article/title": 2, "item_invalid/article": 2, "replay/miss": 1, "log_count/ERROR": 3}
    assert limit_problems(stats, "jssuxun", 0, 0, 5) == [
        "spider jssuxun: 2 invalid item field(s) (item_invalid/article/title=2), limit 0",
        "spider jssuxun: replay/miss=1, limit 0",
    ]
    assert limit_problems(stats, "jssuxun", 2, 1, 3) == []


def test_drift_names_empty_post_pages_and_missing_fields():
    stats = {"template/post_pages": 10, "template/post_pages_without_article": 2,
             "template/articles_parsed": 8, "template/article_missing/published_at": 8,
             "template/article_missing/title": 0}
    assert drift_problems(stats, "021cf", COVERAGE, 0.1) == [
        "spider 021cf: template drift: 2 of 10 post page(s) gave no article, limit 10%",
        "spider 021cf: template drift: field published_at missing on 8 of 8 parsed post page(s), limit 20% missing",
    ]
    assert drift_problems({"template/post_pages": 10, "template/post_pages_without_article": 1}, "021cf",
                          COVERAGE, 0.1) == []


def test_layout_fallbacks_are_drift_warnings_naming_field_and_last_urls():
    from scrapy.statscollectors import MemoryStatsCollector
    from scrapy.utils.test import get_crawler

    stats = MemoryStatsCollector(get_crawler())
    stats.set_value("template/articles_parsed", 16)
    for n in range(1, 8):  # seven pages whose date the generic extractor supplied; the last five are named
        stats.inc_value("extract/fallback/published_at")
        record_fallback_url(stats, "published_at", f"http://suzhou.021cf.cn/index.php/post/{n}.html")
    stats.inc_value("extract/fallback/title")
    record_fallback_url(stats, "title", "http://suzhou.021cf.cn/index.php/post/9.html")
    record_fallback_url(stats, "title", "http://suzhou.021cf.cn/index.php/post/9.html")  # once per page
    assert fallback_warnings(stats.get_stats(), "021cf") == [
        "spider 021cf: layout drift: field published_at read by the generic extractor on 7 of 16 parsed post "
        "page(s) (template selectors missed it; items kept); last: "
        + ", ".join(f"http://suzhou.021cf.cn/index.php/post/{n}.html" for n in range(3, 8)),
        "spider 021cf: layout drift: field title read by the generic extractor on 1 of 16 parsed post page(s) "
        "(template selectors missed it; items kept); last: http://suzhou.021cf.cn/index.php/post/9.html",
    ]
    # Fallbacks are no failure: no drift problem, the items are counted as parsed with their fields.
    assert drift_problems(stats.get_stats(), "021cf", COVERAGE, 0.1) == []


def test_drift_middleware_names_the_page_whose_callback_counted_a_fallback():
    from scrapy.http import HtmlResponse, Request
    from scrapy.utils.test import get_crawler

    from kspider.items import Article
    from kspider.monitors import TemplateDriftMiddleware

    crawler = get_crawler()
    middleware = TemplateDriftMiddleware.from_crawler(crawler)
    url = "http://xinjiapo.news/2026/02/19/park.html"
    response = HtmlResponse(url, body=b"<html></html>", request=Request(url, meta={"page_kind": "post"}))

    def callback():  # what a spider does when its selectors miss the date
        crawler.stats.inc_value("extract/fallback/published_at")
        yield Article(url=url, title="园区", published_at="2026-02-19T08:00:00+08:00", content_text="正文",
                      quality_flags=["layout_fallback"])

    out = list(middleware.process_spider_output(response, callback()))
    assert [a.url for a in out] == [url]
    stats = crawler.stats.get_stats()
    assert stats["extract/fallback_urls/published_at"] == [url]
    assert stats["template/articles_parsed"] == 1 and "template/article_missing/published_at" not in stats


def test_failure_message_keeps_the_assertion_text_only():
    error = ('Traceback (most recent call last):\n  File "x.py", line 1, in test\nAssertionError: '
             "spider 021cf: a\nspider 021cf: b\n")
    assert failure_message(error) == "spider 021cf: a\nspider 021cf: b"


# --- drifted templates, end to end -----------------------------------------------------
def drifted_copy(target: Path, pattern: str, replacement: str) -> Path:
    """fixtures/021cf with `pattern` replaced in every post page of the crawled hosts (bytes, as served)."""
    shutil.copytree(FIXTURES_021CF, target)
    changed = 0
    for line in (target / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if "/post/" not in record["url"] or not record.get("body") or host_of(record["url"]) not in CRAWLED:
            continue
        path = target / record["body"]
        body = path.read_bytes()
        new = re.sub(pattern.encode(), replacement.encode(), body)
        assert new != body, f"the drift transform does not apply to {record['url']}"
        path.write_bytes(new)
        changed += 1
    assert changed == 16  # every post page the crawl reaches (the 301 has no body)
    return target


@pytest.fixture(scope="module")
def date_drift_run(tmp_path_factory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("drift_date")
    fixtures = drifted_copy(work / "fixtures", r'<span class="date">', '<span class="pubdate">')
    stats = run_crawl("021cf", fixtures, work, "date", "-s", "SPIDERMON_FAIL_EXIT=True", errors_expected=True)
    stats["_report"] = json.loads((work / "date.report.json").read_text(encoding="utf-8"))
    return stats


def test_date_drift_is_a_warning_naming_the_field_and_the_pages(date_drift_run):
    """The theme renamed the date's class: the template's selector misses, the generic extractor
    reads the dates. That is drift to report, not lost items and not a failed run."""
    run = date_drift_run
    fell_back = run["extract/fallback/published_at"]
    assert 12 <= fell_back <= 16  # most of the 16 post pages; the rest are counted as missing
    urls = run["extract/fallback_urls/published_at"]
    assert len(urls) == 5 and all(host_of(u) in CRAWLED and "/post/" in u for u in urls)
    warning = (f"spider 021cf: layout drift: field published_at read by the generic extractor on {fell_back} of 16 "
               f"parsed post page(s) (template selectors missed it; items kept); last: {', '.join(urls)}")
    assert run["_report"]["warnings"] == [{"monitor": "TemplateDrift", "warning": warning}]
    assert f"WARNING: monitor TemplateDrift warning: {warning}" in run["_log"]
    assert run["spidermon/warnings"] == 1
    # Not a failure: every monitor passed, the run exits 0 even with SPIDERMON_FAIL_EXIT, items kept.
    assert run["_returncode"] == 0 and run["_report"]["passed"] is True and run["spidermon/failed"] == 0
    assert run["monitor/site_items/kunshanmaigao.021cf.cn"] >= 10


def test_unchanged_fixtures_pass_every_monitor_and_exit_zero(tmp_path):
    stats = run_crawl("021cf", FIXTURES_021CF, tmp_path, "clean", "-s", "SPIDERMON_FAIL_EXIT=True")
    report = json.loads((tmp_path / "clean.report.json").read_text(encoding="utf-8"))
    assert stats["_returncode"] == 0
    assert report["passed"] is True and report["failed"] == []
    assert [m["monitor"] for m in report["monitors"]] == ["MinItems", "FieldCoverage", "Limits", "TemplateDrift"]
    assert stats["spidermon/passed"] == 4 and stats["spidermon/failed"] == 0
    assert stats["monitor/site_items/kunshanmaigao.021cf.cn"] >= 10


def test_min_items_not_judged_per_worker_of_a_shared_frontier():
    from kspider.monitors import min_items_problems

    stats = {"monitor/site_items/suzhou.021cf.cn": 1}
    assert min_items_problems(stats, "021cf", {"suzhou.021cf.cn": 5}) == [
        "spider 021cf: site suzhou.021cf.cn gave 1 item(s) (stored or already known), expected at least 5 (Site.min_items)"]
    stats["distributed/worker"] = "021cf:host:123"
    assert min_items_problems(stats, "021cf", {"suzhou.021cf.cn": 5}) == []
