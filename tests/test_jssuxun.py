"""Spider `jssuxun` against the fixture set fixtures/jssuxun (written from seed 002 by another engineer).

Parser tests on every fixture page (the values the cleaning pipeline then
stores, field by field against expected.json), the meta line, the labelled
lines, the GBK page with its charset only in <meta>, and one replay crawl in a
subprocess (sockets forbidden).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import opencc
import pytest

from kspider.extract import newsportal
from kspider.extract.dates import http_date
from kspider.items import Article
from kspider.pipelines.clean import CleaningPipeline
from kspider.sites import site_for_host
from tests.test_xinjiapo import ROOT, bigram_f1, fixture_response, replay_crawl
from tests.support.expected import assert_fields

SET = ROOT / "fixtures" / "jssuxun"
EXPECTED = json.loads((SET / "expected.json").read_text(encoding="utf-8"))
HOST = EXPECTED["site"]
SITE = site_for_host(HOST)
ARTICLES = {a["url"]: a for a in EXPECTED["articles"]}
SEED = "http://www.jssuxun.example/html/2021/szxw_0528/20517.html"
GBK = "http://www.jssuxun.example/html/2021/szxw_0602/20644.html"
NO_EDITOR_LINE = "http://www.jssuxun.example/html/2021/szxw_0608/20783.html"
WITH_IMAGE = "http://www.jssuxun.example/html/2021/szxw_0610/20831.html"

# Furniture of the site, in the forms the pages print it (pinyin artifacts included).
BOILERPLATE = ("原文地址", "客服", "責任編輯", "版權", "免責", "圖片新聞", "熱點資訊", "熱點聚焦", "關注民生",
               "關(guān)注民生", "歡迎投稿", "724922822", "025-86163400", "上一篇", "下一篇", "分隔線", "當前位置",
               "收藏", "挑錯", "Copyright", "ICP")


class _Stats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1) -> None:
        self.values[key] = self.values.get(key, 0) + count


def parse(url: str):
    response = fixture_response(SET, url)
    ref = http_date(response.headers.get("Date"))
    page = newsportal.parse_article(response.text, url, ref, SITE.tz, SITE.layout, SITE.boilerplate)
    return response, page, page.item_fields()


def stored(url: str) -> dict:
    """The article as the spider hands it over, after the cleaning pipeline (what is stored)."""
    _, page, fields = parse(url)
    fields = dict(fields)
    fields["site_name"] = fields["site_name"] or SITE.name
    item = Article(url=url, site=HOST, spider="jssuxun", **fields)
    CleaningPipeline(_Stats()).process_item(item)
    return vars(item)


# --------------------------------------------------------------------------- parser, page by page

@pytest.mark.parametrize("url", sorted(ARTICLES))
def test_article_fields_match_expected(url):
    want = ARTICLES[url]
    got = stored(url)
    for name in ("title", "published_raw", "published_at", "date_precision", "category", "author", "editor",
                 "source_name", "source_url", "views", "images", "site_name", "lang"):
        assert got[name] == want[name], name
    _, page, _ = parse(url)
    assert page.canonical in (None, want["canonical_url"])
    # The site's selectors found every part: nothing came from the generic extractor.
    assert page.fallback_fields == [] and "layout_fallback" not in page.quality_flags


@pytest.mark.parametrize("url", sorted(ARTICLES))
def test_article_body_text_exact_and_clean(url):
    want = ARTICLES[url]
    got = stored(url)
    assert got["content_text"] == want["content_text"]
    assert bigram_f1(got["content_text"], want["content_text"]) >= 0.98
    assert got["content_text_hans"] == want["content_text_hans"]
    assert got["content_text_hans"] == opencc.OpenCC("t2s").convert(got["content_text"])
    flags = sorted(f for f in got["quality_flags"] if f in ("mojibake", "pinyin_stripped"))
    assert flags == sorted(want["quality_flags"])
    for phrase in BOILERPLATE:
        assert phrase not in got["content_text"], phrase
    # No pinyin artifact survives, in the text or the HTML.
    assert "(wǎng)" not in got["content_text"] and "(qū)" not in got["content_text"]
    assert "(wǎng)" not in got["content_html"] and "原文地址" not in got["content_html"]


def test_seed_002_text_as_found_then_cleaned():
    _, page, raw = parse(SEED)
    # The parser hands over the text as found; cleaning happens in the pipeline.
    assert raw["title"] == "投資金額達536億!又有92個項目落戶蘇州高新區(qū)"
    assert raw["content_text"].startswith("渺渺江波里,最是滬蘇情。")
    got = stored(SEED)
    assert got["title"] == "投資金額達536億!又有92個項目落戶蘇州高新區"
    # Encoding damage is kept, and flagged.
    assert "舉行??傆嬘?2個項目簽約" in got["content_text"]
    assert "駐上??傤I事館總領事" in got["content_text"]
    assert "mojibake" in got["quality_flags"] and "pinyin_stripped" in got["quality_flags"]
    # The reporter credit in brackets at the end of the body stays.
    assert got["content_text"].endswith("(蘇報融媒記者 周建越 劉曉平 文/攝)")
    # 【責任編輯:陸超】 names the editor, 原文地址 the source; the meta line's 編輯 is an outlet.
    assert got["editor"] == "陸超"
    assert got["source_url"] == "http://jsnews.jschina.com.cn/sz/a/202105/t20210527_2788810.shtml"
    assert got["source_name"] is None
    assert got["views"] == 0


def test_gbk_page_with_charset_only_in_meta():
    response, _, _ = parse(GBK)
    assert b"charset" not in response.headers.get("Content-Type", b"")
    assert response.encoding in ("gbk", "gb18030")
    got = stored(GBK)
    assert got["title"] == "昆山開發區18個重大項目集中開工 總投資126億元"
    # Real brackets stay: (昆山), (ACM), (2021) are not pinyin.
    assert "中科可控(昆山)信息產業園" in got["content_text"]
    assert "國際計算機學會(ACM)" in got["content_text"]
    assert "重大項目推進計劃(2021)》" in got["content_text"]
    assert got["source_name"] == "昆山日報" and got["editor"] == "王麗" and got["views"] == 356


def test_editor_from_meta_line_when_no_responsibility_line():
    got = stored(NO_EDITOR_LINE)
    assert got["editor"] == "張敏"
    assert got["source_url"] is None
    assert got["source_name"] == "蘇州日報"


def test_body_image_absolute_without_caption():
    got = stored(WITH_IMAGE)
    assert got["images"] == [{"url": "http://www.jssuxun.example/uploads/allimg/210610/1-210610084G2V5.jpg",
                              "caption": None}]
    # The sidebar's 圖片新聞 thumbnails are not body images.
    assert "21052810143K00" not in got["content_html"]


def test_flat_page_of_seed_002_lines_keeps_only_the_article():
    """Another author's markup: all of seed 002 as <p>s in one container, furniture included."""
    slogan = ("關(guān)注民生 服務社會 發(fā)掘真相 傳播價值 感謝您瀏覽江蘇蘇訊網(wǎng)。 歡迎投稿:郵箱724922822@qq.com "
              "客服電話:025-86163400 18061633398")
    title = "投資金額達536億!又有92個項目落戶蘇州高新區(qū)"
    meta = "2021-05-28 10:14 來源: 編輯:中國江蘇網(wǎng) 瀏覽量:0"
    tail = ["原文地址:http://jsnews.jschina.com.cn/sz/a/202105/t20210527_2788810.shtml",
            "江蘇蘇訊網(wǎng)客服:025-86163400", "【責任編輯:陸超】",
            "江蘇蘇訊網(wǎng)版權(quán)及免責聲明:凡本網(wǎng)注明“來源:XXX(非江蘇蘇訊網(wǎng))”的作品,均轉(zhuǎn)載自其它媒體,"
            "轉(zhuǎn)載目的在于傳遞更多信息,並不代表本網(wǎng)贊同其觀點和對其真實性負責。",
            "圖片新聞", "熱點資訊", "熱點聚焦"]
    # The seed's body paragraphs as found on the page (pinyin and damage included), the slogan first and the furniture after.
    body = [slogan] + parse(SEED)[2]["content_text"].split("\n") + tail
    html = ("<html><body><h1>" + title + "</h1><div class='info'>"
            + meta + "</div><div class='article-content'>" + "".join(f"<p>{x}</p>" for x in body)
            + "</div></body></html>")
    ref = datetime(2021, 5, 28, 5, 2, tzinfo=timezone.utc)
    page = newsportal.parse_article(html, SEED, ref, SITE.tz, None, SITE.boilerplate)
    item = Article(url=SEED, site=HOST, spider="jssuxun", **page.item_fields())
    CleaningPipeline(_Stats()).process_item(item)
    assert item.content_text == ARTICLES[SEED]["content_text"]
    assert (item.title, item.published_at, item.editor, item.source_url, item.views) == (
        ARTICLES[SEED]["title"], "2021-05-28T10:14:00+08:00", "陸超",
        "http://jsnews.jschina.com.cn/sz/a/202105/t20210527_2788810.shtml", 0)


