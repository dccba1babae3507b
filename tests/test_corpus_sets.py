"""The zh-b and zh-c extraction corpora are well-formed: every recorded exchange has its body,
each body decodes in the charset it declares, and the hand-written ground truth
(title, body lines, boilerplate lines, dates) is really on the page it describes.

zh-b holds pages of CMS templates (several pages per template), zh-c pages in the markup of
national and provincial news sites (one or two per site)."""
from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
from pathlib import Path

import lxml.html
import pytest

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "corpus"
FIELDS = {"url", "cms", "template", "encoding", "title", "published_raw", "published_at", "date_precision",
          "author", "source_name", "editor", "content_text", "boilerplate", "multi_page"}
BLOCK_TAGS = ("td", "th", "tr", "li", "p", "div", "br", "h1", "h2", "h3", "h4", "section", "figcaption", "dd", "dt")
META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_-]+)""", re.I)


# What each set promises: its size, its encodings, the shortest body, how its pages spread.
SETS = {
    "zh-b": {"min_pages": 22, "encodings": {"utf-8", "gbk"}, "min_lines": 4, "min_templates": 7,
             "min_per_template": 3, "min_hosts": 1},
    # A 快讯 may be two paragraphs.
    "zh-c": {"min_pages": 24, "encodings": {"utf-8", "gbk", "gb2312"}, "min_lines": 2, "min_templates": 20,
             "min_per_template": 1, "min_hosts": 20},
}


def _manifest(name: str) -> dict[str, dict]:
    lines = (CORPUS / name / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    return {m["url"]: m for m in map(json.loads, filter(None, lines))}


MANIFESTS = {name: _manifest(name) for name in SETS}
EXPECTED = {name: json.loads((CORPUS / name / "expected.json").read_text(encoding="utf-8")) for name in SETS}
PAGES = [(name, p) for name in SETS for p in EXPECTED[name]["pages"]]
PAGE_IDS = [f"{name}:{p['url']}" for name, p in PAGES]


def _declared_charset(exchange: dict, body: bytes) -> str:
    ctype = exchange["headers"].get("Content-Type", "")
    m = re.search(r"charset=([A-Za-z0-9_-]+)", ctype, re.I)
    if m:
        return m.group(1).lower()
    m = META_CHARSET.search(body[:4096])
    assert m, f"{exchange['url']}: no charset in header or <meta>"
    return m.group(1).decode("ascii").lower()


def _page_text(name: str, exchange: dict) -> str:
    body = (CORPUS / name / exchange["body"]).read_bytes()
    text = body.decode(_declared_charset(exchange, body))  # strict
    doc = lxml.html.document_fromstring(text)
    for el in doc.xpath("//script|//style|//noscript|//template"):
        el.drop_tree()
    for el in doc.iter(*BLOCK_TAGS):  # a table row's cells read as words separated by a space
        el.tail = " " + (el.tail or "")
    return " ".join("".join(doc.body.itertext()).split())


def _norm(s: str) -> str:
    return " ".join(s.split())


@pytest.mark.parametrize("name", SETS)
def test_manifest_exchanges_are_complete(name: str) -> None:
    assert len(MANIFESTS[name]) >= len(EXPECTED[name]["pages"])
    for url, ex in MANIFESTS[name].items():
        assert ex["status"] == 200
        assert email.utils.parsedate_to_datetime(ex["headers"]["Date"]).tzinfo is not None
        body = (CORPUS / name / ex["body"]).read_bytes()
        assert body, url
        body.decode(_declared_charset(ex, body))


@pytest.mark.parametrize("name", SETS)
def test_expected_schema_and_coverage(name: str) -> None:
    pages = EXPECTED[name]["pages"]
    assert EXPECTED[name]["set"] == name
    assert len(pages) >= SETS[name]["min_pages"]
    assert sum(p["multi_page"] for p in pages) >= 2
    urls = [p["url"] for p in pages]
    assert len(set(urls)) == len(urls)
    assert SETS[name]["encodings"] <= {p["encoding"] for p in pages}
    for p in pages:
        assert set(p) == FIELDS, p["url"]
        assert p["url"] in MANIFESTS[name]
        assert p["date_precision"] in {"second", "minute", "day"}


@pytest.mark.parametrize("name,page", PAGES, ids=PAGE_IDS)
def test_ground_truth_is_on_the_page(name: str, page: dict) -> None:
    ex = MANIFESTS[name][page["url"]]
    body = (CORPUS / name / ex["body"]).read_bytes()
    assert _declared_charset(ex, body).replace("-", "") == page["encoding"].replace("-", "")
    text = _page_text(name, ex)
    assert _norm(page["title"]) in text
    lines = page["content_text"].split("\n")
    assert SETS[name]["min_lines"] <= len(lines)
    for line in lines:
        assert line == _norm(line) and line, repr(line)
        assert line in text, f"body line not on page: {line}"
    assert page["boilerplate"], page["url"]
    for junk in page["boilerplate"]:
        assert junk in text, f"boilerplate line not on page: {junk}"
        assert not any(junk in line for line in lines), f"boilerplate inside a body line: {junk}"
    if page["published_raw"] is not None:
        assert page["published_raw"] in text
    for name in ("author", "source_name", "editor"):
        if page[name] is not None:
            assert page[name] in text or page[name] in body.decode(_declared_charset(ex, body)), (name, page[name])


@pytest.mark.parametrize("name,page", PAGES, ids=PAGE_IDS)
def test_published_at_is_plausible(name: str, page: dict) -> None:
    published = dt.datetime.fromisoformat(page["published_at"])
    assert published.utcoffset() == dt.timedelta(hours=8)
    served = email.utils.parsedate_to_datetime(MANIFESTS[name][page["url"]]["headers"]["Date"])
    assert published <= served
    assert served - published < dt.timedelta(days=60)
    if page["date_precision"] == "day":
        assert (published.hour, published.minute, published.second) == (0, 0, 0)
    if page["date_precision"] == "minute":
        assert published.second == 0


@pytest.mark.parametrize("name", SETS)
def test_pages_spread_over_templates_and_multi_page_articles_have_their_next_page(name: str) -> None:
    pages = EXPECTED[name]["pages"]
    per_template: dict[str, int] = {}
    for p in pages:
        per_template[p["template"]] = per_template.get(p["template"], 0) + 1
    assert len(per_template) >= SETS[name]["min_templates"], per_template
    assert min(per_template.values()) >= SETS[name]["min_per_template"], per_template
    assert len({p["url"].split("/")[2] for p in pages}) >= SETS[name]["min_hosts"]
    extra_urls = set(MANIFESTS[name]) - {p["url"] for p in pages}
    assert len(extra_urls) >= sum(p["multi_page"] for p in pages)


RELATIVE = [(name, p) for name, p in PAGES if p["published_raw"] and re.search(r"前|昨天", p["published_raw"])]


@pytest.mark.parametrize("name,page", RELATIVE, ids=[f"{n}:{p['url']}" for n, p in RELATIVE])
def test_relative_dates_resolve_against_the_date_header(name: str, page: dict) -> None:
    cst = dt.timezone(dt.timedelta(hours=8))
    served = email.utils.parsedate_to_datetime(MANIFESTS[name][page["url"]]["headers"]["Date"]).astimezone(cst)
    published = dt.datetime.fromisoformat(page["published_at"])
    raw = page["published_raw"]
    if m := re.fullmatch(r"(\d+)小时前", raw):
        hours = int(m.group(1))
        assert dt.timedelta(hours=hours) <= served - published < dt.timedelta(hours=hours + 1)
    else:
        m = re.fullmatch(r"昨天 (\d\d):(\d\d)", raw)
        assert m, raw
        assert published.date() == served.date() - dt.timedelta(days=1)
        assert (published.hour, published.minute) == (int(m.group(1)), int(m.group(2)))
