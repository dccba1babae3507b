"""The embedded store: an on-disk document store with the part of the pymongo
Collection API that kspider uses.

Why not montydb (which has the full API)? montydb answers every query, including
``{"_id": x}``, by decoding every document of the collection, and it ignores
``create_index``: an upsert costs O(collection size), so 10k articles take
minutes and 100k take hours. This store keeps documents as JSON in SQLite (WAL,
so several crawler processes on one machine can share it) with real secondary
indexes (multikey: one row per array element), and borrows montydb's query and
update engines so that filters and update operators mean what they mean in
MongoDB.

Supported: ``find``/``find_one`` (filters of any shape; top-level equality and
``$in`` on ``_id`` or an indexed field, or an ``$or`` of those, use the index,
anything else scans), ``count_documents``, ``estimated_document_count``,
``insert_one``, ``update_one`` (``upsert``, every montydb update operator),
``replace_one``, ``delete_many``, ``create_index``, ``bulk_write`` (pymongo
``UpdateOne``/``InsertOne``/``ReplaceOne``; applied one by one inside one
transaction, all or nothing; the result has ``upserted_ids`` as pymongo's).
Projections keep the listed top-level fields only.

Each write (``bulk_write`` included) is one SQLite ``BEGIN IMMEDIATE``
transaction, so single-document operations are atomic between processes as
in MongoDB: an upsert by `_id` with ``$setOnInsert`` inserts once, an update
whose filter holds a condition applies only while the condition holds, and a
second insert of an `_id` raises ``DuplicateKeyError``.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence

from montydb.engine.field_walker import FieldWalker
from montydb.engine.queries import QueryFilter
from montydb.engine.update import Updator
from pymongo import InsertOne, ReplaceOne, UpdateOne
from pymongo.errors import DuplicateKeyError, WriteError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (coll TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (coll, id));
CREATE TABLE IF NOT EXISTS idx (coll TEXT NOT NULL, field TEXT NOT NULL, value, id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_lookup ON idx (coll, field, value);
CREATE INDEX IF NOT EXISTS idx_owner ON idx (coll, id);
CREATE TABLE IF NOT EXISTS indexes (coll TEXT NOT NULL, name TEXT NOT NULL, keys TEXT NOT NULL, PRIMARY KEY (coll, name));
"""

# SQLite's default limit on host parameters is 32766; stay well below it.
_MAX_PARAMS = 900


def _encode(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=str)


def _field_values(doc: Mapping[str, Any], path: str) -> list[Any]:
    """Scalar values at a dotted path; arrays contribute each element (multikey)."""
    values: list[Any] = [doc]
    for part in path.split("."):
        nxt: list[Any] = []
        for value in values:
            if isinstance(value, Mapping) and part in value:
                nxt.append(value[part])
            elif isinstance(value, list):
                nxt.extend(v[part] for v in value if isinstance(v, Mapping) and part in v)
        values = nxt
    flat: list[Any] = []
    for value in values:
        flat.extend(value if isinstance(value, list) else [value])
    return [int(v) if isinstance(v, bool) else v for v in flat if isinstance(v, (str, int, float))]


def _lookup_values(cond: Any) -> Optional[list[Any]]:
    """The values an equality or ``$in`` condition asks for, or None if it is anything else."""
    if isinstance(cond, Mapping):
        if set(cond) == {"$in"} and isinstance(cond["$in"], (list, tuple, set)):
            values = list(cond["$in"])
        elif set(cond) == {"$eq"}:
            values = [cond["$eq"]]
        else:
            return None
    elif isinstance(cond, list):
        return None
    else:
        values = [cond]
    if all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in values):
        return values
    return None


_FAST_OPERATORS = {"$set", "$setOnInsert", "$addToSet", "$inc", "$min", "$max"}


def _comparable(a: Any, b: Any) -> bool:
    """Whether Python's order of a and b is MongoDB's: both strings, or both numbers."""
    if isinstance(a, str) and isinstance(b, str):
        return True
    numbers = (int, float)
    return all(isinstance(v, numbers) and not isinstance(v, bool) for v in (a, b))


def _minmax_is_simple(doc: Mapping[str, Any], update: Mapping[str, Any]) -> bool:
    # Mixed types (or null) compare by BSON type order: leave those to montydb.
    for op in ("$min", "$max"):
        for key, value in (update.get(op) or {}).items():
            if key in doc and not _comparable(doc[key], value):
                return False
    return True


