"""Units of the store: near-duplicate math, the embedded collection, item → document, settings."""
from __future__ import annotations

from pathlib import Path

import pytest
from pymongo.write_concern import WriteConcern

from kspider.extract.ids import text_fingerprint, url_fingerprint
from kspider.items import Article, RentalAd
from kspider.store import neardup
from kspider.store.backend import DuplicateKey, Rejected, Update
from kspider.store.config import StoreConfig
from kspider.store.documents import item_to_doc, sanitize_keys
from kspider.store.embedded import EmbeddedBackend
from kspider.store.mongo import parse_write_concern

PARA = "坐落于昆山市千灯镇的中西产业园和蒙特拉贡产业园,是昆山与西班牙合作的标志性载体。其中,海斯坦普汽车组件、法格锻压机床等20家西班牙企业,已经形成了新能源汽车零配件、智能制造等产业集群,2023年园区销售额突破32亿元,进出口额达1.09亿美元。"
OTHER = "2021年11月9日下午,昆山市新兴产业发展大会举行。大会期间,总投资达980.6亿元的98个新兴产业项目签约落地,启动实施新兴产业生态联盟计划。"


def test_shingles_are_five_characters_of_normalized_text() -> None:
    # Full-width punctuation folds and whitespace goes, as for content hashes.
    assert neardup.shingles("昆山 开发区，招商") == {"昆山开发区", "山开发区,", "开发区,招", "发区,招商"}
    assert neardup.shingles("厂房") == {"厂房"}
    assert neardup.shingles("") == set() and neardup.shingles(None) == set()
    assert neardup.signature("  ") is None
    # One hash per distinct shingle (no collisions on a real paragraph).
    assert len(neardup.shingle_hashes(PARA)) == len(neardup.shingles(PARA))


def test_a_batch_is_signed_as_its_texts_one_by_one() -> None:
    # Keys already stored must keep matching: the values below were given by the scheme's first
    # implementation (one text at a time, deduplicated shingle hashes) for PARA and "厂房".
    sig = neardup.signature(PARA)
    assert sig[:4].tolist() == [6634056, 53593601, 7190727, 10076214]
    keys = neardup.band_keys(sig)
    assert (keys[0], keys[-1]) == ("m2.7r0:5cbdafda51f523fd", "m2.7r17:fef1d0910f427577")
    assert neardup.band_keys(neardup.signature("厂房"))[0] == "m2.7r0:97c056a50c7a8312"
    # Texts of every length (empty, shorter than a shingle, one shingle, punctuation that folds,
    # full-width letters, whitespace) signed together give what each gives alone.
    texts = [PARA, "", None, "厂房", "  ", "一二三四五", "昆山 开发区，招商。（测试）！？：；", "Ｈｅｌｌｏ，ＷＯＲＬＤ。",
             "。。。。。。", OTHER, "\u3000全角\u3000空格\n和\t句号。"]
    batch = neardup.signatures(texts)
    for text, signed in zip(texts, batch):
        alone = neardup.signature(text)
        assert (signed is None) == (alone is None) == (not neardup.shingles(text)), text
        if alone is not None:
            assert signed.tolist() == alone.tolist(), text
            assert len(neardup.shingle_hashes(text)) == len(neardup.shingles(text)), text
    # The punctuation fold is the content hash's: "，" and "," are one shingle character.
    assert neardup.signature("昆山开发区，招商引资").tolist() == neardup.signature("昆山开发区,招商引资").tolist()


def test_similarity_estimates_jaccard_of_shingles() -> None:
    edited = PARA.replace("32亿元", "33亿元")
    exact = len(neardup.shingles(PARA) & neardup.shingles(edited)) / len(neardup.shingles(PARA) | neardup.shingles(edited))
    estimate = neardup.similarity(neardup.signature(PARA), neardup.signature(edited))
    assert round(exact, 2) == 0.92  # one changed character touches 5 of ~118 shingles
    assert abs(estimate - exact) < 0.1
    assert neardup.similarity(neardup.signature(PARA), neardup.signature(OTHER)) < 0.1
    assert neardup.similarity(neardup.signature(PARA), neardup.signature(PARA)) == 1.0


