"""The store: dedupe, versioning, near-duplicate grouping and fault-tolerant writes.

One code path serves MongoDB (pymongo) and the embedded store
(kspider.store.embedded), which offer the same collection API.

Writes go in batches. For a batch the store first reads everything the
decisions need (documents by `_id`, by alternate `_id`, by content hash, by
LSH band key, and the claims on the batch's content hashes), decides in
Python — keeping the batch's own documents in the same lookup tables, so two
copies within one batch still group — and then writes. Every update is
idempotent (upserts by `_id`, ``$addToSet``, ``$min``/``$max`` on the seen
times, version archives and claims keyed by content hash), so a batch that
failed half-way is simply written again from the spill file.

Several writers at once (crawler processes without a shared lock, a
``recover`` run by hand): nothing is locked between a batch's read and its
write, so the decisions that another writer could invalidate meanwhile rest
on single-document atomic operations (unique `_id`, conditional updates),
which MongoDB, the embedded store and jongodb all have. The final state is
the one the batches would give written one after the other:

- Exact copies: the claim ``store_claims`` ``{"_id": "h:<content_hash>",
  "owner": <article _id>}`` is inserted before the article; the unique `_id`
  lets one writer's article own the hash. A writer that loses (duplicate key)
  decides those items again: they become alternates of the owner
  (``$addToSet`` on its ``alt_urls``/``alt_ids``, creating it as a stub — no
  ``version`` — if its owner has not written it yet; the owner's insert fills
  it in). A claim whose owner serves other content now is spent: the stored
  copies decide, as without claims (documents stored before claims existed).
- Near-duplicate groups: every batch that wrote articles bumps the write
  sequence (``store_claims`` ``{"_id": "writes", "n"}``), read before its
  reads. If another batch bumped it in between, the new articles that lead
  their own group query the LSH index again; of two near-duplicates written
  at once at least one sees the other, and ``settle_group`` gives both the
  same answer (the first-seen one leads; the later one joins its group by a
  conditional update, only while it still leads its own group). Guaranteed
  for two writers' articles; a chain of three near-duplicates written at the
  same instant can still end in two groups.
- Seen times: ``$min``/``$max`` where the server has them (probed once per
  Store by ``ensure_indexes`` with a write to ``store_probe``); elsewhere
  (jongodb) conditional ``$set``s that only move a time outwards
  (``{"last_seen": {"$lt": t}}`` → ``$set``).
- Versions: an update that replaces an article's fields is conditional on
  the ``content_hash`` the batch read; an insert is conditional on no other
  writer's article (one with a ``version``) having the `_id` (a duplicate key
  otherwise). A writer that loses decides those items again from a fresh
  read (``store/race_retries``): the newer content becomes the next version,
  an older one is archived as history. A superseded content is archived
  before the update, with ``$setOnInsert``; when two writers replace the same
  content at once, its ``superseded_at`` is the crawl time of whichever
  archived it first.

Rental ads need none of this: one document per text, ``seen_on`` grows with
``$addToSet``, seen times as above; their fields (``crawled_at`` among them)
are the last writer's, parsed from the same text.

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
- ``store_claims``: the content-hash claims and the write sequence (above).
"""
from __future__ import annotations

import logging
import os
import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Optional

import numpy as np
import pymongo
from itemadapter import ItemAdapter
from pymongo import InsertOne, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure, PyMongoError
from pymongo.write_concern import WriteConcern

from kspider.extract.ids import text_fingerprint, url_fingerprint
from kspider.items import COLLECTIONS
from kspider.store import neardup, spill
from kspider.store.embedded import EmbeddedClient

logger = logging.getLogger(__name__)

ARTICLES = "articles"
RENTAL_ADS = "rental_ads"
VERSIONS = "article_versions"
# Content-hash claims: `_id` "h:<content_hash>", `owner` the article `_id` that took it first;
# and the article write sequence: `_id` "writes", `n` (+1 after every batch that wrote articles).
CLAIMS = "store_claims"
WRITES = "writes"
# Per listing chain: how far the last passes went (`_id` "<site>|<chain>"; the incremental crawl owns the fields).
CRAWL_STATE = "crawl_state"
# A scratch collection for probing what the server supports.
PROBE = "store_probe"
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


