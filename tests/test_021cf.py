"""Spider `021cf` on the tpure fixture set: every field of every post, listings, ads, a full crawl.

The truth is fixtures/021cf/expected.json, written with the pages (not by the parser).
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from itemadapter import ItemAdapter
from scrapy import Request
from scrapy.utils.test import get_crawler

from kspider.extract import tpure
from kspider.items import Article, RentalAd
from kspider.pipelines.clean import CleaningPipeline
from kspider.pipelines.validate import validation_errors
from kspider.replay.fixtures import FixtureIndex
from kspider.replay.handler import replay_response
from kspider.spiders.zblog_tpure import ZblogTpureSpider
from tests.test_replay import ROOT, read_jsonl, run_scrapy

FIXTURES = ROOT / "fixtures" / "021cf"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
POSTS = {p["url"]: p for p in EXPECTED["posts"]}
ARTICLE_FIELDS = ("title", "author", "category", "breadcrumbs", "tags", "views", "comments", "published_raw",
                  "published_at", "date_precision", "site_name", "related_urls", "images", "content_text")
AD_FIELDS = ("kind", "title", "deal_type", "property_type", "park_name", "city", "district", "location_text",
             "area_sqm_min", "availability", "features", "transport", "contact_name",
             "area_sqm_max", "land_area_mu", "price_value", "price_unit", "floor_height_m",
             "floor_load_t_per_sqm", "power_kva", "contact_phones")


def bigram_f1(got: str, want: str) -> float:
    a = Counter(got[i:i + 2] for i in range(len(got) - 1))
    b = Counter(want[i:i + 2] for i in range(len(want) - 1))
    overlap = sum((a & b).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(a.values()), overlap / sum(b.values())
    return 2 * precision * recall / (precision + recall)


@pytest.fixture(scope="module")
def parsed() -> dict[str, tuple[dict, list[dict]]]:
    """Each post page through the spider's callback and the cleaning pipeline, as the crawl does."""
    index = FixtureIndex.load(FIXTURES)
    crawler = get_crawler(ZblogTpureSpider)
    spider = ZblogTpureSpider.from_crawler(crawler)
    crawler.spider = spider
    clean = CleaningPipeline.from_crawler(crawler)
    out = {}
    for url in POSTS:
        items = [clean.process_item(i) for i in spider.parse_post(replay_response(index, Request(url)))]
        articles = [ItemAdapter(i).asdict() for i in items if isinstance(i, Article)]
        ads = [ItemAdapter(i).asdict() for i in items if isinstance(i, RentalAd)]
        assert len(articles) == 1, url
        assert all(not validation_errors(i) for i in items), url
        out[url] = (articles[0], ads)
    out["_stats"] = crawler.stats.get_stats()
    return out


@pytest.mark.parametrize("url", sorted(POSTS))
def test_post_fields_exact(parsed, url):
    article, _ = parsed[url]
    want = POSTS[url]
    wrong = {f: (article[f], want[f]) for f in ARTICLE_FIELDS if f in want and article[f] != want[f]}
    assert not wrong, wrong


@pytest.mark.parametrize("url", sorted(POSTS))
def test_post_body_has_no_inserted_blocks(parsed, url):
    article, _ = parsed[url]
    text = article["content_text"]
    for removed in POSTS[url].get("removed_text", []):
        if len(removed) >= 6:
            assert removed not in text, removed
    for marker in ("版权声明", "本文链接", "扫描二维码", "分享给朋友", "免责声明", "葛毅明", "招商引资指定载体", "135246785151356468684613391219793"):
        assert marker not in text
    assert "蕞" not in text.replace("蕞尔", "")
    assert bigram_f1(text, POSTS[url]["content_text"]) >= 0.99


def test_seed_000_values(parsed):
    article, ads = parsed["http://kunshanmaigao.021cf.cn/index.php/post/2050.html"]
    assert article["title"] == "“碳”索之路|丝路名城推介走进江苏昆山"
    assert article["published_at"] == "2025-07-15T00:00:00+08:00" and article["date_precision"] == "day"
    assert article["views"] == 38 and article["site_name"] == "昆山厂房出租网"
    assert article["content_text"].startswith("7月5日,西班牙加泰罗尼亚城市联盟(ACM)代表团一行到访江苏昆山")
    assert article["content_text"].endswith("张超南等陪同调研。")
    # The three mobiles written together, the 400 number and the promotion line's mobile.
    assert {"+8613524678515", "+8613564686846", "+8613391219793"} <= set(article["phones"])
    assert article["lang"] == "zh-Hans" and article["content_text_hans"] is None
    assert ads == []


def test_seed_003_adlaw_restored_and_inline_ad(parsed):
    article, ads = parsed["http://suzhou.021cf.cn/index.php/post/532.html"]
    assert "全国第一家专门从事国防工业科技成果转化的服务机构" in article["content_text"]
    assert "最大机遇" in article["content_text"] and "最紧密的纽带" in article["content_text"]
    assert "adlaw_restored" in article["quality_flags"]
    assert article["site_name"] == "嘉定厂房网"
    assert "太仓事达产业园" not in article["content_text"]
    assert len(ads) == 1
    ad = ads[0]
    assert ad["kind"] == "inline" and ad["park_name"] == "太仓事达产业园"
    assert ad["area_sqm_min"] == 1100 and ad["area_sqm_max"] is None
    assert ad["availability"] == "现房" and ad["location_text"] == "昆山嘉定太仓交界"
    assert ad["contact_phones"] == ["+864000123021", "+8613391219793"]
    assert ad["seen_on"] == ["http://suzhou.021cf.cn/index.php/post/532.html"]


