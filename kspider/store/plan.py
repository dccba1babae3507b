"""The store's decisions, as pure functions: given a batch and what the store holds, the writes to make.

Owns the rules: an exact copy (same content hash) at another URL becomes an
alternate of the article that claimed the content first; a near-duplicate
(MinHash estimate ≥ threshold) joins the group of the first-seen member; a
recrawl moves the seen times outwards; new content of a URL is the next
version and the superseded content is archived; older content arriving late
is archived as history; a rental ad is one document per text, ``seen_on``
growing. ``Planner.decide`` fills a ``Batch`` that ``kspider.store.commit``
has read (no database here, so every rule is testable without one).
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

import numpy as np

from kspider.store import neardup, spill
from kspider.store.batch import Batch, Change, SelfLed, hash_claim
from kspider.store.documents import ARTICLES, RENTAL_ADS, STORE_FIELDS, VERSIONS, Prepared


def _first_member(docs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return min(docs, key=lambda d: (d.get("first_seen") or "~", d["_id"]))



def _seen_order(doc: Mapping[str, Any]) -> tuple[str, str]:
    return (doc.get("first_seen") or "~", doc["_id"])


def settle_group(mine: Mapping[str, Any], sig: np.ndarray, concurrent: Iterable[Mapping[str, Any]],
                 threshold: float) -> tuple[Optional[str], list[str]]:
    """Groups of a self-led article and the near-duplicates written at the same time by other writers.

    `mine`: the article as written (its own group); `concurrent`: articles sharing an
    LSH band key with it that its batch had not read. Among verified near-duplicates,
    the first-seen article (``first_seen``, then `_id`) leads: it is the rule of a
    single writer, and both sides compute the same answer. Returns (the group `mine`
    joins, or None when it leads; the `_id`s of the later ones it leads that still
    lead their own group, which join its group).
    """
    near = []
    for other in concurrent:
        other_sig = neardup.decode_signature(other.get("minhash"))
        if other["_id"] != mine["_id"] and other_sig is not None and neardup.similarity(sig, other_sig) >= threshold:
            near.append(other)
    earlier = [o for o in near if _seen_order(o) < _seen_order(mine)]
    if earlier:
        first = min(earlier, key=_seen_order)
        return (first.get("dup_group") or first["_id"]), []
    return None, sorted(o["_id"] for o in near if o.get("dup_group") in (None, o["_id"]))


def sign(prepared: Iterable[Prepared], threshold: float) -> None:
    """MinHash signatures and LSH keys of the articles, all signed at once (once per item, however
    often it is retried)."""
    unsigned = [p for p in prepared if p.collection == ARTICLES and not p.hashed]
    sigs = neardup.signatures([p.doc.get("content_text_hans") or p.doc.get("content_text") for p in unsigned])
    for p, sig in zip(unsigned, sigs):
        p.hashed = True
        if sig is not None:
            p.signature = sig
            p.keys = neardup.band_keys(sig, threshold)


class Planner:
    """Decides a batch's writes (see the module doc); `threshold` is the near-duplicate threshold."""

    def __init__(self, threshold: float):
        self.threshold = threshold

    def decide(self, batch: Batch) -> Batch:
        """Decide every item of a batch whose reads are done; the batch, with its changes."""
        for batch.item, p in enumerate(batch.items):
            if p.collection == ARTICLES:
                self._decide_article(batch, p)
        for batch.item, p in enumerate(batch.items):
            if p.collection == RENTAL_ADS:
                self._decide_ad(batch, p)
        return batch

    def _exact_home(self, batch: Batch, doc_id: str, content_hash: Optional[str]) -> Optional[dict[str, Any]]:
        """The article a new URL with this content is an alternate of, or None when it is a new article.

        The claim on the content hash names the first writer's article (even one
        another process has claimed and not written yet: its alternates then
        create it, and its owner fills it in). Without a claim (documents stored
        before claims existed) the first-seen stored copy is the home, and this
        batch claims the hash for it.
        """
        if not content_hash:
            return None
        known = batch.docs[ARTICLES]
        claim_id = hash_claim(content_hash)
        owner = batch.claims.get(claim_id)
        if owner == doc_id:
            return None
        if owner is not None:
            home = known.get(owner)
            if home is None:
                home = {"_id": owner}
                batch.know_article(home)
                batch.rely_on_claim(claim_id)
                return home
            if home.get("version") is None or home.get("content_hash") == content_hash:
                batch.rely_on_claim(claim_id)
                return home
            # The owner serves other content now: the claim is spent; decide by the stored copies.
        twins = [known[i] for i in batch.by_hash.get(content_hash, ()) if i != doc_id and i in known]
        if twins:
            home = _first_member(twins)
            if owner is None:
                batch.intend_claim(claim_id, home["_id"])
            return home
        if owner is None:
            batch.intend_claim(claim_id, doc_id)
        return None

    def _decide_article(self, batch: Batch, p: Prepared) -> None:
        self._decide_article_content(batch, p)
        self._attach_declared_alternates(batch, p.doc)

    @staticmethod
    def _attach_declared_alternates(batch: Batch, doc: dict[str, Any]) -> None:
        """URLs the page itself names as the same article (e.g. its other-language variants) join
        ``alt_urls`` of the document that holds its content."""
        own = doc.get("canonical_url") or doc.get("url")
        declared = [u for u in doc.get("alt_urls") or [] if u and u != own]
        if not declared:
            return
        holder_id = batch.alt_home.get(doc["_id"], doc["_id"])
        holder = batch.docs[ARTICLES].get(holder_id)
        if holder is None:
            return
        new = [u for u in declared if u not in (holder.get("alt_urls") or [])]
        if new:
            batch.change(ARTICLES, holder_id).add_to_set("alt_urls", new)
            holder.setdefault("alt_urls", []).extend(new)

    def _decide_article_content(self, batch: Batch, p: Prepared) -> None:
        doc = p.doc
        doc_id, content_hash = doc["_id"], doc.get("content_hash")
        when = doc.get("crawled_at") or spill.utc_now_iso()
        known = batch.docs[ARTICLES]
        fields = {k: v for k, v in doc.items() if k not in STORE_FIELDS}
        current = known.get(doc_id)
        stub = None
        if current is not None and current.get("version") is None:
            # Alternates of this article were stored before the article itself (another
            # writer claimed its content for it): it is still to be written.
            stub, current = current, None
        home_id = batch.alt_home.get(doc_id)

        if current is None:
            if home_id is not None and home_id != doc_id and home_id in known:
                home = known[home_id]
                # Same content as the home document has (or had): the same document.
                if content_hash == home.get("content_hash") or content_hash in (home.get("past_hashes") or []):
                    self._touch(batch, home, when)
                    batch.count("updated")
                    return
                # The alternate URL now serves other content: it becomes its own document.
                self._detach_alt(batch, home, doc_id, doc)
            home = self._exact_home(batch, doc_id, content_hash)
            if home is not None:
                url = doc.get("canonical_url") or doc.get("url")
                change = batch.change(ARTICLES, home["_id"])
                change.add_to_set("alt_urls", [url])
                change.add_to_set("alt_ids", [doc_id])
                home.setdefault("alt_urls", []).append(url)
                home.setdefault("alt_ids", []).append(doc_id)
                batch.alt_home[doc_id] = home["_id"]
                self._touch(batch, home, when)
                batch.count("alt_urls")
                return
            self._insert_article(batch, p, fields, when, stub)
            return

        if home_id is not None and home_id != doc_id and home_id in known:
            # Its own document and listed as another's alternate (left by a lost race): keep the document.
            self._detach_alt(batch, known[home_id], doc_id, doc)
        change = batch.change(ARTICLES, doc_id)
        newer = when >= (current.get("crawled_at") or "")
        if not content_hash or current.get("content_hash") == content_hash:
            if newer:
                self._guard_content(batch, change, doc_id)
                change.sets.update(fields)
                current.update(fields)
            self._touch(batch, current, when)
            batch.count("updated")
            return
        past = current.setdefault("past_hashes", [])
        if content_hash in past:
            # An old content seen again (a late or replayed item): already recorded.
            self._touch(batch, current, when)
            batch.count("updated")
            return
        change.add_to_set("past_hashes", [current.get("content_hash") if newer else content_hash])
        past.append(current.get("content_hash") if newer else content_hash)
        if newer:
            # New content: archive the current one, then take the item's — only if the
            # stored content is still the one read (another writer may have replaced it).
            self._guard_content(batch, change, doc_id)
            self._archive(batch, current, current, superseded_at=when)
            batch.forget_article_keys(current)
            fields.update(self._near_dup_fields(p))
            change.sets.update(fields)
            change.inc_version += 1
            current.update(fields)
            current["version"] = int(current.get("version") or 1) + 1
            batch.know_article(current)
            batch.writes_lsh = True
            self._touch(batch, current, when)
            batch.count("updated")
        else:
            # Older content arriving late (e.g. from a spill file): history only.
            self._archive(batch, current, doc, superseded_at=current.get("crawled_at"))
            self._touch(batch, current, when)
        batch.count("versions")

    @staticmethod
    def _guard_content(batch: Batch, change: Change, doc_id: str) -> None:
        read = batch.read[ARTICLES].get(doc_id)
        if read is not None and not change.new:
            change.guard.setdefault("content_hash", read[2])

    def _insert_article(self, batch: Batch, p: Prepared, fields: dict[str, Any], when: str,
                        stub: Optional[dict[str, Any]] = None) -> None:
        doc_id = p.doc["_id"]
        group = self._near_dup_group(batch, p)
        new_doc = dict(fields)
        new_doc.update(self._near_dup_fields(p))
        new_doc.update({"_id": doc_id, "dup_group": group or doc_id, "version": 1,
                        "alt_urls": list((stub or {}).get("alt_urls") or []), "alt_ids": list((stub or {}).get("alt_ids") or []),
                        "first_seen": when, "last_seen": when})
        change = batch.change(ARTICLES, doc_id, new=True)
        change.sets.update({k: v for k, v in new_doc.items() if k not in ("_id", "first_seen", "last_seen", "alt_urls", "alt_ids")})
        change.set_on_insert.update({"alt_urls": [], "alt_ids": [], "past_hashes": []})
        change.touch(when)
        batch.know_article(new_doc)
        batch.land(ARTICLES, doc_id)
        if p.signature is not None:
            batch.writes_lsh = True
            if group is None:
                batch.self_led.append(SelfLed(new_doc, p.signature, batch.item))
        batch.count("inserted")
        if group:
            batch.count("near_dups")

    def _near_dup_fields(self, p: Prepared) -> dict[str, Any]:
        if p.signature is None:
            return {"lsh": [], "minhash": None}
        return {"lsh": p.keys, "minhash": neardup.encode_signature(p.signature)}

    def _near_dup_group(self, batch: Batch, p: Prepared) -> Optional[str]:
        """The dup_group of the earliest near-duplicate already known, or None."""
        if p.signature is None:
            return None
        known = batch.docs[ARTICLES]
        candidate_ids = {i for key in p.keys for i in batch.by_key.get(key, ())} - {p.doc["_id"]}
        matches = []
        for cid in candidate_ids:
            other = neardup.decode_signature(known[cid].get("minhash")) if cid in known else None
            if other is not None and neardup.similarity(p.signature, other) >= self.threshold:
                matches.append(known[cid])
        if not matches:
            return None
        first = _first_member(matches)
        return first.get("dup_group") or first["_id"]

    def _touch(self, batch: Batch, doc: dict[str, Any], when: str, collection: str = ARTICLES) -> None:
        batch.land(collection, doc["_id"])
        doc["first_seen"] = min(doc.get("first_seen") or when, when)
        doc["last_seen"] = max(doc.get("last_seen") or when, when)
        change = batch.change(collection, doc["_id"])
        change.touch(doc["first_seen"])
        change.touch(doc["last_seen"])

    def _detach_alt(self, batch: Batch, home: dict[str, Any], alt_id: str, doc: dict[str, Any]) -> None:
        urls = {doc.get("canonical_url"), doc.get("url")}
        home["alt_ids"] = [i for i in home.get("alt_ids") or [] if i != alt_id]
        home["alt_urls"] = [u for u in home.get("alt_urls") or [] if u not in urls]
        change = batch.change(ARTICLES, home["_id"])
        change.add.pop("alt_ids", None)
        change.add.pop("alt_urls", None)
        change.sets.update({"alt_ids": home["alt_ids"], "alt_urls": home["alt_urls"]})
        read = batch.read[ARTICLES].get(home["_id"])
        if read is not None and not change.new:
            # The lists are rewritten whole ($pull is not on every server): only over the lists read.
            change.guard.setdefault("alt_ids", read[3])
        batch.alt_home.pop(alt_id, None)

    def _archive(self, batch: Batch, article: dict[str, Any], content: dict[str, Any], superseded_at: Optional[str]) -> None:
        version_id = f"{article['_id']}:{content.get('content_hash')}"
        change = batch.change(VERSIONS, version_id, new=True)
        change.set_on_insert.update({
            "article_id": article["_id"],
            "version": int(article.get("version") or 1) if content is article else None,
            "content_hash": content.get("content_hash"),
            "title": content.get("title"),
            "content_text": content.get("content_text"),
            "content_text_hans": content.get("content_text_hans"),
            "published_at": content.get("published_at"),
            "crawled_at": content.get("crawled_at"),
            "superseded_at": superseded_at,
        })

    def _decide_ad(self, batch: Batch, p: Prepared) -> None:
        doc = p.doc
        when = doc.get("crawled_at") or spill.utc_now_iso()
        current = batch.docs[RENTAL_ADS].get(doc["_id"])
        change = batch.change(RENTAL_ADS, doc["_id"], new=current is None)
        fields = {k: v for k, v in doc.items() if k not in STORE_FIELDS and k != "seen_on"}
        if current is None or when >= (current.get("crawled_at") or ""):
            change.sets.update(fields)
        change.add_to_set("seen_on", doc.get("seen_on") or [])
        if current is None:
            current = dict(fields, _id=doc["_id"], seen_on=[])
            batch.docs[RENTAL_ADS][doc["_id"]] = current
            batch.count("inserted")
        else:
            current.update(fields)
            batch.count("updated")
        seen_on = current.setdefault("seen_on", [])
        seen_on.extend(u for u in doc.get("seen_on") or [] if u not in seen_on)
        self._touch(batch, current, when, RENTAL_ADS)
