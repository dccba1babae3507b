"""A store outage costs one failed call, not one per call (counted, not timed).

After a failed call the store is down: lookups answer "unknown" at once (the
crawl fetches), writes spill at once, crawl state reads None and writes are
dropped, all counted; when the store answers again the spill is written first.
"""
from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from scrapy import Spider
from scrapy.utils.test import get_crawler

from kspider.extract.ids import text_fingerprint, url_fingerprint
from kspider.pipelines.store import StorePipeline
from kspider.store import for_crawler
from tests.test_store import AD_TEXT, KUNSHAN_TEXT, NEWS_TEXT, T0, T1, URL_A, URL_B, URL_C, article, rental_ad, stored

# The background retry is pushed past the test's end: the test brings the store back itself.
NO_BACKGROUND_RETRY = {"STORE_RETRY_S": 3600}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_store_waits_out_one_timeout_for_every_kind_of_call(tmp_path: Path) -> None:
    crawler = get_crawler(Spider, {"MONGO_URI": f"mongodb://127.0.0.1:{_closed_port()}", "MONGO_TIMEOUT_MS": 300,
                                   "SPILL_DIR": str(tmp_path / "spill"), "STORE_BATCH_SIZE": 2, **NO_BACKGROUND_RETRY})
    pipeline = StorePipeline.from_crawler(crawler)
    pipeline.open_spider()  # index creation: the one call that waits
    store = for_crawler(crawler)
    try:
        assert store.down
        for _ in range(5):
            assert store.seen_recently([url_fingerprint(URL_A), url_fingerprint(URL_B)], T0) == set()
        assert store.crawl_state_get("suzhou.021cf.cn", "category/3") is None
        assert store.crawl_state_put("suzhou.021cf.cn", "category/3", {"complete_to": "page/2"}) is False
        for item in [article(URL_A, KUNSHAN_TEXT), article(URL_C, NEWS_TEXT), rental_ad(URL_A), rental_ad(URL_B)]:
            pipeline.process_item(item)
        pipeline.close_spider()
    finally:
        store.close()
    stats = crawler.stats.get_stats()
    assert (stats["store/failed_calls"], stats["store/timeouts"], stats["store/down"]) == (1, 1, 1)
    assert stats["store/lookups_unknown"] == 10
    assert (stats["store/crawl_state_unknown"], stats["store/crawl_state_dropped"]) == (1, 1)
    assert stats["store/spilled"] == 4 and "store/write_errors" not in stats
    assert (stats["store/spilled_items"], stats["store/unreachable"]) == (4, 1)


def test_store_back_after_an_outage_writes_the_spill_first(jongodb_factory: Any, tmp_path: Path) -> None:
    server = jongodb_factory()
    settings = {"MONGO_URI": server.uri, "MONGO_DATABASE": "kspider_outage", "MONGO_TIMEOUT_MS": 300,
                "SPILL_DIR": str(tmp_path / "spill"), "STORE_BATCH_SIZE": 2, **NO_BACKGROUND_RETRY}
    crawler = get_crawler(Spider, settings)
    pipeline = StorePipeline.from_crawler(crawler)
    pipeline.open_spider()
    store = for_crawler(crawler)
    try:
        for item in [article(URL_A, KUNSHAN_TEXT), rental_ad(URL_A)]:
            pipeline.process_item(item)
        assert store.seen_recently([url_fingerprint(URL_A)], T0) == {url_fingerprint(URL_A)}
        server.stop()
        # The first lookup fails (and marks the store down); the next ones are not even tried.
        for _ in range(3):
            assert store.seen_recently([url_fingerprint(URL_A)], T0) == set()
        for item in [article(URL_B, KUNSHAN_TEXT, crawled_at=T1), article(URL_C, NEWS_TEXT, crawled_at=T1),
                     rental_ad(URL_C, crawled_at=T1), rental_ad(URL_B, crawled_at=T1)]:
            pipeline.process_item(item)
        assert store.health.retry_now() is False  # still down
        stats = crawler.stats.get_stats()
        assert (stats["store/failed_calls"], stats["store/down"], stats["store/spilled"]) == (1, 1, 4)
        assert stats["store/lookups_unknown"] == 3

        server.start()  # same port, empty (in memory)
        assert store.health.retry_now() is True  # what the background retry does, on its backoff
        pipeline.process_item(article(URL_A, KUNSHAN_TEXT, crawled_at=T1))
        pipeline.process_item(rental_ad(URL_A, crawled_at=T1))
        pipeline.close_spider()
    finally:
        store.close()
    stats = crawler.stats.get_stats()
    assert (stats["store/up"], stats["store/recovered"]) == (1, 4)
    assert (stats["store/spilled_items"], stats["store/unreachable"]) == (0, 0)
    assert stats["store/failed_calls"] == 1
    articles = stored(settings, "articles")
    # The restarted server lost the first batch; the spill (B, C) was written before the batch of A,
    # so A's text (the same as B's) became an alternate of B.
    assert sorted(articles) == sorted([url_fingerprint(URL_B), url_fingerprint(URL_C)])
    assert articles[url_fingerprint(URL_B)]["alt_urls"] == [URL_A]
    assert stored(settings, "rental_ads")[text_fingerprint(AD_TEXT)]["seen_on"] == [URL_C, URL_B, URL_A]
