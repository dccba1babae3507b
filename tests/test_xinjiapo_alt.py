"""Spider `xinjiapo` on a rendering of the site it was never built for: fixtures/xinjiapo-alt (WordPress).

Other URL scheme (/YYYY/MM/DD/slug/, /category/china/page/2/), other class
names (entry-title, time.entry-date, entry-content), Yoast meta in UTC, a
comment with its own date. The registry's layout hints match none of the
content parts: the spider must classify pages by content, follow only the
中国 channel (the registry's channel filter), store exactly the on-topic
articles with title, date, body, source and editor right, and drop the
off-topic ones on purpose. One real replay crawl in a subprocess (sockets
forbidden), every stored field against the hand-written expected.json.
"""
from __future__ import annotations

import json

import pytest

from kspider.extract import newsportal
from kspider.extract.dates import http_date
from kspider.extract.pagekind import ARTICLE, LISTING, classify_page
from kspider.extract.topic import on_topic, topic_score
from kspider.sites import site_for_host
from tests.support.expected import assert_fields
from tests.test_xinjiapo import ROOT, fixture_response, replay_crawl

SET = ROOT / "fixtures" / "xinjiapo-alt"
EXPECTED = json.loads((SET / "expected.json").read_text(encoding="utf-8"))
SITE = site_for_host(EXPECTED["site"])
ARTICLES = {a["url"]: a for a in EXPECTED["articles"]}
KEPT = {url for url, a in ARTICLES.items() if a["keep"]}
LISTING_URL = "https://xinjiapo.news/category/china/"
FIELDS = ("canonical_url", "site", "site_name", "title", "published_raw", "published_at", "date_precision", "category",
          "author", "editor", "source_name", "source_url", "views", "lang", "content_text", "content_text_hans", "images")
FURNITURE = ("来源：", "责任编辑", "分享此文", "Facebook", "上一篇", "下一篇", "发表回复", "评论", "近期文章",
             "标签", "版权所有", "WordPress", "园区这30年变化太大了")


def parse(url: str):
    response = fixture_response(SET, url)
    return newsportal.parse_article(response.selector, url, http_date(response.headers["Date"]), SITE.tz, SITE.layout,
                                    SITE.boilerplate)


def test_no_layout_hint_matches_these_pages():
    from parsel import Selector

    sel = Selector(text=fixture_response(SET, next(iter(ARTICLES))).text)
    for role in ("article", "title", "date", "body", "category", "breadcrumb"):
        assert not any(sel.css(css) for css in SITE.layout[role]), role
    listing = Selector(text=fixture_response(SET, LISTING_URL).text)
    assert not any(listing.css(css) for css in SITE.layout["listing_links"] + SITE.layout["channel_links"])


@pytest.mark.parametrize("url", sorted(ARTICLES) + [LISTING_URL, LISTING_URL + "page/2/"])
def test_pages_classified_by_content_without_a_prior(url):
    page = classify_page(fixture_response(SET, url).selector, url)
    assert page.kind == (ARTICLE if url in ARTICLES else LISTING)


def test_routes_give_no_prior_for_these_urls():
    from kspider.spiders.xinjiapo import XinjiapoSpider

    spider = XinjiapoSpider()
    assert all(spider.route(url) is None for url in ARTICLES)
    assert spider.route(LISTING_URL + "page/2/") is None


@pytest.mark.parametrize("listing", EXPECTED["listings"], ids=lambda x: x["url"])
def test_listing_links_found_without_selectors(listing):
    got = newsportal.parse_listing(fixture_response(SET, listing["url"]).text, listing["url"], SITE.layout,
                                   channels=SITE.channels)
    assert got.article_urls == listing["article_urls"]
    assert got.next_page_url == listing["next_page_url"]
    # Only the 中国 channel is followed (sports, finance, archives, footer pages are not).
    assert set(got.channel_urls) <= {LISTING_URL}
    assert "listing_links" in got.fallback_fields


@pytest.mark.parametrize("url", sorted(ARTICLES))
def test_topic_filter_on_generic_fields(url):
    got = parse(url)
    score = topic_score(got.title, got.content_text, SITE.topic_keywords)
    assert on_topic(score, SITE.topic_keywords, SITE.topic_min_score) is ARTICLES[url]["keep"]


def test_comment_date_is_not_the_article_date():
    got = parse("https://xinjiapo.news/2024/05/28/sip-30-years-singapore-projects/")
    assert got.published_at == "2024-05-28T17:15:00+08:00"
    assert "园区这30年变化太大了" not in got.content_text
    assert got.fallback_fields[:3] == ["title", "published_at", "content_text"]


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    return replay_crawl("xinjiapo", SET, tmp_path_factory.mktemp("xinjiapo_alt"), ["-a", f"urls={LISTING_URL}"])


def test_crawl_stores_exactly_the_on_topic_articles(crawl):
    assert set(crawl["items"]) == KEPT and len(KEPT) == 4
    assert crawl["count"] == 4
    for url in set(ARTICLES) - KEPT:
        assert f"off-topic, not stored: {url}" in crawl["log"]
    assert crawl["stats"]["topic/dropped"] == 2 and crawl["stats"]["topic/kept"] == 4
    assert crawl["attempts"] == ""
    # robots.txt, the archive and its page 2, six articles; no other channel, archive or page.
    assert crawl["stats"]["replay/hit"] == 9
    assert "replay/miss" not in crawl["stats"]


def test_crawl_items_match_expected(crawl):
    for url, item in crawl["items"].items():
        want = ARTICLES[url]
        assert_fields(item, want, FIELDS)
        assert item["topic_score"] >= SITE.topic_min_score
        assert "layout_fallback" in item["quality_flags"]
        for word in FURNITURE:
            assert word not in item["content_text"], (url, word)
        assert "相关" not in item["content_text"].split("\n")  # the related-posts box heading


def test_crawl_counts_every_fallback(crawl):
    for field in ("title", "published_at", "content_text"):
        assert crawl["stats"][f"extract/fallback/{field}"] == 6, field
    assert "layout fallback: title of https://xinjiapo.news/" in crawl["log"]
