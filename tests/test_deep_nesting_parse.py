"""Pages and API answers nested far deeper than libxml2 (256 / 2,048 levels) or Python
(1,000 frames) go: every extractor reads them whole through kspider.extract.page.parse_html."""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from lxml import etree

from kspider.extract import matchexpo as mx
from kspider.extract.listing import find_links
from kspider.extract.page import parse_html

ROOT = Path(__file__).resolve().parent.parent
JSSUXUN_ALT = ROOT / "fixtures" / "jssuxun-alt" / "www.jssuxun.example"
LISTING_URL = "http://www.jssuxun.example/index.php?m=content&c=index&a=lists&catid=12"
SHOW = "http://www.jssuxun.example/index.php?m=content&c=index&a=show&catid=12&id="
# The four headlines of the main list (ul.list), read by hand from list-12-1.html.
MAIN_LIST = [SHOW + "3605", SHOW + "3601", SHOW + "3597", SHOW + "3594"]
NEXT_PAGE = LISTING_URL + "&page=2"


def wrapped_listing(levels: int) -> str:
    page = (JSSUXUN_ALT / "list-12-1.html").read_text(encoding="gbk")
    return re.sub(r"(<body[^>]*>)(.*)(</body>)", lambda m: m.group(1) + "<div class='wrap'>" * levels
                  + m.group(2) + "</div>" * levels + m.group(3), page, count=1, flags=re.S)


def test_listing_wrapped_in_3000_divs_keeps_its_article_links():
    plain = find_links((JSSUXUN_ALT / "list-12-1.html").read_text(encoding="gbk"), LISTING_URL)
    assert plain.article_urls == MAIN_LIST and plain.next_page_url == NEXT_PAGE
    deep = wrapped_listing(3000)
    root, flattened = parse_html(deep)
    assert flattened
    assert max(len(list(a.iterancestors())) for a in root.iter("a")) < 256  # any parser reads it whole
    found = find_links(deep, LISTING_URL)
    assert found.article_urls == MAIN_LIST
    assert found.next_page_url == NEXT_PAGE
    # The footer after the list is still there.
    assert "版權所有" in "".join(root.find(".//body").itertext())


def test_parse_html_keeps_comments_on_request_and_leaves_shallow_pages_alone():
    page = "<html><body><div><!-- 2021-06-17 --><p>正文</p></div></body></html>"
    root, flattened = parse_html(page, keep_comments=True, html_elements=False)
    assert not flattened and root.find(".//p").text == "正文"
    assert [c.text for c in root.iter(etree.Comment)] == [" 2021-06-17 "]
    root, _ = parse_html(page, keep_comments=False)
    assert list(root.iter(etree.Comment)) == []
    assert parse_html("  ") == (None, False)


API_PAGE_2 = {"list": [{"id": 3302, "title": "苏州工业园区新一批标准厂房交付 助力先进制造业项目快速落地"},
                       {"id": 3279, "title": "昆山打造具有全球竞争优势的新兴产业“高地”"}],
              "total": 5, "page": 2, "page_size": 3}


def test_matchexpo_api_json_nested_5000_levels_is_walked():
    data: object = API_PAGE_2
    for level in range(5000):
        data = {"wrap": data} if level % 2 else [data]
    urls, next_page = mx.parse_listing_api({"code": 0, "data": data}, "https://www.matchexpo.com/community")
    assert urls == ["https://www.matchexpo.com/community/article/3302",
                    "https://www.matchexpo.com/community/article/3279"]
    assert next_page is None  # page 2 of 5 items, 3 a page: the last


def test_matchexpo_api_text_too_deep_to_decode_is_logged_not_raised(caplog):
    text = '{"wrap":' * 5000 + json.dumps(API_PAGE_2) + "}" * 5000
    with caplog.at_level(logging.WARNING, logger="kspider.extract.matchexpo"):
        assert mx.parse_listing_api(text, "https://www.matchexpo.com/community") == ([], None)
    assert "nested too deep" in caplog.text
