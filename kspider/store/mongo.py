"""The MongoDB backend (pymongo): the backend protocol over a MongoDB-wire server.

Owns the client (timeouts, write concern), the translation of pymongo's
errors into the protocol's (``DuplicateKey``, ``Unavailable``) and the
one-time probe for ``$min``/``$max`` (a write to ``store_probe``; jongodb,
a wire test server, rejects them).
"""
from __future__ import annotations

import logging
import os
import uuid
from contextlib import contextmanager, nullcontext
from typing import Any, ContextManager, Iterator, Optional, Sequence

import pymongo
from pymongo import InsertOne, UpdateOne
from pymongo.errors import (
    BulkWriteError,
    DuplicateKeyError,
    ExecutionTimeout,
    NetworkTimeout,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
    WTimeoutError,
)
from pymongo.write_concern import WriteConcern

from kspider.store.backend import BulkOutcome, DuplicateKey, IndexKeys, Unavailable, Update, UpdateOutcome

logger = logging.getLogger(__name__)

PROBE = "store_probe"
# Failures that waited out a timeout (a refused or dropped connection fails at once).
_TIMEOUTS = (ServerSelectionTimeoutError, NetworkTimeout, ExecutionTimeout, WTimeoutError)


def parse_write_concern(value: str) -> WriteConcern:
    """"1", "0", "majority", or "majority,j" (journaled) → WriteConcern."""
    parts = [p.strip() for p in str(value).split(",") if p.strip()]
    w: Any = parts[0] if parts else 1
    if isinstance(w, str) and w.isdigit():
        w = int(w)
    return WriteConcern(w=w, j=True if "j" in parts[1:] else None)


def _only_duplicate_keys(exc: BaseException) -> bool:
    if isinstance(exc, DuplicateKeyError):
        return True
    if isinstance(exc, BulkWriteError):
        details = exc.details or {}
        errors = details.get("writeErrors") or []
        return bool(errors) and all(e.get("code") == 11000 for e in errors) and not details.get("writeConcernErrors")
    return False


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except (DuplicateKeyError, BulkWriteError) as exc:
        if _only_duplicate_keys(exc):
            raise DuplicateKey(str(exc)) from exc
        raise Unavailable(f"{type(exc).__name__}: {exc}") from exc
    except PyMongoError as exc:
        raise Unavailable(f"{type(exc).__name__}: {exc}", timed_out=isinstance(exc, _TIMEOUTS)) from exc


class MongoBackend:
    name = "mongodb"

    def __init__(self, uri: str, database: str, write_concern: str = "1", timeout_ms: int = 5000):
        self.uri = uri
        self.database_name = database
        self.client: Any = pymongo.MongoClient(
            uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms,
            socketTimeoutMS=max(timeout_ms, 30000), tz_aware=True,
        )
        self.db = self.client[database]
        self.concern = parse_write_concern(write_concern)
        self._collections: dict[str, Any] = {}
        self._minmax: Optional[bool] = None

    def _col(self, name: str) -> Any:
        if name not in self._collections:
            self._collections[name] = self.db.get_collection(name, write_concern=self.concern)
        return self._collections[name]

    def describe(self) -> str:
        hosts = ",".join(f"{h}:{p}" for h, p in pymongo.uri_parser.parse_uri(self.uri)["nodelist"])
        return f"mongodb://{hosts}/{self.database_name}"

    def ping(self) -> None:
        with _translated():
            self.client.admin.command("ping")

    def write_scope(self) -> ContextManager[None]:
        """MongoDB writes each call as it comes (the store's protocol needs no transaction)."""
        return nullcontext()

    def supports_minmax(self) -> bool:
        if self._minmax is None:
            probe = self.db[PROBE]
            probe_id = f"minmax-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            with _translated():
                try:
                    probe.update_one({"_id": probe_id}, {"$min": {"first": 1}, "$max": {"last": 1}}, upsert=True)
                    self._minmax = True
                except OperationFailure as exc:
                    logger.info("store: %s rejects $min/$max (%s)", self.describe(), exc)
                    self._minmax = False
                finally:
                    probe.delete_many({"_id": probe_id})
        return self._minmax

    def create_index(self, collection: str, keys: IndexKeys) -> None:
        with _translated():
            self._col(collection).create_index(keys)

    def index_keys(self, collection: str) -> list[IndexKeys]:
        with _translated():
            return [[tuple(k) for k in info["key"]] for info in self._col(collection).index_information().values()]

    def find(self, collection: str, filter: Optional[dict[str, Any]] = None, projection: Optional[Sequence[str]] = None,
             limit: int = 0) -> Iterator[dict[str, Any]]:
        keep = {"_id", *projection} if projection else None
        with _translated():
            cursor = self._col(collection).find(filter or {}, {k: 1 for k in keep} if keep else None)
            if limit:
                cursor = cursor.limit(int(limit))
            for doc in cursor:
                # Projected here too: some wire servers (jongodb) ignore the projection.
                yield {k: v for k, v in doc.items() if k in keep} if keep else doc

    def find_in(self, collection: str, field: str, values: Sequence[Any]) -> list[dict[str, Any]]:
        if not values:
            return []
        with _translated():
            return list(self._col(collection).find({field: {"$in": list(values)}}))

    def count(self, collection: str, filter: Optional[dict[str, Any]] = None) -> int:
        with _translated():
            return self._col(collection).count_documents(filter or {})

    def insert_unique(self, collection: str, docs: Sequence[dict[str, Any]]) -> set[Any]:
        if not docs:
            return set()
        col = self._col(collection)
        with _translated():
            try:
                col.bulk_write([InsertOne(dict(d)) for d in docs], ordered=False)
                return set()
            except (DuplicateKeyError, BulkWriteError) as exc:
                if not _only_duplicate_keys(exc):
                    raise
        # Which were taken: servers differ in how far an unordered bulk goes after an error, so
        # each is inserted again on its own. One the bulk itself inserted then counts as taken
        # too: the caller reads the taken ones and compares them with its own.
        taken: set[Any] = set()
        with _translated():
            for doc in docs:
                try:
                    col.insert_one(dict(doc))
                except DuplicateKeyError:
                    taken.add(doc["_id"])
        return taken

    def update_one(self, collection: str, op: Update) -> UpdateOutcome:
        with _translated():
            result = self._col(collection).update_one(op.filter, op.update, upsert=op.upsert)
        return UpdateOutcome(matched=result.matched_count, upserted=result.upserted_id is not None)

    def bulk_update(self, collection: str, ops: Sequence[Update]) -> BulkOutcome:
        if not ops:
            return BulkOutcome()
        with _translated():
            result = self._col(collection).bulk_write([UpdateOne(o.filter, o.update, upsert=o.upsert) for o in ops],
                                                      ordered=False)
        return BulkOutcome(upserted=set(result.upserted_ids))

    def replace_one(self, collection: str, doc: dict[str, Any]) -> None:
        with _translated():
            self._col(collection).replace_one({"_id": doc["_id"]}, doc, upsert=True)

    def delete(self, collection: str, filter: dict[str, Any]) -> int:
        with _translated():
            return self._col(collection).delete_many(filter).deleted_count

    def close(self) -> None:
        self.client.close()
