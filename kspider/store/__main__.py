"""``python -m kspider.store COMMAND``: read and maintain the configured store.

The store is MongoDB when ``MONGO_URI`` is set, else the embedded store in
``EMBEDDED_DB_DIR``. Settings come from the Scrapy project (kspider.settings,
which also reads the environment), failing that from the environment; the
options ``--mongo-uri``, ``--database`` and ``--embedded-dir`` override both.
Every command first says on stderr which store it opened. A missing embedded
directory is refused (a misspelt path would otherwise open a new, empty
store) unless ``--create`` is given.

- ``count``: documents per collection, then ``total`` (articles + rental ads);
  ``count --total`` prints only that number.
- ``stats``: the counts, plus near-duplicate groups, articles with alternate
  URLs, and items waiting in spill files.
- ``recover``: writes spill files into the store and prints how many items.
- ``find [FILTER]``: documents matching a MongoDB filter (JSON, MongoDB
  Extended JSON accepted), one JSON document per line on stdout.
- ``export --out FILE``: a whole collection as JSON Lines in MongoDB Extended
  JSON (relaxed), the format ``mongoimport`` reads; ``--out -`` is stdout.
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any, Iterable, Optional, TextIO

from bson import json_util

from kspider.store.core import ARTICLES, RENTAL_ADS, STORE_ERRORS, StoreConfig, open_store

# Relaxed Extended JSON: plain JSON numbers and strings where they are exact, `$`-typed values elsewhere.
EXPORT_JSON_OPTIONS = json_util.RELAXED_JSON_OPTIONS


def _settings() -> Any:
    try:
        from scrapy.utils.project import get_project_settings

        # Outside the checkout there is no scrapy.cfg to name the project's settings.
        os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "kspider.settings")
        return get_project_settings()
    except Exception:  # no Scrapy project here: the environment alone decides
        return None


def _grouped(store: Any) -> int:
    """Articles that joined another article's near-duplicate group."""
    try:
        return store.count(ARTICLES, {"$expr": {"$ne": ["$dup_group", "$_id"]}})
    except Exception:  # no $expr (embedded store, test servers): count by hand
        return sum(1 for d in store.find(ARTICLES, {}, ["dup_group"]) if d.get("dup_group") and d["dup_group"] != d["_id"])


def redact_uri(uri: str) -> str:
    """A MongoDB URI without its password (``user:***@``)."""
    return re.sub(r"(?<=://)([^:@/]+):[^@/]*@", r"\1:***@", uri)


def describe(config: StoreConfig) -> str:
    """Which store a configuration opens, for people: the URI without password, or the embedded directory."""
    if config.uri:
        return f"MongoDB {redact_uri(config.uri)} database {config.database}"
    return f"embedded store {Path(config.embedded_dir).resolve()} database {config.database}"


def dump_document(doc: dict[str, Any]) -> str:
    """One document as one line of relaxed MongoDB Extended JSON (UTF-8 text kept readable)."""
    return json_util.dumps(doc, json_options=EXPORT_JSON_OPTIONS, ensure_ascii=False)


