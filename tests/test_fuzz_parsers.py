"""Fuzzing the page parsers: random pages and mutated fixture pages never make them raise.

Every parser a spider hands a page to (tpure, news portals, matchexpo, the generic
article extractor, the body helpers) gets the same input: a complete fixture page
cut, spliced, duplicated, nested thousands deep, sprinkled with broken markup,
control characters and stray text; or random text and bytes. Besides "no
exception", the tests check what must survive: a post's title when the page is
cut anywhere after it, the text of a page whose nesting is flattened, the
bounds of a capped page, and a corrected charset that really decodes the bytes.

Hypothesis runs derandomized (the same examples on every run), so CI is stable.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import lxml.html
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kspider.download.charset import better_charset
from kspider.extract import article, html, matchexpo, newsportal, tpure
from kspider.extract.page import cap_page, flatten_nesting, page_truncated
from kspider.sites import site_for_host

ROOT = Path(__file__).resolve().parent.parent
REF = datetime(2026, 2, 19, 8, 0, tzinfo=timezone.utc)
FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _seed_pages() -> list[tuple[str, str]]:
    """(url, text) of every HTML page in the template fixture sets, decoded as served."""
    from w3lib.encoding import html_to_unicode

    pages = []
    for name in ("021cf", "xinjiapo", "jssuxun", "matchexpo"):
        base = ROOT / "fixtures" / name
        for line in (base / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line) if line.strip() else {}
            content_type = (record.get("headers") or {}).get("Content-Type", "")
            if record.get("body") and "html" in content_type and not record["body"].endswith((".gz", ".br")):
                _, text = html_to_unicode(content_type, (base / record["body"]).read_bytes())
                pages.append((record["url"], text))
    return pages


SEEDS = _seed_pages()
BROKEN = ["<", ">", "</div>", "<div", "<p>", "</p></p>", "<!--", "-->", "<script>", "</script>", "<![CDATA[", "]]>",
          "\x00", "\x0b", "\ud7ff", "&#0;", "&#xD800;", "&#99999999;", "&", "<p/>", "<table><tr><td>", "</html>",
          "<html>", "<body>", "<meta charset=gbk>", '<meta http-equiv="refresh" content="0;url=javascript:x">',
          "<base href='javascript:x'>", '<a href="http://[::1">', '<img src="data:x" width=1>', "<svg><g>",
          '<div class="single">', '<div class="post"><h1>', "<h1></h1>", "<span class=\"date\">3天前</span>",
          "<time datetime='9999-99-99'>", "\u202e", "\ufffd", "\r\n", "<br><br><br>"]


@st.composite
def mutated_pages(draw: st.DrawFn) -> tuple[str, str]:
    url, page = draw(st.sampled_from(SEEDS))
    for op in draw(st.lists(st.sampled_from(["cut", "delete", "duplicate", "broken", "text", "nest"]),
                            min_size=1, max_size=4)):
        i = draw(st.integers(0, len(page)))
        j = draw(st.integers(i, min(len(page), i + 3000)))
        if op == "cut":
            page = page[:i]
        elif op == "delete":
            page = page[:i] + page[j:]
        elif op == "duplicate":
            page = page[:j] + page[i:j] + page[j:]
        elif op == "broken":
            page = page[:i] + draw(st.sampled_from(BROKEN)) + page[i:]
        elif op == "text":
            page = page[:i] + draw(st.text(max_size=40)) + page[i:]
        else:  # nest the slice thousands deep
            depth = draw(st.integers(1, 5000))
            tag = draw(st.sampled_from(["div", "span", "p", "li", "td", "font"]))
            page = page[:i] + f"<{tag}>" * depth + page[i:j] + f"</{tag}>" * depth + page[j:]
    return url, page


def parse_everything(url: str, page: str) -> None:
    """Hand one page to every page parser, the way the spiders do."""
    site = site_for_host(url.split("/")[2])
    layout = site.layout if site is not None else None
    tpure.parse_listing(page, url)
    post = tpure.parse_post(page, url, REF)
    tpure.finish_post(post, url, ["太仓事达产业园"])
    newsportal.parse_listing(page, url, layout)
    newsportal.parse_article(page, url, REF, layout=layout)
    matchexpo.parse_listing(page, url)
    matchexpo.parse_article(page, url, REF)
    article.extract_article(page, url, REF)
    html.body_blocks(page)
    html.sanitize_html(page, url)
    html.extract_images(page, url)


@settings(FUZZ, max_examples=40)
@given(mutated_pages())
def test_mutated_fixture_pages_never_raise(case):
    parse_everything(*case)


@FUZZ
@given(st.text(max_size=3000), st.sampled_from([url for url, _ in SEEDS]))
def test_random_text_never_raises(page, url):
    parse_everything(url, page)


@FUZZ
@given(st.binary(max_size=3000))
def test_random_bytes_never_raise_and_a_corrected_charset_decodes_them(body):
    article.extract_article(body, "http://suzhou.021cf.cn/index.php/post/1.html", REF)
    charset = better_charset(body, "utf-8")
    if charset is not None:
        body.decode(charset)  # strictly: a corrected charset is one the bytes are valid in


POST_540 = "http://suzhou.021cf.cn/index.php/post/540.html"
PAGE_540 = dict(SEEDS)[POST_540]
TITLE_540 = "嘉定工业区一批标准厂房竣工交付 新增产业空间9万平方米"


@FUZZ
@given(st.integers(PAGE_540.index(f"{TITLE_540}</h1>") + len(f"{TITLE_540}</h1>"), len(PAGE_540)))
def test_a_post_cut_anywhere_after_its_title_keeps_the_title(cut):
    page = PAGE_540[:cut]
    post = tpure.parse_post(page, POST_540, REF)
    assert post.result.title == TITLE_540
    assert page_truncated(page) == ("</body>" not in page and "</html>" not in page)


@st.composite
def nested_markup(draw: st.DrawFn) -> str:
    """A random element tree, up to 2,000 levels deep, with text at every level."""
    parts, depth_stack = ["<html><body>"], []
    for _ in range(draw(st.integers(1, 60))):
        action = draw(st.sampled_from(["open", "open", "close", "text", "deep"]))
        if action == "open":
            tag = draw(st.sampled_from(["div", "section", "span", "p", "ul", "li", "b", "table", "td"]))
            parts.append(f"<{tag}>")
            depth_stack.append(tag)
        elif action == "close" and depth_stack:
            parts.append(f"</{depth_stack.pop()}>")
        elif action == "deep":
            n = draw(st.integers(100, 1900))
            parts.append("<div>" * n + draw(st.sampled_from(["深", "层"])) + "</div>" * n)
        else:
            parts.append(draw(st.text(alphabet="园区厂房出租abc 12", min_size=1, max_size=8)))
    parts.extend(f"</{tag}>" for tag in reversed(depth_stack))
    return "".join(parts) + "</body></html>"


HUGE = lxml.html.HTMLParser(huge_tree=True)


@FUZZ
@given(nested_markup(), st.integers(20, 250))
def test_flattening_keeps_all_text_in_order(markup, max_depth):
    flat, _ = flatten_nesting(markup, max_depth)
    before = lxml.html.document_fromstring(markup, parser=HUGE).text_content()
    after = lxml.html.document_fromstring(flat).text_content()  # the default 256-level parser suffices
    assert after == before


@FUZZ
@given(mutated_pages(), st.integers(0, 40_000), st.integers(0, 500))
def test_capped_page_is_a_prefix_within_both_limits(case, max_chars, max_elements):
    _, page = case
    capped, cut = cap_page(page, max_chars, max_elements)
    assert page.startswith(capped) and cut == (capped != page)
    if max_chars:
        assert len(capped) <= max_chars
    if max_elements:
        assert len(re.findall(r"<[a-zA-Z]", capped)) <= max_elements
    if cut:
        assert capped.rfind("<") <= capped.rfind(">")  # never cut inside a tag
