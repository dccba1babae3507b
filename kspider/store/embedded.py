"""The embedded backend: documents as JSON in one SQLite file, with real secondary indexes.

Owns the on-disk layout and ``EmbeddedBackend``, the backend protocol over it.
Why not montydb (which has the full pymongo API)? montydb answers every query,
including ``{"_id": x}``, by decoding every document of the collection, and it
ignores ``create_index``: an upsert costs O(collection size). Here documents
live in ``docs (coll, id, doc)``; each indexed field has one row per value in
``keys (coll, field, value, id)`` (multikey: one row per array element; one
b-tree, the table is its own index). An update rewrites only the index rows
whose values changed.
WAL mode, so several crawler processes on one machine can share the file.
MongoDB's filter and update semantics come from ``kspider.store.embedded_ops``.

Each write call (a bulk included) is one ``BEGIN IMMEDIATE`` transaction, all
or nothing, so single-document operations are atomic between processes as in
MongoDB: an update whose filter holds a condition applies only while the
condition holds, and a second insert of an `_id` raises ``DuplicateKey``.
Inside ``write_scope`` (a batch's writes: one transaction, one commit) each
call is a savepoint instead, still all or nothing on its own.
A bulk reads the documents it updates in one query and writes them, and their
index rows, with one statement each.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence

from kspider.store.backend import BulkOutcome, DuplicateKey, IndexKeys, Unavailable, Update, UpdateOutcome
from kspider.store.embedded_ops import apply_update, field_values, lookup_values, matches, upsert_seed

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (coll TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (coll, id));
CREATE TABLE IF NOT EXISTS keys (coll TEXT NOT NULL, field TEXT NOT NULL, value NOT NULL, id TEXT NOT NULL,
                                 PRIMARY KEY (coll, field, value, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS indexes (coll TEXT NOT NULL, name TEXT NOT NULL, keys TEXT NOT NULL, PRIMARY KEY (coll, name));
"""

# SQLite's default limit on host parameters is 32766; stay well below it.
_MAX_PARAMS = 900

# The file's settings (the benchmark's plain-SQLite reference uses the same). A batch dirties a
# page per index row or so; with SQLite's default checkpoint (every 1,000 WAL pages) every
# batch would copy its pages into the database file and sync it. A 64 MiB WAL is checkpointed
# every several batches, writing a page dirtied by several of them once. The page cache
# (64 MiB, default 2 MiB) keeps the upper levels of the index b-tree and recent leaves in memory.
FILE_SETTINGS = ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536", "wal_autocheckpoint=16384")


# One encoder for every document (json.dumps with options builds one per call).
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), _MAX_PARAMS):
        yield values[start : start + _MAX_PARAMS]


