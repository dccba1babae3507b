"""The embedded store's file: documents as JSON in one SQLite file, with real secondary indexes.

Owns the on-disk layout (tables, numbering, index rows, migration of earlier
layouts, file settings) and ``EmbeddedDatabase``, the operations on it that
``kspider.store.embedded.EmbeddedBackend`` offers as the backend protocol.

Why not montydb (which has the full pymongo API)? montydb answers every query,
including ``{"_id": x}``, by decoding every document of the collection, and it
ignores ``create_index``: an upsert costs O(collection size). Here documents
live in ``documents (n, coll, id, doc)``, numbered; each indexed field has one
row per value in ``entries (fid, value, n)``: the field's number (``fields``)
and the document's number (multikey: one row per array element; one b-tree,
the table is its own index). Small rows keep the index b-tree small: about a
third of the size of rows keyed by collection, field name and the 40-character
`_id`, so fewer pages are dirtied per batch and more of the index stays in the
page cache as the store grows. An update rewrites only the index rows whose
values changed. A file of an earlier layout is moved over when opened.
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

from kspider.store.backend import DuplicateKey, IndexKeys, Update, UpdateOutcome
from kspider.store.embedded_ops import apply_update, field_values, lookup_values, matches, upsert_seed

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (n INTEGER PRIMARY KEY, coll TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS documents_id ON documents (coll, id);
CREATE TABLE IF NOT EXISTS fields (fid INTEGER PRIMARY KEY, coll TEXT NOT NULL, field TEXT NOT NULL, UNIQUE (coll, field));
CREATE TABLE IF NOT EXISTS entries (fid INTEGER NOT NULL, value NOT NULL, n INTEGER NOT NULL,
                                    PRIMARY KEY (fid, value, n)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS indexes (coll TEXT NOT NULL, name TEXT NOT NULL, keys TEXT NOT NULL, PRIMARY KEY (coll, name));
"""
# Tables of earlier layouts, moved into the ones above when a file of theirs is opened.
_EARLIER_TABLES = ("docs", "keys", "idx")

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
        self.lock = threading.RLock()
        self._depth = 0
        self._field_cache: dict[str, dict[str, int]] = {}
        self._migrate()

    def _migrate(self) -> None:
        """A file of an earlier layout moves over in one transaction: documents keep their
        order (so their numbers follow it), index rows are rewritten with field and document
        numbers. Two processes opening the same old file: the second finds nothing to move."""
        def exists(table: str) -> bool:
            return bool(self.conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                                          (table,)).fetchone())

        if not any(exists(t) for t in _EARLIER_TABLES):
            return
        with self.transaction():
            for coll, keys in self.conn.execute("SELECT coll, keys FROM indexes").fetchall():
                self._add_fields(coll, [f for f, _ in json.loads(keys)])
            if exists("docs"):
                self.conn.execute("INSERT OR IGNORE INTO documents (coll, id, doc) SELECT coll, id, doc FROM docs ORDER BY rowid")
            for table in ("keys", "idx"):
                if exists(table):
                    self.conn.execute("INSERT OR IGNORE INTO fields (coll, field) SELECT DISTINCT coll, field FROM "
                                      f"{table} WHERE value IS NOT NULL")
                    self.conn.execute(f"INSERT OR IGNORE INTO entries (fid, value, n) SELECT f.fid, k.value, d.n FROM {table} k "
                                      "JOIN fields f ON f.coll = k.coll AND f.field = k.field "
                                      "JOIN documents d ON d.coll = k.coll AND d.id = k.id WHERE k.value IS NOT NULL")
            for table in _EARLIER_TABLES:
                self.conn.execute(f"DROP TABLE IF EXISTS {table}")
            self._field_cache.clear()

    # -- plumbing ------------------------------------------------------------------
    def field_numbers(self, coll: str) -> dict[str, int]:
        """The indexed fields of a collection, with the numbers their index rows carry."""
        if coll not in self._field_cache:
            indexed: set[str] = set()
            for (keys,) in self.conn.execute("SELECT keys FROM indexes WHERE coll=?", (coll,)):
                indexed.update(f for f, _ in json.loads(keys))
            numbers = dict(self.conn.execute("SELECT field, fid FROM fields WHERE coll=?", (coll,)).fetchall())
            self._field_cache[coll] = {f: numbers[f] for f in indexed if f in numbers}
        return self._field_cache[coll]

    def indexed_fields(self, coll: str) -> set[str]:
        return set(self.field_numbers(coll))

    def _add_fields(self, coll: str, fields: Iterable[str]) -> None:
        self.conn.executemany("INSERT OR IGNORE INTO fields (coll, field) VALUES (?,?)", [(coll, f) for f in fields])
        self._field_cache.pop(coll, None)

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
            self._field_cache.clear()  # another process may have added indexes
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

    def rows(self, coll: str, ids: Iterable[Any]) -> list[tuple[int, dict[str, Any]]]:
        """(document number, document) of the documents with these `_id`s."""
        found: list[tuple[int, dict[str, Any]]] = []
        for chunk in _chunks(list(dict.fromkeys(str(i) for i in ids))):
            query = f"SELECT n, doc FROM documents WHERE coll=? AND id IN ({','.join('?' * len(chunk))})"
            found.extend((n, json.loads(raw)) for n, raw in self.conn.execute(query, [coll, *chunk]))
        return found

    def load(self, coll: str, ids: Iterable[Any]) -> list[dict[str, Any]]:
        return [doc for _, doc in self.rows(coll, ids)]

    def rows_by_index(self, coll: str, field: str, values: list[Any]) -> list[tuple[int, dict[str, Any]]]:
        """The documents with one of `values` in an indexed field (each once)."""
        fid = self.field_numbers(coll)[field]
        numbers: set[int] = set()
        for chunk in _chunks(values):
            query = f"SELECT n FROM entries WHERE fid=? AND value IN ({','.join('?' * len(chunk))})"
            numbers.update(n for (n,) in self.conn.execute(query, [fid, *chunk]))
        found: list[tuple[int, dict[str, Any]]] = []
        for chunk in _chunks(sorted(numbers)):
            query = f"SELECT n, doc FROM documents WHERE n IN ({','.join('?' * len(chunk))})"
            found.extend((n, json.loads(raw)) for n, raw in self.conn.execute(query, chunk))
        return found

    def _candidates(self, coll: str, spec: Mapping[str, Any]) -> Optional[list[tuple[int, dict[str, Any]]]]:
        """Candidate documents from the `_id` or an index, or None when the filter needs a scan."""
        indexed = self.field_numbers(coll)
        for key, cond in spec.items():
            if key in ("$or", "$and") and isinstance(cond, list):
                plans = [self._candidates(coll, branch) for branch in cond]
                if key == "$or" and plans and all(p is not None for p in plans):
                    return list({n: (n, doc) for plan in plans for n, doc in plan}.values())  # type: ignore[union-attr]
                if key == "$and" and any(p is not None for p in plans):
                    return next(p for p in plans if p is not None)
                continue
            values = lookup_values(cond)
            if values is None:
                continue
            if key == "_id":
                return self.rows(coll, values)
            if key in indexed:
                return self.rows_by_index(coll, key, values)
        return None

    def matching_rows(self, coll: str, spec: Optional[Mapping[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
        spec = dict(spec or {})
        found = self._candidates(coll, spec) if spec else None
        if found is None:
            found = [(n, json.loads(raw)) for n, raw in self.conn.execute("SELECT n, doc FROM documents WHERE coll=?", (coll,))]
        if not spec:
            return found
        return [(n, doc) for n, doc in found if matches(doc, spec)]

    def matching(self, coll: str, spec: Optional[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [doc for _, doc in self.matching_rows(coll, spec)]

    def index_rows(self, coll: str, n: int, doc: Mapping[str, Any], fields: Optional[Mapping[str, int]] = None
                   ) -> set[tuple[int, Any, int]]:
        """A document's index rows: (field number, value, document number), one per value (multikey)."""
        fields = self.field_numbers(coll) if fields is None else fields
        return {(fid, v, n) for f, fid in fields.items() for v in field_values(doc, f)}

    def write(self, coll: str, inserted: list[dict[str, Any]], updated: list[tuple[int, dict[str, Any]]],
              before: Optional[dict[int, set[tuple[int, Any, int]]]] = None) -> None:
        """Store new and changed documents with their index rows (inside a transaction); `before`:
        the index rows of the changed documents as they were, by number (only the difference is written)."""
        fields = self.field_numbers(coll)
        before = before or {}
        removed: list[tuple[int, Any, int]] = []
        added: list[tuple[int, Any, int]] = []
        if updated:
            self.conn.executemany("UPDATE documents SET doc=? WHERE n=?", [(_encode(d), n) for n, d in updated])
            for n, doc in updated:
                now = self.index_rows(coll, n, doc, fields)
                old = before.get(n, set())
                removed.extend(old - now)
                added.extend(now - old)
        if inserted:
            # Numbers follow the largest in use: this runs inside BEGIN IMMEDIATE, so no other
            # process inserts meanwhile (a number freed by a delete at the end may come back;
            # its index rows went with it).
            first = (self.conn.execute("SELECT max(n) FROM documents").fetchone()[0] or 0) + 1
            numbered = list(enumerate(inserted, first))
            try:
                self.conn.executemany("INSERT INTO documents (n, coll, id, doc) VALUES (?,?,?,?)",
                                      [(n, coll, str(d["_id"]), _encode(d)) for n, d in numbered])
            except sqlite3.IntegrityError as exc:
                raise DuplicateKey(f"E11000 duplicate key in {coll}") from exc
            for n, doc in numbered:
                added.extend(self.index_rows(coll, n, doc, fields))
        if removed:
            self.conn.executemany("DELETE FROM entries WHERE fid=? AND value=? AND n=?", removed)
        if added:
            self.conn.executemany("INSERT OR IGNORE INTO entries (fid, value, n) VALUES (?,?,?)", added)

    def delete(self, coll: str, found: list[tuple[int, dict[str, Any]]]) -> None:
        fields = self.field_numbers(coll)
        self.conn.executemany("DELETE FROM documents WHERE n=?", [(n,) for n, _ in found])
        self.conn.executemany("DELETE FROM entries WHERE fid=? AND value=? AND n=?",
                              [row for n, doc in found for row in self.index_rows(coll, n, doc, fields)])

    def create_index(self, coll: str, keys: IndexKeys) -> None:
        name = "_".join(f"{f}_{d}" for f, d in keys)
        with self.transaction():
            known = self.field_numbers(coll)
            self.conn.execute("INSERT OR REPLACE INTO indexes (coll, name, keys) VALUES (?,?,?)",
                              (coll, name, json.dumps(keys)))
            self._add_fields(coll, [f for f, _ in keys])
            added = {f: fid for f, fid in self.field_numbers(coll).items() if f not in known}
            if added:  # backfill the new fields for documents already stored
                for n, raw in self.conn.execute("SELECT n, doc FROM documents WHERE coll=?", (coll,)).fetchall():
                    self.conn.executemany("INSERT OR IGNORE INTO entries (fid, value, n) VALUES (?,?,?)",
                                          self.index_rows(coll, n, json.loads(raw), added))

    def update(self, coll: str, ops: Sequence[Update]) -> tuple[list[UpdateOutcome], set[int]]:
        """Apply updates in order inside one transaction: (an outcome per operation, positions upserted).

        The documents named by `_id` are read in one query; each operation then
        works on the current version in memory, and the changed ones are written once.
        """
        outcomes: list[UpdateOutcome] = []
        upserted: set[int] = set()
        with self.transaction():
            fields = self.field_numbers(coll)
            direct = [str(o.filter["_id"]) for o in ops if isinstance(o.filter.get("_id"), (str, int))]
            number: dict[str, int] = {}
            current: dict[str, dict[str, Any]] = {}
            before: dict[int, set[tuple[int, Any, int]]] = {}
            for n, doc in self.rows(coll, direct):
                key = str(doc["_id"])
                number[key], current[key] = n, doc
                before[n] = self.index_rows(coll, n, doc, fields)
            inserted: dict[str, dict[str, Any]] = {}
            changed: dict[str, dict[str, Any]] = {}
            for position, op in enumerate(ops):
                doc_id = op.filter.get("_id")
                if isinstance(doc_id, (str, int)):
                    doc = current.get(str(doc_id))
                    found = [doc] if doc is not None and matches(doc, op.filter) else []
                    exists = doc is not None
                else:
                    rows = self.matching_rows(coll, op.filter)[:1]
                    exists = bool(rows)
                    found = []
                    for n, doc in rows:
                        key = str(doc["_id"])
                        if key not in number:
                            number[key] = n
                            before[n] = self.index_rows(coll, n, doc, fields)
                        found = [current.get(key, doc)]  # the version this bulk already changed
                if found:
                    doc = found[0]
                    key = str(doc["_id"])
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
            self.write(coll, list(inserted.values()), [(number[k], d) for k, d in changed.items()], before)
        return outcomes, upserted

    def insert_unique(self, coll: str, docs: Sequence[dict[str, Any]]) -> set[Any]:
        with self.transaction():
            by_id = {str(d["_id"]): d for d in docs}
            taken_ids: set[str] = set()
            for chunk in _chunks(list(by_id)):
                query = f"SELECT id FROM documents WHERE coll=? AND id IN ({','.join('?' * len(chunk))})"
                taken_ids.update(row[0] for row in self.conn.execute(query, [coll, *chunk]))
            self.write(coll, [d for i, d in by_id.items() if i not in taken_ids], [])
        return {by_id[i]["_id"] for i in taken_ids}

    def close(self) -> None:
        with self.lock:
            self.conn.close()
