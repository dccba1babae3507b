"""The backend protocol: exactly the operations the store needs from a database.

Owns the interface (``Backend``), the write operation it takes (``Update``)
and the two errors a backend may raise: ``DuplicateKey`` (a unique `_id`
was taken, an answer, not a fault) and ``Unavailable`` (the call did not
reach the data: server unreachable, timeout, disk error). Two
implementations: ``kspider.store.mongo.MongoBackend`` (pymongo) and
``kspider.store.embedded.EmbeddedBackend`` (SQLite). Filters and update
documents are MongoDB's; a backend must give them MongoDB's meaning, and
make every single-document operation atomic between processes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ContextManager, Iterator, Optional, Protocol, Sequence, runtime_checkable


class Unavailable(Exception):
    """The backend did not take the call (unreachable, timed out, disk error)."""

    def __init__(self, message: str, timed_out: bool = False):
        super().__init__(message)
        self.timed_out = timed_out


class DuplicateKey(Exception):
    """An insert (or an upsert whose filter did not match) met a document with the same `_id`."""


@dataclass(frozen=True)
class Update:
    """One conditional update by filter (``upsert``: insert when nothing matches)."""

    filter: dict[str, Any]
    update: dict[str, Any]
    upsert: bool = False


@dataclass
class UpdateOutcome:
    matched: int = 0
    upserted: bool = False


@dataclass
class BulkOutcome:
    """Which operations of a bulk inserted a document (their positions)."""

    upserted: set[int] = field(default_factory=set)


IndexKeys = list[tuple[str, int]]


@runtime_checkable
class Backend(Protocol):
    """What the store asks of a database. Every method may raise ``Unavailable``."""

    name: str

    def describe(self) -> str:
        """Where the data is, for logs and the command line (no password)."""

    def ping(self) -> None:
        """Return when the backend answers; raise ``Unavailable`` otherwise."""

    def supports_minmax(self) -> bool:
        """Whether ``$min``/``$max`` update operators are applied (probed once)."""

    def write_scope(self) -> ContextManager[None]:
        """Groups the writes of one batch: a backend that can make them one transaction does
        (each call inside stays all or nothing on its own); others write them as they come."""

    def create_index(self, collection: str, keys: IndexKeys) -> None: ...

    def index_keys(self, collection: str) -> list[IndexKeys]: ...

    def find(self, collection: str, filter: Optional[dict[str, Any]] = None, projection: Optional[Sequence[str]] = None,
             limit: int = 0) -> Iterator[dict[str, Any]]:
        """Documents matching a filter; `projection` keeps those top-level fields and `_id`."""

    def find_in(self, collection: str, field: str, values: Sequence[Any]) -> list[dict[str, Any]]:
        """A batched read by keys: documents whose `field` (an array field: any element) is one of `values`."""

    def count(self, collection: str, filter: Optional[dict[str, Any]] = None) -> int: ...

    def insert_unique(self, collection: str, docs: Sequence[dict[str, Any]]) -> set[Any]:
        """Insert documents by `_id`; the `_id`s found taken (not written by this call; after a
        partial bulk some backends also name ones this call wrote: read them to tell)."""

    def update_one(self, collection: str, op: Update) -> UpdateOutcome:
        """Apply one update (may raise ``DuplicateKey`` on an upsert)."""

    def bulk_update(self, collection: str, ops: Sequence[Update]) -> BulkOutcome:
        """Apply updates, unordered. On ``DuplicateKey`` what else was written is the backend's
        (MongoDB goes on, the embedded store writes nothing): the caller writes them again."""

    def replace_one(self, collection: str, doc: dict[str, Any]) -> None:
        """Insert or replace the document with ``doc["_id"]`` whole."""

    def delete(self, collection: str, filter: dict[str, Any]) -> int: ...

    def close(self) -> None: ...


class Rejected(Exception):
    """The backend refused an operation on these data (e.g. ``$addToSet`` on a field that is not an array)."""
