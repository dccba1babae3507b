"""The zh-c extraction corpus (pages in the markup of national and provincial news sites) is well-formed: every recorded exchange has its body,
each body decodes in the charset it declares, and the hand-written ground truth
(title, body lines, boilerplate lines, dates) is really on the page it describes."""
from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
from pathlib import Path

import lxml.html
import pytest

SET = Path(__file__).resolve().parent.parent / "fixtures" / "corpus" / "zh-c"
FIELDS = {"url", "cms", "template", "encoding", "title", "published_raw", "published_at", "date_precision",
          "author", "source_name", "editor", "content_text", "boilerplate", "multi_page"}
BLOCK_TAGS = ("td", "th", "tr", "li", "p", "div", "br", "h1", "h2", "h3", "h4", "section", "figcaption", "dd", "dt")
META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_-]+)""", re.I)


def _manifest() -> dict[str, dict]:
    lines = (SET / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    return {m["url"]: m for m in map(json.loads, filter(None, lines))}


MANIFEST = _manifest()
EXPECTED = json.loads((SET / "expected.json").read_text(encoding="utf-8"))
PAGES = EXPECTED["pages"]


def _declared_charset(exchange: dict, body: bytes) -> str:
    ctype = exchange["headers"].get("Content-Type", "")
    m = re.search(r"charset=([A-Za-z0-9_-]+)", ctype, re.I)
    if m:
        return m.group(1).lower()
    m = META_CHARSET.search(body[:4096])
    assert m, f"{exchange['url']}: no charset in header or <meta>"
    return m.group(1).decode("ascii").lower()


def _page_text(exchange: dict) -> str:
    body = (SET / exchange["body"]).read_bytes()
    text = body.decode(_declared_charset(exchange, body))  # strict
    doc = lxml.html.document_fromstring(text)
    for el in doc.xpath("//script|//style|//noscript|//template"):
        el.drop_tree()
    for el in doc.iter(*BLOCK_TAGS):  # a table row's cells read as words separated by a space
        el.tail = " " + (el.tail or "")
    return " ".join("".join(doc.body.itertext()).split())


def _norm(s: str) -> str:
    return " ".join(s.split())


def test_manifest_exchanges_are_complete() -> None:
    assert len(MANIFEST) >= len(PAGES)
    for url, ex in MANIFEST.items():
        assert ex["status"] == 200
        assert email.utils.parsedate_to_datetime(ex["headers"]["Date"]).tzinfo is not None
        body = (SET / ex["body"]).read_bytes()
        assert body, url
        body.decode(_declared_charset(ex, body))


def test_expected_schema_and_coverage() -> None:
    assert EXPECTED["set"] == "zh-c"
    assert len(PAGES) >= 24
    assert sum(p["multi_page"] for p in PAGES) >= 2
    urls = [p["url"] for p in PAGES]
    assert len(set(urls)) == len(urls)
    encodings = {p["encoding"] for p in PAGES}
    assert {"utf-8", "gbk", "gb2312"} <= encodings
    for p in PAGES:
        assert set(p) == FIELDS, p["url"]
        assert p["url"] in MANIFEST
        assert p["date_precision"] in {"second", "minute", "day"}


@pytest.mark.parametrize("page", PAGES, ids=[p["url"] for p in PAGES])
def test_ground_truth_is_on_the_page(page: dict) -> None:
    ex = MANIFEST[page["url"]]
    body = (SET / ex["body"]).read_bytes()
    assert _declared_charset(ex, body).replace("-", "") == page["encoding"].replace("-", "")
    text = _page_text(ex)
    assert _norm(page["title"]) in text
    lines = page["content_text"].split("\n")
    assert 2 <= len(lines)  # a 快讯 may be two paragraphs
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


@pytest.mark.parametrize("page", PAGES, ids=[p["url"] for p in PAGES])
def test_published_at_is_plausible(page: dict) -> None:
    published = dt.datetime.fromisoformat(page["published_at"])
    assert published.utcoffset() == dt.timedelta(hours=8)
    served = email.utils.parsedate_to_datetime(MANIFEST[page["url"]]["headers"]["Date"])
    assert published <= served
    assert served - published < dt.timedelta(days=60)
    if page["date_precision"] == "day":
        assert (published.hour, published.minute, published.second) == (0, 0, 0)
    if page["date_precision"] == "minute":
        assert published.second == 0


def test_sites_are_many_and_multi_page_articles_have_their_next_page() -> None:
    per_site: dict[str, int] = {}
    for p in PAGES:
        per_site[p["template"]] = per_site.get(p["template"], 0) + 1
    assert len(per_site) >= 20, per_site
    hosts = {p["url"].split("/")[2] for p in PAGES}
    assert len(hosts) >= 20
    extra_urls = set(MANIFEST) - {p["url"] for p in PAGES}
    assert len(extra_urls) >= sum(p["multi_page"] for p in PAGES)


RELATIVE = [p for p in PAGES if p["published_raw"] and re.search(r"前|昨天", p["published_raw"])]


@pytest.mark.parametrize("page", RELATIVE, ids=[p["url"] for p in RELATIVE])
def test_relative_dates_resolve_against_the_date_header(page: dict) -> None:
    cst = dt.timezone(dt.timedelta(hours=8))
    served = email.utils.parsedate_to_datetime(MANIFEST[page["url"]]["headers"]["Date"]).astimezone(cst)
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
