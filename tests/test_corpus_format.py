"""The article-extraction corpus sets under fixtures/corpus/ are well formed.

Every manifest body exists and decodes in the page's encoding, every exchange
has a Date header, and the hand-written ground truth matches its page: each
content_text line and the title is a line of the page's visible text, each
boilerplate line occurs in the page, and no boilerplate line is part of the
article text.
"""
from __future__ import annotations

import json
import re
from email.utils import parsedate_to_datetime
from pathlib import Path

import lxml.html
import pytest
from w3lib.encoding import html_body_declared_encoding, resolve_encoding

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "corpus"
SETS = sorted(p.parent.name for p in CORPUS.glob("*/expected.json"))

# Elements whose boundaries break lines in the rendered page.
BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "br", "caption", "center", "dd", "div", "dl", "dt",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "thead", "tfoot", "tr", "ul",
    "title",
}
CELL_TAGS = {"td", "th"}
WS = re.compile(r"\s+")


def norm_line(line: str) -> str:
    """Whitespace runs (ASCII, U+3000, U+00A0) collapsed to one space, ends stripped."""
    return WS.sub(" ", line).strip()


def page_lines(text: str) -> list[str]:
    """Visible text of a page, one line per block (iterates with lxml's walk, no recursion)."""
    root = lxml.html.document_fromstring(text)
    for el in list(root.iter("script", "style", "noscript", "textarea", "select")):
        el.drop_tree()
    # A data cell's paragraphs (Word-pasted tables) read as one cell; layout
    # cells (holding tables, divs or lists) keep their blocks.
    in_cell = set()
    for cell in root.iter(*CELL_TAGS):
        if next(cell.iterdescendants("table", "div", "ul", "ol"), None) is None:
            in_cell.update(cell.iterdescendants())
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el in in_cell:
            if el.tag in BLOCK_TAGS:
                el.tail = " " + (el.tail or "")
            continue
        if el.tag in BLOCK_TAGS:
            el.text = "\n" + (el.text or "")
            el.tail = "\n" + (el.tail or "")
        elif el.tag in CELL_TAGS:
            el.tail = " " + (el.tail or "")
    return [ln for ln in (norm_line(x) for x in root.text_content().split("\n")) if ln]


def load(set_name: str) -> tuple[list[dict], dict]:
    d = CORPUS / set_name
    manifest = [json.loads(x) for x in (d / "manifest.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    expected = json.loads((d / "expected.json").read_text(encoding="utf-8"))
    return manifest, expected


def declared_encoding(headers: dict, body: bytes) -> str | None:
    ctype = headers.get("Content-Type", "")
    m = re.search(r"charset=([\w-]+)", ctype, re.I)
    label = m.group(1) if m else html_body_declared_encoding(body)
    return resolve_encoding(label) if label else None


@pytest.mark.parametrize("set_name", SETS)
def test_manifest_bodies_exist_decode_and_carry_dates(set_name: str) -> None:
    manifest, expected = load(set_name)
    assert expected["set"] == set_name
    pages_by_url = {p["url"]: p for p in expected["pages"]}
    urls = [m["url"] for m in manifest]
    assert len(urls) == len(set(urls)), "one exchange per URL"
    for m in manifest:
        assert m["status"] == 200
        body = (CORPUS / set_name / m["body"]).read_bytes()
        assert len(body) > 3000, m["url"]
        parsedate_to_datetime(m["headers"]["Date"])
        enc = declared_encoding(m["headers"], body)
        assert enc, f"{m['url']}: no charset in header or <meta>"
        body.decode(enc)
        page = pages_by_url.get(m["url"])
        if page:
            body.decode(page["encoding"])
    assert set(pages_by_url) <= set(urls), "every expected page has an exchange"


@pytest.mark.parametrize("set_name", SETS)
def test_ground_truth_lines_occur_in_their_pages(set_name: str) -> None:
    manifest, expected = load(set_name)
    by_url = {m["url"]: m for m in manifest}
    for page in expected["pages"]:
        m = by_url[page["url"]]
        text = (CORPUS / set_name / m["body"]).read_bytes().decode(page["encoding"])
        lines = page_lines(text)
        line_set = set(lines)
        where = page["url"]
        assert page["title"] in line_set, f"{where}: title not a line of the page"
        content = page["content_text"].split("\n")
        assert all(c and c == norm_line(c) for c in content), where
        for c in content:
            assert c in line_set, f"{where}: content line missing from page: {c[:40]}"
        # the body lines occur in the page in the order given
        pos = -1
        for c in content:
            idx = lines.index(c, pos + 1)
            assert idx > pos, f"{where}: out of order: {c[:40]}"
            pos = idx
        for b in page["boilerplate"]:
            assert b == norm_line(b) and b, where
            assert any(b in ln for ln in lines), f"{where}: boilerplate line missing from page: {b[:40]}"
            assert not any(b in c for c in content), f"{where}: boilerplate is article text: {b[:40]}"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", page["published_at"]), where
        assert page["date_precision"] in {"second", "minute", "day"}, where
        if page["date_precision"] == "day":
            assert page["published_at"].endswith("T00:00:00+08:00"), where
        assert isinstance(page["multi_page"], bool)


@pytest.mark.parametrize("set_name", SETS)
def test_set_loads_as_a_replay_fixture_set(set_name: str) -> None:
    from kspider.replay.fixtures import FixtureIndex

    manifest, _ = load(set_name)
    index = FixtureIndex.load(CORPUS / set_name)
    assert len(index) == len(manifest), "URLs stay distinct after canonicalization"
    for m in manifest:
        ex = index.lookup(m["url"])
        assert ex is not None and ex.body() == (CORPUS / set_name / m["body"]).read_bytes()
