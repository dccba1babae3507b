"""The store: dedupe, versioning, near-duplicate grouping and fault-tolerant writes.

One code path serves MongoDB (pymongo) and the embedded store
(kspider.store.embedded), which offer the same collection API.

Writes go in batches. For a batch the store first reads everything the
decisions need (documents by `_id`, by alternate `_id`, by content hash, by
LSH band key) in four queries, decides in Python — keeping the batch's own
documents in the same lookup tables, so two copies within one batch still
group — and then writes one merged update per document with an unordered
``bulk_write``. Every update is idempotent (upserts by `_id`, ``$addToSet``,
``$min``/``$max`` on the seen times, version archives keyed by content hash),
so a batch that failed half-way is simply written again from the spill file.

Collections and the fields the store adds:

- ``articles``: the item's fields plus ``first_seen``/``last_seen`` (the
  earliest/latest ``crawled_at`` seen), ``version`` (1, +1 on every content
  change), ``dup_group`` (``_id`` of the first-seen member of its
  near-duplicate group; its own ``_id`` when it is the first or alone),
  ``alt_urls``/``alt_ids`` (other URLs, and their `_id`s, that served exactly
  the same content), ``past_hashes`` (the content hashes archived in
  ``article_versions``: superseded contents, and older contents that arrived late), ``lsh`` (band keys) and ``minhash``
  (signature).
- ``article_versions``: one document per superseded content, ``_id`` =
  ``"<article _id>:<content_hash>"``, with ``article_id``, ``version``,
  ``content_hash``, ``title``, ``content_text``, ``content_text_hans``,
  ``published_at``, ``crawled_at`` (when that content was crawled) and
  ``superseded_at``.
- ``rental_ads``: the item's fields, ``seen_on`` grown with ``$addToSet``,
  ``first_seen``/``last_seen``.
"""
from __future__ import annotations

import logging
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

import numpy as np
import pymongo
from itemadapter import ItemAdapter
from pymongo import UpdateOne
from pymongo.errors import PyMongoError
from pymongo.write_concern import WriteConcern

from kspider.extract.ids import text_fingerprint, url_fingerprint
from kspider.items import COLLECTIONS
from kspider.store import neardup, spill
from kspider.store.embedded import EmbeddedClient

logger = logging.getLogger(__name__)

ARTICLES = "articles"
RENTAL_ADS = "rental_ads"
VERSIONS = "article_versions"
ITEM_COLLECTIONS = (ARTICLES, RENTAL_ADS)

# Fields the store owns: an item's value (usually the dataclass default) never overwrites them.
_STORE_FIELDS = {"_id", "first_seen", "last_seen", "dup_group", "alt_urls", "alt_ids", "version", "past_hashes", "lsh", "minhash"}

INDEXES: dict[str, list[list[tuple[str, int]]]] = {
    ARTICLES: [
        [("site", 1), ("published_at", -1)],
        [("content_hash", 1)],
        [("dup_group", 1)],
        [("lsh", 1)],
        [("alt_ids", 1)],
        [("last_seen", 1)],
    ],
    RENTAL_ADS: [
        [("city", 1), ("district", 1)],
        [("area_sqm_min", 1)],
        [("price_value", 1)],
        [("last_seen", 1)],
    ],
    VERSIONS: [[("article_id", 1)]],
}

class _StoreDown(Exception):
    """The store could not be prepared for writing."""


# Errors that mean "the store did not take this write": the items are spilled.
STORE_ERRORS: tuple[type[BaseException], ...] = (PyMongoError, sqlite3.Error, OSError, _StoreDown)


# -- settings -------------------------------------------------------------------

def setting(settings: Any, name: str, default: Any = None) -> Any:
    """A setting from Scrapy settings (or a dict), else the environment, else the default."""
    value = None
    if settings is not None:
        value = settings.get(name)
    if value is None:
        value = os.environ.get(name)
    return default if value is None else value


