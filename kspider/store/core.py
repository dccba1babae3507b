"""The ``Store`` facade: what the rest of the project calls, and nothing of how it is done.

Owns the write entry point (``write_items``: prepare, read, decide, commit,
retry lost races, spill on failure), the outage behaviour (through
``kspider.store.health``), spill recovery, an optional write lock (several
workers of one distributed crawl), and the read API (``find``, ``count``,
``counts``, ``seen_recently``, ``near_duplicates``, ``crawl_state_get/put``).
The parts: ``config`` (settings), ``documents`` (item → document),
``batch`` and ``plan`` (decisions, pure), ``commit`` (reads and writes,
concurrent writers), ``spill``, ``neardup``, ``health``, and the backends
behind ``backend.Backend`` (``mongo``, ``embedded``). The guarantees and
collections are described in docs/STORE.md.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager, nullcontext
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, ContextManager, Iterable, Iterator, Optional

from kspider.store import neardup, spill
from kspider.store.backend import Backend, Rejected, Unavailable
from kspider.store.batch import Batch
from kspider.store.commit import Committer, read, stored_state
from kspider.store.config import StoreConfig, setting  # noqa: F401  (re-exported)
from kspider.store.documents import (  # noqa: F401  (re-exported)
    ARTICLES, CLAIMS, CRAWL_STATE, INDEXES, ITEM_COLLECTIONS, RENTAL_ADS, VERSIONS, Prepared, collection_of,
    item_to_doc, sanitize_keys,
)
from kspider.store.health import BACK, DOWN, Health
from kspider.store.plan import Planner, settle_group, sign  # noqa: F401  (re-exported)

logger = logging.getLogger(__name__)

# Errors that mean "the store did not take this call".
STORE_ERRORS: tuple[type[BaseException], ...] = (Unavailable, Rejected, OSError)
_Prepared = Prepared  # the name tests of concurrent writers use

# A lost race retries the items concerned with a fresh read; this many attempts, then they are spilled.
_MAX_ATTEMPTS = 5


class RacesLost(Exception):
    """Other writers kept changing what a batch's items depend on (the items are spilled)."""


def open_backend(config: StoreConfig) -> Backend:
    """MongoDB when a URI is configured, else the embedded store."""
    if config.uri:
        from kspider.store.mongo import MongoBackend

        return MongoBackend(config.uri, config.database, config.write_concern, config.timeout_ms)
    from kspider.store.embedded import EmbeddedBackend

    return EmbeddedBackend(config.embedded_dir, config.database)


