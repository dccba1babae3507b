"""The storage suite: run against the embedded store, jongodb over the wire, and
a real MongoDB when MONGO_TEST_URI is set (the ``store_settings`` fixture).

The pipeline is driven as Scrapy drives it (a real Crawler, open_spider,
process_item, close_spider), so the ``store/*`` stats are the real ones.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable

import opencc
import pytest
from scrapy import Spider
from scrapy.utils.test import get_crawler

from kspider.extract.ids import text_fingerprint, url_fingerprint
from kspider.items import Article, RentalAd
from kspider.pipelines.store import StorePipeline
from kspider.store import Store, for_crawler, open_store

REPO = Path(__file__).resolve().parent.parent

# Paragraphs of a real article (昆山产业新闻, 021cf seed text).
PARA_VISIT = "7月5日,西班牙加泰罗尼亚城市联盟(ACM)代表团一行到访江苏昆山,围绕产业合作、城市治理等议题展开深度交流。代表团实地考察了昆山城市会客厅、中西产业园、蒙特拉贡产业园等重点合作载体,并与昆山市政府举行座谈。昆山市副市长宋崎在座谈中表示,昆山正从传统招商引资向双向开放合作转变,期待与加泰罗尼亚大区在城市规划、科技创新等领域深化交流,实现互利共赢。"
PARA_HALL = "在昆山城市会客厅,代表团深入了解了昆山“产城人”融合发展的实践。作为全国首个GDP突破5000亿元的县级市,昆山近年来通过“15分钟便民生活圈”“智慧交通大脑”等项目,推动城市治理从“硬件建设”向“软件服务”升级。"
PARA_PARK = "坐落于昆山市千灯镇的中西产业园和蒙特拉贡产业园,是昆山与西班牙合作的标志性载体。其中,海斯坦普汽车组件、法格锻压机床等20家西班牙企业,已经形成了新能源汽车零配件、智能制造等产业集群,2023年园区销售额突破32亿元,进出口额达1.09亿美元。海斯坦普集团作为全球领先的汽车零部件供应商,其昆山工厂不仅获评省级智能制造工厂,还拥有96项专利技术,2024年销售额同比增长超20%,成为中西方工业合作的典范。"
PARA_TALK = "宋崎在座谈中指出,昆山正经历从“招商引资”到“双向奔赴”的深刻转变。过去十年,昆山累计吸引西班牙投资超15亿欧元,而2023年昆山企业对西班牙投资同比增长40%,涉及新能源、跨境电商等领域。这种转变不仅体现在资本流动上,更体现在技术、人才的双向赋能——蒙特拉贡自动化(昆山)有限公司新厂投产后,将与西班牙总部共享研发资源,推动光伏自动化设备技术迭代。"
KUNSHAN_TEXT = "\n".join([PARA_VISIT, PARA_HALL, PARA_PARK, PARA_TALK])
# A repost with small edits: another date, one sentence dropped, a source line added.
KUNSHAN_REPOST = "\n".join([
    PARA_VISIT.replace("7月5日", "7月6日"),
    PARA_HALL,
    PARA_PARK.replace("2024年销售额同比增长超20%,", ""),
    PARA_TALK,
    "(来源:昆山日报)",
])
# A different article (seed text of matchexpo).
NEWS_TEXT = "2021年11月9日下午,昆山市新兴产业发展大会举行。大会期间,总投资达980.6亿元的98个新兴产业项目签约落地,启动实施新兴产业生态联盟计划,推出总规模100亿元的产业发展投资母基金、发布“六新”产业“链长制”,同时聘请一批专业研究机构作为产业高质量发展的“外脑”,为昆山发展壮大新兴产业注入澎湃动力。"

AD_TEXT = "太仓事达产业园 标准厂房出租 1200平起 层高8米 可环评 独立产证 联系电话13391219793"

T0 = "2026-02-19T08:00:00+00:00"
T1 = "2026-02-20T08:00:00+00:00"
T2 = "2026-02-21T08:00:00+00:00"


def article(url: str, text: str, crawled_at: str = T0, title: str = "“碳”索之路|丝路名城推介走进江苏昆山", **extra: Any) -> Article:
    """An Article as the earlier pipelines hand it to the store."""
    return Article(
        _id=url_fingerprint(url), url=url, canonical_url=url, site=url.split("/")[2], spider="021cf",
        title=title, content_text=text, content_hash=text_fingerprint(text), crawled_at=crawled_at,
        published_at="2025-07-15T00:00:00+08:00", **extra,
    )


def rental_ad(page_url: str, crawled_at: str = T0, text: str = AD_TEXT) -> RentalAd:
    return RentalAd(
        _id=text_fingerprint(text), kind="inline", seen_on=[page_url], raw_text=text, park_name="太仓事达产业园",
        city="太仓", area_sqm_min=1200.0, floor_height_m=8.0, features=["可环评", "独立产证"],
        site=page_url.split("/")[2], spider="021cf", crawled_at=crawled_at,
    )


def crawl(settings: dict[str, Any], items: Iterable[Any], batch_size: int = 100) -> dict[str, Any]:
    """Run the items through StorePipeline the way Scrapy does; the crawl's stats."""
    crawler = get_crawler(Spider, {**settings, "STORE_BATCH_SIZE": batch_size})
    pipeline = StorePipeline.from_crawler(crawler)
    pipeline.open_spider()
    for item in items:
        assert pipeline.process_item(item) is item
    pipeline.close_spider()
    for_crawler(crawler).close()  # as the engine does when it stops
    return crawler.stats.get_stats()


