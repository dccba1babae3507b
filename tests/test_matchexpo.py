"""Matchexpo page parsing (kspider.extract.matchexpo) on the fixture pages and on
pages marked up differently, as another author of the site's pages would write them."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from kspider.extract import matchexpo as mx
from kspider.extract.dates import http_date
from kspider.replay.fixtures import FixtureIndex

ROOT = Path(__file__).resolve().parent.parent
SET = ROOT / "fixtures" / "matchexpo"
EXPECTED = json.loads((SET / "expected.json").read_text(encoding="utf-8"))
INDEX = FixtureIndex.load(SET)
REF = http_date(EXPECTED["date_header"])
FIELDS = ("title", "published_at", "date_precision", "published_raw", "views", "likes", "comments",
          "source_name", "lang", "content_text", "alt_urls", "canonical_url")
RAW_ARTICLES = [url for url, exp in EXPECTED["articles"].items() if not exp["needs_browser"]]
# expected.json's names that ArticleResult spells otherwise.
ATTR = {"canonical_url": "canonical"}


def raw(url: str) -> str:
    exchange = INDEX.lookup(url)
    assert exchange is not None, url
    return exchange.body().decode("utf-8")


@pytest.mark.parametrize("url", RAW_ARTICLES)
def test_raw_article_pages_give_every_field(url: str) -> None:
    expected = EXPECTED["articles"][url]
    fields = mx.parse_article(raw(url), url, REF)
    for name in FIELDS:
        assert getattr(fields, ATTR.get(name, name)) == expected[name], name
    assert mx.missing_fields(fields) == []
    # The site readers found every part: nothing came from the generic extractor.
    assert fields.fallback_fields == [] and "layout_fallback" not in fields.quality_flags


def test_seed_article_fields_and_no_furniture() -> None:
    url = "https://www.matchexpo.com/community/article/3279"
    fields = mx.parse_article(raw(url), url, REF)
    assert fields.title == "昆山打造具有全球竞争优势的新兴产业“高地”"
    assert (fields.views, fields.likes, fields.comments) == (3311, 70, 0)
    assert fields.source_name == "引力播"
    assert fields.content_text.startswith("2021年11月9日下午,昆山市新兴产业发展大会举行。")
    assert fields.content_text.endswith("(苏报融媒记者 朱新国 昆山市融媒体中心供图)")
    for furniture in ("{{", "Share", "Give the thumbs-up", "independent opinion", "Follow official account",
                      "文章授权转载自", "Comment area", "Matchexpo"):
        assert furniture not in fields.content_text
    assert "引力播" not in fields.content_html and "<p>" in fields.content_html


def test_language_variants_are_one_document() -> None:
    base = "https://www.matchexpo.com/community/article/3279"
    en = mx.parse_article(raw(base), base, REF)
    tw_url = "https://www.matchexpo.com/tw/community/article/3279"
    tw = mx.parse_article(raw(tw_url), tw_url, REF)
    cn_url = "https://www.matchexpo.com/cn/community/article/3279"
    cn = mx.parse_article(raw(cn_url), cn_url, REF)
    assert en.canonical == tw.canonical == cn.canonical == base
    assert tw.content_text == cn.content_text == en.content_text
    assert tw.alt_urls == en.alt_urls == [cn_url, tw_url]
    # The Traditional/Simplified UI shows the date as 2年前; the data still carries the absolute time.
    assert (tw.published_raw, tw.published_at) == ("2年前", "2021-11-10T09:26:41+08:00")
    lines = tw.content_text.split("\n")
    for furniture in ("分享", "收藏", "點讚", "評論區", "註冊"):
        assert furniture not in lines
    for furniture in ("內容為作者獨立觀點", "關注公眾號", "{{"):
        assert furniture not in tw.content_text
    assert cn.lang == "zh-Hans" and (cn.views, cn.likes) == (3311, 70)


def test_client_rendered_page_needs_the_browser() -> None:
    url = "https://www.matchexpo.com/community/article/3340"
    fields = mx.parse_article(raw(url), url, REF, fallback=False)
    assert fields.title is None and fields.content_text == ""
    assert set(mx.missing_fields(fields)) == {"title", "content_text", "published_at", "counters"}


def test_listing_api_gives_links_and_next_page() -> None:
    data = raw("https://www.matchexpo.com/api/community/articles?page=1&page_size=3&lang=en")
    urls, next_page = mx.parse_listing_api(data, "https://www.matchexpo.com/community")
    assert urls == EXPECTED["listing"]["article_urls"][:3]
    assert next_page == 2
    data2 = raw("https://www.matchexpo.com/api/community/articles?page=2&page_size=3&lang=en")
    assert mx.parse_listing_api(data2, "https://www.matchexpo.com/community") == (
        EXPECTED["listing"]["article_urls"][3:], None)
    assert mx.parse_listing_api("not json", "https://www.matchexpo.com/community") == ([], None)


def test_raw_listing_has_no_links_rendered_listing_has() -> None:
    raw_listing = mx.parse_listing(raw("https://www.matchexpo.com/community"), "https://www.matchexpo.com/community")
    assert raw_listing.article_urls == []
    rendered = """<div id="app"><div class="article-list">
      <a class="article-item" href="/community/article/3351"><h3>Suzhou Industrial Automation Expo 2024</h3></a>
      <a class="article-item" href="/community/article/3340"><h3>太仓港</h3></a>
      <a href="/community/article/3340#comment">3</a></div>
      <div class="pager"><span>1</span><a class="pager__next" href="/community?page=2">Next</a></div>
      <a href="https://www.matchpages.com/">Matchpages</a></div>"""
    listing = mx.parse_listing(rendered, "https://www.matchexpo.com/community")
    assert listing.article_urls == ["https://www.matchexpo.com/community/article/3351",
                                    "https://www.matchexpo.com/community/article/3340"]
    assert listing.page_urls == ["https://www.matchexpo.com/community?page=2"]


# A page as someone else might write it: no h1, other class names, a Chinese UI,
# counters labelled by icon class, the source line inside a plain div, a comment
# list, unrendered templates, and a Unix timestamp in the page data.
OTHER_MARKUP = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<title>嘉定工业区举办长三角智能制造对接会_Matchexpo</title>
<link rel="canonical" href="https://www.matchexpo.com/community/article/4012">
<link rel="alternate" hreflang="zh-Hant" href="https://www.matchexpo.com/tw/community/article/4012">
</head><body><div id="app">
<div class="top-bar"><span>{{ baseUserInfo.curr_enterprise_name }}</span><a>注册</a><a>快速发布</a>
<i>{{ notificationData.all_count > 99 ? 99 : notificationData.all_count }}</i></div>
<div class="news-detail">
  <div class="news-detail-title">嘉定工业区举办长三角智能制造对接会</div>
  <div class="news-detail-info">
    <span class="info-date">3天前</span>
    <span class="info-read"><img class="ico-read" src="/i/read.png">1.2万</span>
    <span class="info-good"><img class="ico-zan" src="/i/zan.png">128</span>
    <span class="info-reply"><img class="ico-comment" src="/i/c.png">6</span>
  </div>
  <div class="news-detail-body">
    <div>1月12日,嘉定工业区长三角智能制造对接会在嘉定举行,60余家企业参加。</div>
    <div>对接会发布了区内12处可租赁标准厂房信息,单层厂房层高9米。</div>
    <div>文章授权转载自“上海嘉定”</div>
  </div>
  <div class="news-detail-ops"><span>分享</span><span>收藏</span><span>已收藏</span><span>点赞</span><span>已点赞</span></div>
  <div class="news-detail-tip">内容为作者独立观点，不代表Matchexpo立场，未经允许不得转载</div>
  <div class="comments"><div class="c-item">好消息,关注一下嘉定的厂房。</div></div>
</div>
<div class="site-foot">Matchexpo是中国会展活动社区平台，提供展览、活动、展会的核心功能 <span>关注公众号</span></div>
</div>
<script>var pageData = {"article_id": 4012, "publishTime": 1705028400, "view_num": 12000};</script>
</body></html>"""