@dataclass
class StoreConfig:
    uri: str = ""
    database: str = "kspider"
    embedded_dir: str = ".kspider/db"
    write_concern: str = "1"
    batch_size: int = 100
    spill_dir: str = ".kspider/spill"
    threshold: float = neardup.DEFAULT_THRESHOLD
    timeout_ms: int = 5000

    @classmethod
    def from_settings(cls, settings: Any) -> "StoreConfig":
        embedded_dir = str(setting(settings, "EMBEDDED_DB_DIR", "") or ".kspider/db")
        # The data directory is the parent of the embedded store's directory.
        default_spill = str(Path(embedded_dir).parent / "spill")
        return cls(
            uri=str(setting(settings, "MONGO_URI", "") or ""),
            database=str(setting(settings, "MONGO_DATABASE", "") or "kspider"),
            embedded_dir=embedded_dir,
            write_concern=str(setting(settings, "MONGO_WRITE_CONCERN", "") or "1"),
            batch_size=max(1, int(setting(settings, "STORE_BATCH_SIZE", 100) or 100)),
            spill_dir=str(setting(settings, "SPILL_DIR", "") or default_spill),
            threshold=float(setting(settings, "NEARDUP_THRESHOLD", neardup.DEFAULT_THRESHOLD) or neardup.DEFAULT_THRESHOLD),
            timeout_ms=int(setting(settings, "MONGO_TIMEOUT_MS", 5000) or 5000),
        )


def parse_write_concern(value: str) -> WriteConcern:
    """"1", "0", "majority", or "majority,j" (journaled) → WriteConcern."""
    parts = [p.strip() for p in str(value).split(",") if p.strip()]
    w: Any = parts[0] if parts else 1
    if isinstance(w, str) and w.isdigit():
        w = int(w)
    return WriteConcern(w=w, j=True if "j" in parts[1:] else None)


# -- item → document -------------------------------------------------------------

def sanitize_keys(value: Any) -> Any:
    """Keys from scraped data made safe for MongoDB: no leading ``$``, no dots."""
    if isinstance(value, Mapping):
        clean = {}
        for key, inner in value.items():
            key = str(key).replace(".", "_")
            if key.startswith("$"):
                key = "_" + key[1:]
            clean[key] = sanitize_keys(inner)
        return clean
    if isinstance(value, (list, tuple)):
        return [sanitize_keys(v) for v in value]
    return value


def collection_of(item: Any) -> Optional[str]:
    """Which collection an item (dataclass or dict) belongs to."""
    if type(item) in COLLECTIONS:
        return COLLECTIONS[type(item)]
    if isinstance(item, Mapping):
        if "raw_text" in item or "seen_on" in item:
            return RENTAL_ADS
        if "url" in item or "content_text" in item:
            return ARTICLES
    return None


def item_to_doc(item: Any, collection: Optional[str] = None) -> Optional[tuple[str, dict[str, Any]]]:
    """(collection, sanitized document with `_id` and `content_hash`), or None if it has no identity."""
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
        collection, item = item
    collection = collection or collection_of(item)
    try:
        # A shallow copy (asdict() recurses slowly); sanitize_keys copies what is nested.
        doc = sanitize_keys(dict(ItemAdapter(item).items()))
    except TypeError:
        return None
    if collection == ARTICLES:
        if not doc.get("_id"):
            url = doc.get("canonical_url") or doc.get("url")
            if not url:
                return None
            doc["_id"] = url_fingerprint(url)
        if not doc.get("content_hash") and doc.get("content_text"):
            doc["content_hash"] = text_fingerprint(doc["content_text"])
    elif collection == RENTAL_ADS:
        if not doc.get("_id"):
            if not doc.get("raw_text"):
                return None
            doc["_id"] = text_fingerprint(doc["raw_text"])
        seen_on = doc.get("seen_on")
        doc["seen_on"] = [u for u in (seen_on if isinstance(seen_on, list) else [seen_on]) if u]
    else:
        return None
    doc["_id"] = str(doc["_id"])
    return collection, doc