def test_band_keys_are_shared_by_near_duplicates_only() -> None:
    bands, rows = neardup.band_layout(0.7)
    assert bands * rows <= neardup.NUM_PERM
    keys = neardup.band_keys(neardup.signature(PARA))
    assert len(keys) == bands and keys[0].startswith(f"{neardup.SCHEME}.{rows}r0:")
    edited = neardup.band_keys(neardup.signature(PARA.replace("32亿元", "33亿元")))
    assert set(keys) & set(edited)
    assert not set(keys) & set(neardup.band_keys(neardup.signature(OTHER)))


def test_signature_round_trips_and_bad_values_give_none() -> None:
    sig = neardup.signature(PARA)
    assert neardup.decode_signature(neardup.encode_signature(sig)).tolist() == sig.tolist()
    assert neardup.decode_signature("not base64!") is None
    assert neardup.decode_signature("AAAA") is None
    assert neardup.decode_signature(None) is None


def test_embedded_backend_upserts_indexes_and_bulk(tmp_path: Path) -> None:
    db = EmbeddedBackend(tmp_path)
    db.create_index("rental_ads", [("city", 1), ("price_value", 1)])
    assert db.insert_unique("rental_ads", [{"_id": "a", "city": "太仓", "price_value": 0.8, "seen_on": ["u1"]}]) == set()
    assert db.insert_unique("rental_ads", [{"_id": "a"}]) == {"a"}
    result = db.bulk_update("rental_ads", [
        Update({"_id": "a"}, {"$addToSet": {"seen_on": {"$each": ["u1", "u2"]}}, "$inc": {"n": 2}}, upsert=True),
        Update({"_id": "b"}, {"$set": {"city": "昆山"}, "$setOnInsert": {"price_value": 1.2}}, upsert=True),
    ])
    assert result.upserted == {1}
    assert db.find_in("rental_ads", "_id", ["a"]) == [{"_id": "a", "city": "太仓", "price_value": 0.8, "seen_on": ["u1", "u2"], "n": 2}]
    assert list(db.find("rental_ads", {"_id": "b"})) == [{"_id": "b", "city": "昆山", "price_value": 1.2}]
    # Index lookups, a range that needs a scan, and an operator the fast path leaves to montydb.
    assert [d["_id"] for d in db.find_in("rental_ads", "city", ["昆山", "嘉定"])] == ["b"]
    assert db.count("rental_ads", {"price_value": {"$gte": 1}}) == 1
    db.update_one("rental_ads", Update({"_id": "a"}, {"$pull": {"seen_on": "u1"}}))
    assert db.find_in("rental_ads", "_id", ["a"])[0]["seen_on"] == ["u2"]
    # The index follows updates.
    db.update_one("rental_ads", Update({"_id": "a"}, {"$set": {"city": "嘉定"}}))
    assert sorted(d["_id"] for d in db.find("rental_ads", {"city": {"$in": ["昆山", "嘉定"]}})) == ["a", "b"]
    assert list(db.find("rental_ads", {"_id": "b"}, projection=["city"])) == [{"_id": "b", "city": "昆山"}]
    assert [("city", 1), ("price_value", 1)] in db.index_keys("rental_ads")


def test_embedded_failed_bulk_writes_nothing(tmp_path: Path) -> None:
    db = EmbeddedBackend(tmp_path)
    db.insert_unique("articles", [{"_id": "a", "tags": "not a list"}])
    with pytest.raises(Rejected):
        db.bulk_update("articles", [Update({"_id": "b"}, {"$set": {"x": 1}}, upsert=True),
                                    Update({"_id": "a"}, {"$addToSet": {"tags": {"$each": ["x"]}}})])
    assert db.find_in("articles", "_id", ["b"]) == [] and db.count("articles") == 1


def test_embedded_failed_bulk_inside_a_write_scope_writes_nothing(tmp_path: Path) -> None:
    db = EmbeddedBackend(tmp_path)
    db.create_index("articles", [("tags", 1)])
    db.insert_unique("articles", [{"_id": "a", "tags": "not a list"}])
    with db.write_scope():
        db.insert_unique("articles", [{"_id": "c", "tags": ["厂房"]}])
        with pytest.raises(Rejected):
            db.bulk_update("articles", [Update({"_id": "b"}, {"$set": {"tags": ["仓库"]}}, upsert=True),
                                        Update({"_id": "a"}, {"$addToSet": {"tags": {"$each": ["x"]}}})])
        db.update_one("articles", Update({"_id": "c"}, {"$addToSet": {"tags": {"$each": ["土地"]}}}))
    # What the failed bulk did is gone, index rows included; the calls around it are kept.
    assert db.find_in("articles", "_id", ["b"]) == [] and db.find_in("articles", "tags", ["仓库"]) == []
    assert [d["_id"] for d in db.find_in("articles", "tags", ["土地"])] == ["c"]
    assert db.count("articles") == 2
    # A scope that raises writes nothing at all.
    with pytest.raises(RuntimeError), db.write_scope():
        db.insert_unique("articles", [{"_id": "d", "tags": ["土地"]}])
        raise RuntimeError("the batch failed")
    assert db.find_in("articles", "_id", ["d"]) == [] and db.count("articles") == 2


