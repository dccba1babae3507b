"""Pages that cannot crash the crawl: nested 5,000 deep, cut off, oversized, in the wrong charset.

First the pure pieces (kspider.extract.page, kspider.download.charset) on literal
input, then one real replay crawl of the 021cf spider over a copy of
fixtures/021cf in which four post pages were made hostile at test time (each
transform asserts it hit its page). Every hostile post is stored with the text
it has and the flag that says what was wrong with it.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from kspider.download.charset import better_charset, reads_as
from kspider.extract.html import body_blocks
from kspider.extract.page import cap_page, flatten_nesting, nesting_estimate, page_truncated
from tests.test_incremental import FIXTURES_021CF, open_test_store, run_crawl

HOST = "http://suzhou.021cf.cn/index.php/post/"
NESTED, TRUNCATED, WRONG_CHARSET, OVERSIZED = (HOST + n for n in ("528.html", "540.html", "532.html", "546.html"))
NESTED_PARAGRAPHS = ("深层嵌套的第一段：园区新建标准厂房已通过竣工验收。", "深层嵌套的第二段：首批三家企业将于明年春季入驻。")


# --- the pure pieces -----------------------------------------------------------------------
def test_truncation_is_a_document_that_never_closes():
    assert page_truncated("<html><head></head><body><div><p>太仓厂房出租，面积1100平")
    assert page_truncated("<!DOCTYPE html><html><body><p>正文</p></div>\n")
    assert not page_truncated("<html><body><p>正文</p></body></html>")
    assert not page_truncated("<html><body><p>正文</p></body>")  # </html> may be left out
    assert not page_truncated("<p>an HTML fragment, not a document</p>")


def test_cap_cuts_before_the_limit_and_never_inside_a_tag():
    html = "<html><body>" + "".join(f'<p class="x">段落{i}</p>' for i in range(10)) + "</body></html>"
    assert cap_page(html, 0, 0) == (html, False)
    assert cap_page(html, len(html), 100) == (html, False)
    capped, cut = cap_page(html, 0, 5)  # html, body and three paragraphs
    assert cut and capped == '<html><body><p class="x">段落0</p><p class="x">段落1</p><p class="x">段落2</p>'
    capped, cut = cap_page(html, 40, 0)  # the 40th character sits inside the second <p ...>
    assert cut and capped == '<html><body><p class="x">段落0</p>'
    # A stray "<" in the text before the cut tag: the kept part must not end in an open "<".
    capped, cut = cap_page('<p>a < b <span class="long">x</span></p>', 14, 0)
    assert cut and capped == "<p>a "
    assert cap_page("<<!", 2, 0) == ("", True)


def test_flattening_keeps_every_paragraph_of_a_5000_deep_body():
    html = ("<html><body><div class='single'>" + "<div>" * 5000 + "".join(f"<p>{t}</p>" for t in NESTED_PARAGRAPHS)
            + "</div>" * 5000 + "<p>嵌套之后的段落。</p></div><div id='footer'>页脚</div></body></html>")
    assert nesting_estimate(html) >= 5003  # html, body, div.single, 5,000 divs, p: 5,004 levels
    flat, unwrapped = flatten_nesting(html, 200)
    assert unwrapped == 5000 + 3 - 200  # html, body, div.single and 197 of the nested divs are kept
    root = lxml.html.document_fromstring(flat)  # libxml2's default parser: 256 levels at most
    assert [p.text for p in root.iter("p")] == [*NESTED_PARAGRAPHS, "嵌套之后的段落。"]
    assert root.get_element_by_id("footer").text == "页脚"
    # The same page parsed without flattening loses everything after the depth limit.
    assert "页脚" not in lxml.html.document_fromstring(html).text_content()
    # Flattened to what a huge_tree parser reads (2,048 levels), the tree is still deeper than
    # Python's 1,000 frames: body_blocks walks it without recursion, one block per paragraph.
    deep = lxml.html.document_fromstring(flatten_nesting(html, 1900)[0], parser=lxml.html.HTMLParser(huge_tree=True))
    assert max(len(list(el.iterancestors())) for el in deep.iter("p")) > 1500
    assert [b.text for b in body_blocks(deep.body)] == [*NESTED_PARAGRAPHS, "嵌套之后的段落。", "页脚"]


def test_flattening_leaves_ordinary_pages_alone():
    page = (FIXTURES_021CF / "suzhou.021cf.cn/index.php/post/540.html").read_text(encoding="utf-8")
    assert flatten_nesting(page, 200) == (page, 0)
    # Unclosed <li> and <p> (implicitly closed in HTML) do not count as nesting.
    lists = "<html><body><ul>" + "<li>项" * 600 + "</ul>" + "<p>段" * 600 + "</body></html>"
    assert flatten_nesting(lists, 200) == (lists, 0)


GBK_TEXT = "太仓标准厂房出租，建筑面积1100平方米，层高8米，欢迎来电咨询。"
BIG5_TEXT = "蘇州工業園區廠房出租，面積一千一百平方公尺，歡迎來電洽詢。"


def test_charset_correction_finds_the_charset_the_bytes_are_in():
    gbk = f"<html><head><title>{GBK_TEXT}</title></head><body><p>{GBK_TEXT}</p></body></html>".encode("gbk")
    assert better_charset(gbk, "utf-8") == "gb18030"
    big5 = f"<html><body><p>{BIG5_TEXT}</p></body></html>".encode("big5")
    assert better_charset(big5, "gb2312") == "big5"
    assert better_charset(big5, "utf-8", ["big5"]) == "big5"  # the <meta> label is tried first
    # Declared right: nothing to correct.
    assert better_charset(GBK_TEXT.encode("utf-8"), "utf-8") is None
    # UTF-8 with one damaged byte is not turned into GB garbage: no candidate reads as text.
    damaged = GBK_TEXT.encode("utf-8")
    damaged = damaged[:10] + b"\xff" + damaged[11:]
    assert better_charset(damaged, "utf-8") is None
    assert not reads_as(GBK_TEXT.encode("utf-8").decode("gb18030", "replace"), "gb18030")
    assert reads_as(GBK_TEXT, "gb18030") and reads_as(BIG5_TEXT, "big5")


# --- one replay crawl over hostile pages ------------------------------------------------------
def _page(root: Path, url: str) -> Path:
    return root / url.split("://", 1)[1]


def _rewrite(root: Path, url: str, old: bytes, new: bytes) -> None:
    path = _page(root, url)
    body = path.read_bytes()
    assert body.count(old) == 1, f"transform does not apply to {url}"
    path.write_bytes(body.replace(old, new))


def hostile_set(target: Path) -> Path:
    shutil.copytree(FIXTURES_021CF, target)
    # 5,000 nested <div>s at the start of the post body.
    nested = ("<div>" * 5000 + "".join(f"<p>{t}</p>" for t in NESTED_PARAGRAPHS) + "</div>" * 5000).encode()
    _rewrite(target, NESTED, b'<div class="single">', b'<div class="single">' + nested)
    # Cut off inside the body's second paragraph.
    path = _page(target, TRUNCATED)
    body = path.read_bytes()
    cut = body.index("首层层高9米".encode(), body.index(b'<div class="single">')) + len("首层层高9米".encode())
    path.write_bytes(body[:cut])
    # A GBK page (its <meta> says so) served as charset=utf-8.
    path = _page(target, WRONG_CHARSET)
    text = path.read_text(encoding="utf-8").replace('<meta charset="utf-8">', '<meta charset="gbk">')
    assert '<meta charset="gbk">' in text
    path.write_bytes(text.encode("gbk"))
    # 70,000 elements after the post (a runaway sidebar widget), beyond PAGE_MAX_ELEMENTS (60,000).
    _rewrite(target, OVERSIZED, b"</body>", b'<div class="widget">' + b"<span>\xe7\x83\xad</span>" * 70_000
             + b"</div></body>")
    # The served headers say what is served now (the GBK page keeps its wrong charset=utf-8).
    manifest = target / "manifest.jsonl"
    records = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines() if line.strip()]
    for record in records:
        if record["url"] in (NESTED, TRUNCATED, WRONG_CHARSET, OVERSIZED):
            assert record["headers"]["Content-Type"] == "text/html; charset=utf-8"
            record["headers"]["Content-Length"] = str(_page(target, record["url"]).stat().st_size)
    manifest.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def hostile_crawl(tmp_path_factory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("hostile")
    fixtures = hostile_set(work / "set")
    urls = ",".join((NESTED, TRUNCATED, WRONG_CHARSET, OVERSIZED))
    stats = run_crawl("021cf", fixtures, work, "hostile", "-a", f"urls={urls}")
    store = open_test_store(work)
    try:
        articles = {doc["url"]: doc for doc in store.find("articles")}
        ads = list(store.find("rental_ads"))
    finally:
        store.close()
    return {"stats": stats, "articles": articles, "ads": ads}


def test_hostile_crawl_stores_every_post_and_exits_zero(hostile_crawl):
    stats = hostile_crawl["stats"]
    assert stats["_returncode"] == 0 and stats["exit/code"] == 0
    assert stats.get("spider_exceptions", 0) == 0 and not any(k.startswith("spider_exceptions/") for k in stats)
    assert set(hostile_crawl["articles"]) == {NESTED, TRUNCATED, WRONG_CHARSET, OVERSIZED}


def test_post_nested_5000_deep_is_stored_with_its_text(hostile_crawl):
    doc = hostile_crawl["articles"][NESTED]
    assert doc["title"] == "太仓高新区标准厂房租赁需求回暖"
    lines = doc["content_text"].split("\n")
    assert lines[:2] == list(NESTED_PARAGRAPHS)
    # The post's own paragraphs after the nesting are all there.
    assert lines[2].startswith("今年三季度以来，太仓高新区中小面积标准厂房的租赁咨询量明显回升")
    assert lines[-1].startswith("与此同时，部分园区推出“先租后售”“租金减免”等政策")
    assert "deeply_nested" in doc["quality_flags"]
    assert hostile_crawl["stats"]["page/deeply_nested"] == 1
    assert "<p>深层嵌套的第一段：" in doc["content_html"]


def test_cut_off_post_is_stored_with_what_it_has_and_flagged_truncated(hostile_crawl):
    doc = hostile_crawl["articles"][TRUNCATED]
    assert doc["title"] == "嘉定工业区一批标准厂房竣工交付 新增产业空间9万平方米"
    assert doc["published_at"] == "2025-09-18T00:00:00+08:00"
    lines = doc["content_text"].split("\n")
    assert lines[0] == ("9月中旬，嘉定工业区北区一批标准厂房项目通过竣工验收，新增产业空间约9万平方米，"
                        "将重点承接智能传感器、汽车电子等产业项目。")
    assert lines[1].startswith("按照园区最新产业规划") and lines[1].endswith("首层层高9米")
    assert "工业区相关负责人介绍" not in doc["content_text"]
    assert "truncated" in doc["quality_flags"]
    assert hostile_crawl["stats"]["page/truncated"] == 1


def test_gbk_page_served_as_utf8_is_read_as_gb18030(hostile_crawl):
    doc = hostile_crawl["articles"][WRONG_CHARSET]
    assert doc["title"] == "2024年嘉昆太协同创新核心圈轮值会议在太仓举行"
    assert doc["content_text"].startswith("风起长三角,潮涌嘉昆太。")
    assert "charset_corrected" in doc["quality_flags"] and "mojibake" not in doc["quality_flags"]
    stats = hostile_crawl["stats"]
    assert stats["charset/corrected"] == 1 and stats["charset/corrected/utf-8->gb18030"] == 1


def test_oversized_page_is_cut_and_its_items_keep_what_was_found(hostile_crawl):
    doc = hostile_crawl["articles"][OVERSIZED]
    assert doc["title"] == "太仓 标准厂房出售 2200平 独立产证"
    assert doc["content_text"].split("\n")[:3] == ["类型：标准厂房", "位置：太仓市沙溪镇", "建筑面积：2200平方米"]
    assert "oversized" in doc["quality_flags"]
    assert hostile_crawl["stats"]["page/oversized"] == 1
    listing_ads = [ad for ad in hostile_crawl["ads"] if OVERSIZED in ad["seen_on"]]
    assert len(listing_ads) == 1 and listing_ads[0]["area_sqm_min"] == 2200
    assert "oversized" in listing_ads[0]["quality_flags"]


def test_ordinary_pages_carry_no_page_flag(hostile_crawl):
    # The unchanged fixture pages of the set pass the guard untouched (crawled in other tests);
    # here: no flag went to a page it does not describe.
    flags = {url: set(doc["quality_flags"]) & {"deeply_nested", "truncated", "charset_corrected", "oversized"}
             for url, doc in hostile_crawl["articles"].items()}
    assert flags == {NESTED: {"deeply_nested"}, TRUNCATED: {"truncated"}, WRONG_CHARSET: {"charset_corrected"},
                     OVERSIZED: {"oversized"}}