class EmbeddedDatabase:
    """One SQLite file: collections of JSON documents with multikey indexes."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE below).
        self.conn = sqlite3.connect(str(path), timeout=60, isolation_level=None, check_same_thread=False)
        for setting in FILE_SETTINGS:
            self.conn.execute(f"PRAGMA {setting}")
        self.conn.executescript(_SCHEMA)
        self._migrate()
        self.lock = threading.RLock()
        self._depth = 0
        self._index_cache: dict[str, set[str]] = {}

    def _migrate(self) -> None:
        """Index rows of a file written by the earlier layout (an ``idx`` table with two indexes) move over."""
        if self.conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='idx'").fetchone():
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute("INSERT OR IGNORE INTO keys SELECT coll, field, value, id FROM idx WHERE value IS NOT NULL")
            self.conn.execute("DROP TABLE idx")
            self.conn.execute("COMMIT")

    # -- plumbing ------------------------------------------------------------------
    def indexed_fields(self, coll: str) -> set[str]:
        if coll not in self._index_cache:
            fields: set[str] = set()
            for (keys,) in self.conn.execute("SELECT keys FROM indexes WHERE coll=?", (coll,)):
                fields.update(f for f, _ in json.loads(keys))
            self._index_cache[coll] = fields
        return self._index_cache[coll]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction. A nested call is a savepoint of the outer one: all or nothing
        on its own (a bulk that raises leaves nothing behind), committed with the outer one."""
        with self.lock:
            if self._depth:
                self._depth += 1
                savepoint = f"s{self._depth}"
                self.conn.execute(f"SAVEPOINT {savepoint}")
                try:
                    yield
                except BaseException:
                    self.conn.execute(f"ROLLBACK TO {savepoint}")
                    raise
                finally:
                    self.conn.execute(f"RELEASE {savepoint}")
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._index_cache.clear()  # another process may have added indexes
            self._depth = 1
            try:
                yield
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
            finally:
                self._depth = 0

    def load(self, coll: str, ids: Iterable[Any]) -> list[dict[str, Any]]:
        docs: list[dict[str, Any]] = []
        for chunk in _chunks(list(dict.fromkeys(str(i) for i in ids))):
            rows = self.conn.execute(f"SELECT doc FROM docs WHERE coll=? AND id IN ({','.join('?' * len(chunk))})",
                                     [coll, *chunk])
            docs.extend(json.loads(row[0]) for row in rows)
        return docs

    def ids_by_index(self, coll: str, field: str, values: list[Any]) -> set[str]:
        ids: set[str] = set()
        for chunk in _chunks(values):
            rows = self.conn.execute(
                f"SELECT id FROM keys WHERE coll=? AND field=? AND value IN ({','.join('?' * len(chunk))})",
                [coll, field, *chunk])
            ids.update(row[0] for row in rows)
        return ids

    def _candidates(self, coll: str, spec: Mapping[str, Any]) -> Optional[set[str]]:
        """Candidate `_id`s from the indexes, or None when the filter needs a scan."""
        indexed = self.indexed_fields(coll)
        for key, cond in spec.items():
            if key in ("$or", "$and") and isinstance(cond, list):
                plans = [self._candidates(coll, branch) for branch in cond]
                if key == "$or" and plans and all(p is not None for p in plans):
                    return set().union(*plans)  # type: ignore[arg-type]
                if key == "$and" and any(p is not None for p in plans):
                    return next(p for p in plans if p is not None)
                continue
            values = lookup_values(cond)
            if values is None:
                continue
            if key == "_id":
                return {str(v) for v in values}
            if key in indexed:
                return self.ids_by_index(coll, key, values)
        return None

    def matching(self, coll: str, spec: Optional[Mapping[str, Any]]) -> list[dict[str, Any]]:
        spec = dict(spec or {})
        plan = self._candidates(coll, spec) if spec else None
        if plan is None:
            docs = [json.loads(row[0]) for row in self.conn.execute("SELECT doc FROM docs WHERE coll=?", (coll,))]
        else:
            docs = self.load(coll, plan)
        if not spec:
            return docs
        return [doc for doc in docs if matches(doc, spec)]

    def _index_rows(self, coll: str, doc: Mapping[str, Any], fields: Iterable[str]) -> set[tuple[Any, ...]]:
        doc_id = str(doc["_id"])
        return {(coll, f, v, doc_id) for f in fields for v in field_values(doc, f)}

    def index_rows(self, coll: str, doc: Mapping[str, Any]) -> set[tuple[Any, ...]]:
        return self._index_rows(coll, doc, self.indexed_fields(coll))

    def write(self, coll: str, inserted: list[dict[str, Any]], updated: list[dict[str, Any]],
              before: Optional[dict[str, set[tuple[Any, ...]]]] = None) -> None:
        """Store new and changed documents with their index rows (inside a transaction); `before`:
        the index rows of the changed documents as they were (only the difference is written)."""
        fields = self.indexed_fields(coll)
        before = before or {}
        removed: list[tuple[Any, ...]] = []
        added: list[tuple[Any, ...]] = []
        if updated:
            self.conn.executemany("UPDATE docs SET doc=? WHERE coll=? AND id=?",
                                  [(_encode(d), coll, str(d["_id"])) for d in updated])
            for doc in updated:
                now = self._index_rows(coll, doc, fields)
                old = before.get(str(doc["_id"]), set())
                removed.extend(old - now)
                added.extend(now - old)
        if inserted:
            try:
                self.conn.executemany("INSERT INTO docs (coll, id, doc) VALUES (?,?,?)",
                                      [(coll, str(d["_id"]), _encode(d)) for d in inserted])
            except sqlite3.IntegrityError as exc:
                raise DuplicateKey(f"E11000 duplicate key in {coll}") from exc
            for doc in inserted:
                added.extend(self._index_rows(coll, doc, fields))
        if removed:
            self.conn.executemany("DELETE FROM keys WHERE coll=? AND field=? AND value=? AND id=?", removed)
        if added:
            self.conn.executemany("INSERT OR IGNORE INTO keys (coll, field, value, id) VALUES (?,?,?,?)", added)

    def delete(self, coll: str, docs: list[dict[str, Any]]) -> None:
        self.conn.executemany("DELETE FROM docs WHERE coll=? AND id=?", [(coll, str(d["_id"])) for d in docs])
        rows = [row for d in docs for row in self.index_rows(coll, d)]
        self.conn.executemany("DELETE FROM keys WHERE coll=? AND field=? AND value=? AND id=?", rows)

    def create_index(self, coll: str, keys: IndexKeys) -> None:
        name = "_".join(f"{f}_{d}" for f, d in keys)
        with self.transaction():
            known = self.indexed_fields(coll)
            self.conn.execute("INSERT OR REPLACE INTO indexes (coll, name, keys) VALUES (?,?,?)",
                              (coll, name, json.dumps(keys)))
            self._index_cache.pop(coll, None)
            added = [f for f, _ in keys if f not in known]
            if added:  # backfill the new fields for documents already stored
                for (raw,) in self.conn.execute("SELECT doc FROM docs WHERE coll=?", (coll,)).fetchall():
                    self.conn.executemany("INSERT OR IGNORE INTO keys (coll, field, value, id) VALUES (?,?,?,?)",
                                          self._index_rows(coll, json.loads(raw), added))

    def update(self, coll: str, ops: Sequence[Update]) -> tuple[list[UpdateOutcome], set[int]]:
        """Apply updates in order inside one transaction: (an outcome per operation, positions upserted).

        The documents named by `_id` are read in one query; each operation then
        works on the current version in memory, and the changed ones are written once.
        """
        outcomes: list[UpdateOutcome] = []
        upserted: set[int] = set()
        with self.transaction():
            direct = [str(o.filter["_id"]) for o in ops if isinstance(o.filter.get("_id"), (str, int))]
            current = {str(d["_id"]): d for d in self.load(coll, direct)}
            before = {key: self.index_rows(coll, doc) for key, doc in current.items()}
            inserted: dict[str, dict[str, Any]] = {}
            changed: dict[str, dict[str, Any]] = {}
            for position, op in enumerate(ops):
                doc_id = op.filter.get("_id")
                if isinstance(doc_id, (str, int)):
                    doc = current.get(str(doc_id))
                    found = [doc] if doc is not None and matches(doc, op.filter) else []
                    exists = doc is not None
                else:
                    found = self.matching(coll, op.filter)[:1]
                    exists = bool(found)
                    if found and str(found[0]["_id"]) in current:  # the version this bulk already changed
                        found = [current[str(found[0]["_id"])]]
                if found:
                    doc = found[0]
                    key = str(doc["_id"])
                    before.setdefault(key, self.index_rows(coll, doc))
                    if apply_update(doc, op.update, inserting=False) and key not in inserted:
                        changed[key] = doc
                    current[key] = doc
                    outcomes.append(UpdateOutcome(matched=1))
                    continue
                if not op.upsert:
                    outcomes.append(UpdateOutcome())
                    continue
                seed = upsert_seed(op.filter)
                if "_id" not in seed:
                    seed["_id"] = uuid.uuid4().hex
                if exists and isinstance(doc_id, (str, int)):
                    raise DuplicateKey(f"E11000 duplicate key in {coll}: {doc_id!r}")
                apply_update(seed, op.update, inserting=True)
                key = str(seed["_id"])
                current[key] = inserted[key] = seed
                outcomes.append(UpdateOutcome(upserted=True))
                upserted.add(position)
            self.write(coll, list(inserted.values()), list(changed.values()), before)
        return outcomes, upserted

    def insert_unique(self, coll: str, docs: Sequence[dict[str, Any]]) -> set[Any]:
        with self.transaction():
            by_id = {str(d["_id"]): d for d in docs}
            taken_ids: set[str] = set()
            for chunk in _chunks(list(by_id)):
                rows = self.conn.execute(f"SELECT id FROM docs WHERE coll=? AND id IN ({','.join('?' * len(chunk))})",
                                         [coll, *chunk])
                taken_ids.update(row[0] for row in rows)
            self.write(coll, [d for i, d in by_id.items() if i not in taken_ids], [])
        return {by_id[i]["_id"] for i in taken_ids}

    def close(self) -> None:
        with self.lock:
            self.conn.close()


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
                return self.db.load(collection, self.db.ids_by_index(collection, field, list(values)))
            return self.db.matching(collection, {field: {"$in": list(values)}})

    def count(self, collection: str, filter: Optional[dict[str, Any]] = None) -> int:
        with self._translated():
            if not filter:
                return self.db.conn.execute("SELECT COUNT(*) FROM docs WHERE coll=?", (collection,)).fetchone()[0]
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
            exists = self.db.load(collection, [doc["_id"]])
            before = {str(doc["_id"]): self.db.index_rows(collection, exists[0])} if exists else {}
            self.db.write(collection, [] if exists else [doc], [doc] if exists else [], before)

    def delete(self, collection: str, filter: dict[str, Any]) -> int:
        with self._translated(), self.db.transaction():
            docs = self.db.matching(collection, filter)
            self.db.delete(collection, docs)
        return len(docs)

    def close(self) -> None:
        self.db.close()