def test_sanitize_keys_removes_dollars_and_dots() -> None:
    assert sanitize_keys({"$set": {"a.b": [{"$x": 1}]}, "ok": "$value stays"}) == {
        "_set": {"a_b": [{"_x": 1}]}, "ok": "$value stays"}


def test_item_to_doc_fills_identity_or_rejects() -> None:
    collection, doc = item_to_doc(Article(url="http://suzhou.021cf.cn/index.php/post/532.html#top", content_text="厂房出租"))
    assert collection == "articles"
    assert doc["_id"] == url_fingerprint("http://suzhou.021cf.cn/index.php/post/532.html")
    assert doc["content_hash"] == text_fingerprint("厂房出租")
    collection, ad = item_to_doc(RentalAd(raw_text="标准厂房出租 1200平起", seen_on=["http://a.cn/1"]))
    assert (collection, ad["_id"], ad["seen_on"]) == ("rental_ads", text_fingerprint("标准厂房出租 1200平起"), ["http://a.cn/1"])
    assert item_to_doc(Article(title="no url")) is None
    assert item_to_doc(RentalAd(kind="inline")) is None
    assert item_to_doc(("rental_ads", {"_id": "x", "seen_on": "http://a.cn/2"}))[1]["seen_on"] == ["http://a.cn/2"]


def test_config_from_settings_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGO_DATABASE", "from_env")
    monkeypatch.delenv("MONGO_URI", raising=False)
    monkeypatch.delenv("SPILL_DIR", raising=False)
    monkeypatch.delenv("EMBEDDED_DB_DIR", raising=False)
    config = StoreConfig.from_settings({"EMBEDDED_DB_DIR": "data/db", "STORE_BATCH_SIZE": "50", "NEARDUP_THRESHOLD": "0.8"})
    assert (config.uri, config.database, config.embedded_dir, config.spill_dir) == ("", "from_env", "data/db", "data/spill")
    assert (config.batch_size, config.threshold) == (50, 0.8)
    assert parse_write_concern("majority") == WriteConcern(w="majority")
    assert parse_write_concern("1") == WriteConcern(w=1)
    assert parse_write_concern("majority,j") == WriteConcern(w="majority", j=True)


def _doc(doc_id: str, text: str, first_seen: str) -> dict:
    sig = neardup.signature(text)
    return {"_id": doc_id, "dup_group": doc_id, "first_seen": first_seen, "lsh": neardup.band_keys(sig),
            "minhash": neardup.encode_signature(sig)}


def test_settle_group_gives_both_near_duplicates_the_same_answer() -> None:
    from kspider.store.plan import settle_group

    edited = PARA.replace("32亿元", "33亿元")
    x, y = _doc("x", PARA, "2026-02-19T08:00:00+00:00"), _doc("y", edited, "2026-02-19T08:00:05+00:00")
    sig_x, sig_y = neardup.signature(PARA), neardup.signature(edited)
    # Written at once, each leading its own group: the first-seen one leads, from either side.
    assert settle_group(x, sig_x, [y], 0.7) == (None, ["y"])
    assert settle_group(y, sig_y, [x], 0.7) == ("x", [])
    # The earlier one had joined an older group: the later one joins that group.
    assert settle_group(y, sig_y, [{**x, "dup_group": "w"}], 0.7) == ("w", [])
    # A later one that joined another group already is left there.
    assert settle_group(x, sig_x, [{**y, "dup_group": "w"}], 0.7) == (None, [])
    # Same first_seen: the smaller _id leads.
    same_time = {**y, "first_seen": x["first_seen"]}
    assert settle_group(x, sig_x, [same_time], 0.7) == (None, ["y"])
    assert settle_group(same_time, sig_y, [x], 0.7) == ("x", [])
    # Sharing a band key is not enough: an article that is not a near-duplicate leads nobody.
    other = _doc("o", OTHER, "2026-02-18T08:00:00+00:00")
    assert settle_group(x, sig_x, [other, {"_id": "stub"}], 0.7) == (None, [])


