"""The read and write phases of a batch, and the protocol that keeps concurrent writers correct.

Owns ``read`` (everything a batch's decisions need, one query per key kind:
articles by `_id`, by alternate `_id`, by content hash, by LSH key; the
content-hash claims; rental ads by `_id`) and ``Committer`` (the writes:
claims, archives, conditional updates, bulk upserts, the near-duplicate
settlement after the write, the seen-time guards). Every write is an
idempotent upsert or a conditional update, so a batch written twice (say
from a spill file) changes nothing the second time. How concurrent writers
stay correct is described in docs/STORE.md ("Several writers"); in short:

- Exact copies: the claim ``{"_id": "h:<content_hash>", "owner": <_id>}`` in
  ``store_claims`` is inserted before the article; the unique `_id` lets one
  writer's article own the content. A writer that loses decides again.
- Near-duplicate groups: a batch that wrote articles bumps the write sequence
  (``store_claims`` ``{"_id": "writes"}``); if another batch bumped it between
  this batch's read and write, the new self-led articles query the LSH index
  again and ``plan.settle_group`` gives both writers the same answer.
- Seen times: ``$min``/``$max`` where the backend has them, else conditional
  ``$set``s that only move a time outwards.
- Versions: a content change is conditional on the ``content_hash`` read; an
  insert is conditional on no other writer's article having the `_id`.
"""
from __future__ import annotations

from typing import Any, Optional

from kspider.store.backend import Backend, DuplicateKey, Update
from kspider.store.batch import Batch, Change, hash_claim
from kspider.store.documents import ARTICLES, CLAIMS, RENTAL_ADS, VERSIONS, WRITES, Prepared
from kspider.store.plan import settle_group


def read(backend: Backend, batch: Batch) -> Batch:
    """Fill a batch with what the store holds for its items (one read per key kind)."""
    articles = [p for p in batch.items if p.collection == ARTICLES]
    if articles:
        # Before the documents: a write another batch makes after this read bumps it.
        sequence = backend.find_in(CLAIMS, "_id", [WRITES])
        batch.writes_seen = int((sequence[0] if sequence else {}).get("n") or 0)
        ids = list({p.doc["_id"] for p in articles})
        hashes = list({p.doc["content_hash"] for p in articles if p.doc.get("content_hash")})
        keys = list({k for p in articles for k in p.keys})
        for field, values in (("_id", ids), ("alt_ids", ids), ("content_hash", hashes), ("lsh", keys)):
            for doc in backend.find_in(ARTICLES, field, values):
                if doc["_id"] not in batch.docs[ARTICLES]:
                    batch.know_article(doc, from_store=True)
        if hashes:
            for claim in backend.find_in(CLAIMS, "_id", [hash_claim(h) for h in hashes]):
                batch.claims[claim["_id"]] = claim.get("owner")
                batch.claims_read.add(claim["_id"])
            # Owners whose document holds another content now (or is being written).
            owners = [o for o in set(batch.claims.values()) if o and o not in batch.docs[ARTICLES]]
            for doc in backend.find_in(ARTICLES, "_id", owners):
                batch.know_article(doc, from_store=True)
    ads = list({p.doc["_id"] for p in batch.items if p.collection == RENTAL_ADS})
    for doc in backend.find_in(RENTAL_ADS, "_id", ads):
        batch.docs[RENTAL_ADS][doc["_id"]] = doc
        batch.read[RENTAL_ADS][doc["_id"]] = (doc.get("first_seen"), doc.get("last_seen"))
    return batch