def parse_filter(text: Optional[str]) -> dict[str, Any]:
    """A filter given on the command line: JSON or MongoDB Extended JSON, an object."""
    if not text:
        return {}
    try:
        value = json_util.loads(text)
    except (ValueError, TypeError) as exc:
        raise SystemExit(f"filter is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise SystemExit("filter must be a JSON object, e.g. '{\"site\": \"suzhou.021cf.cn\"}'")
    return value


def write_lines(docs: Iterable[dict[str, Any]], out: TextIO) -> int:
    n = 0
    for doc in docs:
        out.write(dump_document(doc))
        out.write("\n")
        n += 1
    return n


# The settings a store configuration reads (StoreConfig.from_settings).
STORE_SETTINGS = ("MONGO_URI", "MONGO_DATABASE", "EMBEDDED_DB_DIR", "MONGO_WRITE_CONCERN", "STORE_BATCH_SIZE",
                  "SPILL_DIR", "NEARDUP_THRESHOLD", "MONGO_TIMEOUT_MS")


def store_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The store settings: the project's (or the environment's), then the command line options."""
    base = _settings()
    values = {name: base.get(name) if base is not None else None for name in STORE_SETTINGS}
    if args.embedded_dir is not None:
        values["EMBEDDED_DB_DIR"] = args.embedded_dir
        values["MONGO_URI"] = ""  # an embedded directory asked for by name wins over a configured URI
    if args.mongo_uri is not None:
        values["MONGO_URI"] = args.mongo_uri
    if args.database is not None:
        values["MONGO_DATABASE"] = args.database
    return values


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--mongo-uri", help="MongoDB URI (default: MONGO_URI; empty for the embedded store)")
    common.add_argument("--database", help="database name (default: MONGO_DATABASE, kspider)")
    common.add_argument("--embedded-dir", help="embedded store directory (default: EMBEDDED_DB_DIR, .kspider/db)")
    common.add_argument("--create", action="store_true", help="create the embedded store directory if it is missing")

    parser = argparse.ArgumentParser(prog="python -m kspider.store", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    count = sub.add_parser("count", parents=[common], help="documents per collection")
    count.add_argument("--total", action="store_true", help="print only articles + rental ads")
    sub.add_parser("stats", parents=[common], help="counts, groups and pending spill")
    sub.add_parser("recover", parents=[common], help="write spill files into the store")
    find = sub.add_parser("find", parents=[common], help="documents matching a filter, one JSON line each",
                          description="Documents matching a MongoDB filter, one JSON document per line on stdout. "
                                      "Example: find '{\"site\": \"suzhou.021cf.cn\", \"published_at\": "
                                      "{\"$gte\": \"2025-07-01\"}}' --fields title,published_at,url")
    find.add_argument("filter", nargs="?", default="", metavar="FILTER-JSON",
                      help="MongoDB filter as JSON (default: every document)")
    find.add_argument("--collection", default=ARTICLES, help="articles (default), rental_ads, article_versions")
    find.add_argument("--limit", type=int, default=0, help="at most N documents (default: all)")
    find.add_argument("--fields", default="", help="comma-separated fields to print (with _id); default: all")
    export = sub.add_parser("export", parents=[common], help="a collection as JSON Lines for mongoimport",
                            description="A collection as JSON Lines in MongoDB Extended JSON (relaxed), "
                                        "the format mongoimport reads: "
                                        "mongoimport --db kspider --collection articles --file articles.jsonl")
    export.add_argument("--collection", default=ARTICLES, help="articles (default), rental_ads, article_versions")
    export.add_argument("--out", required=True, help="file to write; - for stdout")
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    settings = store_settings(args)
    config = StoreConfig.from_settings(settings)
    print(f"store: {describe(config)}", file=sys.stderr)
    if not config.uri and not Path(config.embedded_dir).is_dir():
        if not args.create:
            print(f"store: no embedded store at {Path(config.embedded_dir).resolve()} (check EMBEDDED_DB_DIR, "
                  f"or pass --create to start an empty one there)", file=sys.stderr)
            return 2
        print(f"store: creating {Path(config.embedded_dir).resolve()}", file=sys.stderr)
        Path(config.embedded_dir).mkdir(parents=True, exist_ok=True)

    store = open_store(settings)
    try:
        if args.command == "recover":
            store.ensure_indexes()
            print(f"recovered {store.recover()}")
            pending = store.pending_spill()
            if pending:
                print(f"still spilled {pending}")
            return 1 if pending else 0
        if args.command == "find":
            fields = [f.strip() for f in args.fields.split(",") if f.strip()]
            n = write_lines(store.find(args.collection, parse_filter(args.filter), fields or None, args.limit),
                            sys.stdout)
            print(f"store: {n} document(s) in {args.collection}", file=sys.stderr)
            return 0
        if args.command == "export":
            docs = store.find(args.collection)
            if args.out == "-":
                n = write_lines(docs, sys.stdout)
            else:
                out_path = Path(args.out)
                out_path.parent.mkdir(parents=True, exist_ok=True)
                with open(out_path, "w", encoding="utf-8") as out:
                    n = write_lines(docs, out)
            where = "stdout" if args.out == "-" else str(Path(args.out).resolve())
            print(f"store: exported {n} document(s) of {args.collection} to {where}", file=sys.stderr)
            return 0
        counts = store.counts()
        total = counts[ARTICLES] + counts[RENTAL_ADS]
        if args.command == "count" and args.total:
            print(total)
            return 0
        for name, n in counts.items():
            print(f"{name}\t{n}")
        print(f"total\t{total}")
        if args.command == "stats":
            print(f"near_duplicates\t{_grouped(store)}")
            print(f"with_alt_urls\t{store.count(ARTICLES, {'alt_ids.0': {'$exists': True}})}")
            print(f"spilled_pending\t{store.pending_spill()}")
        return 0
    except STORE_ERRORS as exc:
        print(f"store unreachable ({describe(config)}): {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