def stored(settings: dict[str, Any], collection: str) -> dict[str, dict[str, Any]]:
    store = open_store(settings)
    try:
        return {doc["_id"]: doc for doc in store.collections[collection].find({})}
    finally:
        store.close()


URL_A = "http://suzhou.021cf.cn/index.php/post/532.html"
URL_B = "http://kunshan.021cf.cn/index.php/post/77.html"
URL_C = "https://xinjiapo.news/news/182040"


def test_two_identical_replays_keep_one_document_per_page(store_settings: dict[str, Any]) -> None:
    items = [article(URL_A, KUNSHAN_TEXT), article(URL_C, NEWS_TEXT, title="昆山打造具有全球竞争优势的新兴产业“高地”"),
             rental_ad(URL_A)]
    first = crawl(store_settings, items)
    second = crawl(store_settings, items)

    articles = stored(store_settings, "articles")
    assert sorted(articles) == sorted([url_fingerprint(URL_A), url_fingerprint(URL_C)])
    assert len(stored(store_settings, "rental_ads")) == 1
    assert first["store/inserted"] == 3 and "store/updated" not in first
    assert second["store/updated"] == 3 and "store/inserted" not in second
    doc = articles[url_fingerprint(URL_A)]
    assert doc["version"] == 1
    assert (doc["first_seen"], doc["last_seen"]) == (T0, T0)
    assert doc["title"] == "“碳”索之路|丝路名城推介走进江苏昆山"


def test_recrawl_updates_last_seen_and_a_content_change_is_a_version(store_settings: dict[str, Any]) -> None:
    crawl(store_settings, [article(URL_A, KUNSHAN_TEXT)])
    crawl(store_settings, [article(URL_A, KUNSHAN_TEXT, crawled_at=T1)])
    changed = KUNSHAN_TEXT.replace("超15亿欧元", "超16亿欧元")
    stats = crawl(store_settings, [article(URL_A, changed, crawled_at=T2, title="丝路名城推介走进江苏昆山(更新)")])

    doc = stored(store_settings, "articles")[url_fingerprint(URL_A)]
    assert (doc["first_seen"], doc["last_seen"]) == (T0, T2)
    assert doc["version"] == 2
    assert "超16亿欧元" in doc["content_text"] and doc["title"] == "丝路名城推介走进江苏昆山(更新)"
    assert doc["past_hashes"] == [text_fingerprint(KUNSHAN_TEXT)]
    versions = stored(store_settings, "article_versions")
    old = versions[f"{url_fingerprint(URL_A)}:{text_fingerprint(KUNSHAN_TEXT)}"]
    assert "超15亿欧元" in old["content_text"]
    assert (old["version"], old["crawled_at"], old["superseded_at"]) == (1, T1, T2)
    assert stats["store/versions"] == 1

    # The old content arriving late (say from a spill file) is history, not a new version.
    late = crawl(store_settings, [article(URL_A, KUNSHAN_TEXT, crawled_at=T0)])
    doc = stored(store_settings, "articles")[url_fingerprint(URL_A)]
    assert doc["version"] == 2 and "超16亿欧元" in doc["content_text"]
    assert "store/versions" not in late and len(stored(store_settings, "article_versions")) == 1