def test_embedded_min_max_claims_and_upserted_ids(tmp_path: Path) -> None:
    db = EmbeddedBackend(tmp_path)
    db.insert_unique("articles", [{"_id": "a", "first_seen": "2026-02-20T08:00:00+00:00",
                                   "last_seen": "2026-02-20T08:00:00+00:00", "views": 10, "note": None}])
    db.update_one("articles", Update({"_id": "a"}, {"$min": {"first_seen": "2026-02-19T08:00:00+00:00", "views": 12},
                                                    "$max": {"last_seen": "2026-02-19T09:00:00+00:00", "shares": 3}}))
    assert db.find_in("articles", "_id", ["a"])[0] == {
        "_id": "a", "first_seen": "2026-02-19T08:00:00+00:00", "last_seen": "2026-02-20T08:00:00+00:00",
        "views": 10, "note": None, "shares": 3}
    # null sorts before strings (MongoDB's type order; montydb's engine decides mixed types).
    db.update_one("articles", Update({"_id": "a"}, {"$min": {"note": "x"}}))
    assert db.find_in("articles", "_id", ["a"])[0]["note"] is None
    db.update_one("articles", Update({"_id": "a"}, {"$max": {"note": "x"}}))
    assert db.find_in("articles", "_id", ["a"])[0]["note"] == "x"

    # Claims: unique inserts; the ones already taken are named and left alone.
    assert db.insert_unique("store_claims", [{"_id": "h:1", "owner": "a"}, {"_id": "h:2", "owner": "b"}]) == set()
    assert db.insert_unique("store_claims", [{"_id": "h:2", "owner": "c"}, {"_id": "h:3", "owner": "c"}]) == {"h:2"}
    assert sorted((d["_id"], d["owner"]) for d in db.find("store_claims")) == [("h:1", "a"), ("h:2", "b"), ("h:3", "c")]
    # A conditional update applies only while its condition holds.
    assert db.update_one("articles", Update({"_id": "a", "views": 9}, {"$set": {"views": 11}})).matched == 0
    assert db.update_one("articles", Update({"_id": "a", "views": 10}, {"$set": {"views": 11}})).matched == 1
    db.update_one("articles", Update({"_id": "a"}, {"$set": {"version": 1}}))
    with pytest.raises(DuplicateKey):  # an insert-only upsert over another writer's article
        db.update_one("articles", Update({"_id": "a", "version": {"$exists": False}}, {"$set": {"version": 1}}, upsert=True))


def test_embedded_file_of_the_earlier_layout_keeps_its_index(tmp_path: Path) -> None:
    import json
    import sqlite3

    conn = sqlite3.connect(str(tmp_path / "kspider.sqlite3"))
    conn.executescript("""
        CREATE TABLE docs (coll TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (coll, id));
        CREATE TABLE idx (coll TEXT NOT NULL, field TEXT NOT NULL, value, id TEXT NOT NULL);
        CREATE INDEX idx_lookup ON idx (coll, field, value);
        CREATE TABLE indexes (coll TEXT NOT NULL, name TEXT NOT NULL, keys TEXT NOT NULL, PRIMARY KEY (coll, name));
    """)
    conn.execute("INSERT INTO docs VALUES ('rental_ads', 'a', ?)", (json.dumps({"_id": "a", "city": "太仓"}),))
    conn.execute("INSERT INTO idx VALUES ('rental_ads', 'city', '太仓', 'a')")
    conn.execute("INSERT INTO indexes VALUES ('rental_ads', 'city_1', ?)", (json.dumps([["city", 1]]),))
    conn.commit()
    conn.close()
    db = EmbeddedBackend(tmp_path)
    assert [d["_id"] for d in db.find_in("rental_ads", "city", ["太仓"])] == ["a"]
    db.update_one("rental_ads", Update({"_id": "a"}, {"$set": {"city": "昆山"}}))
    assert db.find_in("rental_ads", "city", ["太仓"]) == []
    assert [d["_id"] for d in db.find_in("rental_ads", "city", ["昆山"])] == ["a"]


