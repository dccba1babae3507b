"""The backend contract: every operation of ``kspider.store.backend.Backend`` means the same on the
embedded store, on jongodb over the wire, and on a real MongoDB (MONGO_TEST_URI)."""
from __future__ import annotations

import os
from typing import Any, Iterator

import pytest

from kspider.store.backend import Backend, DuplicateKey, Update
from kspider.store.config import StoreConfig
from kspider.store.core import open_backend


@pytest.fixture
def backend(store_settings: dict[str, Any]) -> Iterator[Backend]:
    opened = open_backend(StoreConfig.from_settings(store_settings))
    yield opened
    opened.close()


T0, T1, T2 = "2026-02-19T08:00:00+00:00", "2026-02-20T08:00:00+00:00", "2026-02-21T08:00:00+00:00"


def test_backend_satisfies_the_protocol(backend: Backend) -> None:
    assert isinstance(backend, Backend)
    backend.ping()
    assert backend.describe()


def test_find_in_reads_by_key_and_by_array_element(backend: Backend) -> None:
    backend.create_index("articles", [("lsh", 1)])
    assert backend.insert_unique("articles", [
        {"_id": "a", "lsh": ["k1", "k2"], "site": "suzhou.021cf.cn"},
        {"_id": "b", "lsh": ["k2", "k3"], "site": "kunshan.021cf.cn"},
        {"_id": "c", "lsh": [], "site": "suzhou.021cf.cn"},
    ]) == set()
    assert sorted(d["_id"] for d in backend.find_in("articles", "lsh", ["k2"])) == ["a", "b"]
    assert [d["_id"] for d in backend.find_in("articles", "lsh", ["k3", "k9"])] == ["b"]
    assert sorted(d["_id"] for d in backend.find_in("articles", "_id", ["a", "c", "zz"])) == ["a", "c"]
    assert backend.find_in("articles", "_id", []) == []
    assert backend.count("articles") == 3
    assert backend.count("articles", {"site": "suzhou.021cf.cn"}) == 2
    assert list(backend.find("articles", {"site": "kunshan.021cf.cn"}, projection=["site"])) == [
        {"_id": "b", "site": "kunshan.021cf.cn"}]
    assert len(list(backend.find("articles", limit=2))) == 2


def test_insert_unique_names_the_taken_ids(backend: Backend) -> None:
    assert backend.insert_unique("store_claims", [{"_id": "h:1", "owner": "a"}]) == set()
    assert backend.insert_unique("store_claims", [{"_id": "h:1", "owner": "b"}, {"_id": "h:2", "owner": "b"}]) == {"h:1"}
    # Inserted again (a replayed batch): taken, and the stored one is left as it is.
    assert backend.insert_unique("store_claims", [{"_id": "h:2", "owner": "c"}]) == {"h:2"}
    owners = {d["_id"]: d["owner"] for d in backend.find("store_claims")}
    assert owners == {"h:1": "a", "h:2": "b"}


def test_a_write_scope_keeps_what_its_calls_wrote(backend: Backend) -> None:
    with backend.write_scope():
        assert backend.insert_unique("store_claims", [{"_id": "h:1", "owner": "a"}]) == set()
        backend.bulk_update("articles", [Update({"_id": "a"}, {"$set": {"title": "一"}}, upsert=True)])
        with pytest.raises(DuplicateKey):
            # An insert conditional on a field the stored document lacks meets its `_id`.
            backend.bulk_update("articles", [Update({"_id": "a", "version": {"$exists": True}},
                                                    {"$set": {"title": "二"}}, upsert=True)])
        backend.update_one("store_claims", Update({"_id": "writes"}, {"$inc": {"n": 1}}, upsert=True))
    assert [d["owner"] for d in backend.find_in("store_claims", "_id", ["h:1"])] == ["a"]
    assert [d["title"] for d in backend.find_in("articles", "_id", ["a"])] == ["一"]
    assert [d["n"] for d in backend.find_in("store_claims", "_id", ["writes"])] == [1]