def _only_duplicate_keys(exc: BaseException) -> bool:
    """Whether a write failed only on duplicate `_id`s (an insert that lost a race)."""
    if isinstance(exc, DuplicateKeyError):
        return True
    if isinstance(exc, BulkWriteError):
        details = exc.details or {}
        errors = details.get("writeErrors") or []
        return bool(errors) and all(e.get("code") == 11000 for e in errors) and not details.get("writeConcernErrors")
    return False


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
    """Everything one batch does to one document, merged into one update.

    ``guard`` holds the values, as read, that the update is conditional on
    (the article's ``content_hash``, an ``alt_ids`` list about to be rewritten);
    ``items`` the batch items whose decisions went into it (they are retried
    together when the guard or a claim fails).
    """

    new: bool
    sets: dict[str, Any] = field(default_factory=dict)
    add: dict[str, list[Any]] = field(default_factory=dict)
    first_seen: Optional[str] = None
    last_seen: Optional[str] = None
    inc_version: int = 0
    set_on_insert: dict[str, Any] = field(default_factory=dict)
    guard: dict[str, Any] = field(default_factory=dict)
    items: set[int] = field(default_factory=set)

    def touch(self, when: Optional[str]) -> None:
        if when:
            self.first_seen = min(self.first_seen or when, when)
            self.last_seen = max(self.last_seen or when, when)

    def add_to_set(self, name: str, values: Iterable[Any]) -> None:
        bucket = self.add.setdefault(name, [])
        bucket.extend(v for v in values if v not in bucket)

    def update_spec(self, minmax: bool = True) -> dict[str, Any]:
        """The update document; seen times with ``$min``/``$max``, or (``minmax`` False, for a
        server without them) only on insert, the rest left to ``time_guards``."""
        spec: dict[str, Any] = {}
        sets = {k: v for k, v in self.sets.items() if k not in self.add}
        if self.new and self.inc_version:
            sets["version"] = sets.get("version", 1) + self.inc_version
        if self.add:
            spec["$addToSet"] = {k: {"$each": v} for k, v in self.add.items()}
        if sets:
            spec["$set"] = sets
        if self.inc_version and not self.new:
            spec["$inc"] = {"version": self.inc_version}
        on_insert = dict(self.set_on_insert)
        if minmax:
            if self.first_seen:
                spec["$min"] = {"first_seen": self.first_seen}
            if self.last_seen:
                spec["$max"] = {"last_seen": self.last_seen}
        else:
            if self.first_seen:
                on_insert["first_seen"] = self.first_seen
            if self.last_seen:
                on_insert["last_seen"] = self.last_seen
        # MongoDB rejects two operators on one path.
        on_insert = {k: v for k, v in on_insert.items() if k not in sets and k not in self.add}
        if on_insert:
            spec["$setOnInsert"] = on_insert
        return spec

    def time_guards(self, doc_id: str, stored: Optional[tuple[Any, ...]]) -> list[UpdateOne]:
        """Conditional ``$set``s that move the seen times only outwards (for a server without
        ``$min``/``$max``). ``stored``: (first_seen, last_seen, …) as read, None when unknown.
        The times only ever move outwards, so a time the read value already covers needs no write."""
        first, last = stored[:2] if stored is not None else (None, None)
        guards = []
        if self.first_seen and (first is None or self.first_seen < first):
            guards.append(UpdateOne({"_id": doc_id, "first_seen": {"$gt": self.first_seen}}, {"$set": {"first_seen": self.first_seen}}))
        if self.last_seen and (last is None or self.last_seen > last):
            guards.append(UpdateOne({"_id": doc_id, "last_seen": {"$lt": self.last_seen}}, {"$set": {"last_seen": self.last_seen}}))
        return guards


@dataclass
class _SelfLed:
    """A new article that found no near-duplicate in its batch's read: it leads its own group
    unless a near-duplicate written at the same time (found by a query after the write) came first."""

    doc: dict[str, Any]
    signature: np.ndarray
    item: int


