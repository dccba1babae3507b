"""Spider `021cf` on pages served by the real engine (Z-BlogPHP 1.7.5 + tpure 5.0.2).

The fixture set fixtures/021cf-real was recorded with RECORD_DIR from two sites
installed with the engine's own installer; the truth (expected.json) is written
from the content entered into them, not from the parser.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

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
from tests.test_021cf import AD_FIELDS, ARTICLE_FIELDS, bigram_f1
from tests.test_replay import ROOT, read_jsonl, run_scrapy

FIXTURES = ROOT / "fixtures" / "021cf-real"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
POSTS = {p["url"]: p for p in EXPECTED["posts"]}
KS = "http://kunshanmaigao.021cf.cn"
TC = "http://taicang.021cf.cn"
# Every headline pasted into a post by the reposting (none of them is body text).
PASTED_HEADLINES = [
    "欧洲央行宣布维持三大关键利率不变", "第十五届中国航展在珠海开幕", "多地迎来今冬首场降雪", "国产大型邮轮完成第二次商业航行",
    "世界杯预选赛国足客场战平对手", "秋冬季流感进入高发期", "北方多地供暖提前启动", "一颗小行星将于本周末掠过地球",
    "东盟博览会在南宁闭幕", "全国铁路迎来冬季运输高峰", "南极科考队出发", "哈尔滨冰雪大世界开园", "买断式逆回购操作",
    "新版国家医保药品目录公布",
]


@pytest.fixture(scope="module")
def index() -> FixtureIndex:
    return FixtureIndex.load(FIXTURES)


@pytest.fixture(scope="module")
def spider_and_stats():
    crawler = get_crawler(ZblogTpureSpider)
    spider = ZblogTpureSpider.from_crawler(crawler)
    crawler.spider = spider
    return spider, crawler, CleaningPipeline.from_crawler(crawler)


def _run(spider_and_stats, index, url):
    spider, _, clean = spider_and_stats
    items = [clean.process_item(i) for i in spider.parse_post(replay_response(index, Request(url)))
             if isinstance(i, (Article, RentalAd))]
    assert all(not validation_errors(i) for i in items), url
    articles = [ItemAdapter(i).asdict() for i in items if isinstance(i, Article)]
    ads = [ItemAdapter(i).asdict() for i in items if isinstance(i, RentalAd)]
    return articles, ads


@pytest.fixture(scope="module")
def parsed(spider_and_stats, index) -> dict[str, tuple[dict, list[dict]]]:
    out = {}
    for url in POSTS:
        articles, ads = _run(spider_and_stats, index, url)
        assert len(articles) == 1, url
        out[url] = (articles[0], ads)
    return out


@pytest.mark.parametrize("url", sorted(POSTS))
def test_post_fields_exact(parsed, url):
    article, _ = parsed[url]
    want = POSTS[url]
    wrong = {f: (article[f], want[f]) for f in ARTICLE_FIELDS + ("editor", "source_url")
             if f in want and article[f] != want[f]}
    assert not wrong, wrong


@pytest.mark.parametrize("url", sorted(POSTS))
def test_body_f1_and_no_inserted_text(parsed, url):
    article, _ = parsed[url]
    text = article["content_text"]
    assert bigram_f1(text, POSTS[url]["content_text"]) >= 0.99
    for removed in POSTS[url]["removed_text"]:
        assert removed not in text, removed
    for headline in PASTED_HEADLINES:
        assert headline not in text, headline
    for marker in ("版权声明", "本文链接", "扫描二维码", "分享给朋友", "免责声明", "责任编辑", "许可证", "葛毅明", "招商引资指定载体"):
        assert marker not in text, marker


def test_lazy_loaded_images_give_the_real_url(parsed):
    article, _ = parsed[f"{KS}/index.php/post/3.html"]
    assert article["images"] == [{"url": f"{KS}/zb_users/upload/2023/11/20231120_qianyue01.jpg",
                                  "caption": "签约活动现场。高新区供图"}]
    assert "lazyload.png" not in article["content_html"]
    assert 'src="http://kunshanmaigao.021cf.cn/zb_users/upload/2023/11/20231120_qianyue01.jpg"' in article["content_html"]
    # The QR codes of the contact block are not body images.
    assert all("qr" not in image["url"] for a, _ in parsed.values() for image in a["images"])


def test_own_numbered_list_is_kept(parsed):
    article, _ = parsed[f"{KS}/index.php/post/5.html"]
    for item in ("一、盘活存量低效工业用地", "三、允许标准厂房分割转让", "五、对入驻企业给予租金补贴"):
        assert item in article["content_text"].split("\n")


def test_every_relative_date_form(parsed):
    by_raw = {a["published_raw"]: (a["published_at"], a["date_precision"]) for a, _ in parsed.values()}
    assert by_raw["34秒前"] == ("2026-12-02T06:28:25+08:00", "approx")
    assert by_raw["25分钟前"] == ("2026-12-02T06:03:59+08:00", "approx")
    assert by_raw["3小时前"] == ("2026-12-02T03:28:59+08:00", "approx")
    assert by_raw["5天前"] == ("2026-11-27T06:28:59+08:00", "approx")
    assert by_raw["2周前 (11-17)"] == ("2026-11-17T00:00:00+08:00", "day")
    assert by_raw["3周前 (11-10)"] == ("2026-11-10T00:00:00+08:00", "day")
    assert by_raw["2个月前 (09-28)"] == ("2026-09-28T00:00:00+08:00", "day")
    assert by_raw["5个月前 (06-30)"] == ("2026-06-30T00:00:00+08:00", "day")
    assert by_raw["1年前 (2025-10-28)"] == ("2025-10-28T00:00:00+08:00", "day")
    assert by_raw["3年前 (2023-11-23)"] == ("2023-11-23T00:00:00+08:00", "day")


def test_site_name_title_and_breadcrumb_of_the_real_theme(parsed):
    article, _ = parsed[f"{KS}/index.php/post/7.html"]
    assert article["site_name"] == "昆山厂房出租网"
    assert article["title"] == "昆山千灯 工业土地出售 35亩 三通一平"
    assert article["breadcrumbs"] == ["昆山厂房出租", "昆山工业用地"]
    assert parsed[f"{TC}/index.php/post/3.html"][0]["site_name"] == "太仓厂房网"


def test_rental_ads_fields(parsed):
    got = {}
    for url, (_, ads) in parsed.items():
        for ad in ads:
            got[(ad["kind"], ad["seen_on"][0])] = ad
    assert len(got) == len(EXPECTED["rental_ads"])
    for want in EXPECTED["rental_ads"]:
        ad = got[(want["kind"], want["seen_on"][0])]
        wrong = {f: (ad[f], want[f]) for f in AD_FIELDS if ad[f] != want[f]}
        assert not wrong, (want["seen_on"], wrong)


def test_labelled_type_wins_over_title_words(parsed):
    ads = {ad["seen_on"][0]: ad for _, ads in parsed.values() for ad in ads}
    assert ads[f"{KS}/index.php/post/7.html"]["property_type"] == "工业用地"  # title says 工业土地
    assert ads[f"{KS}/index.php/post/6.html"]["property_type"] == "独栋厂房"  # title says 厂房


@pytest.mark.parametrize("url", EXPECTED["not_posts"])
def test_non_post_pages_are_not_articles(spider_and_stats, index, url):
    _, crawler, _ = spider_and_stats
    before = crawler.stats.get_value("page/not_post", 0)
    articles, ads = _run(spider_and_stats, index, url)
    assert articles == [] and ads == []
    assert crawler.stats.get_value("page/not_post") == before + 1


def test_page_kinds(index):
    kinds = {url: tpure.page_kind(replay_response(index, Request(url)).text) for url in (
        f"{KS}/index.php/post/3.html", f"{KS}/index.php/2.html", f"{KS}/index.php/10.html", f"{KS}/",
        f"{KS}/index.php/category-2.html", f"{KS}/index.php/tags-1.html", f"{KS}/search.php?q=%E5%8E%82%E6%88%BF")}
    assert kinds == {
        f"{KS}/index.php/post/3.html": "article", f"{KS}/index.php/2.html": "page", f"{KS}/index.php/10.html": "page",
        f"{KS}/": "index", f"{KS}/index.php/category-2.html": "category", f"{KS}/index.php/tags-1.html": "tag",
        f"{KS}/search.php?q=%E5%8E%82%E6%88%BF": "search",
    }


@pytest.mark.parametrize("listing", EXPECTED["listings"], ids=lambda l: l["url"])
def test_listing_pages(index, listing):
    response = replay_response(index, Request(listing["url"]))
    parsed_listing = tpure.parse_listing(response.text, listing["url"])
    assert parsed_listing.post_urls == listing["post_urls"]
    assert parsed_listing.page_urls == listing["page_urls"]


def test_pagebar_home_link_is_routed():
    spider = ZblogTpureSpider.from_crawler(get_crawler(ZblogTpureSpider))
    assert spider.route(f"{KS}/index.php/") == "parse_listing"
    assert spider.route(f"{KS}/index.php/2.html") == "parse_post"
    assert spider.route(f"{KS}/?id=2") == "parse_post"
    assert spider.route(f"{KS}/index.php/author-1_2.html") == "parse_listing"


def test_full_replay_crawl(tmp_path):
    """From the two home pages: every post stored once, no engine page stored, no unrouted pagebar link."""
    out, stats_file = tmp_path / "out.jsonl", tmp_path / "stats.json"
    proc = run_scrapy(
        ["crawl", "021cf", "-a", f"urls={KS}/,{TC}/", "-s", f"REPLAY_DIR={FIXTURES}",
         "-s", f"EMBEDDED_DB_DIR={tmp_path / 'db'}", "-s", f"STATS_FILE={stats_file}", "-O", str(out)],
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    stats = json.loads(stats_file.read_text())
    items = read_jsonl(out)
    articles = sorted(i["url"] for i in items if "canonical_url" in i)
    assert articles == sorted(POSTS)
    assert stats.get("replay/miss", 0) == 0
    assert stats.get("route/unrouted", 0) == 0
    # 留言本 and 联系我们 on both sites, 关于我们/标签云/文章归档 on kunshanmaigao
    assert stats["page/not_post"] == 6
    assert len({i["_id"] for i in items if "kind" in i}) == len(EXPECTED["rental_ads"])


def test_missed_selectors_fall_back_to_the_generic_extractor(spider_and_stats, index):
    """A theme version whose body and headline the tpure selectors do not know: the generic
    extractor supplies them, the item is flagged and the fallback counted."""
    _, crawler, _ = spider_and_stats
    spider = crawler.spider
    url = f"{KS}/index.php/post/4.html"
    response = replay_response(index, Request(url))
    html = response.text.replace('<div class="single viewall">', '<div class="entry-content">')
    html = html.replace("<h1>", '<h2 class="entry-title">').replace("</h1>", "</h2>")
    before = {k: crawler.stats.get_value(f"extract/fallback/{k}", 0) for k in ("title", "content_text", "published_at")}
    items = list(spider.parse_post(response.replace(body=html.encode("utf-8"))))
    article = next(ItemAdapter(i).asdict() for i in items if isinstance(i, Article))
    assert "layout_fallback" in article["quality_flags"]
    assert article["title"] == "昆山开发区前三季度工业投资同比增长15.2%"
    assert "开发区完成工业投资218亿元" in article["content_text"]
    assert article["published_at"] == "2026-09-28T00:00:00+08:00"  # the theme's date still read
    assert crawler.stats.get_value("extract/fallback/content_text") == before["content_text"] + 1
    assert crawler.stats.get_value("extract/fallback/title") == before["title"] + 1
    assert crawler.stats.get_value("extract/fallback/published_at", 0) == before["published_at"]


def test_known_markup_needs_no_fallback(parsed):
    for article, _ in parsed.values():
        assert "layout_fallback" not in article["quality_flags"]


def test_listing_of_another_list_style_still_gives_its_posts(index):
    """The theme's album list style (no h2 per post): post links read from the main column."""
    html = replay_response(index, Request(f"{TC}/")).text
    html = html.replace('<div class="post item">', '<div class="albumitem">').replace("<h2>", "<h3>").replace("</h2>", "</h3>")
    listing = tpure.parse_listing(html, f"{TC}/")
    assert listing.post_urls == [f"{TC}/index.php/post/{i}.html" for i in (3, 6, 4)]


def test_source_line_gives_source_name(index):
    html = replay_response(index, Request(f"{KS}/index.php/post/5.html")).text
    html = html.replace("<p>【责任编辑:李明】</p>", "<p>来源：昆山日报</p>\n<p>【责任编辑:李明】</p>")
    post = tpure.parse_post(html, f"{KS}/index.php/post/5.html", datetime(2026, 12, 1, 22, 28, 59, tzinfo=timezone.utc))
    assert post.result.source_name == "昆山日报" and post.result.editor == "李明"