class Committer:
    """Writes decided batches to a backend (``minmax``: whether it applies ``$min``/``$max``)."""

    def __init__(self, backend: Backend, minmax: bool, threshold: float):
        self.backend = backend
        self.minmax = minmax
        self.threshold = threshold

    def commit(self, batch: Batch) -> list[Prepared]:
        """Write a decided batch; the items that lost a race (to be decided again).

        Order: content-hash claims (an article is only inserted by the claim's
        winner); archives (a superseded content is never lost); conditional
        article updates (content changes, rewritten alternate lists); the other
        article and ad updates in one bulk each; the near-duplicate groups of
        self-led new articles settled with what other writers wrote meanwhile;
        without ``$min``/``$max``, the conditional seen-time updates.
        """
        lost = self._claim_hashes(batch)
        lost, dropped = batch.lost_closure(lost)
        upserted: dict[str, set[str]] = {ARTICLES: set(), RENTAL_ADS: set()}

        versions = {i: c for i, c in batch.changes[VERSIONS].items() if (VERSIONS, i) not in dropped}
        self._apply(VERSIONS, versions)

        for doc_id, change in batch.changes[ARTICLES].items():
            if change.guard and (ARTICLES, doc_id) not in dropped:
                op = Update({"_id": doc_id, **change.guard}, change.update_spec(self.minmax))
                if not self.backend.update_one(ARTICLES, op).matched:
                    lost |= change.items
        lost, dropped = batch.lost_closure(lost)

        plain = {i: c for i, c in batch.changes[ARTICLES].items() if not c.guard and (ARTICLES, i) not in dropped}
        new_lost, upserted[ARTICLES] = self._apply_articles(plain)
        lost, dropped = batch.lost_closure(lost | new_lost)
        ads = {i: c for i, c in batch.changes[RENTAL_ADS].items() if (RENTAL_ADS, i) not in dropped}
        upserted[RENTAL_ADS] = self._apply(RENTAL_ADS, ads)

        self._settle_groups(batch, lost)
        if not self.minmax:
            self._apply_time_guards(batch, dropped, upserted)
        return [batch.items[i] for i in sorted(lost)]

    def _claim_hashes(self, batch: Batch) -> set[int]:
        """Take the claims the batch's decisions rest on (inserts, in one bulk); the items whose
        claim another writer won (a claim already held for the same owner is this batch's own replay)."""
        intents = {cid: v for cid, v in batch.hash_intents.items() if cid not in batch.claims_read}
        if not intents:
            return set()
        taken = self.backend.insert_unique(CLAIMS, [{"_id": cid, "owner": owner} for cid, (owner, _) in intents.items()])
        lost: set[int] = set()
        for claim in self.backend.find_in(CLAIMS, "_id", list(taken)):
            owner, items = intents[claim["_id"]]
            if claim.get("owner") != owner:
                lost |= items
        return lost

    def _apply_articles(self, changes: dict[str, Change]) -> tuple[set[int], set[str]]:
        """Write unconditional article updates; (items to retry, `_id`s inserted).

        A new article is written only while no other writer's article (one with a
        ``version``) has that `_id`: if one appeared since the read, the item is
        decided again (it becomes a content change or a recrawl of it).
        """
        if not changes:
            return set(), set()
        entries = []
        for doc_id, change in changes.items():
            query: dict[str, Any] = {"_id": doc_id}
            if change.new:
                query["version"] = {"$exists": False}
            entries.append((doc_id, change, Update(query, change.update_spec(self.minmax), upsert=True)))
        try:
            result = self.backend.bulk_update(ARTICLES, [e[2] for e in entries])
            return set(), {entries[i][0] for i in result.upserted}
        except DuplicateKey:
            pass
        # An insert met another writer's article. What else the bulk wrote depends on the
        # backend, so: new articles found stored are retried, everything else is written
        # again one by one (idempotent).
        new_ids = [doc_id for doc_id, change, _ in entries if change.new]
        stored = {d["_id"] for d in self.backend.find_in(ARTICLES, "_id", new_ids) if d.get("version") is not None}
        lost: set[int] = set()
        inserted: set[str] = set()
        for doc_id, change, op in entries:
            if change.new and doc_id in stored:
                lost |= change.items
                continue
            try:
                if self.backend.update_one(ARTICLES, op).upserted:
                    inserted.add(doc_id)
            except DuplicateKey:
                lost |= change.items
        return lost, inserted

    def _settle_groups(self, batch: Batch, lost: set[int]) -> None:
        """Near-duplicates another writer stored between this batch's read and its write.

        If the write sequence after this batch's bump is not the value read before
        its reads plus one, another batch wrote in between: the new articles that
        lead their own group query the LSH index again. Of two batches that each
        missed the other's articles, the one that bumped second sees the other's
        bump, and its query comes after the other's write; ``settle_group`` gives
        both the same answer, applied by a conditional update (only while the later
        article still leads its own group). Alone, a writer never queries again.
        """
        if not batch.writes_lsh:
            return
        # $inc then a read (not atomic): a later bump read here only costs a needless query.
        self.backend.update_one(CLAIMS, Update({"_id": WRITES}, {"$inc": {"n": 1}}, upsert=True))
        sequence = self.backend.find_in(CLAIMS, "_id", [WRITES])
        after = int((sequence[0] if sequence else {}).get("n") or 0)
        entries = [e for e in batch.self_led if e.item not in lost]
        if not entries or after == batch.writes_seen + 1:
            return
        keys = list({k for e in entries for k in e.doc.get("lsh") or []})
        unseen = [d for d in self.backend.find_in(ARTICLES, "lsh", keys)
                  if d["_id"] not in batch.read[ARTICLES] and d["_id"] not in batch.changes[ARTICLES]]
        if not unseen:
            return
        for entry in entries:
            mine = entry.doc
            own_keys = set(mine.get("lsh") or [])
            concurrent = [d for d in unseen if own_keys.intersection(d.get("lsh") or [])]
            group, followers = settle_group(mine, entry.signature, concurrent, self.threshold)
            moves = [(mine["_id"], group)] if group else [(f, mine.get("dup_group") or mine["_id"]) for f in followers]
            for doc_id, to_group in moves:
                op = Update({"_id": doc_id, "dup_group": doc_id}, {"$set": {"dup_group": to_group}})
                if self.backend.update_one(ARTICLES, op).matched:
                    counts = batch.item_counts.setdefault(entry.item, {})
                    counts["near_dups"] = counts.get("near_dups", 0) + 1
            if group:
                mine["dup_group"] = group

    def _apply_time_guards(self, batch: Batch, dropped: set[tuple[str, str]], upserted: dict[str, set[str]]) -> None:
        """Seen times without ``$min``/``$max``: conditional ``$set``s, each only moving a time
        outwards, so concurrent writers end at the min/max whatever their order."""
        for name in (ARTICLES, RENTAL_ADS):
            ops: list[Update] = []
            for doc_id, change in batch.changes[name].items():
                if (name, doc_id) in dropped or doc_id in upserted[name]:
                    continue  # not written, or inserted with these times
                ops.extend(change.time_guards(doc_id, None if change.new else batch.read[name].get(doc_id)))
            if ops:
                self.backend.bulk_update(name, ops)

    def _apply(self, name: str, changes: dict[str, Change]) -> set[str]:
        """Upsert each change by `_id` in one unordered bulk; the `_id`s inserted."""
        if not changes:
            return set()
        ids = list(changes)
        result = self.backend.bulk_update(name, [Update({"_id": i}, changes[i].update_spec(self.minmax), upsert=True)
                                                 for i in ids])
        return {ids[i] for i in result.upserted}


def stored_state(batch: Batch, item: int) -> Optional[tuple[str, dict[str, Any]]]:
    """(collection, the document as the batch left it) of the document an item ended in."""
    landed = batch.landed.get(item)
    if landed is None:
        return None
    collection, doc_id = landed
    doc = batch.docs.get(collection, {}).get(doc_id)
    return (collection, doc) if doc is not None else None