def test_syndicated_copy_becomes_an_alt_url(store_settings: dict[str, Any]) -> None:
    stats = crawl(store_settings, [article(URL_A, KUNSHAN_TEXT), article(URL_B, KUNSHAN_TEXT, crawled_at=T1)])
    again = crawl(store_settings, [article(URL_B, KUNSHAN_TEXT, crawled_at=T2)])

    articles = stored(store_settings, "articles")
    assert list(articles) == [url_fingerprint(URL_A)]
    doc = articles[url_fingerprint(URL_A)]
    assert doc["alt_urls"] == [URL_B]
    assert doc["alt_ids"] == [url_fingerprint(URL_B)]
    assert doc["last_seen"] == T2
    assert stats["store/alt_urls"] == 1 and "store/alt_urls" not in again

    store = open_store(store_settings)
    try:
        # The incremental-crawl helper knows the syndicated URL too.
        ids = [url_fingerprint(URL_B), url_fingerprint(URL_C)]
        assert store.seen_recently(ids, T1) == {url_fingerprint(URL_B)}
        assert store.seen_recently([url_fingerprint(URL_A)], "2026-03-01T00:00:00+00:00") == set()
    finally:
        store.close()


@pytest.mark.parametrize("batch_size", [100, 1], ids=["same-batch", "separate-batches"])
def test_near_duplicates_share_the_first_seen_members_group(store_settings: dict[str, Any], batch_size: int) -> None:
    hant = opencc.OpenCC("s2t").convert(KUNSHAN_REPOST)
    url_hant = "http://www.jssuxun.com/news/2025-07/16/c_1234.htm"
    items = [
        article(URL_A, KUNSHAN_TEXT),
        article(URL_B, KUNSHAN_REPOST, crawled_at=T1),
        # The Traditional repost groups through its Simplified text.
        article(url_hant, hant, crawled_at=T1, content_text_hans=opencc.OpenCC("t2s").convert(hant), lang="zh-Hant"),
        article(URL_C, NEWS_TEXT, crawled_at=T1),
    ]
    stats = crawl(store_settings, items, batch_size=batch_size)

    articles = stored(store_settings, "articles")
    first = url_fingerprint(URL_A)
    assert len(articles) == 4
    assert articles[first]["dup_group"] == first
    assert articles[url_fingerprint(URL_B)]["dup_group"] == first
    assert articles[url_fingerprint(url_hant)]["dup_group"] == first
    assert articles[url_fingerprint(URL_C)]["dup_group"] == url_fingerprint(URL_C)
    assert stats["store/near_dups"] == 2

    store = open_store(store_settings)
    try:
        # The two exact reposts (Simplified, and Traditional via its Simplified text) rank first.
        found = store.near_duplicates(KUNSHAN_REPOST)
        assert sorted(found[:2]) == sorted([url_fingerprint(URL_B), url_fingerprint(url_hant)])
        assert found[2:] == [first]
    finally:
        store.close()


def test_rental_ad_is_one_document_seen_on_every_page(store_settings: dict[str, Any]) -> None:
    crawl(store_settings, [rental_ad(URL_A), rental_ad(URL_B, crawled_at=T1)])
    crawl(store_settings, [rental_ad(URL_A, crawled_at=T2)])

    ads = stored(store_settings, "rental_ads")
    assert list(ads) == [text_fingerprint(AD_TEXT)]
    ad = ads[text_fingerprint(AD_TEXT)]
    assert ad["seen_on"] == [URL_A, URL_B]
    assert (ad["first_seen"], ad["last_seen"]) == (T0, T2)
    assert (ad["park_name"], ad["city"], ad["area_sqm_min"]) == ("太仓事达产业园", "太仓", 1200.0)


def test_scraped_keys_are_sanitized(store_settings: dict[str, Any]) -> None:
    images = [{"url": "http://suzhou.021cf.cn/zb_users/upload/1.jpg", "caption": "江佳骏图", "$where": "x", "data.src": "1.jpg"}]
    crawl(store_settings, [article(URL_A, KUNSHAN_TEXT, images=images)])

    doc = stored(store_settings, "articles")[url_fingerprint(URL_A)]
    assert doc["images"] == [{"url": "http://suzhou.021cf.cn/zb_users/upload/1.jpg", "caption": "江佳骏图",
                              "_where": "x", "data_src": "1.jpg"}]