def _apply_update(doc: dict[str, Any], update: Mapping[str, Any], inserting: bool) -> bool:
    """Apply an update document in place; True if the document changed.

    The operators the store itself uses on top-level fields are applied here
    directly (montydb's engine takes ~5 ms per update on an article); anything
    else goes through montydb's update engine.
    """
    simple = set(update) <= _FAST_OPERATORS and all(
        isinstance(ops, Mapping) and all("." not in k and not k.startswith("$") for k in ops) for ops in update.values()
    ) and _minmax_is_simple(doc, update)
    if not simple:
        walker = FieldWalker(doc)
        changed = bool(Updator(dict(update))(walker, do_insert=inserting))
        if walker.doc is not doc:
            doc.clear()
            doc.update(walker.doc)
        return changed or inserting
    before = _encode(doc)
    for key, value in (update.get("$set") or {}).items():
        doc[key] = value
    if inserting:
        for key, value in (update.get("$setOnInsert") or {}).items():
            doc[key] = value
    for key, value in (update.get("$inc") or {}).items():
        doc[key] = (doc.get(key) or 0) + value
    for key, value in (update.get("$min") or {}).items():
        if key not in doc or value < doc[key]:
            doc[key] = value
    for key, value in (update.get("$max") or {}).items():
        if key not in doc or value > doc[key]:
            doc[key] = value
    for key, value in (update.get("$addToSet") or {}).items():
        values = value["$each"] if isinstance(value, Mapping) and "$each" in value else [value]
        current = doc.get(key)
        if current is None:
            current = doc[key] = []
        if not isinstance(current, list):
            raise WriteError(f"Cannot apply $addToSet to non-array field {key!r}", code=2)
        current.extend(v for v in values if v not in current)
    return inserting or _encode(doc) != before


class _Result:
    """The attributes of pymongo's result objects that callers read."""

    def __init__(self, matched: int = 0, modified: int = 0, upserted_id: Any = None, inserted_id: Any = None, deleted: int = 0):
        self.matched_count = matched
        self.modified_count = modified
        self.upserted_id = upserted_id
        self.inserted_id = inserted_id
        self.deleted_count = deleted
        self.acknowledged = True


class _BulkResult:
    def __init__(self) -> None:
        self.inserted_count = 0
        self.matched_count = 0
        self.modified_count = 0
        self.upserted_count = 0
        self.upserted_ids: dict[int, Any] = {}
        self.acknowledged = True

    @property
    def bulk_api_result(self) -> dict[str, int]:
        return {
            "nInserted": self.inserted_count,
            "nMatched": self.matched_count,
            "nModified": self.modified_count,
            "nUpserted": self.upserted_count,
        }


class Cursor:
    """A materialized result with pymongo's ``sort``/``limit`` chaining."""

    def __init__(self, docs: list[dict[str, Any]], projection: Optional[Mapping[str, Any]] = None):
        self._docs = docs
        self._projection = projection
        self._limit = 0

    def sort(self, key: str | Sequence[tuple[str, int]], direction: int = 1) -> "Cursor":
        keys = [(key, direction)] if isinstance(key, str) else list(key)
        for field, dirn in reversed(keys):
            # MongoDB sorts missing/null first in ascending order.
            self._docs.sort(key=lambda d: (d.get(field) is not None, d.get(field) or ""), reverse=dirn < 0)
        return self

    def limit(self, n: int) -> "Cursor":
        self._limit = n
        return self

    def __iter__(self) -> Iterator[dict[str, Any]]:
        docs = self._docs[: self._limit] if self._limit else self._docs
        for doc in docs:
            yield self._project(doc)

    def _project(self, doc: dict[str, Any]) -> dict[str, Any]:
        if not self._projection:
            return doc
        keep = {k for k, v in self._projection.items() if v}
        if not keep:
            return {k: v for k, v in doc.items() if k not in self._projection}
        keep.add("_id") if self._projection.get("_id", 1) else keep.discard("_id")
        return {k: v for k, v in doc.items() if k in keep}