class Store:
    """Articles and rental ads in MongoDB or the embedded store (see the module doc)."""

    def __init__(self, config: StoreConfig, stats: Any = None, backend: Optional[Backend] = None):
        self.config = config
        self.stats = stats
        self.counters: dict[str, int] = {}
        self.backend = backend or open_backend(config)
        self.kind = self.backend.name
        self.planner = Planner(config.threshold)
        self.spill = spill.SpillWriter(config.spill_dir)
        self.health = Health(self.backend.ping, self._inc, config.retry_s, config.retry_max_s, self.backend.describe())
        self.indexes_ready = False
        self.minmax: Optional[bool] = None  # whether the backend applies $min/$max (known after ensure_indexes)
        self.closed = False
        self._write_lock: Optional[Callable[[], ContextManager[Any]]] = None
        self._lock_depth = 0

    # -- bookkeeping -----------------------------------------------------------------
    def _inc(self, name: str, n: int = 1) -> None:
        if not n:
            return
        self.counters[name] = self.counters.get(name, 0) + n
        if self.stats is not None:
            self.stats.inc_value(f"store/{name}", n)

    def __repr__(self) -> str:
        return f"<Store {self.backend.describe()}>"

    def use_write_lock(self, lock: Optional[Callable[[], ContextManager[Any]]]) -> None:
        """Hold `lock()` around every read-decide-write step (writers of one crawl on several machines)."""
        self._write_lock = lock

    @contextmanager
    def _locked(self) -> Iterator[None]:
        if self._lock_depth or self._write_lock is None:
            context: ContextManager[Any] = nullcontext()
        else:
            context = self._write_lock()
        with context:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1

    @property
    def down(self) -> bool:
        return self.health.down

    @property
    def spilled_count(self) -> int:
        """Items this Store has put in spill files."""
        return self.spill.count

    # -- setup -----------------------------------------------------------------------
    def ensure_indexes(self) -> bool:
        """Create the indexes (idempotent) and learn whether ``$min``/``$max`` work; False (logged,
        counted, the store marked down) when the store is unreachable."""
        if self.health.state() == DOWN:
            return False
        try:
            with self._locked():
                self._ensure_indexes()
        except STORE_ERRORS as exc:
            logger.error("store: could not create indexes on %r: %s", self, exc)
            self._inc("index_errors")
            self.health.failed(exc)
            return False
        return True

    def _ensure_indexes(self) -> None:
        for name, specs in INDEXES.items():
            for keys in specs:
                self.backend.create_index(name, keys)
        if self.minmax is None:
            self.minmax = self.backend.supports_minmax()
            logger.info("store: %r: seen times are written with %s", self,
                        "$min/$max" if self.minmax else "conditional $set (it rejects $min/$max)")
        self.indexes_ready = True

    # -- writing ---------------------------------------------------------------------
    def prepare(self, items: Iterable[Any]) -> list[Prepared]:
        """Documents of the items; an item without identity is rejected (logged, counted, kept aside)."""
        prepared: list[Prepared] = []
        for item in items:
            entry = item_to_doc(item)
            if entry is None:
                logger.error("store: item without identity (no _id, URL or text) rejected: %.200r", item)
                self.spill.reject(repr(item)[:10000], "no identity")
                self._inc("rejected")
                continue
            prepared.append(Prepared(*entry))
        return prepared

    def write_items(self, items: Iterable[Any]) -> bool:
        """Write one batch of items; on a store failure spill them all. True when written."""
        return self.write_prepared(self.prepare(items))

    def write_prepared(self, prepared: list[Prepared]) -> bool:
        """Write prepared items (each then holds the document it ended in, ``stored``); True when written."""
        if not prepared:
            return True
        state = self.health.state()
        if state == DOWN:
            self._spill(prepared, "store unreachable: not tried")
            return False
        try:
            with self._locked():
                if not self.indexes_ready:
                    self._ensure_indexes()
                if state == BACK:
                    self.recover()
                self._write_prepared(prepared)
        except (*STORE_ERRORS, RacesLost) as exc:
            logger.error("store: write of %d items failed (%s: %s); spilling them to %s",
                         len(prepared), type(exc).__name__, exc, self.config.spill_dir)
            self._inc("write_errors")
            if isinstance(exc, (Unavailable, OSError)):
                self.health.failed(exc)
            self._spill(prepared, f"{type(exc).__name__}: {exc}")
            return False
        return True

    def _spill(self, prepared: list[Prepared], error: str) -> None:
        try:
            n = self.spill.write([(p.collection, p.doc) for p in prepared], error)
        except OSError as exc:  # nowhere left to put them: say so loudly
            logger.critical("store: could not spill %d items to %s: %s", len(prepared), self.config.spill_dir, exc)
            self._inc("lost", len(prepared))
            return
        self._inc("spilled", n)

    def _write_prepared(self, prepared: list[Prepared], planned: Optional[Batch] = None) -> None:
        """Read, decide, write (or write a batch already `planned`); items that lost a race go round again."""
        pending = prepared
        for _ in range(_MAX_ATTEMPTS):
            batch, planned = planned or self._plan(pending), None
            lost = self._commit(batch)
            lost_ids = {id(p) for p in lost}
            for index, p in enumerate(batch.items):
                if id(p) not in lost_ids:
                    found = stored_state(batch, index)
                    p.stored = dict(found[1]) if found else None
            pending = lost
            if not pending:
                return
            self._inc("race_retries", len(pending))
        raise RacesLost(f"{len(pending)} items lost a race to other writers {_MAX_ATTEMPTS} times")

    def _plan(self, prepared: list[Prepared]) -> Batch:
        """The read phase, then the decisions."""
        sign(prepared, self.config.threshold)
        return self.planner.decide(read(self.backend, Batch(self.config.threshold, prepared)))

    def _commit(self, batch: Batch) -> list[Prepared]:
        """The write phase; the items that lost a race. Counts the others' outcomes."""
        with self.backend.write_scope():
            lost = Committer(self.backend, self.minmax is not False, self.config.threshold).commit(batch)
        lost_ids = {id(p) for p in lost}
        for item, counts in batch.item_counts.items():
            if item < 0 or id(batch.items[item]) not in lost_ids:
                for name, n in counts.items():
                    self._inc(name, n)
        return lost

    # -- recovery --------------------------------------------------------------------
    def recover(self) -> int:
        """Write every recoverable spill file into the store; the number of items written.

        Items that fail again are spilled anew (to this process's next spill file),
        so nothing is lost however often recovery fails. Nothing is tried while the
        store is down.
        """
        if self.health.state() == DOWN:
            return 0
        self.spill.rotate()
        recovered = 0
        with self._locked():
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
                if failed_at is not None and entries[failed_at:]:
                    # The store is down again: keep the rest for later without waiting on it.
                    self._spill([Prepared(c, d) for c, d in entries[failed_at:]], "not retried: store unreachable")
                claimed.unlink()
                if failed_at is not None:
                    break
        self._inc("recovered", recovered)
        return recovered

    def pending_spill(self, own: bool = False) -> int:
        """Items waiting in spill files (of any process; `own`: only in the files this Store wrote)."""
        directory = Path(self.config.spill_dir)
        if not directory.is_dir():
            return 0
        total = 0
        paths = [p for p in self.spill.paths if p.exists()] if own else directory.glob("spill-*.jsonl*")
        for path in paths:
            with open(path, encoding="utf-8", errors="replace") as fh:
                total += sum(1 for line in fh if line.strip())
        return total

    # -- reading ---------------------------------------------------------------------
    def find(self, collection: str, filter: Optional[dict[str, Any]] = None, projection: Optional[list[str]] = None,
             limit: int = 0) -> Iterator[dict[str, Any]]:
        """Documents of a collection matching a MongoDB filter; `projection` keeps those fields (and `_id`)."""
        return self.backend.find(collection, filter, projection, limit)

    def count(self, collection: str, filter: Optional[dict[str, Any]] = None) -> int:
        return self.backend.count(collection, filter)

    def counts(self) -> dict[str, int]:
        """Documents per collection."""
        return {name: self.backend.count(name) for name in (ARTICLES, RENTAL_ADS, VERSIONS)}

    def index_keys(self, collection: str) -> list[list[tuple[str, int]]]:
        return self.backend.index_keys(collection)

    def seen_recently(self, ids: list[str], since_iso: str) -> set[str]:
        """The given article `_id`s (own or alternate) whose document was last seen at or after `since_iso`.

        While the store is down (or when this lookup fails) nothing is known: empty, at once.
        """
        ids = list(dict.fromkeys(str(i) for i in ids if i))
        if not ids:
            return set()
        if self.health.state() == DOWN:
            self._inc("lookups_unknown", len(ids))
            return set()
        wanted = set(ids)
        found: set[str] = set()
        try:
            docs = self.backend.find_in(ARTICLES, "_id", ids) + self.backend.find_in(ARTICLES, "alt_ids", ids)
        except STORE_ERRORS as exc:
            self.health.failed(exc)
            self._inc("lookups_unknown", len(ids))
            return set()
        for doc in docs:
            if (doc.get("last_seen") or "") >= since_iso:
                found.update(wanted.intersection([doc["_id"], *(doc.get("alt_ids") or [])]))
        return found

    def near_duplicates(self, text: str) -> list[str]:
        """`_id`s of stored articles whose text is a near-duplicate of `text` (most similar first)."""
        sig = neardup.signature(text)
        if sig is None:
            return []
        scored = []
        for doc in self.backend.find_in(ARTICLES, "lsh", neardup.band_keys(sig, self.config.threshold)):
            other = neardup.decode_signature(doc.get("minhash"))
            if other is not None:
                score = neardup.similarity(sig, other)
                if score >= self.config.threshold:
                    scored.append((-score, doc["_id"]))
        return [doc_id for _, doc_id in sorted(scored)]

    def crawl_state_get(self, site: str, chain: str) -> Optional[dict[str, Any]]:
        """The stored state of one listing chain, or None (none stored, or the store is unreachable)."""
        if self.health.state() == DOWN:
            self._inc("crawl_state_unknown")
            return None
        try:
            found = self.backend.find_in(CRAWL_STATE, "_id", [f"{site}|{chain}"])
        except STORE_ERRORS as exc:
            logger.error("store: crawl state of %s|%s unreadable (%s)", site, chain, exc)
            self.health.failed(exc)
            self._inc("crawl_state_unknown")
            return None
        return found[0] if found else None

    def crawl_state_put(self, site: str, chain: str, doc: dict[str, Any]) -> bool:
        """Replace the state of one listing chain; False when dropped (logged, counted): store unreachable."""
        state = {k: v for k, v in sanitize_keys(dict(doc)).items() if k != "_id"}
        state.update({"_id": f"{site}|{chain}", "site": site, "chain": chain})
        try:
            if self.health.state() == DOWN:
                raise ConnectionError("the store is down")
            self.backend.replace_one(CRAWL_STATE, state)
            return True
        except STORE_ERRORS as exc:
            logger.error("store: crawl state of %s|%s not written (%s)", site, chain, exc)
            if self.health.state() != DOWN:
                self.health.failed(exc)
            self._inc("crawl_state_dropped")
            return False

    @property
    def collections(self) -> "_Collections":
        """pymongo-like views of the collections for tools and tests (``find``, ``find_one``,
        ``count_documents``, ``delete_many``, ``index_information``)."""
        return _Collections(self)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.health.close()
            self.backend.close()


