"""``python -m kspider.demo``: crawl the shipped fixtures into a store of its own and say what was stored, and why.

Runs every spider over its fixture set (``fixtures/<spider>``) in replay mode (no network, no MongoDB)
into the demo's own embedded store, ``.kspider/demo/db`` (``--db`` to choose
another), so it never touches the store your crawls use (``EMBEDDED_DB_DIR``)
and the README's examples work before or after it. It prints, per spider,
what was fetched and scraped, then the documents stored and how the items
became documents: new ones, exact copies merged into one document (their
other URL in ``alt_urls``; a rental ad repeated on several pages is one
document with every page in ``seen_on``), updates of documents already
stored, and what was not stored (posts skipped because the store already
holds them, off-topic pages, invalid items). A second run fetches only
the listings: every post is already stored, and is skipped.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DEMO_DIR = Path(".kspider") / "demo"
SPIDERS = "021cf,xinjiapo,jssuxun,matchexpo"


def _n(stats: dict[str, Any], name: str) -> int:
    value = stats.get(name, 0)
    return int(value) if isinstance(value, (int, float)) else 0


def _prefixed(stats: dict[str, Any], prefix: str) -> int:
    return sum(int(v) for k, v in stats.items() if k.startswith(prefix) and isinstance(v, (int, float)))


def explain(runs: list[tuple[str, dict[str, Any]]], before: dict[str, int], after: dict[str, int]) -> list[str]:
    """Lines that account for every item scraped and every post not stored (pure: stats and counts in)."""
    total = {key: sum(_n(stats, key) for _, stats in runs) for key in (
        "item_scraped_count", "item_dropped_count", "store/inserted", "store/updated", "store/alt_urls",
        "store/near_dups", "store/spilled", "store/rejected", "incremental/skipped", "topic/dropped")}
    invalid = sum(_prefixed(stats, "item_invalid/") for _, stats in runs)
    new_docs = sum(after.get(k, 0) - before.get(k, 0) for k in ("articles", "rental_ads"))
    lines = [f"{total['item_scraped_count']} item(s) scraped became {new_docs} new document(s):"]
    lines.append(f"  {total['store/inserted']:4d} stored as new documents"
                 + (f" ({total['store/near_dups']} of them near-duplicates of another: same dup_group)"
                    if total["store/near_dups"] else ""))
    if total["store/alt_urls"]:
        lines.append(f"  {total['store/alt_urls']:4d} exact copies of an article at another URL: merged into "
                     f"that article (the URL is in its alt_urls)")
    if total["store/updated"]:
        lines.append(f"  {total['store/updated']:4d} updated a document already stored (the same post seen again, "
                     f"or a rental ad repeated on another page: one document, every page in seen_on)")
    if total["store/spilled"]:
        lines.append(f"  {total['store/spilled']:4d} could not be written and wait in spill files "
                     f"(python -m kspider.store recover)")
    not_stored = []
    if total["incremental/skipped"]:
        not_stored.append(f"  {total['incremental/skipped']:4d} post(s) not fetched: already in this store "
                          f"(incremental crawling; delete the store directory or crawl with -a full=1 to fetch them)")
    if total["topic/dropped"]:
        not_stored.append(f"  {total['topic/dropped']:4d} article(s) off the crawler's topic, not kept (topic filter)")
    if total["item_dropped_count"] or invalid:
        not_stored.append(f"  {total['item_dropped_count']:4d} item(s) dropped as invalid (stats item_invalid/...)")
    if not_stored:
        lines.append("not stored:")
        lines.extend(not_stored)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kspider.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", default=str(FIXTURES), help="fixture sets to replay (default: the shipped ones)")
    parser.add_argument("--db", default=str(DEMO_DIR / "db"),
                        help="the demo's embedded store directory (default: .kspider/demo/db)")
    parser.add_argument("--spiders", default=SPIDERS, help="comma-separated spider names")
    args = parser.parse_args(argv)

    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    # Outside the checkout there is no scrapy.cfg to name the project's settings.
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "kspider.settings")
    db_dir = Path(args.db)
    data_dir = db_dir.parent
    settings = get_project_settings()
    demo_settings = {
        "REPLAY_DIR": args.fixtures,
        "MONGO_URI": "",  # always the demo's own embedded store, whatever MONGO_URI says
        "EMBEDDED_DB_DIR": str(db_dir),
        "SPILL_DIR": str(data_dir / "spill"),
        "SPIDERMON_REPORT_DIR": str(data_dir / "reports"),
        "SPIDERMON_REPORT_FILE": "",
        "RUN_REPORT_DIR": str(data_dir / "reports"),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
    }
    for name, value in demo_settings.items():
        settings.set(name, value, priority="cmdline")

    from kspider.store import open_store

    def counts() -> dict[str, int]:
        store = open_store(settings)
        try:
            return store.counts()
        finally:
            store.close()

    print(f"kspider demo: replaying {Path(args.fixtures).resolve()} (no network) into the demo's own embedded "
          f"store {db_dir.resolve()}")
    before = counts() if db_dir.is_dir() else {}

    process = CrawlerProcess(settings)
    names = [n for n in args.spiders.split(",") if n]
    crawlers = [process.create_crawler(name) for name in names]
    for crawler in crawlers:
        # Each spider replays its own set: other sets may render the same hosts differently.
        own_set = Path(args.fixtures) / crawler.spidercls.name
        if (own_set / "manifest.jsonl").is_file():
            crawler.settings.set("REPLAY_DIR", str(own_set), priority="cmdline")

    # One spider after the other: Scrapy's log counters are process-wide, so spiders
    # running side by side would count each other's errors in their monitors.
    from twisted.internet import defer

    @defer.inlineCallbacks
    def crawl_in_turn():
        try:
            for crawler in crawlers:
                yield process.crawl(crawler)
        finally:
            from twisted.internet import reactor

            reactor.callLater(0, reactor.stop)

    crawl_in_turn()
    process.start(stop_after_crawl=False)

    runs = [(crawler.spider.name, crawler.stats.get_stats()) for crawler in crawlers]
    print(f"  {'spider':10s} {'pages':>5s} {'items':>5s} {'articles':>8s} {'ads':>4s} {'known':>5s} "
          f"{'dropped':>7s}  run report")
    for name, stats in runs:
        print(f"  {name:10s} {_n(stats, 'response_received_count'):5d} {_n(stats, 'item_scraped_count'):5d} "
              f"{_n(stats, 'item_valid/article'):8d} {_n(stats, 'item_valid/rental_ad'):4d} "
              f"{_n(stats, 'incremental/skipped'):5d} {_n(stats, 'item_dropped_count'):7d}  "
              f"{stats.get('run_report/file', '-')}")
    after = counts()
    print(f"stored in {db_dir.resolve()}: " + ", ".join(
        f"{name} {n} (+{n - before.get(name, 0)})" for name, n in after.items()))
    for line in explain(runs, before, after):
        print(line)
    print(f"look at it:  python -m kspider.store find --embedded-dir {db_dir} "
          f"'{{\"site\": \"suzhou.021cf.cn\"}}' --fields title,published_at,url")
    latest = data_dir / "reports" / "latest.html"
    if latest.exists():
        print(f"run reports: {latest.parent.absolute()} (open <spider>-latest.html in a browser; "
              f"latest.html is the last spider's)")
    failed = [name for name, stats in runs if stats.get("finish_reason") not in (None, "finished")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
