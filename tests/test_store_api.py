"""The store's read API and crawl-state records, on every backend (``store_settings``)."""
from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from scrapy import Spider
from scrapy.utils.test import get_crawler

from kspider.extract.ids import url_fingerprint
from kspider.store import for_crawler, open_store
from tests.test_store import KUNSHAN_TEXT, NEWS_TEXT, T0, T1, URL_A, URL_C, article, rental_ad


def test_find_filters_projects_and_limits(store_settings: dict[str, Any]) -> None:
    store = open_store(store_settings)
    try:
        assert store.ensure_indexes()
        assert store.write_items([article(URL_A, KUNSHAN_TEXT), article(URL_C, NEWS_TEXT, crawled_at=T1,
                                  title="昆山打造具有全球竞争优势的新兴产业“高地”"), rental_ad(URL_A)])
        found = list(store.find("articles", {"site": "xinjiapo.news"}, projection=["title", "first_seen"]))
        assert found == [{"_id": url_fingerprint(URL_C), "title": "昆山打造具有全球竞争优势的新兴产业“高地”", "first_seen": T1}]
        assert sorted(d["_id"] for d in store.find("articles")) == sorted([url_fingerprint(URL_A), url_fingerprint(URL_C)])
        assert len(list(store.find("articles", limit=1))) == 1
        ads = list(store.find("rental_ads", {"city": "太仓"}, projection=["park_name"]))
        assert [a["park_name"] for a in ads] == ["太仓事达产业园"]
    finally:
        store.close()


def test_crawl_state_round_trips_per_site_and_chain(store_settings: dict[str, Any]) -> None:
    store = open_store(store_settings)
    try:
        assert store.crawl_state_get("suzhou.021cf.cn", "category/3") is None
        store.crawl_state_put("suzhou.021cf.cn", "category/3", {"complete_to": "page/7", "at": T0})
        store.crawl_state_put("suzhou.021cf.cn", "category/3", {"complete_to": "page/9", "at": T1})
        store.crawl_state_put("kunshan.021cf.cn", "category/3", {"complete_to": None, "at": T1})
        state = store.crawl_state_get("suzhou.021cf.cn", "category/3")
        assert state == {"_id": "suzhou.021cf.cn|category/3", "site": "suzhou.021cf.cn", "chain": "category/3",
                         "complete_to": "page/9", "at": T1}
        assert store.crawl_state_get("kunshan.021cf.cn", "category/3")["complete_to"] is None
    finally:
        store.close()


def test_crawl_state_with_the_store_down_reads_none_and_drops_writes(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    crawler = get_crawler(Spider, {"MONGO_URI": f"mongodb://127.0.0.1:{port}", "MONGO_TIMEOUT_MS": 200,
                                   "SPILL_DIR": str(tmp_path / "spill")})
    store = for_crawler(crawler)
    try:
        assert store.crawl_state_get("suzhou.021cf.cn", "category/3") is None
        assert store.crawl_state_put("suzhou.021cf.cn", "category/3", {"complete_to": "page/9"}) is False
        assert crawler.stats.get_value("store/crawl_state_dropped") == 1
    finally:
        store.close()


def test_one_store_per_crawler(tmp_path: Path) -> None:
    settings = {"MONGO_URI": "", "EMBEDDED_DB_DIR": str(tmp_path / "db"), "SPILL_DIR": str(tmp_path / "spill")}
    crawler, other = get_crawler(Spider, settings), get_crawler(Spider, settings)
    store = for_crawler(crawler)
    try:
        assert for_crawler(crawler) is store
        assert for_crawler(other) is not store
    finally:
        store.close()
        for_crawler(other).close()
