"""The store's decisions without any database: a batch, what the store holds, the writes decided."""
from __future__ import annotations

from kspider.extract.ids import text_fingerprint, url_fingerprint
from kspider.store import neardup
from kspider.store.batch import Batch, hash_claim
from kspider.store.documents import Prepared, item_to_doc
from kspider.store.plan import Planner, sign
from tests.test_store import KUNSHAN_REPOST, KUNSHAN_TEXT, NEWS_TEXT, T0, T1, T2, URL_A, URL_B, URL_C, article


def _batch(items: list, stored: list[dict] = ()) -> Batch:
    prepared = [Prepared(*item_to_doc(item)) for item in items]
    sign(prepared, 0.7)
    batch = Batch(0.7, prepared)
    for doc in stored:  # what the read phase found
        batch.know_article(doc, from_store=True)
    return Planner(0.7).decide(batch)


def _stored(url: str, text: str, crawled_at: str, **extra: object) -> dict:
    sig = neardup.signature(text)
    doc_id = url_fingerprint(url)
    return {"_id": doc_id, "url": url, "canonical_url": url, "content_text": text, "content_hash": text_fingerprint(text),
            "crawled_at": crawled_at, "first_seen": crawled_at, "last_seen": crawled_at, "version": 1,
            "dup_group": doc_id, "alt_urls": [], "alt_ids": [], "lsh": neardup.band_keys(sig),
            "minhash": neardup.encode_signature(sig), **extra}


def test_copy_in_one_batch_becomes_an_alternate_and_claims_the_content() -> None:
    batch = _batch([article(URL_A, KUNSHAN_TEXT), article(URL_B, KUNSHAN_TEXT, crawled_at=T1)])
    a, b = url_fingerprint(URL_A), url_fingerprint(URL_B)
    assert list(batch.changes["articles"]) == [a]
    change = batch.changes["articles"][a]
    assert change.new and change.add == {"alt_urls": [URL_B], "alt_ids": [b]}
    assert (change.first_seen, change.last_seen) == (T0, T1)
    # The content is claimed for A before anything is written; both items rest on that claim.
    assert batch.hash_intents == {hash_claim(text_fingerprint(KUNSHAN_TEXT)): (a, {0, 1})}
    assert batch.landed == {0: ("articles", a), 1: ("articles", a)}
    assert batch.item_counts == {0: {"inserted": 1}, 1: {"alt_urls": 1}}


def test_new_content_of_a_stored_page_is_the_next_version_conditional_on_the_read() -> None:
    stored = _stored(URL_A, KUNSHAN_TEXT, T0)
    changed = KUNSHAN_TEXT.replace("超15亿欧元", "超16亿欧元")
    batch = _batch([article(URL_A, changed, crawled_at=T2)], [stored])
    change = batch.changes["articles"][stored["_id"]]
    spec = change.update_spec(minmax=True)
    assert change.guard == {"content_hash": text_fingerprint(KUNSHAN_TEXT)}
    assert spec["$inc"] == {"version": 1} and spec["$max"] == {"last_seen": T2}
    assert spec["$addToSet"] == {"past_hashes": {"$each": [text_fingerprint(KUNSHAN_TEXT)]}}
    archived = batch.changes["article_versions"][f"{stored['_id']}:{text_fingerprint(KUNSHAN_TEXT)}"]
    assert archived.set_on_insert["superseded_at"] == T2 and "超15亿欧元" in archived.set_on_insert["content_text"]
    # Without $min/$max the seen times go by conditional updates that only move them outwards.
    guards = change.time_guards(stored["_id"], batch.read["articles"][stored["_id"]])
    assert [(g.filter, g.update) for g in guards] == [
        ({"_id": stored["_id"], "last_seen": {"$lt": T2}}, {"$set": {"last_seen": T2}})]


def test_near_duplicate_joins_the_stored_group_and_an_unrelated_text_leads_its_own() -> None:
    stored = _stored(URL_A, KUNSHAN_TEXT, T0, dup_group="earlier-group")
    batch = _batch([article(URL_B, KUNSHAN_REPOST, crawled_at=T1), article(URL_C, NEWS_TEXT, crawled_at=T1)], [stored])
    b, c = url_fingerprint(URL_B), url_fingerprint(URL_C)
    assert batch.changes["articles"][b].sets["dup_group"] == "earlier-group"
    assert batch.changes["articles"][c].sets["dup_group"] == c
    assert batch.item_counts == {0: {"inserted": 1, "near_dups": 1}, 1: {"inserted": 1}}
    # Only the article that leads its own group is checked again after the write.
    assert [entry.doc["_id"] for entry in batch.self_led] == [c]