def test_indexes_are_created_at_open(store_settings: dict[str, Any]) -> None:
    crawl(store_settings, [article(URL_A, KUNSHAN_TEXT)])
    store = open_store(store_settings)
    try:
        keys = [info["key"] for info in store.collections["articles"].index_information().values()]
        ad_keys = [info["key"] for info in store.collections["rental_ads"].index_information().values()]
    finally:
        store.close()
    normalized = [[tuple(pair) for pair in key] for key in keys]
    assert [("site", 1), ("published_at", -1)] in normalized
    assert [("lsh", 1)] in normalized and [("content_hash", 1)] in normalized and [("dup_group", 1)] in normalized
    assert [("city", 1), ("district", 1)] in [[tuple(pair) for pair in key] for key in ad_keys]


def test_server_going_away_mid_crawl_spills_and_recovers(jongodb_factory: Any, tmp_path: Path) -> None:
    server = jongodb_factory()
    settings = {
        "MONGO_URI": server.uri, "MONGO_DATABASE": "kspider_fault", "MONGO_TIMEOUT_MS": 500,
        "SPILL_DIR": str(tmp_path / "spill"), "EMBEDDED_DB_DIR": str(tmp_path / "db"), "STORE_BATCH_SIZE": 2,
    }
    first_batch = [article(URL_A, KUNSHAN_TEXT), rental_ad(URL_A)]
    second_batch = [article(URL_B, KUNSHAN_TEXT, crawled_at=T1), article(URL_C, NEWS_TEXT, crawled_at=T1)]
    third_batch = [rental_ad(URL_C, crawled_at=T1)]

    crawler = get_crawler(Spider, settings)
    pipeline = StorePipeline.from_crawler(crawler)
    pipeline.open_spider()
    for item in first_batch:
        pipeline.process_item(item)
    server.stop()  # between batches
    for item in second_batch + third_batch:
        pipeline.process_item(item)
    pipeline.close_spider()
    stats = crawler.stats.get_stats()
    assert stats["store/inserted"] == 2
    # The second batch fails and marks the store down: the third is spilled without trying the
    # store, and no recovery is tried at close while it is down. Each item is spilled once.
    assert stats["store/spilled"] == 3
    assert stats["store/write_errors"] == 1
    assert (stats["store/down"], stats["store/failed_calls"]) == (1, 1)
    assert (stats["store/spilled_items"], stats["store/unreachable"]) == (3, 1)
    spill_lines = [json.loads(line) for f in sorted((tmp_path / "spill").glob("spill-*.jsonl")) for line in f.read_text().splitlines()]
    assert sorted(line["doc"]["_id"] for line in spill_lines) == sorted(
        [url_fingerprint(URL_B), url_fingerprint(URL_C), text_fingerprint(AD_TEXT)])
    assert {line["collection"] for line in spill_lines} == {"articles", "rental_ads"}

    # The server comes back on the same port (in memory, so empty): the next open recovers.
    server.start()
    recovered = crawl(settings, [], batch_size=2)
    assert recovered["store/recovered"] == 3
    assert list((tmp_path / "spill").glob("spill-*")) == []
    # Replaying the whole crawl now doubles nothing.
    crawl(settings, first_batch + second_batch + third_batch, batch_size=2)
    articles = stored(settings, "articles")
    assert sorted(articles) == sorted([url_fingerprint(URL_B), url_fingerprint(URL_C)])
    assert articles[url_fingerprint(URL_B)]["alt_urls"] == [URL_A]
    assert stored(settings, "rental_ads")[text_fingerprint(AD_TEXT)]["seen_on"] == [URL_C, URL_A]


def test_unreachable_store_at_open_spills_everything(tmp_path: Path) -> None:
    closed_port = __import__("socket").socket()
    closed_port.bind(("127.0.0.1", 0))
    port = closed_port.getsockname()[1]
    closed_port.close()  # nothing listens there
    settings = {"MONGO_URI": f"mongodb://127.0.0.1:{port}", "MONGO_TIMEOUT_MS": 200, "SPILL_DIR": str(tmp_path / "spill")}
    stats = crawl(settings, [article(URL_A, KUNSHAN_TEXT), rental_ad(URL_A)])
    # Index creation at open fails and marks the store down: one call waits out the timeout;
    # the batch is spilled at once and no recovery is tried at close.
    assert stats["store/index_errors"] == 1
    assert (stats["store/down"], stats["store/failed_calls"], stats["store/timeouts"]) == (1, 1, 1)
    assert "store/write_errors" not in stats
    assert stats["store/spilled"] == 2
    assert (stats["store/spilled_items"], stats["store/unreachable"]) == (2, 1)
    assert "store/inserted" not in stats and "store/recovered" not in stats

    # Recovery into the embedded store (another configuration) writes them exactly once.
    embedded = {"MONGO_URI": "", "EMBEDDED_DB_DIR": str(tmp_path / "db"), "SPILL_DIR": str(tmp_path / "spill")}
    assert crawl(embedded, [])["store/recovered"] == 2
    assert list(stored(embedded, "articles")) == [url_fingerprint(URL_A)]
    assert stored(embedded, "rental_ads")[text_fingerprint(AD_TEXT)]["seen_on"] == [URL_A]