# -- a batch's decisions ---------------------------------------------------------------

@dataclass
class _Change:
    """Everything one batch does to one document, merged into one update."""

    new: bool
    sets: dict[str, Any] = field(default_factory=dict)
    add: dict[str, list[Any]] = field(default_factory=dict)
    first_seen: Optional[str] = None
    last_seen: Optional[str] = None
    inc_version: int = 0
    set_on_insert: dict[str, Any] = field(default_factory=dict)

    def touch(self, when: Optional[str]) -> None:
        if when:
            self.first_seen = min(self.first_seen or when, when)
            self.last_seen = max(self.last_seen or when, when)

    def add_to_set(self, name: str, values: Iterable[Any]) -> None:
        bucket = self.add.setdefault(name, [])
        bucket.extend(v for v in values if v not in bucket)

    def update_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {}
        sets = {k: v for k, v in self.sets.items() if k not in self.add}
        if self.new and self.inc_version:
            sets["version"] = sets.get("version", 1) + self.inc_version
        if self.add:
            spec["$addToSet"] = {k: {"$each": v} for k, v in self.add.items()}
        # $min/$max would be safer between concurrent writers, but jongodb lacks them;
        # the batch read the stored times, so these are already min/max with them.
        if self.first_seen:
            sets["first_seen"] = self.first_seen
        if self.last_seen:
            sets["last_seen"] = self.last_seen
        if sets:
            spec["$set"] = sets
        if self.inc_version and not self.new:
            spec["$inc"] = {"version": self.inc_version}
        if self.set_on_insert:
            # MongoDB rejects two operators on one path.
            on_insert = {k: v for k, v in self.set_on_insert.items() if k not in sets and k not in self.add}
            if on_insert:
                spec["$setOnInsert"] = on_insert
        return spec


class _Batch:
    """The documents a batch reads and writes, with the lookup tables its decisions use."""

    def __init__(self, threshold: float):
        self.threshold = threshold
        self.docs: dict[str, dict[str, dict[str, Any]]] = {ARTICLES: {}, RENTAL_ADS: {}}
        self.alt_home: dict[str, str] = {}
        self.by_hash: dict[str, set[str]] = {}
        self.by_key: dict[str, set[str]] = {}
        self.changes: dict[str, dict[str, _Change]] = {ARTICLES: {}, RENTAL_ADS: {}, VERSIONS: {}}
        self.counts: dict[str, int] = {}

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def know_article(self, doc: dict[str, Any]) -> None:
        self.docs[ARTICLES][doc["_id"]] = doc
        for alt in doc.get("alt_ids") or []:
            self.alt_home.setdefault(alt, doc["_id"])
        if doc.get("content_hash"):
            self.by_hash.setdefault(doc["content_hash"], set()).add(doc["_id"])
        for key in doc.get("lsh") or []:
            self.by_key.setdefault(key, set()).add(doc["_id"])

    def forget_article_keys(self, doc: dict[str, Any]) -> None:
        if doc.get("content_hash"):
            self.by_hash.get(doc["content_hash"], set()).discard(doc["_id"])
        for key in doc.get("lsh") or []:
            self.by_key.get(key, set()).discard(doc["_id"])

    def change(self, collection: str, doc_id: str, new: bool = False) -> _Change:
        if doc_id not in self.changes[collection]:
            self.changes[collection][doc_id] = _Change(new=new)
        return self.changes[collection][doc_id]


