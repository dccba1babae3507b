"""Spider `jssuxun` on a rendering of the site it was never built for: fixtures/jssuxun-alt (PHPCMS V9).

Other URL scheme (``index.php?m=content&c=index&a=lists&catid=12``), other
class names, the meta line inside the ``<h1>``, GBK. The registry's layout
hints match none of the content parts: the spider must accept the start URL,
classify pages by content, find the list and the pager without selectors, and
read every article through the generic extractor, flagging and counting each
fallback. One real replay crawl in a subprocess (sockets forbidden), every
stored field against the hand-written expected.json.
"""
from __future__ import annotations

import json

import opencc
import pytest

from kspider.extract import newsportal
from kspider.extract.dates import http_date
from kspider.extract.ids import canonical_url
from kspider.extract.pagekind import ARTICLE, LISTING, classify_page
from kspider.sites import site_for_host
from tests.support.expected import assert_fields
from tests.test_xinjiapo import ROOT, fixture_response, replay_crawl

SET = ROOT / "fixtures" / "jssuxun-alt"
EXPECTED = json.loads((SET / "expected.json").read_text(encoding="utf-8"))
SITE = site_for_host(EXPECTED["site"])
ARTICLES = {a["url"]: a for a in EXPECTED["articles"]}
LISTING_URL = "http://www.jssuxun.example/index.php?m=content&c=index&a=lists&catid=12"
FIELDS = ("canonical_url", "site", "site_name", "title", "published_raw", "published_at", "date_precision", "category",
          "author", "editor", "source_name", "source_url", "views", "lang", "content_text", "content_text_hans", "images")
# Furniture of these pages: the h1's meta line, the 責任編輯 line, PHPCMS boxes, sidebar and footer.
FURNITURE = ("來源：", "評論：", "點擊：", "責任編輯", "相關閱讀", "相關熱詞", "上一篇", "下一篇", "上一頁", "下一頁", "排行",
             "Powered", "PHPCMS", "ICP", "版權所有", "關注民生")
SPLIT = "http://www.jssuxun.example/index.php?m=content&c=index&a=show&catid=12&id=3605"  # three pages


def test_no_layout_hint_matches_these_pages():
    from parsel import Selector

    page = fixture_response(SET, next(iter(ARTICLES))).text
    sel = Selector(text=page)
    for role in ("article", "title", "date", "meta"):
        assert not any(sel.css(css) for css in SITE.layout[role]), role
    # The body hint (div.content) matches the header's announcement box: outside the hinted
    # article region it must not be taken for the body.
    assert sel.css(SITE.layout["body"][0])
    listing = Selector(text=fixture_response(SET, LISTING_URL).text)
    assert not any(listing.css(css) for css in SITE.layout["listing_links"] + SITE.layout["channel_links"])


@pytest.mark.parametrize("url", sorted(ARTICLES) + [LISTING_URL, LISTING_URL + "&page=2", "http://www.jssuxun.example/"])
def test_pages_classified_by_content_without_a_prior(url):
    page = classify_page(fixture_response(SET, url).selector, url)
    assert page.kind == (ARTICLE if url in ARTICLES else LISTING)


@pytest.mark.parametrize("listing", EXPECTED["listings"], ids=lambda x: x["url"][-20:])
def test_listing_links_found_without_selectors(listing):
    got = newsportal.parse_listing(fixture_response(SET, listing["url"]).text, listing["url"], SITE.layout,
                                   channels=SITE.channels)
    assert got.article_urls == listing["article_urls"]
    assert got.next_page_url == listing["next_page_url"]
    # The channel filter of the registry still applies: 蘇州新聞 only, none of the other channels
    # (on page 2 its link is the pager's page 1 too).
    assert set(got.channel_urls) <= {LISTING_URL} and LISTING_URL in got.channel_urls + got.page_urls
    assert {"listing_links", "page_links"} <= set(got.fallback_fields)


@pytest.mark.parametrize("url", sorted(ARTICLES))
def test_parser_falls_back_and_says_so(url):
    response = fixture_response(SET, url)
    got = newsportal.parse_article(response.selector, url, http_date(response.headers["Date"]), SITE.tz, SITE.layout,
                                   SITE.boilerplate)
    assert "layout_fallback" in got.quality_flags
    assert {"title", "published_at", "content_text", "source_name"} <= set(got.fallback_fields)
    assert got.published_at == ARTICLES[url]["published_at"]


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    return replay_crawl("jssuxun", SET, tmp_path_factory.mktemp("jssuxun_alt"), ["-a", f"urls={LISTING_URL}"])


def test_crawl_accepts_the_unknown_start_url_and_stores_every_article(crawl):
    assert "is not a page of spider" not in crawl["log"]
    assert "route/bad_start_url" not in crawl["stats"]
    assert set(crawl["items"]) == set(ARTICLES)
    assert crawl["count"] == len(ARTICLES) == 7
    assert crawl["attempts"] == ""
    # robots.txt, the listing and its page 2, seven articles and the two later pages of the split one:
    # nothing else fetched (no other channel, no home).
    assert crawl["stats"]["replay/hit"] == 12
    assert "replay/miss" not in crawl["stats"]
    assert crawl["stats"]["page_kind/article"] == 7 and crawl["stats"]["page_kind/listing"] == 2


def test_crawl_items_match_expected(crawl):
    for url, item in crawl["items"].items():
        want = ARTICLES[url]
        assert_fields(item, want, FIELDS)
        assert item["content_text_hans"] == opencc.OpenCC("t2s").convert(item["content_text"])
        assert "layout_fallback" in item["quality_flags"]
        assert ("pinyin_stripped" in item["quality_flags"]) is ("pinyin_stripped" in want["quality_flags"])
        for word in FURNITURE:
            assert word not in item["content_text"], (url, word)