def test_other_markup_page() -> None:
    url = "https://www.matchexpo.com/community/article/4012"
    fields = mx.parse_article(OTHER_MARKUP, url, REF)
    assert fields.title == "嘉定工业区举办长三角智能制造对接会"
    assert fields.content_text == (
        "1月12日,嘉定工业区长三角智能制造对接会在嘉定举行,60余家企业参加。\n"
        "对接会发布了区内12处可租赁标准厂房信息,单层厂房层高9米。"
    )
    assert fields.source_name == "上海嘉定"
    # 1705028400 = 2024-01-12 11:00:00 +08:00; the shown text stays the raw form.
    assert (fields.published_at, fields.date_precision, fields.published_raw) == (
        "2024-01-12T11:00:00+08:00", "second", "3天前")
    assert (fields.views, fields.likes, fields.comments) == (12000, 128, 6)
    assert fields.lang == "zh-Hans"
    assert fields.alt_urls == ["https://www.matchexpo.com/tw/community/article/4012"]


# The seed's own shape: everything in unlabelled divs, the relative date in the
# site's English ("2 Last year"), counters unlabelled, no data timestamp.
SEED_SHAPE = """<html><head><title>Matchexpo</title></head><body><div id="app">
<div><div>Register {{ baseUserInfo.curr_enterprise_name }}</div><div>Quick publish</div></div>
<div class="main"><h1>昆山打造具有全球竞争优势的新兴产业“高地”</h1>
<div><span>2 Last year</span><span>3,311</span><span>70</span><span>0</span><span>Comment area</span></div>
<div><p>2021年11月9日下午,昆山市新兴产业发展大会举行。</p><p>大会期间,98个新兴产业项目签约落地。</p>
<p>文章授权转载自“引力播”客户端</p></div>
<div><span>Share</span><span>Collection</span><span>Collected</span><span>Give the thumbs-up</span><span>Liked</span></div>
<p>The content is the author's independent opinion, does not represent the position of Matchexpo, and cannot be reproduced without permission</p>
<div>0</div></div>
<div>Matchexpo is an exhibition community platform for event &amp; fair community in China</div>
</div></body></html>"""


