"""The structures of one store batch: what it read, what it decided, what it will write.

Owns ``Batch`` (the documents a batch read, with its lookup tables by `_id`,
alternate `_id`, content hash and LSH key, and the changes decided per
document), ``Change`` (everything a batch does to one document, as one update
document) and ``SelfLed``. No database here: the read fills a Batch
(``kspider.store.commit``), the decisions fill its changes
(``kspider.store.plan``), the commit writes them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional

import numpy as np

from kspider.store.backend import Update
from kspider.store.documents import ARTICLES, RENTAL_ADS, VERSIONS, Prepared


@dataclass
class Change:
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

    def time_guards(self, doc_id: str, stored: Optional[tuple[Any, ...]]) -> list[Update]:
        """Conditional ``$set``s that move the seen times only outwards (for a server without
        ``$min``/``$max``). ``stored``: (first_seen, last_seen, …) as read, None when unknown.
        The times only ever move outwards, so a time the read value already covers needs no write."""
        first, last = stored[:2] if stored is not None else (None, None)
        guards = []
        if self.first_seen and (first is None or self.first_seen < first):
            guards.append(Update({"_id": doc_id, "first_seen": {"$gt": self.first_seen}}, {"$set": {"first_seen": self.first_seen}}))
        if self.last_seen and (last is None or self.last_seen > last):
            guards.append(Update({"_id": doc_id, "last_seen": {"$lt": self.last_seen}}, {"$set": {"last_seen": self.last_seen}}))
        return guards


@dataclass
class SelfLed:
    """A new article that found no near-duplicate in its batch's read: it leads its own group
    unless a near-duplicate written at the same time (found by a query after the write) came first."""

    doc: dict[str, Any]
    signature: np.ndarray
    item: int


class Batch:
    """The documents a batch reads and writes, with the lookup tables its decisions use."""

    def __init__(self, threshold: float, items: list[Prepared]):
        self.threshold = threshold
        self.items = items
        self.item = -1  # the item being decided
        self.docs: dict[str, dict[str, dict[str, Any]]] = {ARTICLES: {}, RENTAL_ADS: {}}
        # (first_seen, last_seen, content_hash, alt_ids) of each document as read from the store.
        self.read: dict[str, dict[str, tuple[Any, ...]]] = {ARTICLES: {}, RENTAL_ADS: {}}
        self.alt_home: dict[str, str] = {}
        self.by_hash: dict[str, set[str]] = {}
        self.by_key: dict[str, set[str]] = {}
        self.changes: dict[str, dict[str, Change]] = {ARTICLES: {}, RENTAL_ADS: {}, VERSIONS: {}}
        self.item_counts: dict[int, dict[str, int]] = {}
        # Content-hash claims: read (claim _id → owner) and the ones this batch means to take.
        self.claims: dict[str, str] = {}
        self.claims_read: set[str] = set()
        self.hash_intents: dict[str, tuple[str, set[int]]] = {}
        self.self_led: list[SelfLed] = []
        self.writes_seen = 0  # the write sequence before the read
        self.writes_lsh = False  # whether it writes articles others may be near-duplicates of
        # Item → (collection, `_id`) of the document it ends in (its own, or the one it is an alternate of).
        self.landed: dict[int, tuple[str, str]] = {}

    def land(self, collection: str, doc_id: str) -> None:
        self.landed[self.item] = (collection, doc_id)

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

    def change(self, collection: str, doc_id: str, new: bool = False) -> Change:
        if doc_id not in self.changes[collection]:
            self.changes[collection][doc_id] = Change(new=new)
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



def hash_claim(content_hash: str) -> str:
    return f"h:{content_hash}"
