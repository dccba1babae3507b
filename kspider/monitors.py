"""Crawl monitoring with Spidermon (docs/OPERATING.md, "Monitor").

At spider close ``SpiderCloseSuite`` checks, for any spider:

- ``MinItems``: every site the crawl covered produced at least its registry
  entry's ``Site.min_items`` items (posts skipped as already stored count too);
- ``FieldCoverage``: shares of stored articles with ``title``,
  ``published_at``, ``content_text`` and of ads with an area or a price, each at
  least ``SPIDERMON_FIELD_COVERAGE`` [key];
- ``Limits``: ``item_invalid/*``, ``replay/miss`` and ``log_count/ERROR`` under
  their ``SPIDERMON_MAX_*`` limits;
- ``TemplateDrift``: post pages fetched that gave no article, and article
  fields missing on the pages parsed (counted before validation, so a title
  that vanished from the markup is reported by name even though validation
  drops the item). Fields a template's selectors missed but the generic
  extractor supplied (stat ``extract/fallback/<field>``) are drift too, reported
  as a warning naming the field and the last pages concerned: the items are kept.

The outcome goes to the log (one line per problem: what, how much, the limit),
to the stats (``spidermon/passed``, ``spidermon/failed``,
``spidermon/failed/<Monitor>``, ``spidermon/warnings``) and to one JSON report
per run (``SPIDERMON_REPORT_FILE`` or a file in ``SPIDERMON_REPORT_DIR``). With
``SPIDERMON_FAIL_EXIT = True`` a failed monitor makes ``scrapy crawl`` exit with
status 3 (kspider.extensions.ExitStatus).
"""
from __future__ import annotations

import json
import logging
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Iterable, Iterator, Optional

from itemadapter import ItemAdapter
from scrapy import signals
from spidermon import Monitor, MonitorSuite, monitors
from spidermon.contrib.scrapy.extensions import Spidermon as SpidermonExtension
from spidermon.contrib.scrapy.runners import SpiderMonitorResult, SpiderMonitorRunner
from spidermon.core.actions import Action
from spidermon.settings import MONITOR

from kspider.items import Article, RentalAd
from kspider.sites import host_of
from kspider.stat_keys import (  # noqa: F401  (stat names, re-exported)
    ARTICLE_MISSING, ARTICLES_PARSED, COVERAGE, FALLBACK, FALLBACK_URLS, POST_PAGES, POST_PAGES_NO_ARTICLE,
    POST_PAGES_SKIPPED, SITE_ITEMS, SKIPPED_FOR_SITE)

logger = logging.getLogger(__name__)

# Spidermon 1.27 logs through Spider.log(), deprecated in Scrapy 2.19: not ours to fix, not worth a warning per run.
warnings.filterwarnings("ignore", message=r"Spider\.log\(\) is deprecated", category=Warning)


# Page URLs kept per field under FALLBACK_URLS + field, for the drift warning.
FALLBACK_URLS_KEPT = 5

DEFAULT_COVERAGE = {
    "article/title": 0.95,
    "article/published_at": 0.8,
    "article/content_text": 0.9,
    "rental_ad/area_or_price": 0.7,
}


# --- counting -------------------------------------------------------------------
def record_fallback_url(stats: Any, field: str, url: str, keep: int = FALLBACK_URLS_KEPT) -> None:
    """Keep ``url`` among the last ``keep`` pages whose ``field`` came from the generic extractor."""
    key = FALLBACK_URLS + field
    urls = [u for u in (stats.get_value(key) or []) if u != url]
    urls.append(url)
    stats.set_value(key, urls[-keep:])


def article_missing_fields(item: Any, fields: Iterable[str]) -> list[str]:
    """The fields (of those watched) an article lacks: None, empty string or empty list."""
    adapter = ItemAdapter(item)
    return [f for f in fields if adapter.get(f) in (None, "", [])]