def test_embedded_file_of_the_keyed_layout_moves_to_numbered_rows(tmp_path: Path) -> None:
    """A file whose index rows carry collection, field name and `_id` (the layout before
    documents were numbered) is moved over when opened: lookups, updates and inserts work on it."""
    import json
    import sqlite3

    conn = sqlite3.connect(str(tmp_path / "kspider.sqlite3"))
    conn.executescript("""
        CREATE TABLE docs (coll TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (coll, id));
        CREATE TABLE keys (coll TEXT NOT NULL, field TEXT NOT NULL, value NOT NULL, id TEXT NOT NULL,
                           PRIMARY KEY (coll, field, value, id)) WITHOUT ROWID;
        CREATE TABLE indexes (coll TEXT NOT NULL, name TEXT NOT NULL, keys TEXT NOT NULL, PRIMARY KEY (coll, name));
    """)
    for doc_id, keys in (("p1", ["m2.7r0:aa", "m2.7r1:bb"]), ("p2", ["m2.7r0:aa", "m2.7r1:cc"])):
        conn.execute("INSERT INTO docs VALUES ('articles', ?, ?)", (doc_id, json.dumps({"_id": doc_id, "lsh": keys})))
        conn.executemany("INSERT INTO keys VALUES ('articles', 'lsh', ?, ?)", [(k, doc_id) for k in keys])
    conn.execute("INSERT INTO indexes VALUES ('articles', 'lsh_1', ?)", (json.dumps([["lsh", 1]]),))
    conn.commit()
    conn.close()

    db = EmbeddedBackend(tmp_path)
    tables = {name for (name,) in db.db.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"docs", "keys"}.isdisjoint(tables) and {"documents", "entries", "fields"} <= tables
    assert sorted(d["_id"] for d in db.find_in("articles", "lsh", ["m2.7r0:aa"])) == ["p1", "p2"]
    assert [d["_id"] for d in db.find_in("articles", "lsh", ["m2.7r1:cc"])] == ["p2"]
    db.update_one("articles", Update({"_id": "p2"}, {"$set": {"lsh": ["m2.7r0:dd"]}}))
    assert [d["_id"] for d in db.find_in("articles", "lsh", ["m2.7r0:aa"])] == ["p1"]
    db.update_one("articles", Update({"_id": "p3"}, {"$set": {"lsh": ["m2.7r0:aa"]}}, upsert=True))
    assert sorted(d["_id"] for d in db.find_in("articles", "lsh", ["m2.7r0:aa"])) == ["p1", "p3"]
    assert db.count("articles") == 3
    db.close()
    assert [d["_id"] for d in EmbeddedBackend(tmp_path).find_in("articles", "lsh", ["m2.7r0:dd"])] == ["p2"]


def test_embedded_documents_numbered_across_processes_and_deletes(tmp_path: Path) -> None:
    """Two backends on one file (two crawler processes) insert in turn: each new document takes
    the number after the largest in use inside its write transaction, so index lookups find
    exactly their own documents; a number freed by a delete at the end comes back without the
    deleted document's index rows."""
    first, second = EmbeddedBackend(tmp_path), EmbeddedBackend(tmp_path)
    first.create_index("rental_ads", [("city", 1)])
    for backend, doc_id, city in ((first, "a", "昆山"), (second, "b", "太仓"), (first, "c", "嘉定"), (second, "d", "昆山")):
        backend.update_one("rental_ads", Update({"_id": doc_id}, {"$set": {"city": city}}, upsert=True))
    numbers = dict(first.db.conn.execute("SELECT id, n FROM documents WHERE coll='rental_ads'").fetchall())
    assert sorted(numbers.values()) == [1, 2, 3, 4] and numbers["d"] == 4
    assert sorted(d["_id"] for d in second.find_in("rental_ads", "city", ["昆山"])) == ["a", "d"]
    assert [d["_id"] for d in first.find_in("rental_ads", "city", ["太仓"])] == ["b"]

    assert second.delete("rental_ads", {"_id": "d"}) == 1
    first.update_one("rental_ads", Update({"_id": "e"}, {"$set": {"city": "苏州"}}, upsert=True))
    assert dict(first.db.conn.execute("SELECT id, n FROM documents WHERE id='e'").fetchall()) == {"e": 4}
    assert [d["_id"] for d in second.find_in("rental_ads", "city", ["昆山"])] == ["a"]
    assert [d["_id"] for d in second.find_in("rental_ads", "city", ["苏州"])] == ["e"]
    first.close()
    second.close()