def test_seed_shaped_page_relative_date_and_positional_counters() -> None:
    url = "https://www.matchexpo.com/community/article/3279"
    ref = datetime(2024, 1, 16, 3, 12, 45, tzinfo=timezone.utc)
    fields = mx.parse_article(SEED_SHAPE, url, ref)
    assert fields.content_text == "2021年11月9日下午,昆山市新兴产业发展大会举行。\n大会期间,98个新兴产业项目签约落地。"
    assert (fields.views, fields.likes, fields.comments) == (3311, 70, 0)
    # "2 Last year" is the site's word-for-word 2年前: two years before the response Date.
    assert (fields.published_at, fields.date_precision, fields.published_raw) == (
        "2022-01-16T11:12:45+08:00", "approx", "2 Last year")
    assert fields.source_name == "引力播"
    assert fields.canonical is None and fields.alt_urls == []


def test_bad_input_gives_empty_fields() -> None:
    for html in ("", "   ", "<html></html>", b"\xff\xfe"):
        fields = mx.parse_article(html, "https://www.matchexpo.com/community/article/1", REF)
        assert fields.title is None and fields.content_text == "" and fields.published_at is None
    assert mx.parse_listing("", "https://www.matchexpo.com/community").article_urls == []


def test_parts_the_readers_miss_come_from_the_generic_extractor_flagged() -> None:
    """A rendered page whose headline is neither an h1 nor in og:title or <title> (which names
    only the site): the generic extractor supplies it, and the result says so."""
    page = OTHER_MARKUP.replace("<title>嘉定工业区举办长三角智能制造对接会_Matchexpo</title>", "<title>Matchexpo</title>")
    url = "https://www.matchexpo.com/community/article/4012"
    hinted = mx.parse_article(page, url, REF, fallback=False)
    assert hinted.title is None and mx.missing_fields(hinted) == ["title"]
    merged = mx.fill_fallback(hinted, page, url, REF)
    assert merged.title == "嘉定工业区举办长三角智能制造对接会"
    assert merged.fallback_fields == ["title"] and "layout_fallback" in merged.quality_flags
    # What the readers found stays theirs.
    assert merged.published_at == "2024-01-12T11:00:00+08:00" and merged.source_name == "上海嘉定"
    assert (merged.views, merged.likes, merged.comments) == (12000, 128, 6)
    assert merged.content_text.startswith("1月12日,嘉定工业区长三角智能制造对接会在嘉定举行")