def ad_has_area_or_price(item: Any) -> bool:
    adapter = ItemAdapter(item)
    return any(adapter.get(f) is not None for f in ("area_sqm_min", "area_sqm_max", "land_area_mu", "price_value"))


class TemplateDriftMiddleware:
    """Spider middleware: per post page, whether the spider parsed an article and which fields it lacked.

    A callback that yields no article from a post page on purpose (e.g. off-topic)
    says so with ``response.meta["no_item_reason"] = "..."``; such pages are not drift.
    """

    def __init__(self, crawler: Any) -> None:
        self.stats = crawler.stats
        self.fields = tuple(crawler.settings.getlist("SPIDERMON_DRIFT_FIELDS", ["title", "published_at", "content_text"]))
        # The fallback keys among the stats, looked for again only when a stat was added: a scan of
        # every stat, twice a page, was a measurable share of a page's CPU.
        self._scanned: Optional[dict[str, Any]] = None
        self._scanned_size = 0
        self._fallback_keys: list[str] = []

    @classmethod
    def from_crawler(cls, crawler: Any) -> "TemplateDriftMiddleware":
        return cls(crawler)

    def _fallbacks(self) -> dict[str, int]:
        stats = self.stats.get_stats()
        if stats is not self._scanned or len(stats) != self._scanned_size:
            self._fallback_keys = [k for k in stats if k.startswith(FALLBACK)]
            self._scanned, self._scanned_size = stats, len(stats)
        return {k: stats[k] for k in self._fallback_keys if k in stats}

    def _note_fallbacks(self, response: Any, before: dict[str, int]) -> None:
        """The fields whose fallback count the callback raised were read by the generic extractor on this page."""
        for key, value in self._fallbacks().items():
            if value != before.get(key):
                record_fallback_url(self.stats, key[len(FALLBACK):], response.url)

    def _count(self, response: Any, outputs: list[Any]) -> None:
        meta = getattr(response, "meta", None) or {}
        if meta.get("page_kind") != "post":
            return
        articles = [o for o in outputs if isinstance(o, Article)]
        self.stats.inc_value(POST_PAGES)
        if not articles:
            if meta.get("no_item_reason"):
                self.stats.inc_value(POST_PAGES_SKIPPED + meta["no_item_reason"])
                return
            self.stats.inc_value(POST_PAGES_NO_ARTICLE)
            logger.warning("template drift? post page %s gave no article", response.url)
            return
        for article in articles:
            self.stats.inc_value(ARTICLES_PARSED)
            for name in article_missing_fields(article, self.fields):
                self.stats.inc_value(ARTICLE_MISSING + name)

    def process_spider_output(self, response: Any, result: Iterable[Any]) -> Iterator[Any]:
        # The callback runs while its output is listed: the fallback counts it raised are this page's.
        before = self._fallbacks()
        outputs = list(result)
        self._note_fallbacks(response, before)
        self._count(response, outputs)
        yield from outputs

    async def process_spider_output_async(self, response: Any, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        # An async callback may interleave with others: a fallback may then be attributed to a
        # neighbouring page of the same crawl (the count itself stays exact).
        before = self._fallbacks()
        outputs = [o async for o in result]
        self._note_fallbacks(response, before)
        self._count(response, outputs)
        for obj in outputs:
            yield obj


class MonitorStats:
    """Extension: counts stored items per site and field coverage, for the monitors and the exit status."""

    def __init__(self, crawler: Any) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> "MonitorStats":
        # On even without Spidermon: the exit status judges Site.min_items from these counts.
        ext = cls(crawler)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        return ext

    def item_scraped(self, item: Any, response: Any = None, spider: Any = None) -> None:
        adapter = ItemAdapter(item)
        site = adapter.get("site") or (host_of(response.url) if response is not None else "")
        self.stats.inc_value(SITE_ITEMS + str(site))
        if isinstance(item, Article):
            self.stats.inc_value(COVERAGE + "article/items")
            for name in ("title", "published_at", "content_text"):
                if adapter.get(name) not in (None, "", []):
                    self.stats.inc_value(COVERAGE + f"article/{name}")
        elif isinstance(item, RentalAd):
            self.stats.inc_value(COVERAGE + "rental_ad/items")
            if ad_has_area_or_price(item):
                self.stats.inc_value(COVERAGE + "rental_ad/area_or_price")


# --- checks (pure: stats and settings in, problem descriptions out) ------------------
def crawled_hosts(spider: Any) -> list[str]:
    """The hosts a crawl was asked to cover: ``-a urls``, else ``-a sites``, else the registry's start URLs."""
    arg_urls = getattr(spider, "arg_urls", None) or []
    if arg_urls:
        return sorted({host_of(u) for u in arg_urls})
    only = getattr(spider, "only_hosts", None) or set()
    if only:
        return sorted(only)
    hosts = {host_of(u) for site in getattr(spider, "registry", ()) for u in site.start_urls}
    return sorted(h for h in hosts if h)


def hosts_min_items(spider: Any) -> dict[str, int]:
    """Per crawled host, the fewest items its registry entry expects (spiders without a registry: none)."""
    site_for = getattr(spider, "site_for", None)
    if site_for is None:
        return {}
    out = {}
    for host in crawled_hosts(spider):
        site = site_for(host)
        if site is not None:
            out[host] = site.min_items
    return out


def min_items_problems(stats: dict[str, Any], spider_name: str, hosts_min: dict[str, int]) -> list[str]:
    if stats.get("distributed/worker"):
        # A worker sharing a frontier (REDIS_URL) sees only its share of a site's pages:
        # per-site minimums are judged on the run's summed stats, not per worker.
        return []
    problems = []
    for host, minimum in sorted(hosts_min.items()):
        got = int(stats.get(SITE_ITEMS + host, 0)) + int(stats.get(SKIPPED_FOR_SITE + host, 0))
        if got < minimum:
            problems.append(f"spider {spider_name}: site {host} gave {got} item(s) (stored or already known), "
                            f"expected at least {minimum} (Site.min_items)")
    return problems


def coverage_problems(stats: dict[str, Any], spider_name: str, thresholds: dict[str, float]) -> list[str]:
    problems = []
    for key, minimum in sorted(thresholds.items()):
        kind, _, field = key.partition("/")
        total = int(stats.get(COVERAGE + f"{kind}/items", 0))
        if not total:
            continue
        share = int(stats.get(COVERAGE + key, 0)) / total
        if share < float(minimum):
            problems.append(f"spider {spider_name}: field {field} present on {share:.0%} of {total} {kind} item(s), "
                            f"below {float(minimum):.0%}")
    return problems


def limit_problems(stats: dict[str, Any], spider_name: str, max_invalid: int, max_replay_miss: int,
                   max_errors: int) -> list[str]:
    problems = []
    invalid = {k: v for k, v in stats.items() if k.startswith("item_invalid/") and k.count("/") >= 2}
    if sum(invalid.values()) > max_invalid:
        detail = ", ".join(f"{k}={v}" for k, v in sorted(invalid.items()))
        problems.append(f"spider {spider_name}: {sum(invalid.values())} invalid item field(s) ({detail}), "
                        f"limit {max_invalid}")
    misses = int(stats.get("replay/miss", 0))
    if misses > max_replay_miss:
        problems.append(f"spider {spider_name}: replay/miss={misses}, limit {max_replay_miss}")
    errors = int(stats.get("log_count/ERROR", 0))
    if errors > max_errors:
        problems.append(f"spider {spider_name}: log_count/ERROR={errors}, limit {max_errors}")
    return problems


def drift_problems(stats: dict[str, Any], spider_name: str, thresholds: dict[str, float],
                   max_empty_share: float) -> list[str]:
    """Template drift: post pages without an article, and watched fields missing on parsed articles."""
    problems = []
    pages = int(stats.get(POST_PAGES, 0))
    empty = int(stats.get(POST_PAGES_NO_ARTICLE, 0))
    if pages and empty / pages > max_empty_share:
        problems.append(f"spider {spider_name}: template drift: {empty} of {pages} post page(s) gave no article, "
                        f"limit {max_empty_share:.0%}")
    parsed = int(stats.get(ARTICLES_PARSED, 0))
    if parsed:
        for key, minimum in sorted(thresholds.items()):
            kind, _, field = key.partition("/")
            if kind != "article":
                continue
            missing = int(stats.get(ARTICLE_MISSING + field, 0))
            if (parsed - missing) / parsed < float(minimum):
                problems.append(f"spider {spider_name}: template drift: field {field} missing on {missing} of "
                                f"{parsed} parsed post page(s), limit {1 - float(minimum):.0%} missing")
    return problems


def fallback_warnings(stats: dict[str, Any], spider_name: str) -> list[str]:
    """Layout drift the generic extractor made up for: per field, how many pages and the last URLs."""
    warnings_out = []
    parsed = int(stats.get(ARTICLES_PARSED, 0))
    for key, count in sorted(stats.items()):
        if not key.startswith(FALLBACK) or not count:
            continue
        field = key[len(FALLBACK):]
        of_parsed = f" of {parsed} parsed post page(s)" if parsed >= int(count) else " page(s)"
        urls = list(stats.get(FALLBACK_URLS + field) or [])
        example = f"; last: {', '.join(urls)}" if urls else ""
        warnings_out.append(f"spider {spider_name}: layout drift: field {field} read by the generic extractor on "
                            f"{int(count)}{of_parsed} (template selectors missed it; items kept){example}")
    return warnings_out


# --- Spidermon monitors ------------------------------------------------------------
class _KspiderMonitor(Monitor):
    longMessage = False

    @property
    def settings(self) -> Any:
        return self.data.crawler.settings

    @property
    def stats(self) -> dict[str, Any]:
        return self.data.stats

    @property
    def spider_name(self) -> str:
        return self.data.spider.name

    def coverage_thresholds(self) -> dict[str, float]:
        value = self.settings.get("SPIDERMON_FIELD_COVERAGE") or DEFAULT_COVERAGE
        if isinstance(value, str):  # -s SPIDERMON_FIELD_COVERAGE='{"article/title": 1}'
            value = json.loads(value)
        return {str(k): float(v) for k, v in dict(value).items()}

    def check(self, problems: list[str]) -> None:
        self.assertFalse(problems, "\n".join(problems))


@monitors.name("MinItems")
class MinItemsMonitor(_KspiderMonitor):
    @monitors.name("every crawled site gave at least Site.min_items items")
    def test_min_items(self) -> None:
        self.check(min_items_problems(self.stats, self.spider_name, hosts_min_items(self.data.spider)))


@monitors.name("FieldCoverage")
class FieldCoverageMonitor(_KspiderMonitor):
    @monitors.name("stored items carry their key fields")
    def test_coverage(self) -> None:
        self.check(coverage_problems(self.stats, self.spider_name, self.coverage_thresholds()))


@monitors.name("Limits")
class LimitsMonitor(_KspiderMonitor):
    @monitors.name("invalid items, replay misses and errors under limits")
    def test_limits(self) -> None:
        self.check(limit_problems(
            self.stats, self.spider_name,
            self.settings.getint("SPIDERMON_MAX_ITEM_INVALID", 0),
            self.settings.getint("SPIDERMON_MAX_REPLAY_MISS", 0),
            self.settings.getint("SPIDERMON_MAX_ERRORS", 0),
        ))


@monitors.name("TemplateDrift")
class TemplateDriftMonitor(_KspiderMonitor):
    @monitors.name("post pages still parse")
    def test_drift(self) -> None:
        self.check(drift_problems(
            self.stats, self.spider_name, self.coverage_thresholds(),
            self.settings.getfloat("SPIDERMON_DRIFT_MAX_EMPTY_SHARE", 0.1),
        ))


# --- outcome: stats and report file -------------------------------------------------------
def failure_message(error: Optional[str]) -> str:
    """The assertion message of a failed monitor, without the traceback."""
    text = error or ""
    marker = "AssertionError: "
    return text[text.rfind(marker) + len(marker):].strip() if marker in text else text.strip()


def report_path(settings: Any, spider_name: str, now: datetime) -> Optional[Path]:
    explicit = settings.get("SPIDERMON_REPORT_FILE")
    if explicit:
        return Path(explicit)
    directory = settings.get("SPIDERMON_REPORT_DIR")
    if not directory:
        return None
    return Path(directory) / f"{spider_name}-{now.strftime('%Y%m%dT%H%M%SZ')}.json"


class RecordOutcome(Action):
    """Spidermon action (after every monitor run): outcome into stats and the JSON report file."""

    def run_action(self) -> None:
        crawler = self.data.crawler
        stats = crawler.stats
        spider = self.data.spider
        monitors_out = []
        failed = 0
        for res in self.result.monitor_results:
            ok = res.status in MONITOR.STATUSES.SUCCESSFUL
            monitors_out.append({
                "monitor": res.monitor.monitor_name,
                "check": res.monitor.method_name,
                "status": res.status,
                "problems": [] if ok else failure_message(res.error).splitlines(),
            })
            if not ok:
                failed += 1
                stats.inc_value(f"spidermon/failed/{res.monitor.monitor_name}")
        stats.set_value("spidermon/passed", len(monitors_out) - failed)
        stats.set_value("spidermon/failed", failed)
        drift_warnings = fallback_warnings(stats.get_stats(), spider.name)
        stats.set_value("spidermon/warnings", len(drift_warnings))
        now = datetime.now(timezone.utc)
        report = {
            "spider": spider.name,
            "finished_at": now.isoformat(timespec="seconds"),
            "passed": failed == 0,
            "failed": [m for m in monitors_out if m["problems"]],
            "warnings": [{"monitor": "TemplateDrift", "warning": w} for w in drift_warnings],
            "monitors": monitors_out,
            "stats": {k: v for k, v in stats.get_stats().items()
                      if isinstance(v, (int, float, str)) and not isinstance(v, bool)},
        }
        path = report_path(crawler.settings, spider.name, now)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(report, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
            stats.set_value("spidermon/report_file", str(path))
        for entry in report["failed"]:
            for problem in entry["problems"]:
                logger.error("monitor %s failed: %s", entry["monitor"], problem)
        for warning in drift_warnings:
            logger.warning("monitor TemplateDrift warning: %s", warning)


class SpiderCloseSuite(MonitorSuite):
    monitors = [MinItemsMonitor, FieldCoverageMonitor, LimitsMonitor, TemplateDriftMonitor]
    monitors_finished_actions = [RecordOutcome]


# --- readable output -------------------------------------------------------------------
class ReadableMonitorResult(SpiderMonitorResult):
    """Spidermon's log output without assertion tracebacks: a failed check is reported by
    RecordOutcome as one line per problem. A monitor that raised (a bug, not a finding)
    still logs its traceback."""

    def write_errors(self) -> None:
        for status in self.step.error_statuses:
            if status == MONITOR.STATUS.FAILURE:
                continue
            for item in self.step.items_for_status(status):
                self.log_error(f"{item.status}: {item.item.name}\n{item.error}")


class ReadableMonitorRunner(SpiderMonitorRunner):
    def create_result(self) -> ReadableMonitorResult:
        return ReadableMonitorResult(self.spider)


class Spidermon(SpidermonExtension):
    """Spidermon's extension, running the suites with the readable result above."""

    def _run_suites(self, spider: Any, suites: Any) -> None:
        data = self._generate_data_for_spider(spider)
        for suite in suites:
            ReadableMonitorRunner(spider=spider).run(suite, **data)