class EmbeddedCollection:
    def __init__(self, database: "EmbeddedDatabase", name: str):
        self.database = database
        self.name = name

    # -- plumbing -----------------------------------------------------------
    @property
    def _conn(self) -> sqlite3.Connection:
        return self.database._conn

    def _indexed_fields(self) -> set[str]:
        return self.database._indexed_fields(self.name)

    def _load(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        ids = list(dict.fromkeys(str(i) for i in ids))
        docs: list[dict[str, Any]] = []
        for start in range(0, len(ids), _MAX_PARAMS):
            chunk = ids[start : start + _MAX_PARAMS]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(f"SELECT doc FROM docs WHERE coll=? AND id IN ({marks})", [self.name, *chunk])
            docs.extend(json.loads(row[0]) for row in rows)
        return docs

    def _ids_by_index(self, field: str, values: list[Any]) -> set[str]:
        ids: set[str] = set()
        for start in range(0, len(values), _MAX_PARAMS):
            chunk = values[start : start + _MAX_PARAMS]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT id FROM idx WHERE coll=? AND field=? AND value IN ({marks})", [self.name, field, *chunk]
            )
            ids.update(row[0] for row in rows)
        return ids

    def _exact(self, spec: Mapping[str, Any]) -> bool:
        """Whether the index answers the filter exactly: one equality/``$in`` on `_id` or an
        indexed field (or an ``$or`` of such), so matching it again would only cost time."""
        if len(spec) != 1:
            return False
        ((key, cond),) = spec.items()
        if key == "$or" and isinstance(cond, list):
            return bool(cond) and all(isinstance(b, Mapping) and self._exact(b) for b in cond)
        return (key == "_id" or key in self._indexed_fields()) and _lookup_values(cond) is not None

    def _plan(self, spec: Mapping[str, Any]) -> Optional[set[str]]:
        """Candidate `_id`s from the indexes, or None when the filter needs a scan."""
        indexed = self._indexed_fields()
        for key, cond in spec.items():
            if key == "$or" and isinstance(cond, list):
                plans = [self._plan(branch) for branch in cond]
                if plans and all(p is not None for p in plans):
                    return set().union(*plans)  # type: ignore[arg-type]
                continue
            if key == "$and" and isinstance(cond, list):
                for branch in cond:
                    plan = self._plan(branch)
                    if plan is not None:
                        return plan
                continue
            values = _lookup_values(cond)
            if values is None:
                continue
            if key == "_id":
                return {str(v) for v in values}
            if key in indexed:
                return self._ids_by_index(key, values)
        return None

    def _matching(self, spec: Optional[Mapping[str, Any]]) -> list[dict[str, Any]]:
        spec = dict(spec or {})
        plan = self._plan(spec) if spec else None
        if plan is None:
            rows = self._conn.execute("SELECT doc FROM docs WHERE coll=?", (self.name,))
            docs = [json.loads(row[0]) for row in rows]
        else:
            docs = self._load(plan)
        if not spec or not docs or (plan is not None and self._exact(spec)):
            return docs
        query = QueryFilter(spec)
        return [doc for doc in docs if query(doc)]

    def _store(self, doc: dict[str, Any], new: bool) -> None:
        doc_id = str(doc["_id"])
        if new:
            try:
                self._conn.execute("INSERT INTO docs (coll, id, doc) VALUES (?,?,?)", (self.name, doc_id, _encode(doc)))
            except sqlite3.IntegrityError as exc:
                raise DuplicateKeyError(f"E11000 duplicate key error collection: {self.name} dup key: {{ _id: {doc_id!r} }}") from exc
        else:
            self._conn.execute("UPDATE docs SET doc=? WHERE coll=? AND id=?", (_encode(doc), self.name, doc_id))
            self._conn.execute("DELETE FROM idx WHERE coll=? AND id=?", (self.name, doc_id))
        self._index_doc(doc)

    def _index_doc(self, doc: Mapping[str, Any]) -> None:
        rows = [
            (self.name, field, value, str(doc["_id"]))
            for field in self._indexed_fields()
            for value in dict.fromkeys(_field_values(doc, field))
        ]
        if rows:
            self._conn.executemany("INSERT INTO idx (coll, field, value, id) VALUES (?,?,?,?)", rows)

    # -- pymongo API ----------------------------------------------------------
    def with_options(self, **_: Any) -> "EmbeddedCollection":
        return self

    def create_index(self, keys: str | Sequence[tuple[str, int]], **kwargs: Any) -> str:
        pairs = [(keys, 1)] if isinstance(keys, str) else list(keys)
        name = kwargs.get("name") or "_".join(f"{f}_{d}" for f, d in pairs)
        with self.database.transaction():
            known = self._indexed_fields()
            self._conn.execute(
                "INSERT OR REPLACE INTO indexes (coll, name, keys) VALUES (?,?,?)", (self.name, name, json.dumps(pairs))
            )
            self.database._index_cache.pop(self.name, None)
            added = [f for f, _ in pairs if f not in known]
            if added:  # backfill the new fields for documents already stored
                for (raw,) in self._conn.execute("SELECT doc FROM docs WHERE coll=?", (self.name,)).fetchall():
                    doc = json.loads(raw)
                    rows = [(self.name, f, v, str(doc["_id"])) for f in added for v in dict.fromkeys(_field_values(doc, f))]
                    self._conn.executemany("INSERT INTO idx (coll, field, value, id) VALUES (?,?,?,?)", rows)
        return name

    def index_information(self) -> dict[str, dict[str, Any]]:
        info = {"_id_": {"key": [("_id", 1)], "unique": True}}
        for name, keys in self._conn.execute("SELECT name, keys FROM indexes WHERE coll=?", (self.name,)):
            info[name] = {"key": [tuple(k) for k in json.loads(keys)]}
        return info

    def find(self, filter: Optional[Mapping[str, Any]] = None, projection: Optional[Mapping[str, Any]] = None) -> Cursor:
        with self.database._lock:
            return Cursor(self._matching(filter), projection)

    def find_one(self, filter: Optional[Mapping[str, Any]] = None, projection: Optional[Mapping[str, Any]] = None) -> Optional[dict[str, Any]]:
        if filter is not None and not isinstance(filter, Mapping):
            filter = {"_id": filter}
        return next(iter(self.find(filter, projection).limit(1)), None)

    def count_documents(self, filter: Optional[Mapping[str, Any]] = None) -> int:
        if not filter:
            return self.estimated_document_count()
        with self.database._lock:
            return len(self._matching(filter))

    def estimated_document_count(self) -> int:
        with self.database._lock:
            return self._conn.execute("SELECT COUNT(*) FROM docs WHERE coll=?", (self.name,)).fetchone()[0]

    def insert_one(self, document: dict[str, Any]) -> _Result:
        with self.database.transaction():
            return self._insert_one(document)

    def _insert_one(self, document: dict[str, Any]) -> _Result:
        if "_id" not in document:
            document["_id"] = uuid.uuid4().hex
        self._store(dict(document), new=True)
        return _Result(inserted_id=document["_id"])

    def update_one(self, filter: Mapping[str, Any], update: Mapping[str, Any], upsert: bool = False) -> _Result:
        with self.database.transaction():
            return self._update_one(filter, update, upsert)

    def _update_one(self, filter: Mapping[str, Any], update: Mapping[str, Any], upsert: bool) -> _Result:
        if upsert and set(filter) == {"_id"} and set(update) == {"$setOnInsert"} and not isinstance(filter["_id"], Mapping):
            return self._insert_if_absent(filter["_id"], update["$setOnInsert"])
        found = self._matching(filter)
        if found:
            doc = found[0]
            changed = _apply_update(doc, update, inserting=False)
            if changed:
                self._store(doc, new=False)
            return _Result(matched=1, modified=int(changed))
        if not upsert:
            return _Result()
        # As MongoDB does: the new document starts from the filter's equality fields.
        seed = {k: v for k, v in filter.items() if not k.startswith("$") and "." not in k and not isinstance(v, Mapping)}
        seed.setdefault("_id", uuid.uuid4().hex)
        _apply_update(seed, update, inserting=True)
        self._store(seed, new=True)
        return _Result(upserted_id=seed["_id"])

    def _insert_if_absent(self, doc_id: Any, fields: Mapping[str, Any]) -> _Result:
        """An upsert by `_id` with only ``$setOnInsert`` (a claim): one ``INSERT OR IGNORE``."""
        doc = {"_id": doc_id, **fields}
        cursor = self._conn.execute("INSERT OR IGNORE INTO docs (coll, id, doc) VALUES (?,?,?)", (self.name, str(doc_id), _encode(doc)))
        if cursor.rowcount:
            self._index_doc(doc)
            return _Result(upserted_id=doc_id)
        return _Result(matched=1)

    def replace_one(self, filter: Mapping[str, Any], replacement: Mapping[str, Any], upsert: bool = False) -> _Result:
        with self.database.transaction():
            return self._replace_one(filter, replacement, upsert)

    def _replace_one(self, filter: Mapping[str, Any], replacement: Mapping[str, Any], upsert: bool) -> _Result:
        found = self._matching(filter)
        doc = dict(replacement)
        if found:
            doc["_id"] = found[0]["_id"]
            self._store(doc, new=False)
            return _Result(matched=1, modified=1)
        if not upsert:
            return _Result()
        doc.setdefault("_id", filter.get("_id", uuid.uuid4().hex))
        self._store(doc, new=True)
        return _Result(upserted_id=doc["_id"])

    def delete_many(self, filter: Mapping[str, Any]) -> _Result:
        with self.database.transaction():
            ids = [str(d["_id"]) for d in self._matching(filter)]
            for doc_id in ids:
                self._conn.execute("DELETE FROM docs WHERE coll=? AND id=?", (self.name, doc_id))
                self._conn.execute("DELETE FROM idx WHERE coll=? AND id=?", (self.name, doc_id))
        return _Result(deleted=len(ids))

    def bulk_write(self, requests: Sequence[Any], ordered: bool = True) -> _BulkResult:
        """Apply pymongo write models one by one in one transaction (all or nothing)."""
        result = _BulkResult()
        with self.database.transaction():
            for index, request in enumerate(requests):
                # pymongo's write models expose their arguments only as these attributes.
                if isinstance(request, UpdateOne):
                    res = self._update_one(request._filter, request._doc, bool(request._upsert))
                elif isinstance(request, ReplaceOne):
                    res = self._replace_one(request._filter, request._doc, bool(request._upsert))
                elif isinstance(request, InsertOne):
                    res = self._insert_one(request._doc)
                    result.inserted_count += 1
                    continue
                else:
                    raise TypeError(f"unsupported bulk request {request!r}")
                result.matched_count += res.matched_count
                result.modified_count += res.modified_count
                if res.upserted_id is not None:
                    result.upserted_count += 1
                    result.upserted_ids[index] = res.upserted_id
        return result

    def drop(self) -> None:
        with self.database.transaction():
            for table in ("docs", "idx", "indexes"):
                self._conn.execute(f"DELETE FROM {table} WHERE coll=?", (self.name,))
            self.database._index_cache.pop(self.name, None)


