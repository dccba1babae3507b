"""``python -m kspider.store count|stats|recover`` on the configured store.

Settings come from the Scrapy project (kspider.settings, which also reads the
environment) and, failing that, from the environment: MONGO_URI,
MONGO_DATABASE, EMBEDDED_DB_DIR, SPILL_DIR, ….

- ``count``: documents per collection, then ``total`` (articles + rental ads);
  ``count --total`` prints only that number.
- ``stats``: the counts, plus near-duplicate groups, articles with alternate
  URLs, and items waiting in spill files.
- ``recover``: writes spill files into the store and prints how many items.
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Any, Optional

from kspider.store.core import ARTICLES, RENTAL_ADS, STORE_ERRORS, open_store


def _settings() -> Any:
    try:
        from scrapy.utils.project import get_project_settings

        return get_project_settings()
    except Exception:  # no Scrapy project here: the environment alone decides
        return None


def _grouped(articles: Any) -> int:
    """Articles that joined another article's near-duplicate group."""
    try:
        return articles.count_documents({"$expr": {"$ne": ["$dup_group", "$_id"]}})
    except Exception:  # no $expr (embedded store, test servers): count by hand
        return sum(1 for d in articles.find({}) if d.get("dup_group") and d["dup_group"] != d["_id"])


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kspider.store", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    count = sub.add_parser("count", help="documents per collection")
    count.add_argument("--total", action="store_true", help="print only articles + rental ads")
    sub.add_parser("stats", help="counts, groups and pending spill")
    sub.add_parser("recover", help="write spill files into the store")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    store = open_store(_settings())
    try:
        if args.command == "recover":
            store.ensure_indexes()
            print(f"recovered {store.recover()}")
            pending = store.pending_spill()
            if pending:
                print(f"still spilled {pending}")
            return 1 if pending else 0
        counts = store.counts()
        total = counts[ARTICLES] + counts[RENTAL_ADS]
        if args.command == "count" and args.total:
            print(total)
            return 0
        for name, n in counts.items():
            print(f"{name}\t{n}")
        print(f"total\t{total}")
        if args.command == "stats":
            articles = store.collections[ARTICLES]
            print(f"near_duplicates\t{_grouped(articles)}")
            print(f"with_alt_urls\t{articles.count_documents({'alt_ids.0': {'$exists': True}})}")
            print(f"spilled_pending\t{store.pending_spill()}")
        return 0
    except STORE_ERRORS as exc:
        print(f"store unreachable ({store!r}): {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
