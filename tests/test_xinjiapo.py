"""Spider `xinjiapo` against the fixture set fixtures/xinjiapo (written from seed 004 by another engineer).

Pure parser tests on every fixture page, field by field against expected.json;
the year inference of the weekday date line; the topic filter; one replay
crawl through the real download stack in a subprocess (sockets forbidden).
"""
from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

import pytest
from scrapy.http import HtmlResponse

from kspider.extract import newsportal
from kspider.extract.dates import http_date
from kspider.extract.text import clean_text
from kspider.extract.topic import on_topic, topic_score
from kspider.sites import site_for_host
from tests.support.expected import assert_fields

ROOT = Path(__file__).resolve().parent.parent
SET = ROOT / "fixtures" / "xinjiapo"
EXPECTED = json.loads((SET / "expected.json").read_text(encoding="utf-8"))
SITE = site_for_host("xinjiapo.news")


# --------------------------------------------------------------------------- helpers (shared with test_jssuxun)

def manifest(set_dir: Path) -> dict[str, dict]:
    lines = (set_dir / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    return {rec["url"]: rec for rec in (json.loads(line) for line in lines if line.strip())}


def fixture_response(set_dir: Path, url: str) -> HtmlResponse:
    """The recorded response for a URL, decoded the way Scrapy decodes it (headers, then <meta>)."""
    rec = manifest(set_dir)[url]
    return HtmlResponse(url, status=rec["status"], headers=rec["headers"], body=(set_dir / rec["body"]).read_bytes())


def bigram_f1(got: str, want: str) -> float:
    """Character-bigram F1 of two texts (whitespace ignored)."""
    def grams(text: str) -> Counter:
        text = "".join(text.split())
        return Counter(text[i:i + 2] for i in range(len(text) - 1))

    a, b = grams(got), grams(want)
    if not a or not b:
        return 1.0 if a == b else 0.0
    overlap = sum((a & b).values())
    precision, recall = overlap / sum(a.values()), overlap / sum(b.values())
    return 0.0 if overlap == 0 else 2 * precision * recall / (precision + recall)


def item_pipelines_arg() -> list[str]:
    """The default pipelines when the storage pipeline imports; else cleaning + validation only."""
    try:
        importlib.import_module("kspider.pipelines.store")
        return []
    except Exception:  # the storage pipeline is another engineer's work in progress
        return ["-s", 'ITEM_PIPELINES={"kspider.pipelines.clean.CleaningPipeline":100,'
                      '"kspider.pipelines.validate.ValidationPipeline":300}']


def replay_crawl(spider: str, set_dir: Path, tmp: Path, extra: Optional[list[str]] = None) -> dict[str, Any]:
    """One `scrapy crawl` from a fixture set in a subprocess, every socket forbidden."""
    out, stats, attempts = tmp / "out.jsonl", tmp / "stats.json", tmp / "attempts.txt"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for name in ("REPLAY_DIR", "RECORD_DIR", "MONGO_URI", "http_proxy", "HTTP_PROXY", "STATS_FILE"):
        env.pop(name, None)
    cmd = [sys.executable, "-m", "tests.support.nosocket", str(attempts), "crawl", spider,
           "-s", f"REPLAY_DIR={set_dir}", "-s", f"EMBEDDED_DB_DIR={tmp / 'db'}", "-s", f"STATS_FILE={stats}",
           "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-O", str(out)]
    cmd += item_pipelines_arg() + (extra or [])
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {"items": {i["url"]: i for i in items}, "count": len(items), "stats": json.loads(stats.read_text()),
            "attempts": attempts.read_text(), "log": proc.stderr}


# --------------------------------------------------------------------------- parser, page by page

ARTICLES = {a["url"]: a for a in EXPECTED["articles"]}
BOILERPLATE = ("上一篇新闻", "下一篇新闻", "评论", "订阅每日新闻", "以免错过", "热门新闻", "分享", "Facebook",
               "复制链接", "暂无评论", "发表评论", "版权所有", "关注我们", "扫码关注", "首页", "没有了", "•")


def parse(url: str, date_header: Optional[str] = None):
    response = fixture_response(SET, url)
    ref = http_date(date_header or response.headers.get("Date"))
    page = newsportal.parse_article(response.text, url, ref, SITE.tz, SITE.layout, SITE.boilerplate)
    return page, page.item_fields()


@pytest.mark.parametrize("url", sorted(ARTICLES))
def test_article_fields_match_expected(url):
    want = ARTICLES[url]
    page, got = parse(url)
    for name in ("title", "published_raw", "published_at", "date_precision", "category", "author", "editor",
                 "source_name", "source_url", "views", "images"):
        assert got[name] == want[name], name
    assert page.canonical == want["canonical_url"]
    assert newsportal.nav_links(fixture_response(SET, url).text, url, SITE.layout) == [
        u for u in (want["prev_url"], want["next_url"]) if u]
    # The site's selectors found every part: nothing came from the generic extractor.
    assert page.fallback_fields == [] and "layout_fallback" not in page.quality_flags
    assert got["site_name"] == want["site_name"] == "新加坡眼"


@pytest.mark.parametrize("url", sorted(ARTICLES))
def test_article_body_text_exact_and_clean(url):
    want = ARTICLES[url]
    _, got = parse(url)
    cleaned = clean_text(got["content_text"], SITE)
    assert cleaned.text == want["content_text"]
    assert bigram_f1(cleaned.text, want["content_text"]) >= 0.98
    assert cleaned.lang == want["lang"] == "zh-Hans"
    assert cleaned.text_hans is None
    assert sorted(f for f in cleaned.flags if f in ("mojibake", "pinyin_stripped")) == sorted(want["quality_flags"])
    for phrase in BOILERPLATE:
        assert phrase not in cleaned.text, phrase
    # Neither neighbour's title (the previous/next links) nor the sidebar's hot list is body text.
    for other in ARTICLES.values():
        if other["url"] != url:
            assert other["title"] not in cleaned.text


def test_seed_004_body_keeps_subheads_and_drops_furniture():
    _, got = parse("https://xinjiapo.news/news/41528")
    lines = got["content_text"].split("\n")
    assert lines[0].startswith("25年前,中国和新加坡两国政府在苏州东部合作开发建设苏州工业园区")
    assert "新姿态:高起点谋划开放合作" in lines and "新图景:新经济策源地展露雏形" in lines
    assert lines[-1].endswith("助力创业者发展壮大。”")
    # The image after the first paragraph: the subhead after it is no caption.
    assert got["images"] == [{"url": "https://xinjiapo.news/uploads/2019/11/20191117-xiangcheng-01.jpg",
                              "caption": None}]
    assert "<strong>新姿态:高起点谋划开放合作</strong>" in got["content_html"]
    assert "上一篇" not in got["content_html"] and "adsbygoogle" not in got["content_html"]


def test_flat_page_of_seed_lines_keeps_only_the_article():
    """Another author's markup: every seed line a <p> in one container, furniture included."""
    seed_lines = [line for line in (
        "• 11月17日 星期日", "聚焦长三角|苏州相城:打造长三角国际开放合作新引擎",
        "25年前,中国和新加坡两国政府在苏州东部合作开发建设苏州工业园区。", "新姿态:高起点谋划开放合作",
        "中日制造业B2B电子商务平台工场网电商运营总监范鹏飞认为,中日智能制造协同创新区孕育更多商机。",
        "上一篇新闻", "西安工大亮相国际顶级会议,获得顶尖学术盛会主办权,创亚洲首次", "下一篇新闻",
        "日本一精锐主力师团,在二战末期竟发动兵变,囚禁日本天皇", "评论", "订阅每日新闻",
        "订阅每日新闻以免错过最新最热门的新加坡新闻。")]
    paras = "".join(f"<p>{line}</p>" for line in seed_lines[2:])
    html = (f"<html><body><h1>{seed_lines[1]}</h1><div class='meta'><span class='date'>{seed_lines[0]}</span>"
            f"</div><div class='article-content'>{paras}</div></body></html>")
    ref = datetime(2019, 11, 18, 2, 0, tzinfo=timezone.utc)
    page = newsportal.parse_article(html, "https://xinjiapo.news/news/41528", ref, SITE.tz, None, SITE.boilerplate)
    fields = page.item_fields()
    assert fields["title"] == "聚焦长三角|苏州相城:打造长三角国际开放合作新引擎"
    assert fields["published_at"] == "2019-11-17T00:00:00+08:00"
    assert fields["content_text"] == "\n".join(seed_lines[2:5])


# --------------------------------------------------------------------------- the year of "11月17日 星期日"

def test_year_from_weekday_under_the_2019_date_header():
    _, got = parse("https://xinjiapo.news/news/41528")
    assert got["published_raw"] == "11月17日 星期日"
    assert got["published_at"] == "2019-11-17T00:00:00+08:00"


def test_same_page_served_in_2025_resolves_to_the_latest_matching_sunday():
    # 2024-11-17 is a Sunday too: the Date header, not the page, fixes the year.
    _, got = parse("https://xinjiapo.news/news/41528", date_header="Thu, 02 Jan 2025 03:00:00 GMT")
    assert got["published_at"] == "2024-11-17T00:00:00+08:00"


def test_new_year_date_read_in_singapore_time_not_utc():
    # 17:30 GMT on 31 Dec 2024 is 1 Jan 2025 in Singapore; the UTC day would give 2020-01-01.
    _, got = parse("https://xinjiapo.news/news/118790")
    assert got["published_raw"] == "1月1日 星期三"
    assert got["published_at"] == "2025-01-01T00:00:00+08:00"


def test_late_december_date_served_in_january_is_previous_year():
    _, got = parse("https://xinjiapo.news/news/118734")
    assert got["published_at"] == "2024-12-30T00:00:00+08:00"


# --------------------------------------------------------------------------- topic filter

@pytest.mark.parametrize("url", sorted(ARTICLES))
def test_topic_filter_keeps_exactly_the_on_topic_articles(url):
    want = ARTICLES[url]
    _, got = parse(url)
    score = topic_score(got["title"], got["content_text"], SITE.topic_keywords)
    assert on_topic(score, SITE.topic_keywords, SITE.topic_min_score) is want["keep"]
    if want["keep"]:
        assert score >= SITE.topic_min_score * 2  # clearly on topic, not at the edge
    else:
        assert score == 0.0


# --------------------------------------------------------------------------- listings

@pytest.mark.parametrize("listing", EXPECTED["listings"], ids=lambda x: x["url"])
def test_listing_links(listing):
    response = fixture_response(SET, listing["url"])
    got = newsportal.parse_listing(response.text, listing["url"], SITE.layout)
    assert got.article_urls == listing["article_urls"]
    assert got.next_page_url == listing["next_page_url"]
    # The channel navigation reaches the 中国 channel; the sidebar's hot list is not the listing.
    assert "https://xinjiapo.news/category/china" in got.channel_urls


def test_routes():
    from kspider.spiders.xinjiapo import XinjiapoSpider

    spider = XinjiapoSpider()
    assert spider.route("https://xinjiapo.news/news/41528") == "parse_article"
    assert spider.route("https://xinjiapo.news/category/china?page=2") == "parse_listing"
    assert spider.route("https://xinjiapo.news/") == "parse_listing"
    assert spider.route("https://xinjiapo.news/about") is None


# --------------------------------------------------------------------------- replay crawl

@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    return replay_crawl("xinjiapo", SET, tmp_path_factory.mktemp("xinjiapo"))


def test_crawl_stores_exactly_the_on_topic_articles(crawl):
    kept = {a["url"] for a in EXPECTED["articles"] if a["keep"]}
    assert set(crawl["items"]) == kept == {
        "https://xinjiapo.news/news/41528", "https://xinjiapo.news/news/118734", "https://xinjiapo.news/news/118790"}
    assert crawl["count"] == 3  # each once
    # Off-topic articles the listings reach are fetched, scored, counted, and not stored.
    for url in ("https://xinjiapo.news/news/118702", "https://xinjiapo.news/news/118815",
                "https://xinjiapo.news/news/41502"):
        assert url not in crawl["items"]
        assert f"off-topic, not stored: {url}" in crawl["log"]
    assert crawl["stats"]["topic/dropped"] == 3
    assert crawl["stats"]["topic/kept"] == 3
    assert crawl["attempts"] == ""
    # robots.txt, home (once, although every page links back to it), 中国 and its page 2, 6 articles.
    assert crawl["stats"]["replay/hit"] == 10


def test_crawl_items_match_expected(crawl):
    for url, item in crawl["items"].items():
        want = ARTICLES[url]
        assert_fields(item, want)
        assert item["spider"] == "xinjiapo"
        assert item["topic_score"] >= SITE.topic_min_score
        assert not {"mojibake", "pinyin_stripped"} & set(item["quality_flags"])


@pytest.mark.parametrize("html, text", [("", ""), ("<p>只有一段", "只有一段"), ("\x00<<<", ""),
                                        ("<html><body><div class='news-content'></div></body></html>", "")])
def test_broken_pages_give_empty_fields_not_errors(html, text):
    ref = datetime(2025, 1, 2, tzinfo=timezone.utc)
    page = newsportal.parse_article(html, "https://xinjiapo.news/news/1", ref, SITE.tz, SITE.layout)
    assert (page.title, page.published_at, page.content_text, page.images) == (None, None, text, [])
    assert "missing_date" in page.quality_flags
    assert newsportal.parse_listing(html, "https://xinjiapo.news/", SITE.layout).article_urls == []