def _run(code: str, env: dict[str, str]) -> str:
    result = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_embedded_store_survives_across_processes(tmp_path: Path) -> None:
    env = {"MONGO_URI": "", "EMBEDDED_DB_DIR": str(tmp_path / "db"), "SPILL_DIR": str(tmp_path / "spill")}
    write = (
        "from tests.test_store import article, rental_ad, URL_A, KUNSHAN_TEXT\n"
        "from kspider.store import open_store\n"
        "s = open_store(None); s.ensure_indexes()\n"
        "assert s.write_items([article(URL_A, KUNSHAN_TEXT), rental_ad(URL_A)]); s.close()\n"
    )
    _run(write, env)
    out = _run("from kspider.store.__main__ import main; main(['count'])", env)
    assert out.splitlines() == ["articles\t1", "rental_ads\t1", "article_versions\t0", "total\t2"]
    read = (
        "from kspider.store import open_store\n"
        f"d = open_store(None).collections['articles'].find_one({{'_id': '{url_fingerprint(URL_A)}'}})\n"
        "print(d['title'], d['first_seen'])\n"
    )
    assert _run(read, env).strip() == f"“碳”索之路|丝路名城推介走进江苏昆山 {T0}"


def test_recover_command_writes_spill_files(tmp_path: Path) -> None:
    spill_dir = tmp_path / "spill"
    spill_dir.mkdir()
    line = {"v": 1, "collection": "rental_ads", "doc": {"_id": text_fingerprint(AD_TEXT), "raw_text": AD_TEXT,
            "seen_on": [URL_A], "crawled_at": T0, "city": "太仓"}, "error": "AutoReconnect", "spilled_at": T0}
    # A spill file of a process that no longer exists (pid 999999999), plus one broken line.
    (spill_dir / "spill-otherhost-999999999-abcd1234.jsonl").write_text(json.dumps(line, ensure_ascii=False) + "\n{broken\n")
    env = {"MONGO_URI": "", "EMBEDDED_DB_DIR": str(tmp_path / "db"), "SPILL_DIR": str(spill_dir)}
    assert _run("from kspider.store.__main__ import main; raise SystemExit(main(['recover', '--create']))", env).strip() == "recovered 1"
    assert _run("from kspider.store.__main__ import main; main(['count', '--total'])", env).strip() == "1"
    assert [json.loads(l)["raw"] for l in (spill_dir / "rejected.jsonl").read_text().splitlines()] == ["{broken"]
    assert list(spill_dir.glob("spill-*")) == []