class _Batch:
    """The documents a batch reads and writes, with the lookup tables its decisions use."""

    def __init__(self, threshold: float, items: list["_Prepared"]):
        self.threshold = threshold
        self.items = items
        self.item = -1  # the item being decided
        self.docs: dict[str, dict[str, dict[str, Any]]] = {ARTICLES: {}, RENTAL_ADS: {}}
        # (first_seen, last_seen, content_hash, alt_ids) of each document as read from the store.
        self.read: dict[str, dict[str, tuple[Any, ...]]] = {ARTICLES: {}, RENTAL_ADS: {}}
        self.alt_home: dict[str, str] = {}
        self.by_hash: dict[str, set[str]] = {}
        self.by_key: dict[str, set[str]] = {}
        self.changes: dict[str, dict[str, _Change]] = {ARTICLES: {}, RENTAL_ADS: {}, VERSIONS: {}}
        self.item_counts: dict[int, dict[str, int]] = {}
        # Content-hash claims: read (claim _id → owner) and the ones this batch means to take.
        self.claims: dict[str, str] = {}
        self.claims_read: set[str] = set()
        self.hash_intents: dict[str, tuple[str, set[int]]] = {}
        self.self_led: list[_SelfLed] = []
        self.writes_seen = 0  # the write sequence before the read
        self.writes_lsh = False  # whether it writes articles others may be near-duplicates of

    def count(self, name: str, n: int = 1) -> None:
        counts = self.item_counts.setdefault(self.item, {})
        counts[name] = counts.get(name, 0) + n

    def know_article(self, doc: dict[str, Any], from_store: bool = False) -> None:
        self.docs[ARTICLES][doc["_id"]] = doc
        if from_store:
            self.read[ARTICLES][doc["_id"]] = (doc.get("first_seen"), doc.get("last_seen"), doc.get("content_hash"),
                                               list(doc.get("alt_ids") or []))
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
        change = self.changes[collection][doc_id]
        if new:  # (alternates may have been added to it first, in this batch)
            change.new = True
        change.items.add(self.item)
        return change

    def intend_claim(self, claim_id: str, owner: str) -> None:
        """This batch's decision rests on `owner` owning `claim_id`: claim it before writing."""
        self.claims[claim_id] = owner
        _, items = self.hash_intents.setdefault(claim_id, (owner, set()))
        items.add(self.item)

    def rely_on_claim(self, claim_id: str) -> None:
        if claim_id in self.hash_intents:
            self.hash_intents[claim_id][1].add(self.item)

    def lost_closure(self, lost: set[int]) -> tuple[set[int], set[tuple[str, str]]]:
        """Items to retry and the changes not to write: every change an item to retry took part
        in, and every item that took part in such a change."""
        lost = set(lost)
        dropped: set[tuple[str, str]] = set()
        grew = bool(lost)
        while grew:
            grew = False
            for name, changes in self.changes.items():
                for doc_id, change in changes.items():
                    if (name, doc_id) not in dropped and change.items & lost:
                        dropped.add((name, doc_id))
                        if not change.items <= lost:
                            lost |= change.items
                            grew = True
        return lost, dropped