def _first_member(docs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return min(docs, key=lambda d: (d.get("first_seen") or "~", d["_id"]))


@dataclass
class _Prepared:
    collection: str
    doc: dict[str, Any]
    signature: Optional[np.ndarray] = None
    keys: list[str] = field(default_factory=list)


class Store:
    """Articles and rental ads in MongoDB or the embedded store (see the module doc)."""

    def __init__(self, config: StoreConfig, stats: Any = None):
        self.config = config
        self.stats = stats
        self.counters: dict[str, int] = {}
        if config.uri:
            self.kind = "mongodb"
            timeout = config.timeout_ms
            self.client: Any = pymongo.MongoClient(
                config.uri,
                serverSelectionTimeoutMS=timeout,
                connectTimeoutMS=timeout,
                socketTimeoutMS=max(timeout, 30000),
                tz_aware=True,
            )
        else:
            self.kind = "embedded"
            self.client = EmbeddedClient(config.embedded_dir)
        self.db = self.client[config.database]
        concern = parse_write_concern(config.write_concern)
        self.collections = {
            name: self.db.get_collection(name, write_concern=concern) for name in (ARTICLES, RENTAL_ADS, VERSIONS)
        }
        self.spill = spill.SpillWriter(config.spill_dir)
        self.indexes_ready = False

    # -- bookkeeping -----------------------------------------------------------
    def _inc(self, name: str, n: int = 1) -> None:
        if not n:
            return
        self.counters[name] = self.counters.get(name, 0) + n
        if self.stats is not None:
            self.stats.inc_value(f"store/{name}", n)

    def __repr__(self) -> str:
        where = self.config.embedded_dir if self.kind == "embedded" else "MongoDB"
        return f"<Store {self.kind} {where} db={self.config.database}>"

    # -- setup -------------------------------------------------------------------
    def ensure_indexes(self) -> bool:
        """Create the indexes (idempotent); False (logged, counted) when the store is unreachable."""
        try:
            for name, specs in INDEXES.items():
                for keys in specs:
                    self.collections[name].create_index(keys)
        except STORE_ERRORS as exc:
            logger.error("store: could not create indexes on %r: %s", self, exc)
            self._inc("index_errors")
            return False
        self.indexes_ready = True
        return True

    # -- writing -----------------------------------------------------------------
    def write_items(self, items: Iterable[Any]) -> bool:
        """Write one batch of items; on a store failure spill them all. True when written."""
        prepared: list[_Prepared] = []
        for item in items:
            entry = item_to_doc(item)
            if entry is None:
                logger.error("store: item without identity (no _id, URL or text) rejected: %.200r", item)
                self.spill.reject(repr(item)[:10000], "no identity")
                self._inc("rejected")
                continue
            prepared.append(_Prepared(*entry))
        if not prepared:
            return True
        try:
            if not self.indexes_ready and not self.ensure_indexes():
                raise _StoreDown("store unreachable (index creation failed)")
            self._write_prepared(prepared)
        except STORE_ERRORS as exc:
            logger.error("store: write of %d items failed (%s: %s); spilling them to %s",
                         len(prepared), type(exc).__name__, exc, self.config.spill_dir)
            self._inc("write_errors")
            self._spill(prepared, f"{type(exc).__name__}: {exc}")
            return False
        return True

    def _spill(self, prepared: list[_Prepared], error: str) -> None:
        try:
            n = self.spill.write([(p.collection, p.doc) for p in prepared], error)
        except OSError as exc:  # nowhere left to put them: say so loudly
            logger.critical("store: could not spill %d items to %s: %s", len(prepared), self.config.spill_dir, exc)
            self._inc("lost", len(prepared))
            return
        self._inc("spilled", n)

    def _write_prepared(self, prepared: list[_Prepared]) -> None:
        batch = _Batch(self.config.threshold)
        articles = [p for p in prepared if p.collection == ARTICLES]
        ads = [p for p in prepared if p.collection == RENTAL_ADS]
        for p in articles:
            sig = neardup.signature(p.doc.get("content_text_hans") or p.doc.get("content_text"))
            if sig is not None:
                p.signature = sig
                p.keys = neardup.band_keys(sig, self.config.threshold)
        self._read_articles(batch, articles)
        for p in articles:
            self._decide_article(batch, p)
        if ads:
            ids = list({p.doc["_id"] for p in ads})
            for doc in self.collections[RENTAL_ADS].find({"_id": {"$in": ids}}):
                batch.docs[RENTAL_ADS][doc["_id"]] = doc
            for p in ads:
                self._decide_ad(batch, p)
        # Archives first, so a version is never lost between the two writes.
        for name in (VERSIONS, ARTICLES, RENTAL_ADS):
            self._apply(name, batch.changes[name])
        for name, n in batch.counts.items():
            self._inc(name, n)

    def _read_articles(self, batch: _Batch, articles: list[_Prepared]) -> None:
        if not articles:
            return
        col = self.collections[ARTICLES]
        ids = list({p.doc["_id"] for p in articles})
        hashes = list({p.doc["content_hash"] for p in articles if p.doc.get("content_hash")})
        keys = list({k for p in articles for k in p.keys})
        queries = [{"_id": {"$in": ids}}, {"alt_ids": {"$in": ids}}]
        if hashes:
            queries.append({"content_hash": {"$in": hashes}})
        if keys:
            queries.append({"lsh": {"$in": keys}})
        for query in queries:
            for doc in col.find(query):
                if doc["_id"] not in batch.docs[ARTICLES]:
                    batch.know_article(doc)

    def _decide_article(self, batch: _Batch, p: _Prepared) -> None:
        doc = p.doc
        doc_id, content_hash = doc["_id"], doc.get("content_hash")
        when = doc.get("crawled_at") or spill.utc_now_iso()
        known = batch.docs[ARTICLES]
        fields = {k: v for k, v in doc.items() if k not in _STORE_FIELDS}
        current = known.get(doc_id)

        if current is None:
            home_id = batch.alt_home.get(doc_id)
            if home_id is not None and home_id in known:
                home = known[home_id]
                # Same content as the home document has (or had): the same document.
                if content_hash == home.get("content_hash") or content_hash in (home.get("past_hashes") or []):
                    self._touch(batch, home, when)
                    batch.count("updated")
                    return
                # The alternate URL now serves other content: it becomes its own document.
                self._detach_alt(batch, home, doc_id, doc)
            twins = [known[i] for i in batch.by_hash.get(content_hash or "", ()) if i != doc_id and i in known]
            if content_hash and twins:
                home = _first_member(twins)
                url = doc.get("canonical_url") or doc.get("url")
                change = batch.change(ARTICLES, home["_id"])
                change.add_to_set("alt_urls", [url])
                change.add_to_set("alt_ids", [doc_id])
                home.setdefault("alt_urls", []).append(url)
                home.setdefault("alt_ids", []).append(doc_id)
                batch.alt_home[doc_id] = home["_id"]
                self._touch(batch, home, when)
                batch.count("alt_urls")
                return
            self._insert_article(batch, p, fields, when)
            return

        change = batch.change(ARTICLES, doc_id)
        newer = when >= (current.get("crawled_at") or "")
        if not content_hash or current.get("content_hash") == content_hash:
            if newer:
                change.sets.update(fields)
                current.update(fields)
            self._touch(batch, current, when)
            batch.count("updated")
            return
        past = current.setdefault("past_hashes", [])
        if content_hash in past:
            # An old content seen again (a late or replayed item): already recorded.
            self._touch(batch, current, when)
            batch.count("updated")
            return
        change.add_to_set("past_hashes", [current.get("content_hash") if newer else content_hash])
        past.append(current.get("content_hash") if newer else content_hash)
        if newer:
            # New content: archive the current one, then take the item's.
            self._archive(batch, current, current, superseded_at=when)
            batch.forget_article_keys(current)
            fields.update(self._near_dup_fields(p))
            change.sets.update(fields)
            change.inc_version += 1
            current.update(fields)
            current["version"] = int(current.get("version") or 1) + 1
            batch.know_article(current)
            self._touch(batch, current, when)
            batch.count("updated")
        else:
            # Older content arriving late (e.g. from a spill file): history only.
            self._archive(batch, current, doc, superseded_at=current.get("crawled_at"))
            self._touch(batch, current, when)
        batch.count("versions")

    def _insert_article(self, batch: _Batch, p: _Prepared, fields: dict[str, Any], when: str) -> None:
        doc_id = p.doc["_id"]
        group = self._near_dup_group(batch, p)
        new_doc = dict(fields)
        new_doc.update(self._near_dup_fields(p))
        new_doc.update({"_id": doc_id, "dup_group": group or doc_id, "version": 1, "alt_urls": [], "alt_ids": [],
                        "first_seen": when, "last_seen": when})
        change = batch.change(ARTICLES, doc_id, new=True)
        change.sets.update({k: v for k, v in new_doc.items() if k not in ("_id", "first_seen", "last_seen", "alt_urls", "alt_ids")})
        change.set_on_insert.update({"alt_urls": [], "alt_ids": [], "past_hashes": []})
        change.touch(when)
        batch.know_article(new_doc)
        batch.count("inserted")
        if group:
            batch.count("near_dups")

    def _near_dup_fields(self, p: _Prepared) -> dict[str, Any]:
        if p.signature is None:
            return {"lsh": [], "minhash": None}
        return {"lsh": p.keys, "minhash": neardup.encode_signature(p.signature)}

    def _near_dup_group(self, batch: _Batch, p: _Prepared) -> Optional[str]:
        """The dup_group of the earliest near-duplicate already known, or None."""
        if p.signature is None:
            return None
        known = batch.docs[ARTICLES]
        candidate_ids = {i for key in p.keys for i in batch.by_key.get(key, ())} - {p.doc["_id"]}
        matches = []
        for cid in candidate_ids:
            other = neardup.decode_signature(known[cid].get("minhash")) if cid in known else None
            if other is not None and neardup.similarity(p.signature, other) >= self.config.threshold:
                matches.append(known[cid])
        if not matches:
            return None
        first = _first_member(matches)
        return first.get("dup_group") or first["_id"]

    def _touch(self, batch: _Batch, doc: dict[str, Any], when: str, collection: str = ARTICLES) -> None:
        doc["first_seen"] = min(doc.get("first_seen") or when, when)
        doc["last_seen"] = max(doc.get("last_seen") or when, when)
        change = batch.change(collection, doc["_id"])
        change.touch(doc["first_seen"])
        change.touch(doc["last_seen"])

    def _detach_alt(self, batch: _Batch, home: dict[str, Any], alt_id: str, doc: dict[str, Any]) -> None:
        urls = {doc.get("canonical_url"), doc.get("url")}
        home["alt_ids"] = [i for i in home.get("alt_ids") or [] if i != alt_id]
        home["alt_urls"] = [u for u in home.get("alt_urls") or [] if u not in urls]
        change = batch.change(ARTICLES, home["_id"])
        change.add.pop("alt_ids", None)
        change.add.pop("alt_urls", None)
        change.sets.update({"alt_ids": home["alt_ids"], "alt_urls": home["alt_urls"]})
        batch.alt_home.pop(alt_id, None)

    def _archive(self, batch: _Batch, article: dict[str, Any], content: dict[str, Any], superseded_at: Optional[str]) -> None:
        version_id = f"{article['_id']}:{content.get('content_hash')}"
        change = batch.change(VERSIONS, version_id, new=True)
        change.set_on_insert.update({
            "article_id": article["_id"],
            "version": int(article.get("version") or 1) if content is article else None,
            "content_hash": content.get("content_hash"),
            "title": content.get("title"),
            "content_text": content.get("content_text"),
            "content_text_hans": content.get("content_text_hans"),
            "published_at": content.get("published_at"),
            "crawled_at": content.get("crawled_at"),
            "superseded_at": superseded_at,
        })

    def _decide_ad(self, batch: _Batch, p: _Prepared) -> None:
        doc = p.doc
        when = doc.get("crawled_at") or spill.utc_now_iso()
        current = batch.docs[RENTAL_ADS].get(doc["_id"])
        change = batch.change(RENTAL_ADS, doc["_id"], new=current is None)
        fields = {k: v for k, v in doc.items() if k not in _STORE_FIELDS and k != "seen_on"}
        if current is None or when >= (current.get("crawled_at") or ""):
            change.sets.update(fields)
        change.add_to_set("seen_on", doc.get("seen_on") or [])
        if current is None:
            current = dict(fields, _id=doc["_id"])
            batch.docs[RENTAL_ADS][doc["_id"]] = current
            batch.count("inserted")
        else:
            current.update(fields)
            batch.count("updated")
        self._touch(batch, current, when, RENTAL_ADS)

    def _apply(self, name: str, changes: dict[str, _Change]) -> None:
        if not changes:
            return
        requests = [UpdateOne({"_id": doc_id}, change.update_spec(), upsert=True) for doc_id, change in changes.items()]
        self.collections[name].bulk_write(requests, ordered=False)

    # -- recovery ------------------------------------------------------------------
    def recover(self) -> int:
        """Write every recoverable spill file into the store; the number of items written.

        Items that fail again are spilled anew (to this process's next spill
        file), so nothing is lost however often recovery fails.
        """
        self.spill.rotate()
        recovered = 0
        for path in spill.recoverable_files(self.config.spill_dir):
            claimed = spill.claim(path)
            if claimed is None:
                continue
            entries = list(spill.read_entries(claimed, self.spill))
            logger.info("store: recovering %d items from %s", len(entries), path.name)
            failed_at = None
            for start in range(0, len(entries), self.config.batch_size):
                chunk = entries[start : start + self.config.batch_size]
                if not self.write_items(chunk):  # spilled again by write_items
                    failed_at = start + len(chunk)
                    break
                recovered += len(chunk)
            if failed_at is not None:
                # The store is still down: keep the rest for later without waiting on it again.
                rest = entries[failed_at:]
                if rest:
                    self._spill([_Prepared(c, d) for c, d in rest], "not retried: store still unreachable")
            claimed.unlink()
            if failed_at is not None:
                break
        self._inc("recovered", recovered)
        return recovered

    def pending_spill(self) -> int:
        """Items waiting in spill files (of any process)."""
        directory = Path(self.config.spill_dir)
        if not directory.is_dir():
            return 0
        total = 0
        for path in directory.glob("spill-*.jsonl*"):
            with open(path, encoding="utf-8", errors="replace") as fh:
                total += sum(1 for line in fh if line.strip())
        return total

    # -- reading -------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Documents per collection."""
        return {name: self.collections[name].count_documents({}) for name in (ARTICLES, RENTAL_ADS, VERSIONS)}

    def seen_recently(self, ids: list[str], since_iso: str) -> set[str]:
        """The given article `_id`s (own or alternate) whose document was last seen at or after `since_iso`."""
        ids = [str(i) for i in ids if i]
        if not ids:
            return set()
        wanted = set(ids)
        found: set[str] = set()
        query = {"$or": [{"_id": {"$in": ids}}, {"alt_ids": {"$in": ids}}]}
        for doc in self.collections[ARTICLES].find(query):
            if (doc.get("last_seen") or "") >= since_iso:
                found.update(wanted.intersection([doc["_id"], *(doc.get("alt_ids") or [])]))
        return found

    def near_duplicates(self, text: str) -> list[str]:
        """`_id`s of stored articles whose text is a near-duplicate of `text` (most similar first)."""
        sig = neardup.signature(text)
        if sig is None:
            return []
        keys = neardup.band_keys(sig, self.config.threshold)
        scored = []
        for doc in self.collections[ARTICLES].find({"lsh": {"$in": keys}}):
            other = neardup.decode_signature(doc.get("minhash"))
            if other is not None:
                score = neardup.similarity(sig, other)
                if score >= self.config.threshold:
                    scored.append((-score, doc["_id"]))
        return [doc_id for _, doc_id in sorted(scored)]

    def close(self) -> None:
        self.client.close()


def open_store(settings: Any = None, stats: Any = None) -> Store:
    """A Store configured from Scrapy settings (or a dict; the environment fills gaps)."""
    return Store(StoreConfig.from_settings(settings), stats=stats)