# --------------------------------------------------------------------------- meta line and labelled lines

def test_meta_line_of_seed_002():
    meta = newsportal.parse_meta_line("2021-05-28 10:14 來源: 編輯:中國江蘇網(wǎng) 瀏覽量:0")
    assert meta.date_text == "2021-05-28 10:14"
    assert meta.source_name is None  # empty 來源, not the next label
    assert meta.meta_editor == "中國江蘇網(wǎng)"
    assert meta.editor is None
    assert meta.views == 0


def test_meta_line_simplified_labels_and_counts_without_colon():
    meta = newsportal.parse_meta_line("发布时间：2024-01-02 来源：新华社 作者：张三 责任编辑：李四 阅读 1.2万")
    assert (meta.date_text, meta.source_name, meta.author, meta.editor, meta.views) == (
        "2024-01-02", "新华社", "张三", "李四", 12000)


def test_labelled_lines():
    got = newsportal.labelled_lines([
        "正文。", "原文地址:http://www.ksrb.com.cn/html/2021-06/02/content_2107359.htm", "【責任編輯:王麗】"])
    assert got == {"editor": "王麗", "source_url": "http://www.ksrb.com.cn/html/2021-06/02/content_2107359.htm"}
    assert newsportal.labelled_lines(["(蘇報融媒記者 李蘇)"]) == {"editor": None, "source_url": None}


