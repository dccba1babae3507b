"""MongoDB semantics for the embedded store: which index rows a document has, which index
lookups a filter allows, whether a document matches a filter, and update operators.

The operators and conditions the store itself uses on top-level fields are
handled here directly (montydb's engines take milliseconds per document);
anything else goes through montydb's query and update engines, so filters
and updates of any shape mean what they mean in MongoDB.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from montydb.engine.field_walker import FieldWalker
from montydb.engine.queries import QueryFilter
from montydb.engine.update import Updator

from kspider.store.backend import Rejected

_MISSING = object()
_FAST_OPERATORS = {"$set", "$setOnInsert", "$addToSet", "$inc", "$min", "$max"}
_FAST_CONDITIONS = {"$exists", "$lt", "$gt", "$in", "$eq"}


def field_values(doc: Mapping[str, Any], path: str) -> list[Any]:
    """Scalar values at a dotted path; arrays contribute each element (multikey)."""
    if "." not in path:  # a top-level field (every index the store defines)
        if path not in doc:
            return []
        value = doc[path]
        items = value if isinstance(value, list) else (value,)
        return [int(v) if isinstance(v, bool) else v for v in items if isinstance(v, (str, int, float))]
    values: list[Any] = [doc]
    for part in path.split("."):
        nxt: list[Any] = []
        for value in values:
            if isinstance(value, dict) and part in value:
                nxt.append(value[part])
            elif isinstance(value, list):
                nxt.extend(v[part] for v in value if isinstance(v, dict) and part in v)
        values = nxt
    flat: list[Any] = []
    for value in values:
        flat.extend(value if isinstance(value, list) else [value])
    return [int(v) if isinstance(v, bool) else v for v in flat if isinstance(v, (str, int, float))]


def lookup_values(cond: Any) -> Optional[list[Any]]:
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


def _comparable(a: Any, b: Any) -> bool:
    """Whether Python's order of a and b is MongoDB's: both strings, or both numbers."""
    if isinstance(a, str) and isinstance(b, str):
        return True
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))


def _fast_condition(value: Any, cond: Any) -> Optional[bool]:
    """A top-level condition the store uses, decided directly; None when montydb must decide."""
    if not isinstance(cond, dict):
        if isinstance(cond, (str, int, float)) and not isinstance(cond, bool) and not isinstance(value, list):
            return value is not _MISSING and _comparable(value, cond) and value == cond
        return None
    if not cond or not set(cond) <= _FAST_CONDITIONS:
        return None
    for op, arg in cond.items():
        if op == "$exists":
            if (value is not _MISSING) != bool(arg):
                return False
            continue
        if value is _MISSING or value is None or isinstance(value, list):
            return None
        if op in ("$lt", "$gt"):
            if not _comparable(value, arg):
                return None
            if not (value < arg if op == "$lt" else value > arg):
                return False
        elif op == "$eq":
            if not _comparable(value, arg):
                return None
            if value != arg:
                return False
        else:  # $in of scalars
            if not all(isinstance(a, (str, int, float)) and not isinstance(a, bool) for a in arg):
                return None
            if value not in arg:
                return False
    return True


def matches(doc: dict[str, Any], spec: Mapping[str, Any]) -> bool:
    """Whether a document matches a MongoDB filter."""
    for key, cond in spec.items():
        if key.startswith("$") or "." in key:
            break
        decided = _fast_condition(doc.get(key, _MISSING), cond)
        if decided is None:
            break
        if not decided:
            return False
    else:
        return True
    return bool(QueryFilter(dict(spec))(doc))


def _minmax_is_simple(doc: Mapping[str, Any], update: Mapping[str, Any]) -> bool:
    # Mixed types (or null) compare by BSON type order: leave those to montydb.
    for op in ("$min", "$max"):
        for key, value in (update.get(op) or {}).items():
            if key in doc and not _comparable(doc[key], value):
                return False
    return True


def _is_simple(update: Mapping[str, Any]) -> bool:
    """Whether the update uses only the operators applied here, on top-level fields."""
    for operator, fields in update.items():
        if operator not in _FAST_OPERATORS or not isinstance(fields, dict):
            return False
        for key in fields:
            if "." in key or key[:1] == "$":
                return False
    return True


def apply_update(doc: dict[str, Any], update: Mapping[str, Any], inserting: bool) -> bool:
    """Apply an update document in place; True if the document changed."""
    if not (_is_simple(update) and _minmax_is_simple(doc, update)):
        walker = FieldWalker(doc)
        try:
            changed = bool(Updator(dict(update))(walker, do_insert=inserting))
        except Exception as exc:  # montydb's errors: an update MongoDB would refuse too
            raise Rejected(f"update refused: {exc}") from exc
        if walker.doc is not doc:
            doc.clear()
            doc.update(walker.doc)
        return changed or inserting
    # Only $addToSet changes a value in place: copy those lists; other operators rebind.
    before = {} if inserting else {k: doc.get(k, _MISSING) for ops in update.values() for k in ops}
    for key in (update.get("$addToSet") or {}) if not inserting else ():
        if isinstance(before[key], list):
            before[key] = list(before[key])
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
        values = value["$each"] if isinstance(value, dict) and "$each" in value else [value]
        current = doc.get(key)
        if current is None:
            current = doc[key] = []
        if not isinstance(current, list):
            raise Rejected(f"Cannot apply $addToSet to non-array field {key!r}")
        current.extend(v for v in values if v not in current)
    return inserting or any(doc.get(k, _MISSING) != v for k, v in before.items())


def upsert_seed(filter: Mapping[str, Any]) -> dict[str, Any]:
    """As MongoDB does: a document inserted by an upsert starts from the filter's equality fields."""
    return {k: v for k, v in filter.items() if not k.startswith("$") and "." not in k and not isinstance(v, dict)}