class EmbeddedDatabase:
    def __init__(self, path: Path, name: str):
        self.name = name
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE below).
        self._conn = sqlite3.connect(str(path), timeout=60, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._lock = threading.RLock()
        self._depth = 0
        self._index_cache: dict[str, set[str]] = {}

    def _indexed_fields(self, coll: str) -> set[str]:
        if coll not in self._index_cache:
            fields: set[str] = set()
            for (keys,) in self._conn.execute("SELECT keys FROM indexes WHERE coll=?", (coll,)):
                fields.update(f for f, _ in json.loads(keys))
            self._index_cache[coll] = fields
        return self._index_cache[coll]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction (nested calls join the outer one)."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            # Another process may have added indexes since we cached them.
            self._index_cache.clear()
            self._depth = 1
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0

    def __getitem__(self, name: str) -> EmbeddedCollection:
        return EmbeddedCollection(self, name)

    def get_collection(self, name: str, **_: Any) -> EmbeddedCollection:
        return EmbeddedCollection(self, name)

    def list_collection_names(self) -> list[str]:
        return [row[0] for row in self._conn.execute("SELECT DISTINCT coll FROM docs ORDER BY coll")]

    def command(self, name: str, *_: Any, **__: Any) -> dict[str, Any]:
        if name in ("ping", "hello"):
            return {"ok": 1.0}
        raise NotImplementedError(f"embedded store has no command {name!r}")

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class EmbeddedClient:
    """``EmbeddedClient(dir)[db_name][collection]``; one SQLite file per database."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self._databases: dict[str, EmbeddedDatabase] = {}

    def __getitem__(self, name: str) -> EmbeddedDatabase:
        if name not in self._databases:
            self._databases[name] = EmbeddedDatabase(self.directory / f"{name}.sqlite3", name)
        return self._databases[name]

    get_database = __getitem__

    def close(self) -> None:
        for database in self._databases.values():
            database.close()
        self._databases.clear()
