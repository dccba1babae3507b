"""The embedded backend: the backend protocol over one SQLite file (``embedded_file``).

MongoDB's filter and update semantics come from ``kspider.store.embedded_ops``;
the file's layout, its transactions and index rows from
``kspider.store.embedded_file``. SQLite's errors leave here as ``Unavailable``.
"""
from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

from kspider.store.backend import BulkOutcome, IndexKeys, Unavailable, Update, UpdateOutcome
from kspider.store.embedded_file import EmbeddedDatabase
from kspider.store.embedded_ops import lookup_values


class EmbeddedBackend:
    """The backend protocol over an ``EmbeddedDatabase`` (``<directory>/<database>.sqlite3``)."""

    name = "embedded"

    def __init__(self, directory: str | Path, database: str = "kspider"):
        self.directory = Path(directory)
        self.database_name = database
        try:
            self.db = EmbeddedDatabase(self.directory / f"{database}.sqlite3")
        except (sqlite3.Error, OSError) as exc:
            raise Unavailable(f"embedded store {self.directory}: {exc}") from exc

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            with self.db.lock:
                yield
        except (sqlite3.Error, OSError) as exc:
            raise Unavailable(f"embedded store {self.directory}: {type(exc).__name__}: {exc}",
                              timed_out=isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)) from exc

    def describe(self) -> str:
        return f"embedded {self.db.path}"

    @contextmanager
    def write_scope(self) -> Iterator[None]:
        """The writes of one batch as one transaction (each call inside is a savepoint)."""
        with self._translated(), self.db.transaction():
            yield

    def ping(self) -> None:
        with self._translated():
            self.db.conn.execute("SELECT 1").fetchone()

    def supports_minmax(self) -> bool:
        return True

    def create_index(self, collection: str, keys: IndexKeys) -> None:
        with self._translated():
            self.db.create_index(collection, [(str(f), int(d)) for f, d in keys])

    def index_keys(self, collection: str) -> list[IndexKeys]:
        with self._translated():
            rows = self.db.conn.execute("SELECT keys FROM indexes WHERE coll=?", (collection,)).fetchall()
        return [[("_id", 1)], *([tuple(k) for k in json.loads(keys)] for (keys,) in rows)]

    def find(self, collection: str, filter: Optional[dict[str, Any]] = None, projection: Optional[Sequence[str]] = None,
             limit: int = 0) -> Iterator[dict[str, Any]]:
        with self._translated():
            docs = self.db.matching(collection, filter)
        if limit:
            docs = docs[: int(limit)]
        keep = {"_id", *projection} if projection else None
        for doc in docs:
            yield {k: v for k, v in doc.items() if k in keep} if keep else doc

    def find_in(self, collection: str, field: str, values: Sequence[Any]) -> list[dict[str, Any]]:
        if not values:
            return []
        with self._translated():
            if field == "_id":
                return self.db.load(collection, values)
            if field in self.db.indexed_fields(collection) and lookup_values({"$in": list(values)}) is not None:
                return [doc for _, doc in self.db.rows_by_index(collection, field, list(values))]
            return self.db.matching(collection, {field: {"$in": list(values)}})

    def count(self, collection: str, filter: Optional[dict[str, Any]] = None) -> int:
        with self._translated():
            if not filter:
                return self.db.conn.execute("SELECT COUNT(*) FROM documents WHERE coll=?", (collection,)).fetchone()[0]
            return len(self.db.matching(collection, filter))

    def insert_unique(self, collection: str, docs: Sequence[dict[str, Any]]) -> set[Any]:
        with self._translated():
            return self.db.insert_unique(collection, docs)

    def update_one(self, collection: str, op: Update) -> UpdateOutcome:
        with self._translated():
            return self.db.update(collection, [op])[0][0]

    def bulk_update(self, collection: str, ops: Sequence[Update]) -> BulkOutcome:
        if not ops:
            return BulkOutcome()
        with self._translated():
            return BulkOutcome(upserted=self.db.update(collection, ops)[1])

    def replace_one(self, collection: str, doc: dict[str, Any]) -> None:
        with self._translated(), self.db.transaction():
            exists = self.db.rows(collection, [doc["_id"]])
            if exists:
                n, old = exists[0]
                self.db.write(collection, [], [(n, doc)], {n: self.db.index_rows(collection, n, old)})
            else:
                self.db.write(collection, [doc], [])

    def delete(self, collection: str, filter: dict[str, Any]) -> int:
        with self._translated(), self.db.transaction():
            found = self.db.matching_rows(collection, filter)
            self.db.delete(collection, found)
        return len(found)

    def close(self) -> None:
        self.db.close()
