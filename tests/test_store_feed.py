"""``-O out.jsonl`` holds what the store holds: a replay crawl of the 021cf fixtures with a feed,
compared with the collections field by field."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.test_incremental import FIXTURES_021CF, open_test_store, run_crawl


@pytest.fixture(scope="module")
def feed_crawl(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("feed")
    # The crawl fits one batch: it is written when the crawl goes quiet, not on a timer.
    stats = run_crawl("021cf", FIXTURES_021CF, work, "feed", "-O", str(work / "out.jsonl"),
                      "-s", "STORE_EXPORT_WAIT_S=600")
    lines = [json.loads(line) for line in (work / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    store = open_test_store(work)
    try:
        collections = {name: {d["_id"]: d for d in store.find(name)} for name in ("articles", "rental_ads")}
    finally:
        store.close()
    return {"stats": stats, "lines": lines, "collections": collections}


def test_feed_lines_are_the_stored_documents_field_by_field(feed_crawl: dict[str, Any]) -> None:
    lines, collections = feed_crawl["lines"], feed_crawl["collections"]
    articles = [line for line in lines if "content_text" in line]
    ads = [line for line in lines if "raw_text" in line]
    assert len(articles) + len(ads) == len(lines)
    # Exported once per stored document, and every stored document is in the feed.
    assert sorted(line["_id"] for line in articles) == sorted(collections["articles"])
    assert sorted(line["_id"] for line in ads) == sorted(collections["rental_ads"])
    for line in lines:
        doc = collections["articles" if "content_text" in line else "rental_ads"][line["_id"]]
        differing = {k: (v, doc.get(k)) for k, v in line.items() if doc.get(k) != v}
        assert differing == {}, line["_id"]
    # The store-assigned fields are filled in, not the item's defaults.
    for line in articles:
        assert line["first_seen"] == line["crawled_at"] and line["dup_group"]
        # Seen again later only through an alternate URL crawled later in the run.
        assert line["last_seen"] == line["crawled_at"] or (line["alt_urls"] and line["last_seen"] > line["crawled_at"])
    known = {line["canonical_url"]: line for line in articles}
    # The same article is served at two URLs: one line, the other URL among its alternates.
    post = known["http://kunshanmaigao.021cf.cn/index.php/post/1873.html"]
    assert post["title"] == "2024年嘉昆太协同创新核心圈轮值会议在太仓举行"
    assert post["alt_urls"] == ["http://suzhou.021cf.cn/index.php/post/532.html"]
    assert "http://suzhou.021cf.cn/index.php/post/532.html" not in known


def test_merged_duplicates_are_exported_once(feed_crawl: dict[str, Any]) -> None:
    stats, lines = feed_crawl["stats"], feed_crawl["lines"]
    merged = stats.get("store/not_exported_merged", 0)
    # Every item the store took is either a feed line or merged into one.
    taken = stats.get("store/inserted", 0) + stats.get("store/updated", 0) + stats.get("store/alt_urls", 0)
    assert len(lines) + merged == taken
    ads = [line for line in lines if "raw_text" in line]
    # A rental ad seen on several pages is one line, listing every page.
    assert merged >= 1 and any(len(ad["seen_on"]) > 1 for ad in ads)