def test_conditional_updates_and_upserts(backend: Backend) -> None:
    outcome = backend.bulk_update("rental_ads", [
        Update({"_id": "ad"}, {"$set": {"city": "太仓"}, "$addToSet": {"seen_on": {"$each": ["u1"]}},
                               "$setOnInsert": {"first_seen": T1}}, upsert=True),
        Update({"_id": "other"}, {"$set": {"city": "昆山"}}, upsert=False),
    ])
    assert outcome.upserted == {0}
    again = backend.bulk_update("rental_ads", [
        Update({"_id": "ad"}, {"$addToSet": {"seen_on": {"$each": ["u1", "u2"]}}, "$setOnInsert": {"first_seen": T0}},
               upsert=True)])
    assert again.upserted == set()
    assert backend.find_in("rental_ads", "_id", ["ad"]) == [{"_id": "ad", "city": "太仓", "seen_on": ["u1", "u2"],
                                                              "first_seen": T1}]
    assert backend.find_in("rental_ads", "_id", ["other"]) == []
    # A condition that does not hold: nothing matched, nothing written.
    assert backend.update_one("rental_ads", Update({"_id": "ad", "first_seen": {"$gt": T1}},
                                                   {"$set": {"first_seen": T1}})).matched == 0
    assert backend.update_one("rental_ads", Update({"_id": "ad", "first_seen": {"$gt": T0}},
                                                   {"$set": {"first_seen": T0}})).matched == 1
    assert backend.find_in("rental_ads", "_id", ["ad"])[0]["first_seen"] == T0
    # An insert-only upsert over an existing document is a duplicate key, not an overwrite.
    backend.update_one("articles", Update({"_id": "a"}, {"$set": {"version": 1}}, upsert=True))
    with pytest.raises(DuplicateKey):
        backend.update_one("articles", Update({"_id": "a", "version": {"$exists": False}}, {"$set": {"version": 9}},
                                              upsert=True))
    assert backend.find_in("articles", "_id", ["a"])[0]["version"] == 1
    inc = backend.update_one("store_claims", Update({"_id": "writes"}, {"$inc": {"n": 1}}, upsert=True))
    assert inc.upserted and backend.update_one("store_claims", Update({"_id": "writes"}, {"$inc": {"n": 1}})).matched
    assert backend.find_in("store_claims", "_id", ["writes"])[0]["n"] == 2


def test_minmax_probe_matches_the_server(backend: Backend, store_settings: dict[str, Any]) -> None:
    jongodb = store_settings["MONGO_URI"] not in ("", os.environ.get("MONGO_TEST_URI"))
    assert backend.supports_minmax() is (not jongodb)
    assert backend.count("store_probe") == 0
    if backend.supports_minmax():
        backend.update_one("articles", Update({"_id": "a"}, {"$min": {"first_seen": T1}, "$max": {"last_seen": T1}},
                                              upsert=True))
        backend.update_one("articles", Update({"_id": "a"}, {"$min": {"first_seen": T0}, "$max": {"last_seen": T0}}))
        backend.update_one("articles", Update({"_id": "a"}, {"$min": {"first_seen": T2}, "$max": {"last_seen": T2}}))
        doc = backend.find_in("articles", "_id", ["a"])[0]
        assert (doc["first_seen"], doc["last_seen"]) == (T0, T2)


def test_replace_delete_and_indexes(backend: Backend) -> None:
    backend.replace_one("crawl_state", {"_id": "s|c", "complete_to": "page/3", "stale": True})
    backend.replace_one("crawl_state", {"_id": "s|c", "complete_to": "page/5"})
    assert list(backend.find("crawl_state")) == [{"_id": "s|c", "complete_to": "page/5"}]
    assert backend.delete("crawl_state", {"_id": "s|c"}) == 1 and backend.count("crawl_state") == 0
    backend.create_index("articles", [("site", 1), ("published_at", -1)])
    backend.create_index("articles", [("site", 1), ("published_at", -1)])  # idempotent
    assert [("site", 1), ("published_at", -1)] in backend.index_keys("articles")