def test_stats_command_reports_counts_groups_and_alt_urls(store_settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from kspider.store import __main__ as cli

    crawl(store_settings, [article(URL_A, KUNSHAN_TEXT), article(URL_B, KUNSHAN_REPOST, crawled_at=T1),
                           article(URL_C, KUNSHAN_TEXT, crawled_at=T1), rental_ad(URL_A)])
    for name, value in store_settings.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.setattr(cli, "_settings", lambda: None)  # the environment alone decides
    assert cli.main(["stats"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "articles\t2", "rental_ads\t1", "article_versions\t0", "total\t3",
        "near_duplicates\t1", "with_alt_urls\t1", "spilled_pending\t0",
    ]


def test_two_writers_share_the_near_duplicate_index(store_settings: dict[str, Any]) -> None:
    """Two crawler processes on one database: the second sees the first's LSH keys through the store."""
    worker_a = open_store(store_settings)
    worker_b = open_store({**store_settings, "MONGO_WRITE_CONCERN": "majority"})
    try:
        worker_a.ensure_indexes()
        worker_b.ensure_indexes()
        assert worker_a.write_items([article(URL_A, KUNSHAN_TEXT)])
        assert worker_b.write_items([article(URL_B, KUNSHAN_REPOST, crawled_at=T1), article(URL_C, KUNSHAN_TEXT, crawled_at=T1)])
        assert worker_b.counters == {"inserted": 1, "near_dups": 1, "alt_urls": 1}
    finally:
        worker_a.close()
        worker_b.close()
    articles = stored(store_settings, "articles")
    assert articles[url_fingerprint(URL_B)]["dup_group"] == url_fingerprint(URL_A)
    assert articles[url_fingerprint(URL_A)]["alt_urls"] == [URL_C]


def test_seen_times_path_is_probed_once_at_open(store_settings: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    """$min/$max where the server has them (MongoDB, the embedded store); jongodb rejects them, so the
    seen times go by conditional $set there. The probe leaves nothing behind."""
    store = open_store(store_settings)
    try:
        with caplog.at_level("INFO", logger="kspider.store.core"):
            assert store.ensure_indexes() and store.ensure_indexes()
        jongodb = store_settings["MONGO_URI"] not in ("", os.environ.get("MONGO_TEST_URI"))
        assert store.minmax is (not jongodb)
        probes = [r.getMessage() for r in caplog.records if "$min/$max" in r.getMessage()]
        assert len(probes) == 1
        assert ("rejects $min/$max" in probes[0]) is bool(jongodb)
        assert store.count("store_probe") == 0
    finally:
        store.close()


def _failing_on_url_b(pipeline: StorePipeline) -> tuple[Store, list[Any]]:
    """Opens the pipeline with a store whose batch write raises (no outage: a bad item) whenever
    the batch holds URL_B's article; (the store, three articles: URL_A's, URL_B's, URL_C's)."""
    pipeline.open_spider()
    store = pipeline.store
    assert store is not None
    real_write = store.write_prepared

    def write_prepared(prepared: list[Any]) -> bool:
        if any(p.doc.get("url") == URL_B for p in prepared):
            raise ValueError("document cannot be encoded")
        return real_write(prepared)

    store.write_prepared = write_prepared  # type: ignore[method-assign]
    return store, [article(URL_A, KUNSHAN_TEXT), article(URL_B, KUNSHAN_REPOST, title="昆山:从招商引资到双向奔赴"),
                   article(URL_C, NEWS_TEXT, title="昆山打造具有全球竞争优势的新兴产业“高地”")]


def test_a_batch_whose_write_raises_is_written_item_by_item(store_settings: dict[str, Any]) -> None:
    """An error that is no store outage (here: one item the backend cannot take) costs that item
    only: the batch's other items are stored, the bad one is logged, counted and set aside."""
    crawler = get_crawler(Spider, {**store_settings, "STORE_BATCH_SIZE": 3})
    pipeline = StorePipeline.from_crawler(crawler)
    store, items = _failing_on_url_b(pipeline)
    for item in items:
        assert pipeline.process_item(item) is item
    pipeline.close_spider()
    for_crawler(crawler).close()
    stats = crawler.stats.get_stats()
    assert stats["store/batch_errors"] == 1
    assert stats["store/rejected"] == 1
    assert stats["store/inserted"] == 2
    assert sorted(stored(store_settings, "articles")) == sorted([url_fingerprint(URL_A), url_fingerprint(URL_C)])
    rejects = Path(store.config.spill_dir) / "rejected.jsonl"
    [entry] = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert entry["reason"] == "ValueError: document cannot be encoded"
    assert URL_B in entry["raw"] and "昆山:从招商引资到双向奔赴" in entry["raw"]


def test_a_failed_batch_written_item_by_item_still_feeds_the_stored_documents(store_settings: dict[str, Any]) -> None:
    """With a feed (items leave the pipeline as stored), the items of a failed batch written one by
    one leave with their stored fields; the rejected one leaves as it came."""
    crawler = get_crawler(Spider, {**store_settings, "STORE_BATCH_SIZE": 10, "STORE_EXPORT_STORED": "1"})
    pipeline = StorePipeline(crawler.settings, crawler.stats)  # no engine here: batches go when flushed
    store, items = _failing_on_url_b(pipeline)
    for item in items:
        pipeline.process_item(item).close()  # the coroutine a feed awaits; its Deferred is read below
    released: dict[str, Any] = {}
    for item, done in list(pipeline.waiting):
        done.addCallback(lambda out, url=item.url: released.setdefault(url, out))
    pipeline.flush()
    pipeline.close_spider()
    store.close()
    assert crawler.stats.get_value("store/rejected") == 1
    assert set(released) == {URL_A, URL_B, URL_C}
    for url in (URL_A, URL_C):
        assert released[url].first_seen is not None and released[url].dup_group == url_fingerprint(url)
    assert released[URL_B].first_seen is None