def _first_member(docs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return min(docs, key=lambda d: (d.get("first_seen") or "~", d["_id"]))


def _hash_claim(content_hash: str) -> str:
    return f"h:{content_hash}"


def _seen_order(doc: Mapping[str, Any]) -> tuple[str, str]:
    return (doc.get("first_seen") or "~", doc["_id"])


def settle_group(mine: Mapping[str, Any], sig: np.ndarray, concurrent: Iterable[Mapping[str, Any]],
                 threshold: float) -> tuple[Optional[str], list[str]]:
    """Groups of a self-led article and the near-duplicates written at the same time by other writers.

    `mine`: the article as written (its own group); `concurrent`: articles sharing an
    LSH band key with it that its batch had not read. Among verified near-duplicates,
    the first-seen article (``first_seen``, then `_id`) leads: it is the rule of a
    single writer, and both sides compute the same answer. Returns (the group `mine`
    joins, or None when it leads; the `_id`s of the later ones it leads that still
    lead their own group, which join its group).
    """
    near = []
    for other in concurrent:
        other_sig = neardup.decode_signature(other.get("minhash"))
        if other["_id"] != mine["_id"] and other_sig is not None and neardup.similarity(sig, other_sig) >= threshold:
            near.append(other)
    earlier = [o for o in near if _seen_order(o) < _seen_order(mine)]
    if earlier:
        first = min(earlier, key=_seen_order)
        return (first.get("dup_group") or first["_id"]), []
    return None, sorted(o["_id"] for o in near if o.get("dup_group") in (None, o["_id"]))


@dataclass
class _Prepared:
    collection: str
    doc: dict[str, Any]
    signature: Optional[np.ndarray] = None
    keys: list[str] = field(default_factory=list)
    hashed: bool = False


class _RacesLost(_StoreDown):
    """Other writers kept changing what a batch's items depend on (the items are spilled)."""


# A lost race retries the items concerned with a fresh read; this many attempts, then they are spilled.
_MAX_ATTEMPTS = 5


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
            name: self.db.get_collection(name, write_concern=concern) for name in (ARTICLES, RENTAL_ADS, VERSIONS, CLAIMS)
        }
        self.spill = spill.SpillWriter(config.spill_dir)
        self.indexes_ready = False
        # Whether the server has $min/$max (probed by ensure_indexes).
        self.minmax: Optional[bool] = None

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
        """Create the indexes (idempotent) and probe for ``$min``/``$max``; False (logged,
        counted) when the store is unreachable."""
        try:
            for name, specs in INDEXES.items():
                for keys in specs:
                    self.collections[name].create_index(keys)
            if self.minmax is None:
                self.minmax = self._probe_minmax()
        except STORE_ERRORS as exc:
            logger.error("store: could not create indexes on %r: %s", self, exc)
            self._inc("index_errors")
            return False
        self.indexes_ready = True
        return True

    def _probe_minmax(self) -> bool:
        """Whether the server applies ``$min``/``$max`` (a write to a scratch collection)."""
        probe = self.db[PROBE]
        probe_id = f"minmax-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            probe.update_one({"_id": probe_id}, {"$min": {"first": 1}, "$max": {"last": 1}}, upsert=True)
        except OperationFailure as exc:
            logger.info("store: %r rejects $min/$max (%s); seen times are written by conditional $set", self, exc)
            return False
        finally:
            probe.delete_many({"_id": probe_id})
        logger.info("store: %r: seen times are written with $min/$max", self)
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

    def _write_prepared(self, prepared: list[_Prepared], planned: Optional[_Batch] = None) -> None:
        """Read, decide, write (or write a batch already `planned` from `prepared`); items that
        lost a race to another writer go round again."""
        pending = prepared
        for _ in range(_MAX_ATTEMPTS):
            batch, planned = planned or self._plan(pending), None
            pending = self._commit(batch)
            if not pending:
                return
            self._inc("race_retries", len(pending))
        raise _RacesLost(f"{len(pending)} items lost a race to other writers {_MAX_ATTEMPTS} times")

    def _plan(self, prepared: list[_Prepared]) -> _Batch:
        """The read phase: everything the batch's decisions need, then the decisions."""
        batch = _Batch(self.config.threshold, prepared)
        articles = [(i, p) for i, p in enumerate(prepared) if p.collection == ARTICLES]
        ads = [(i, p) for i, p in enumerate(prepared) if p.collection == RENTAL_ADS]
        for _, p in articles:
            if not p.hashed:
                p.hashed = True
                sig = neardup.signature(p.doc.get("content_text_hans") or p.doc.get("content_text"))
                if sig is not None:
                    p.signature = sig
                    p.keys = neardup.band_keys(sig, self.config.threshold)
        self._read_articles(batch, [p for _, p in articles])
        for batch.item, p in articles:
            self._decide_article(batch, p)
        if ads:
            ids = list({p.doc["_id"] for _, p in ads})
            for doc in self.collections[RENTAL_ADS].find({"_id": {"$in": ids}}):
                batch.docs[RENTAL_ADS][doc["_id"]] = doc
                batch.read[RENTAL_ADS][doc["_id"]] = (doc.get("first_seen"), doc.get("last_seen"))
            for batch.item, p in ads:
                self._decide_ad(batch, p)
        return batch

    def _read_articles(self, batch: _Batch, articles: list[_Prepared]) -> None:
        if not articles:
            return
        # Before the documents: a write another batch makes after this read bumps it.
        sequence = self.collections[CLAIMS].find_one({"_id": WRITES})
        batch.writes_seen = int((sequence or {}).get("n") or 0)
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
                    batch.know_article(doc, from_store=True)
        if hashes:
            for claim in self.collections[CLAIMS].find({"_id": {"$in": [_hash_claim(h) for h in hashes]}}):
                batch.claims[claim["_id"]] = claim.get("owner")
                batch.claims_read.add(claim["_id"])
            # Owners whose document holds another content now (or is being written).
            owners = [o for o in set(batch.claims.values()) if o and o not in batch.docs[ARTICLES]]
            if owners:
                for doc in col.find({"_id": {"$in": owners}}):
                    batch.know_article(doc, from_store=True)

    def _exact_home(self, batch: _Batch, doc_id: str, content_hash: Optional[str]) -> Optional[dict[str, Any]]:
        """The article a new URL with this content is an alternate of, or None when it is a new article.

        The claim on the content hash names the first writer's article (even one
        another process has claimed and not written yet: its alternates then
        create it, and its owner fills it in). Without a claim (documents stored
        before claims existed) the first-seen stored copy is the home, and this
        batch claims the hash for it.
        """
        if not content_hash:
            return None
        known = batch.docs[ARTICLES]
        claim_id = _hash_claim(content_hash)
        owner = batch.claims.get(claim_id)
        if owner == doc_id:
            return None
        if owner is not None:
            home = known.get(owner)
            if home is None:
                home = {"_id": owner}
                batch.know_article(home)
                batch.rely_on_claim(claim_id)
                return home
            if home.get("version") is None or home.get("content_hash") == content_hash:
                batch.rely_on_claim(claim_id)
                return home
            # The owner serves other content now: the claim is spent; decide by the stored copies.
        twins = [known[i] for i in batch.by_hash.get(content_hash, ()) if i != doc_id and i in known]
        if twins:
            home = _first_member(twins)
            if owner is None:
                batch.intend_claim(claim_id, home["_id"])
            return home
        if owner is None:
            batch.intend_claim(claim_id, doc_id)
        return None

    def _decide_article(self, batch: _Batch, p: _Prepared) -> None:
        doc = p.doc
        doc_id, content_hash = doc["_id"], doc.get("content_hash")
        when = doc.get("crawled_at") or spill.utc_now_iso()
        known = batch.docs[ARTICLES]
        fields = {k: v for k, v in doc.items() if k not in _STORE_FIELDS}
        current = known.get(doc_id)
        stub = None
        if current is not None and current.get("version") is None:
            # Alternates of this article were stored before the article itself (another
            # writer claimed its content for it): it is still to be written.
            stub, current = current, None
        home_id = batch.alt_home.get(doc_id)

        if current is None:
            if home_id is not None and home_id != doc_id and home_id in known:
                home = known[home_id]
                # Same content as the home document has (or had): the same document.
                if content_hash == home.get("content_hash") or content_hash in (home.get("past_hashes") or []):
                    self._touch(batch, home, when)
                    batch.count("updated")
                    return
                # The alternate URL now serves other content: it becomes its own document.
                self._detach_alt(batch, home, doc_id, doc)
            home = self._exact_home(batch, doc_id, content_hash)
            if home is not None:
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
            self._insert_article(batch, p, fields, when, stub)
            return

        if home_id is not None and home_id != doc_id and home_id in known:
            # Its own document and listed as another's alternate (left by a lost race): keep the document.
            self._detach_alt(batch, known[home_id], doc_id, doc)
        change = batch.change(ARTICLES, doc_id)
        newer = when >= (current.get("crawled_at") or "")
        if not content_hash or current.get("content_hash") == content_hash:
            if newer:
                self._guard_content(batch, change, doc_id)
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
            # New content: archive the current one, then take the item's — only if the
            # stored content is still the one read (another writer may have replaced it).
            self._guard_content(batch, change, doc_id)
            self._archive(batch, current, current, superseded_at=when)
            batch.forget_article_keys(current)
            fields.update(self._near_dup_fields(p))
            change.sets.update(fields)
            change.inc_version += 1
            current.update(fields)
            current["version"] = int(current.get("version") or 1) + 1
            batch.know_article(current)
            batch.writes_lsh = True
            self._touch(batch, current, when)
            batch.count("updated")
        else:
            # Older content arriving late (e.g. from a spill file): history only.
            self._archive(batch, current, doc, superseded_at=current.get("crawled_at"))
            self._touch(batch, current, when)
        batch.count("versions")

    @staticmethod
    def _guard_content(batch: _Batch, change: _Change, doc_id: str) -> None:
        read = batch.read[ARTICLES].get(doc_id)
        if read is not None and not change.new:
            change.guard.setdefault("content_hash", read[2])

    def _insert_article(self, batch: _Batch, p: _Prepared, fields: dict[str, Any], when: str,
                        stub: Optional[dict[str, Any]] = None) -> None:
        doc_id = p.doc["_id"]
        group = self._near_dup_group(batch, p)
        new_doc = dict(fields)
        new_doc.update(self._near_dup_fields(p))
        new_doc.update({"_id": doc_id, "dup_group": group or doc_id, "version": 1,
                        "alt_urls": list((stub or {}).get("alt_urls") or []), "alt_ids": list((stub or {}).get("alt_ids") or []),
                        "first_seen": when, "last_seen": when})
        change = batch.change(ARTICLES, doc_id, new=True)
        change.sets.update({k: v for k, v in new_doc.items() if k not in ("_id", "first_seen", "last_seen", "alt_urls", "alt_ids")})
        change.set_on_insert.update({"alt_urls": [], "alt_ids": [], "past_hashes": []})
        change.touch(when)
        batch.know_article(new_doc)
        if p.signature is not None:
            batch.writes_lsh = True
            if group is None:
                batch.self_led.append(_SelfLed(new_doc, p.signature, batch.item))
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
        read = batch.read[ARTICLES].get(home["_id"])
        if read is not None and not change.new:
            # The lists are rewritten whole ($pull is not on every server): only over the lists read.
            change.guard.setdefault("alt_ids", read[3])
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

    # -- the write phase -------------------------------------------------------------
    def _commit(self, batch: _Batch) -> list[_Prepared]:
        """Write a decided batch; the items that lost a race (to be decided again).

        Order: content-hash claims (an article is only inserted by the claim's
        winner); archives (a superseded content is never lost); conditional
        article updates one by one (content changes, rewritten alternate lists);
        the other article and ad updates in one bulk; the near-duplicate groups of
        self-led new articles settled with what other writers wrote meanwhile; on a
        server without ``$min``/``$max``, the conditional seen-time updates.
        """
        minmax = self.minmax is not False
        lost = self._claim_hashes(batch)
        lost, dropped = batch.lost_closure(lost)
        upserted: dict[str, set[str]] = {ARTICLES: set(), RENTAL_ADS: set()}

        versions = {i: c for i, c in batch.changes[VERSIONS].items() if (VERSIONS, i) not in dropped}
        self._apply(VERSIONS, versions, minmax)

        articles = self.collections[ARTICLES]
        for doc_id, change in batch.changes[ARTICLES].items():
            if change.guard and (ARTICLES, doc_id) not in dropped:
                result = articles.update_one({"_id": doc_id, **change.guard}, change.update_spec(minmax))
                if not result.matched_count:
                    lost |= change.items
        lost, dropped = batch.lost_closure(lost)

        plain = {i: c for i, c in batch.changes[ARTICLES].items() if not c.guard and (ARTICLES, i) not in dropped}
        new_lost, upserted[ARTICLES] = self._apply_articles(plain, minmax)
        lost, dropped = batch.lost_closure(lost | new_lost)
        ads = {i: c for i, c in batch.changes[RENTAL_ADS].items() if (RENTAL_ADS, i) not in dropped}
        upserted[RENTAL_ADS] = self._apply(RENTAL_ADS, ads, minmax)

        self._settle_groups(batch, lost)
        if not minmax:
            self._apply_time_guards(batch, dropped, upserted)
        for item, counts in batch.item_counts.items():
            if item not in lost:
                for name, n in counts.items():
                    self._inc(name, n)
        return [batch.items[i] for i in sorted(lost)]

    def _claim_hashes(self, batch: _Batch) -> set[int]:
        """Take the content-hash claims the batch's decisions rest on; the items whose claim another writer won.

        Claims are inserts (the unique `_id` decides; upserts cost a collection scan
        on some servers). A duplicate key is a claim already taken: then each claim
        is inserted on its own and the taken ones are read.
        """
        intents = {cid: v for cid, v in batch.hash_intents.items() if cid not in batch.claims_read}
        if not intents:
            return set()
        claims = self.collections[CLAIMS]
        try:
            claims.bulk_write([InsertOne({"_id": cid, "owner": owner}) for cid, (owner, _) in intents.items()], ordered=False)
            return set()
        except (DuplicateKeyError, BulkWriteError) as exc:
            if not _only_duplicate_keys(exc):
                raise
        taken = []
        for cid, (owner, _) in intents.items():
            try:
                claims.insert_one({"_id": cid, "owner": owner})
            except DuplicateKeyError:
                taken.append(cid)
        lost: set[int] = set()
        if taken:
            for claim in claims.find({"_id": {"$in": taken}}):
                owner, items = intents[claim["_id"]]
                if claim.get("owner") != owner:  # (the same owner: this batch's own replay)
                    lost |= items
        return lost

    def _apply_articles(self, changes: dict[str, _Change], minmax: bool) -> tuple[set[int], set[str]]:
        """Write unconditional article updates; (items to retry, `_id`s inserted).

        A new article is written only while no other writer's article (one with a
        ``version``) has that `_id`: if one appeared since the read, the item is
        decided again (it becomes a content change or a recrawl of it).
        """
        if not changes:
            return set(), set()
        col = self.collections[ARTICLES]
        entries = []
        for doc_id, change in changes.items():
            query: dict[str, Any] = {"_id": doc_id}
            if change.new:
                query["version"] = {"$exists": False}
            entries.append((doc_id, change, UpdateOne(query, change.update_spec(minmax), upsert=True)))
        try:
            result = col.bulk_write([e[2] for e in entries], ordered=False)
            return set(), {entries[i][0] for i in result.upserted_ids}
        except (DuplicateKeyError, BulkWriteError) as exc:
            if not _only_duplicate_keys(exc):
                raise
        # An insert met another writer's article. What else the bulk wrote depends on the
        # server (MongoDB goes on, jongodb stops, the embedded store rolls back), so: new
        # articles found stored are retried, everything else is written again (idempotent).
        new_ids = [doc_id for doc_id, change, _ in entries if change.new]
        stored = {d["_id"] for d in col.find({"_id": {"$in": new_ids}}) if d.get("version") is not None}
        lost: set[int] = set()
        inserted: set[str] = set()
        for doc_id, change, request in entries:
            if change.new and doc_id in stored:
                lost |= change.items
                continue
            try:
                res = col.update_one(request._filter, request._doc, upsert=True)
            except DuplicateKeyError:
                lost |= change.items
                continue
            if res.upserted_id is not None:
                inserted.add(doc_id)
        return lost, inserted

    def _settle_groups(self, batch: _Batch, lost: set[int]) -> None:
        """Near-duplicates another writer stored between this batch's read and its write.

        A batch that wrote articles bumps the write sequence; if the value after its
        bump is not the one it read before its reads plus one, another batch wrote
        in between, and it queries the LSH index again for its new articles that
        lead their own group. Of two batches that each missed the other's articles,
        the one that bumped second sees the other's bump, and its query comes after
        the other's write: so at least one sees the other, and ``settle_group``
        gives both the same answer. The one that sees the other moves the later
        article into the earlier one's group (a conditional update: only while the
        later one still leads its own group). Alone, a writer never queries again.
        """
        if not batch.writes_lsh:
            return
        sequence = self.collections[CLAIMS]
        # $inc then a read (not atomic): a later bump read here only costs a needless query.
        sequence.update_one({"_id": WRITES}, {"$inc": {"n": 1}}, upsert=True)
        after = int((sequence.find_one({"_id": WRITES}) or {}).get("n") or 0)
        entries = [e for e in batch.self_led if e.item not in lost]
        if not entries or after == batch.writes_seen + 1:
            return
        col = self.collections[ARTICLES]
        keys = list({k for e in entries for k in e.doc.get("lsh") or []})
        unseen = [d for d in col.find({"lsh": {"$in": keys}})
                  if d["_id"] not in batch.read[ARTICLES] and d["_id"] not in batch.changes[ARTICLES]]
        if not unseen:
            return
        for entry in entries:
            mine = entry.doc
            own_keys = set(mine.get("lsh") or [])
            concurrent = [d for d in unseen if own_keys.intersection(d.get("lsh") or [])]
            group, followers = settle_group(mine, entry.signature, concurrent, self.config.threshold)
            moves = [(mine["_id"], group)] if group else [(f, mine.get("dup_group") or mine["_id"]) for f in followers]
            for doc_id, to_group in moves:
                result = col.update_one({"_id": doc_id, "dup_group": doc_id}, {"$set": {"dup_group": to_group}})
                if result.matched_count:
                    counts = batch.item_counts.setdefault(entry.item, {})
                    counts["near_dups"] = counts.get("near_dups", 0) + 1
            if group:
                mine["dup_group"] = group

    def _apply_time_guards(self, batch: _Batch, dropped: set[tuple[str, str]], upserted: dict[str, set[str]]) -> None:
        """Seen times on a server without ``$min``/``$max``: conditional ``$set``s, each only
        moving a time outwards, so concurrent writers end at the min/max whatever their order."""
        for name in (ARTICLES, RENTAL_ADS):
            requests: list[UpdateOne] = []
            for doc_id, change in batch.changes[name].items():
                if (name, doc_id) in dropped or doc_id in upserted[name]:
                    continue  # not written, or inserted with these times
                requests.extend(change.time_guards(doc_id, None if change.new else batch.read[name].get(doc_id)))
            if requests:
                self.collections[name].bulk_write(requests, ordered=False)

    def _apply(self, name: str, changes: dict[str, _Change], minmax: bool = True) -> set[str]:
        """Upsert each change by `_id` in one unordered bulk; the `_id`s inserted."""
        if not changes:
            return set()
        ids = list(changes)
        requests = [UpdateOne({"_id": doc_id}, changes[doc_id].update_spec(minmax), upsert=True) for doc_id in ids]
        result = self.collections[name].bulk_write(requests, ordered=False)
        return {ids[i] for i in result.upserted_ids}

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

    def find(self, collection: str, filter: Optional[dict[str, Any]] = None, projection: Optional[list[str]] = None,
             limit: int = 0) -> Iterator[dict[str, Any]]:
        """Documents of a collection matching a MongoDB filter; `projection` keeps those fields (and `_id`)."""
        spec = {name: 1 for name in projection} if projection else None
        cursor = self.db[collection].find(filter or {}, spec)
        if limit:
            cursor = cursor.limit(int(limit))
        keep = {"_id", *projection} if projection else None
        for doc in cursor:
            # Projected again here: some wire servers (jongodb) ignore the projection.
            yield {k: v for k, v in doc.items() if k in keep} if keep else doc

    def crawl_state_get(self, site: str, chain: str) -> Optional[dict[str, Any]]:
        """The stored state of one listing chain, or None (none stored, or the store is unreachable)."""
        try:
            return self.db[CRAWL_STATE].find_one({"_id": f"{site}|{chain}"})
        except STORE_ERRORS as exc:
            logger.error("store: crawl state of %s|%s unreadable (%s)", site, chain, exc)
            self._inc("crawl_state_errors")
            return None

    def crawl_state_put(self, site: str, chain: str, doc: dict[str, Any]) -> None:
        """Replace the state of one listing chain; dropped (logged, counted) when the store is unreachable."""
        state = {k: v for k, v in sanitize_keys(dict(doc)).items() if k != "_id"}
        state.update({"site": site, "chain": chain})
        try:
            self.db[CRAWL_STATE].replace_one({"_id": f"{site}|{chain}"}, state, upsert=True)
        except STORE_ERRORS as exc:
            logger.error("store: crawl state of %s|%s not written (%s)", site, chain, exc)
            self._inc("crawl_state_dropped")

    def close(self) -> None:
        self.client.close()


def open_store(settings: Any = None, stats: Any = None) -> Store:
    """A Store configured from Scrapy settings (or a dict; the environment fills gaps)."""
    return Store(StoreConfig.from_settings(settings), stats=stats)