# --------------------------------------------------------------------------- listings and routes

@pytest.mark.parametrize("listing", EXPECTED["listings"], ids=lambda x: x["url"])
def test_listing_links(listing):
    response = fixture_response(SET, listing["url"])
    got = newsportal.parse_listing(response.text, listing["url"], SITE.layout)
    assert got.article_urls == listing["article_urls"]
    assert got.next_page_url == listing["next_page_url"]
    assert "http://www.jssuxun.example/html/szxw/" in got.channel_urls
    # The member area and search are never followed.
    assert not [u for u in got.channel_urls + got.page_urls if "/member/" in u or "search.php" in u]


def test_routes_do_not_depend_on_the_host():
    from kspider.spiders.jssuxun import JssuxunSpider

    spider = JssuxunSpider()
    for host in ("www.jssuxun.example", "www.jssuxun.com"):
        assert spider.route(f"http://{host}/html/2021/szxw_0528/20517.html") == "parse_article"
        assert spider.route(f"http://{host}/html/szxw/") == "parse_listing"
        assert spider.route(f"http://{host}/html/szxw/list_3_2.html") == "parse_listing"
        assert spider.route(f"http://{host}/") == "parse_listing"
    assert spider.route("http://www.jssuxun.example/plus/search.php?q=x") is None


# --------------------------------------------------------------------------- replay crawl

@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    return replay_crawl("jssuxun", SET, tmp_path_factory.mktemp("jssuxun"))


def test_crawl_stores_every_article_once(crawl):
    assert set(crawl["items"]) == set(ARTICLES)
    assert crawl["count"] == 4
    # No topic keywords for this site: nothing dropped, nothing scored.
    assert "topic/dropped" not in crawl["stats"]
    assert all(item["topic_score"] is None for item in crawl["items"].values())
    assert crawl["attempts"] == ""
    # robots.txt, home (once), 蘇州新聞 and its page 2, 4 articles.
    assert crawl["stats"]["replay/hit"] == 8


def test_crawl_items_match_expected(crawl):
    for url, item in crawl["items"].items():
        want = ARTICLES[url]
        assert_fields(item, want)
        assert sorted(f for f in item["quality_flags"] if f in ("mojibake", "pinyin_stripped")) == sorted(
            want["quality_flags"])
