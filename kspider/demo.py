"""``python -m kspider.demo``: crawl the shipped fixtures into the configured store and say what was stored.

Runs every spider over ``fixtures/`` in replay mode (no network, no MongoDB
needed: without MONGO_URI the embedded store at EMBEDDED_DB_DIR is used), then
prints the document counts per collection. Running it twice stores nothing
twice: the counts stay the same.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kspider.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", default=os.environ.get("REPLAY_DIR") or str(FIXTURES))
    parser.add_argument("--spiders", default="021cf,xinjiapo,jssuxun,matchexpo",
                        help="comma-separated spider names")
    args = parser.parse_args(argv)

    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.set("REPLAY_DIR", args.fixtures, priority="cmdline")
    settings.set("LOG_LEVEL", os.environ.get("LOG_LEVEL", "WARNING"), priority="cmdline")
    process = CrawlerProcess(settings)
    names = [n for n in args.spiders.split(",") if n]
    crawlers = [process.create_crawler(name) for name in names]

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

    from kspider.store import open_store

    print(f"crawled {len(names)} spiders over {args.fixtures}:")
    for crawler in crawlers:
        stats = crawler.stats.get_stats()
        print(f"  {crawler.spider.name:10s} pages {stats.get('response_received_count', 0):4d}  "
              f"items {stats.get('item_scraped_count', 0):4d}  dropped {stats.get('item_dropped_count', 0)}")
    store = open_store(settings)
    try:
        counts = store.counts()
    finally:
        store.close()
    where = settings.get("MONGO_URI") or f"embedded store {Path(settings.get('EMBEDDED_DB_DIR')).resolve()}"
    print(f"stored in {where}:")
    for name, n in counts.items():
        print(f"  {name:12s} {n}")
    print(f"stored items: {sum(n for k, n in counts.items() if k in ('articles', 'rental_ads'))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
