"""Spidermon monitors: the checks on literal stats, then drifted templates end to end.

The drifted fixture sets are copies of fixtures/021cf made at test time, with
the post pages' markup changed the way a theme update would change it (the
transforms assert that they hit every post page, so a change to the fixture
set cannot make this test pass vacuously):

- date drift: ``<span class="date">`` becomes ``<span class="pubdate">``, so no
  post has a publication date;
- body drift: ``<div class="single">`` becomes ``<div class="entry">``, so no
  post has a body and validation drops every article.
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
    FAIL_EXIT_STATUS,
    coverage_problems,
    crawled_hosts,
    drift_problems,
    failure_message,
    limit_problems,
    min_items_problems,
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
        "spider 021cf: template drift: 2 of 10 post page(s) gave no article",
        "spider 021cf: template drift: field published_at missing on 8 of 8 parsed post page(s)",
    ]
    assert drift_problems({"template/post_pages": 10, "template/post_pages_without_article": 1}, "021cf",
                          COVERAGE, 0.1) == []


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
def drift_runs(tmp_path_factory) -> dict[str, Any]:
    runs: dict[str, Any] = {}
    cases: dict[str, tuple[str, str]] = {
        "date": (r'<span class="date">', '<span class="pubdate">'),
        "body": (r'<div class="single">', '<div class="entry">'),
    }
    for name, (pattern, replacement) in cases.items():
        work = tmp_path_factory.mktemp(f"drift_{name}")
        fixtures = drifted_copy(work / "fixtures", pattern, replacement)
        stats = run_crawl("021cf", fixtures, work, name, "-s", "SPIDERMON_FAIL_EXIT=True", errors_expected=True)
        stats["_report"] = json.loads((work / f"{name}.report.json").read_text(encoding="utf-8"))
        runs[name] = stats
    return runs


def failed_monitors(report: dict[str, Any]) -> dict[str, list[str]]:
    return {entry["monitor"]: entry["problems"] for entry in report["failed"]}


def test_date_drift_fails_the_drift_monitor_naming_spider_and_field(drift_runs):
    run = drift_runs["date"]
    assert run["_returncode"] == FAIL_EXIT_STATUS
    failed = failed_monitors(run["_report"])
    assert failed["TemplateDrift"] == [
        "spider 021cf: template drift: field published_at missing on 16 of 16 parsed post page(s)"]
    assert failed["FieldCoverage"] == [
        "spider 021cf: field published_at present on 0% of 16 article item(s), below 80%"]
    assert run["_report"]["passed"] is False and run["_report"]["spider"] == "021cf"
    assert run["spidermon/failed"] == 2 and run["spidermon/failed/TemplateDrift"] == 1
    assert "monitor TemplateDrift failed: spider 021cf: template drift: field published_at" in run["_log"]


def test_body_drift_fails_drift_and_limits_naming_content_text(drift_runs):
    run = drift_runs["body"]
    assert run["_returncode"] == FAIL_EXIT_STATUS
    failed = failed_monitors(run["_report"])
    assert "spider 021cf: template drift: field content_text missing on 16 of 16 parsed post page(s)" in \
        failed["TemplateDrift"]
    assert any(p.startswith("spider 021cf: ") and "item_invalid/article/content_text=16" in p
               for p in failed["Limits"])


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