def test_crawl_counts_and_logs_every_fallback(crawl):
    stats = crawl["stats"]
    for field in ("title", "published_at", "content_text", "source_name"):
        assert stats[f"extract/fallback/{field}"] == 7, field
    assert stats["extract/fallback/listing_links"] == 2
    some = next(iter(ARTICLES))
    assert f"layout fallback: content_text of {some} read by the generic extractor" in crawl["log"]


def test_crawl_from_the_home_page_follows_only_the_filtered_channel(tmp_path):
    """From the home page: its 蘇州新聞 box and channel link are followed; the 江蘇新聞 box's
    articles and the other channels are not (the registry's channel filter)."""
    got = replay_crawl("jssuxun", SET, tmp_path, ["-a", "urls=http://www.jssuxun.example/"])
    assert set(got["items"]) == set(ARTICLES)
    assert "replay/miss" not in got["stats"]
    assert "catid=9" not in got["log"]


# --------------------------------------------------------------------------- an article split over pages

def test_split_article_page_bar_read_from_the_hint():
    from kspider.extract.multipage import next_article_page

    hint = SITE.layout["article_pages"]
    seen: list[str] = []
    order = []
    url = SPLIT
    while url:
        order.append(url)
        page = fixture_response(SET, url).selector
        seen.append(canonical_url(url))
        url = next_article_page(page, order[-1], hint, seen)
    assert order == ARTICLES[SPLIT]["pages"] == [SPLIT, SPLIT + "&page=2", SPLIT + "&page=3"]
    # one-page articles: the bar is there but empty
    one = "http://www.jssuxun.example/index.php?m=content&c=index&a=show&catid=12&id=3601"
    assert next_article_page(fixture_response(SET, one).selector, one, hint, []) is None


def test_split_article_without_the_hint_is_page_one_flagged():
    response = fixture_response(SET, SPLIT)
    got = newsportal.parse_article(response.selector, SPLIT, http_date(response.headers["Date"]), SITE.tz,
                                   {k: v for k, v in SITE.layout.items() if k != "article_pages"}, SITE.boilerplate)
    assert "multi_page" in got.quality_flags
    assert got.content_text == "\n".join(ARTICLES[SPLIT]["content_text"].split("\n")[:4])
    assert got.editor is None  # the 責任編輯 line is on page 3


def test_crawl_joins_the_split_article(crawl):
    item = crawl["items"][SPLIT]
    want = ARTICLES[SPLIT]
    assert item["content_text"] == want["content_text"]
    assert item["editor"] == "沈佳" and item["source_name"] == "太倉日報"
    assert item["published_at"] == "2021-06-17T15:30:08+08:00"
    assert "multi_page" not in item["quality_flags"]
    assert crawl["stats"]["article/pages_joined"] == 1
    assert "article/pages_missing" not in crawl["stats"]
    # the later pages are no articles of their own, and page 1 giving none is no drift
    assert SPLIT + "&page=2" not in crawl["items"] and SPLIT + "&page=3" not in crawl["items"]
    assert crawl["stats"]["template/post_pages_skipped/article_continues"] == 2
    assert "template/post_pages_without_article" not in crawl["stats"]


def test_split_article_with_a_lost_page_is_stored_flagged(tmp_path):
    """Page 3 gone (404): the article is stored with pages 1 and 2, flagged multi_page, counted, logged."""
    import shutil

    lost = tmp_path / "set"
    shutil.copytree(SET, lost)
    manifest = lost / "manifest.jsonl"
    lines = [line for line in manifest.read_text(encoding="utf-8").splitlines() if "id=3605&page=3" not in line]
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    got = replay_crawl("jssuxun", lost, tmp_path, ["-a", f"urls={LISTING_URL}"])
    item = got["items"][SPLIT]
    assert item["content_text"] == "\n".join(ARTICLES[SPLIT]["content_text"].split("\n")[:7])
    assert "multi_page" in item["quality_flags"]
    assert item["editor"] is None
    assert got["stats"]["article/pages_missing"] == 1
    assert "article/pages_joined" not in got["stats"]
    assert f"article {SPLIT}: page 3 ({SPLIT}&page=3) not fetched; stored with its first 2 page(s)" in got["log"]
    assert got["count"] == 7


def test_split_article_with_an_empty_later_page_is_stored_flagged(tmp_path):
    """Page 2 served without its body (the paragraphs gone): pages 1 and 3 stored, flagged, counted, logged."""
    import re
    import shutil

    broken = tmp_path / "set"
    shutil.copytree(SET, broken)
    page2 = broken / "www.jssuxun.example" / "show-12-3605-2.html"
    html = page2.read_bytes().decode("gbk")
    page2.write_bytes(re.sub(r"<p>\u3000\u3000[^<]*</p>\n?", "", html).encode("gbk"))
    got = replay_crawl("jssuxun", broken, tmp_path, ["-a", f"urls={LISTING_URL}"])
    item = got["items"][SPLIT]
    lines = ARTICLES[SPLIT]["content_text"].split("\n")
    assert item["content_text"] == "\n".join(lines[:4] + lines[7:])
    assert item["editor"] == "沈佳"
    assert "multi_page" in item["quality_flags"]
    assert got["stats"]["article/pages_empty"] == 1
    assert "article/pages_joined" not in got["stats"]
    assert f"article {SPLIT}: page 2 ({SPLIT}&page=2) shows no body text" in got["log"]