class _CollectionView:
    def __init__(self, store: Store, name: str):
        self.store, self.name = store, name

    def find(self, filter: Optional[dict[str, Any]] = None, projection: Any = None) -> Iterator[dict[str, Any]]:
        return self.store.find(self.name, filter, list(projection) if projection else None)

    def find_one(self, filter: Optional[dict[str, Any]] = None) -> Optional[dict[str, Any]]:
        return next(iter(self.store.find(self.name, filter, limit=1)), None)

    def count_documents(self, filter: Optional[dict[str, Any]] = None) -> int:
        return self.store.count(self.name, filter)

    def delete_many(self, filter: dict[str, Any]) -> Any:
        return SimpleNamespace(deleted_count=self.store.backend.delete(self.name, filter))

    def index_information(self) -> dict[str, dict[str, Any]]:
        return {"_".join(f"{f}_{d}" for f, d in keys): {"key": keys} for keys in self.store.index_keys(self.name)}


class _Collections:
    def __init__(self, store: Store):
        self.store = store

    def __getitem__(self, name: str) -> _CollectionView:
        return _CollectionView(self.store, name)


def open_store(settings: Any = None, stats: Any = None) -> Store:
    """A Store configured from Scrapy settings (or a dict; the environment fills gaps)."""
    return Store(StoreConfig.from_settings(settings), stats=stats)