def test_inline_ad_is_one_document_across_pages(parsed):
    _, ads_532 = parsed["http://suzhou.021cf.cn/index.php/post/532.html"]
    _, ads_1873 = parsed["http://kunshanmaigao.021cf.cn/index.php/post/1873.html"]
    assert ads_532[0]["_id"] == ads_1873[0]["_id"]


def test_listing_ads_fields(parsed):
    ads = {}
    for url, value in parsed.items():
        if url != "_stats":
            for ad in value[1]:
                ads.setdefault(ad["_id"], ad)
    expected = EXPECTED["rental_ads"]
    assert len(ads) == len(expected)
    for want in expected:
        got = [a for a in ads.values() if a["seen_on"][0] in want["seen_on"]]
        assert got, want["seen_on"]
        wrong = {f: (got[0][f], want[f]) for f in AD_FIELDS if f in want and got[0][f] != want[f]}
        assert not wrong, (want["seen_on"], wrong)


def test_date_forms(parsed):
    by_raw = {a["published_raw"]: (a["published_at"], a["date_precision"]) for a, _ in
              (v for k, v in parsed.items() if k != "_stats")}
    assert by_raw["2周前 (02-05)"] == ("2026-02-05T00:00:00+08:00", "day")
    assert by_raw["2个月前 (12-08)"] == ("2025-12-08T00:00:00+08:00", "day")
    assert by_raw["2025-03-08 14:22"] == ("2025-03-08T14:22:00+08:00", "minute")
    assert by_raw["3天前"][1] == "approx" and by_raw["3天前"][0].startswith("2026-02-16")
    assert by_raw["5小时前"] == ("2026-02-19T11:00:00+08:00", "approx")


@pytest.mark.parametrize("listing", EXPECTED["listings"], ids=lambda l: l["url"])
def test_listing_pages(listing):
    index = FixtureIndex.load(FIXTURES)
    response = replay_response(index, Request(listing["url"]))
    parsed_listing = tpure.parse_listing(response.text, listing["url"])
    assert parsed_listing.post_urls == listing["post_urls"]
    if listing.get("next_page_url"):
        assert listing["next_page_url"] in parsed_listing.page_urls


def test_full_replay_crawl(tmp_path):
    """From the two home pages: exactly the expected URLs fetched, every post parsed, ads found, nothing lost."""
    out, stats_file = tmp_path / "out.jsonl", tmp_path / "stats.json"
    proc = run_scrapy(
        ["crawl", "021cf", "-s", f"REPLAY_DIR={FIXTURES}", "-s", f"EMBEDDED_DB_DIR={tmp_path / 'db'}",
         "-s", f"STATS_FILE={stats_file}", "-s", "LOG_LEVEL=DEBUG", "-O", str(out)],
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    stats = json.loads(stats_file.read_text())
    fetched = {line.split("<GET ")[1].split(">")[0] for line in proc.stderr.splitlines()
               if "Crawled (" in line and "<GET " in line and "robots.txt" not in line}
    assert fetched == set(EXPECTED["crawl"]["urls"])
    items = read_jsonl(out)
    articles = [i for i in items if "canonical_url" in i]
    ads = [i for i in items if "kind" in i]
    expected_posts = {u for u in EXPECTED["crawl"]["urls"] if "/post/" in u}
    # The feed carries the stored documents: suzhou 532 serves exactly 1873's content, so it is that
    # document's alternate URL, exported once with it.
    assert {a["url"] for a in articles} == expected_posts - {"http://suzhou.021cf.cn/index.php/post/532.html"}
    by_url = {a["url"]: a for a in articles}
    assert by_url["http://kunshanmaigao.021cf.cn/index.php/post/1873.html"]["alt_urls"] == [
        "http://suzhou.021cf.cn/index.php/post/532.html"]
    assert stats.get("replay/miss", 0) == 0
    assert stats["item_valid/article"] == len(expected_posts)
    # Dropped from the feed on purpose, and only those: 532's article and the inline ad's second page
    # (both merged into a document exported once).
    assert stats.get("item_dropped_count", 0) == stats["store/not_exported_merged"] == 2
    # The inline ad on two pages is two items of one document.
    assert len({a["_id"] for a in ads}) == len([a for a in EXPECTED["rental_ads"]
                                                if set(a["seen_on"]) & expected_posts])


@pytest.mark.parametrize("url", [
    "http://suzhou.021cf.cn/zb_system/cmd.php?act=ArticleEdt&id=532",
    "http://suzhou.021cf.cn/zb_system/cmd.php?act=ArticleDel&id=532&csrfToken=x",
    "http://suzhou.021cf.cn/search.php?q=厂房",
    "http://suzhou.021cf.cn/feed.php",
    "http://suzhou.021cf.cn/zb_system/login.php",
    "http://suzhou.021cf.cn/index.php/post/532.html#comments",
    "http://service.weibo.com/share/share.php?url=http://suzhou.021cf.cn/index.php/post/532.html",
    "http://www.example.com/index.php/post/1.html",
])
def test_never_follows_actions_search_feeds_or_other_hosts(url):
    spider = ZblogTpureSpider.from_crawler(get_crawler(ZblogTpureSpider))
    assert spider.request_for(url) is None


def test_any_021cf_subdomain_is_a_site_and_sites_argument_limits_hosts():
    spider = ZblogTpureSpider.from_crawler(get_crawler(ZblogTpureSpider, {}), sites="taicang.021cf.cn")
    assert spider.request_for("http://taicang.021cf.cn/index.php/post/88.html").callback == spider.parse_post
    assert spider.request_for("http://suzhou.021cf.cn/index.php/post/532.html") is None
    assert spider.default_start_urls() == ["http://taicang.021cf.cn/"]
    listing = spider.request_for("http://taicang.021cf.cn/index.php/category-2_3.html")
    assert listing.meta["page_kind"] == "listing"
