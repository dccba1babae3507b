"""Extensions of the project."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from kspider.stat_keys import (  # noqa: F401  (stat names, re-exported)
    BAD_ARGUMENT, BAD_START_URL, REPLAY_DIR_MISSING, STORE_SPILLED, STORE_UNREACHABLE, UNKNOWN_SITE)

logger = logging.getLogger(__name__)


class StatsFile:
    """Writes the crawl's final stats as JSON to the ``STATS_FILE`` setting's path (for scripts and tests)."""

    def __init__(self, crawler, path: str) -> None:
        self.crawler = crawler
        self.path = Path(path)

    @classmethod
    def from_crawler(cls, crawler):
        path = crawler.settings.get("STATS_FILE")
        if not path:
            raise NotConfigured
        ext = cls(crawler, path)
        ext.reason = None
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        # Written when the engine stops: after every spider_closed handler has added its stats.
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped)
        return ext

    def spider_closed(self, spider, reason):
        self.reason = reason

    def engine_stopped(self):
        reason = self.reason
        stats = {
            k: (v.isoformat() if isinstance(v, datetime) else v)
            for k, v in self.crawler.stats.get_stats().items()
        }
        stats["finish_reason"] = reason
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(stats, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")


# --- exit status ---------------------------------------------------------------------
# Exit codes of `scrapy crawl` (docs/OPERATING.md, "Exit codes"). When several conditions
# hold, the highest code wins: the most basic cause first (a wrong command line explains
# an empty crawl, not the other way round). 1 and 2 are Scrapy's own (crawler could not
# start, command-line usage error).
EXIT_MONITOR_FAILED = 3  # a Spidermon monitor failed (only with SPIDERMON_FAIL_EXIT)
EXIT_TOO_FEW_ITEMS = 4  # a crawled site gave fewer items than its Site.min_items
EXIT_STORE_UNREACHABLE = 5  # the store was unreachable: items were spilled, not stored
EXIT_DOWNLOADS_FAILED = 6  # every download of a site failed
EXIT_BAD_START = 7  # REPLAY_DIR does not exist, or a start URL is invalid or refused
EXIT_BAD_ARGUMENT = 8  # an unknown spider argument, or -a sites= naming no registry site



@dataclass(frozen=True)
class CrawlFailure:
    code: int
    reason: str  # short name, also the stat exit/failure/<reason>
    message: str  # what, how much, the limit


def _with_prefix(stats: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {k[len(prefix):]: v for k, v in stats.items() if k.startswith(prefix) and v}


def crawl_failures(stats: dict[str, Any], spider_name: str, hosts_min: dict[str, int],
                   fail_on_monitor: bool) -> list[CrawlFailure]:
    """What made a crawl fail, from its final stats (pure): highest exit code first."""
    from kspider.download.outcome import hosts_all_failed
    from kspider.monitors import min_items_problems

    out: list[CrawlFailure] = []
    bad_args = _with_prefix(stats, BAD_ARGUMENT)
    if bad_args:
        out.append(CrawlFailure(EXIT_BAD_ARGUMENT, "bad_argument",
                                f"spider {spider_name}: unknown argument(s) {', '.join(sorted(bad_args))}; "
                                f"nothing crawled"))
    unknown_sites = _with_prefix(stats, UNKNOWN_SITE)
    if unknown_sites:
        out.append(CrawlFailure(EXIT_BAD_ARGUMENT, "unknown_site",
                                f"spider {spider_name}: -a sites= names {len(unknown_sites)} host(s) no registry "
                                f"entry of this spider covers ({', '.join(sorted(unknown_sites))}); nothing crawled"))
    if stats.get(REPLAY_DIR_MISSING):
        out.append(CrawlFailure(EXIT_BAD_START, "replay_dir_missing",
                                f"spider {spider_name}: REPLAY_DIR does not exist; nothing replayed"))
    bad_starts = int(stats.get(BAD_START_URL, 0) or 0)
    if bad_starts:
        out.append(CrawlFailure(EXIT_BAD_START, "bad_start_url",
                                f"spider {spider_name}: {bad_starts} start URL(s) invalid or refused "
                                f"(each logged above), limit 0"))
    failed_hosts = hosts_all_failed(stats)
    for host, reasons in failed_hosts.items():
        if stats.get("distributed/worker") and all(name.startswith("http_") for name in reasons):
            # A worker of a shared frontier may have drawn only a site's dead links; a site that
            # cannot be reached at all fails on every worker and is still reported.
            continue
        total = sum(reasons.values())
        detail = ", ".join(f"{name} {n}" for name, n in sorted(reasons.items()))
        out.append(CrawlFailure(EXIT_DOWNLOADS_FAILED, "downloads_failed",
                                f"spider {spider_name}: every download of site {host} failed "
                                f"({total} of {total}: {detail})"))
    spilled = int(stats.get(STORE_SPILLED, 0) or 0)
    if spilled or stats.get(STORE_UNREACHABLE):
        out.append(CrawlFailure(EXIT_STORE_UNREACHABLE, "store_unreachable",
                                f"spider {spider_name}: the store was unreachable; {spilled} item(s) spilled to "
                                f"the spill file, not stored (written at the next run that reaches the store)"))
    # Too few items is a consequence, not news, where nothing was crawled or every download failed.
    if not (bad_args or unknown_sites or stats.get(REPLAY_DIR_MISSING)):
        judged = {h: n for h, n in hosts_min.items() if h not in failed_hosts}
        for problem in min_items_problems(stats, spider_name, judged):
            out.append(CrawlFailure(EXIT_TOO_FEW_ITEMS, "too_few_items", problem))
    failed_monitors = int(stats.get("spidermon/failed", 0) or 0)
    if fail_on_monitor and failed_monitors:
        names = ", ".join(sorted(_with_prefix(stats, "spidermon/failed/")))
        out.append(CrawlFailure(EXIT_MONITOR_FAILED, "monitor_failed",
                                f"spider {spider_name}: {failed_monitors} monitor(s) failed ({names}); "
                                f"SPIDERMON_FAIL_EXIT is set"))
    return sorted(out, key=lambda f: -f.code)


class ExitStatus:
    """Extension: judges the finished crawl and records the process exit status in the stats.

    ``exit/code`` (0 when all is well) and ``exit/failure/<reason>`` are set at
    spider close, after the monitors ran; every failure is logged as one ERROR line.
    The project's ``crawl`` command (kspider.commands.crawl) exits with
    ``exit/code``. ``EXIT_ON_FAILURE = False`` (the default under Scrapy's page tools: parse,
    check, shell…) logs the failures as warnings, keeps the stats and exits 0 (except for a
    failed monitor with ``SPIDERMON_FAIL_EXIT``, which keeps status 3).
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> "ExitStatus":
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Any, reason: str) -> None:
        settings = self.crawler.settings
        stats = self.crawler.stats
        enabled = settings.getbool("EXIT_ON_FAILURE", True)
        fail_on_monitor = settings.getbool("SPIDERMON_ENABLED") and settings.getbool("SPIDERMON_FAIL_EXIT")
        from kspider.monitors import hosts_min_items

        failures = crawl_failures(stats.get_stats(), spider.name, hosts_min_items(spider), fail_on_monitor)
        for failure in failures:
            stats.set_value(f"exit/failure/{failure.reason}", 1)
            logger.log(logging.ERROR if enabled else logging.WARNING, "crawl failed [%s, exit %d]: %s",
                       failure.reason, failure.code, failure.message)
        codes = [f.code for f in failures if enabled or f.code == EXIT_MONITOR_FAILED]
        code = max(codes, default=0)
        stats.set_value("exit/code", code)
        if failures and not enabled:
            logger.warning("EXIT_ON_FAILURE is off: exit status %d despite %d failure(s)", code, len(failures))
        elif code:
            logger.error("exit status %d (docs/OPERATING.md, \"Exit codes\")", code)


def exit_code(crawler: Any) -> int:
    """The exit status a finished crawl asked for (0 when it was not judged)."""
    stats = getattr(crawler, "stats", None)
    return int(stats.get_value("exit/code", 0) or 0) if stats is not None else 0
