"""Benchmark: the generic article extractor against trafilatura, GNE and readability-lxml.

Every extractor reads the same pages in one run. Per extractor it prints:

- **F1**: body character-bigram F1, mean over pages. Both texts lose all whitespace;
  the bigrams are counted as multisets (a repeated paragraph counts twice).
- **title**: share of pages whose title equals the hand-written one after whitespace
  normalization.
- **date**: share of pages whose date falls on the expected calendar day in the
  page's zone (Asia/Shanghai for the Chinese corpus). No date, or another day, is wrong;
  pages without an expected date are not counted.
- **leaks**: expected boilerplate lines found in the extracted body (a line counts when
  its whitespace-free text is inside the whitespace-free body and not inside the
  expected body), total and per ten pages.
- **ms**: CPU milliseconds per page (process time), median over pages of the fastest
  of ``--rounds`` rounds. Pages are decoded before timing; each extractor gets text.

Corpora: every fixture set under ``fixtures/corpus/`` (``manifest.jsonl`` + ``expected.json``
with a ``pages`` list), and, when given (``--english DIR`` or the ``KSPIDER_AEB_DIR``
environment variable), a directory holding the public English article-extraction
benchmark (``html/<id>.html.gz`` and ``ground-truth.json``: body only, so only F1 and ms), and,
for development (``--real DIR`` or ``KSPIDER_REAL_PAGES_DIR``), saved real pages of many sites with
hand-made truth (see ``load_real_pages``; third-party pages, never stored in this repository;
skipped when absent). Anchors are used only if installed (``pip install -r requirements-bench.txt``).

    .venv/bin/python bench/bench_extract.py [--rounds 3] [--english DIR] [--real DIR] [--no-corpus]
                                            [--per-page] [CORPUS_DIR ...]
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import statistics
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kspider.extract.article import decode_html, extract_article  # noqa: E402
from kspider.extract.dates import http_date, parse_date  # noqa: E402
from kspider.extract.text import normalize_text  # noqa: E402


@dataclass
class Page:
    corpus: str
    url: str
    html: str
    ref: datetime
    tz: str
    expected: dict[str, Any]


@dataclass
class Output:
    title: Optional[str] = None
    date_iso: Optional[str] = None  # ISO 8601 or a date text
    body: str = ""


@dataclass
class Scores:
    f1: list[float] = field(default_factory=list)
    titles: list[bool] = field(default_factory=list)
    dates: list[bool] = field(default_factory=list)
    leaks: int = 0
    leak_pages: int = 0
    ms: list[float] = field(default_factory=list)


# --------------------------------------------------------------------------- corpora

def load_fixture_sets(dirs: list[Path]) -> list[Page]:
    pages: list[Page] = []
    for set_dir in dirs:
        expected_path, manifest_path = set_dir / "expected.json", set_dir / "manifest.jsonl"
        if not expected_path.exists() or not manifest_path.exists():
            continue
        data = json.loads(expected_path.read_text(encoding="utf-8"))
        entries = data.get("pages", []) if isinstance(data, dict) else data
        exchanges = {}
        for line in manifest_path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                ex = json.loads(line)
                exchanges[ex["url"]] = ex
        for entry in entries:
            ex = exchanges.get(entry["url"])
            if ex is None or not ex.get("body"):
                print(f"  skipped (no exchange): {entry['url']}", file=sys.stderr)
                continue
            headers = {k.lower(): v for k, v in ex.get("headers", {}).items()}
            raw = (set_dir / ex["body"]).read_bytes()
            ref = http_date(headers.get("date")) or datetime.now(timezone.utc)
            pages.append(Page(set_dir.name, entry["url"], decode_html(raw, headers.get("content-type")), ref,
                              entry.get("tz", "Asia/Shanghai"), entry))
    return pages


_TRUTH_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


_SAVED_URL = re.compile(r'\s*<text id="(https?://[^"]+)"')


def load_real_pages(directory: Path) -> list[Page]:
    """Saved real pages with hand-made truth: ``original/<id>.html``, ``cleaned/<id>.txt`` (body),
    ``date/<id>.txt`` (``YYYY-M-D[ H:MM[:SS]]``; UNKNOWN or a year/month alone is not scored),
    optional ``title/<id>.txt`` (the headline as shown) and ``boilerplate/<id>.txt`` (one line each:
    text near or inside the article block that is not article text, e.g. editor and source lines,
    copyright notes, related-article links; scored as leaks). This is the layout of the public Chinese
    Web Content Extraction Dataset (immortal-autumn), plus the title and boilerplate truth written by
    hand for it; the pages are never stored in this repository."""
    pages = []
    for path in sorted((directory / "original").glob("*.html")):
        key = path.stem

        def truth(kind: str) -> str:
            f = directory / kind / f"{key}.txt"
            return f.read_text(encoding="utf-8", errors="replace").strip() if f.exists() else ""

        expected: dict[str, Any] = {"content_text": truth("cleaned")}
        m = _TRUTH_DATE.match(truth("date"))
        if m:
            y, mo, d = (int(g) for g in m.groups()[:3])
            expected["published_at"] = f"{y:04d}-{mo:02d}-{d:02d}T12:00:00+08:00"
        if truth("title"):
            expected["title"] = truth("title")
        if (directory / "boilerplate" / f"{key}.txt").exists():
            expected["boilerplate"] = [line.strip() for line in truth("boilerplate").splitlines() if line.strip()]
        html = decode_html(path.read_bytes())
        # the dataset wraps each page in <text id="ADDRESS" …>: the address a crawler would know
        saved = _SAVED_URL.match(html)
        url = saved.group(1) if saved else f"http://real.invalid/{key}.html"
        pages.append(Page("real", url, html, datetime.now(timezone.utc), "Asia/Shanghai", expected))
    return pages


def load_english(directory: Path) -> list[Page]:
    truth = json.loads((directory / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key, item in sorted(truth.items()):
        path = directory / "html" / f"{key}.html.gz"
        if not path.exists():
            continue
        raw = gzip.decompress(path.read_bytes())
        pages.append(Page("english", item.get("url", ""), decode_html(raw), datetime.now(timezone.utc), "UTC",
                          {"content_text": item.get("articleBody", "")}))
    return pages


# --------------------------------------------------------------------------- extractors

def run_generic(page: Page) -> Output:
    r = extract_article(page.html, page.url, page.ref, page.tz)
    return Output(r.title, r.published_at, r.content_text)


def make_trafilatura() -> Optional[Callable[[Page], Output]]:
    try:
        import trafilatura
    except ImportError:
        return None

    def run(page: Page) -> Output:
        doc = trafilatura.bare_extraction(page.html, url=page.url, with_metadata=True, include_comments=False,
                                          include_tables=True)
        if doc is None:
            return Output()
        get = (lambda k: getattr(doc, k, None)) if not isinstance(doc, dict) else doc.get
        return Output(get("title"), get("date"), get("text") or "")
    return run


def make_gne() -> Optional[Callable[[Page], Output]]:
    try:
        from gne import GeneralNewsExtractor
    except ImportError:
        return None
    extractor = GeneralNewsExtractor()

    def run(page: Page) -> Output:
        try:
            out = extractor.extract(page.html)
        except Exception:  # the anchor's own failures score as empty output
            return Output()
        return Output(out.get("title"), out.get("publish_time"), out.get("content") or "")
    return run


def make_readability() -> Optional[Callable[[Page], Output]]:
    try:
        import lxml.html
        from readability import Document
    except ImportError:
        return None

    def run(page: Page) -> Output:
        try:
            doc = Document(page.html)
            summary = doc.summary(html_partial=True)
            title = doc.short_title()
        except Exception:  # the anchor's own failures score as empty output
            return Output()
        root = lxml.html.fragment_fromstring(summary, create_parent="div") if summary.strip() else None
        blocks = []
        if root is not None:
            for node in root.iter("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "pre", "td", "blockquote"):
                if node.tag == "p" or not node.xpath(".//p"):
                    blocks.append(normalize_text(node.text_content()))
            if not any(blocks):
                blocks = [normalize_text(root.text_content())]
        return Output(title, None, "\n".join(b for b in blocks if b))
    return run


# --------------------------------------------------------------------------- scoring

_SPACE = re.compile(r"\s+")


def squash(text: str) -> str:
    return _SPACE.sub("", normalize_text(text or ""))


def bigram_f1(expected: str, got: str) -> float:
    a, b = squash(expected), squash(got)
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    x = Counter(a[i:i + 2] for i in range(len(a) - 1)) if len(a) > 1 else Counter([a])
    y = Counter(b[i:i + 2] for i in range(len(b) - 1)) if len(b) > 1 else Counter([b])
    overlap = sum((x & y).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(y.values()), overlap / sum(x.values())
    return 2 * precision * recall / (precision + recall)


def same_day(expected_iso: str, got: Optional[str], ref: datetime, tz: str) -> bool:
    """The extractor's date (ISO or any text parse_date reads) on the expected day in the page's zone."""
    if not got:
        return False
    parsed = parse_date(str(got), ref, tz)
    if not parsed.iso:
        return False
    want = datetime.fromisoformat(expected_iso)
    have = datetime.fromisoformat(parsed.iso)
    if have.tzinfo is None:
        have = have.replace(tzinfo=want.tzinfo)
    return have.astimezone(want.tzinfo).date() == want.date()


def leaked(boilerplate: list[str], body: str, expected_body: str) -> int:
    got, want = squash(body), squash(expected_body)
    return sum(1 for line in boilerplate if squash(line) and squash(line) in got and squash(line) not in want)


def score(name: str, run: Callable[[Page], Output], pages: list[Page], rounds: int,
          per_page: bool) -> Scores:
    out = Scores()
    for page in pages:
        best = float("inf")
        result = Output()
        for _ in range(rounds):
            start = time.process_time()
            result = run(page)
            best = min(best, time.process_time() - start)
        out.ms.append(best * 1000)
        exp = page.expected
        f1 = bigram_f1(exp.get("content_text", ""), result.body)
        out.f1.append(f1)
        if exp.get("title"):
            out.titles.append(normalize_text(result.title or "") == normalize_text(exp["title"]))
        if exp.get("published_at"):
            out.dates.append(same_day(exp["published_at"], result.date_iso, page.ref, page.tz))
        leaks = leaked(exp.get("boilerplate", []), result.body, exp.get("content_text", ""))
        out.leaks += leaks
        out.leak_pages += 1 if "boilerplate" in exp else 0
        if per_page:
            title_ok = "-" if not exp.get("title") else ("ok" if out.titles[-1] else f"WRONG {result.title!r}")
            date_ok = "-" if not exp.get("published_at") else ("ok" if out.dates[-1] else f"WRONG {result.date_iso!r}")
            print(f"  {name:<12} {page.url[:70]:<70} F1 {f1:.3f} title {title_ok} date {date_ok} leaks {leaks}",
                  file=sys.stderr)
    return out


def fmt(values: list[bool]) -> str:
    return f"{sum(values)}/{len(values)} ({100 * sum(values) / len(values):.0f}%)" if values else "n/a"


def print_table(corpus: str, n: int, results: dict[str, Scores]) -> None:
    print(f"\n{corpus}: {n} pages")
    print("| extractor | body F1 (mean) | title exact | date right | leaked lines (per 10 pages) | ms/page CPU (median) |")
    print("|---|---|---|---|---|---|")
    for name, s in results.items():
        per10 = f"{s.leaks} ({10 * s.leaks / s.leak_pages:.1f})" if s.leak_pages else "n/a"
        print(f"| {name} | {statistics.mean(s.f1):.3f} | {fmt(s.titles)} | {fmt(s.dates)} | {per10} | "
              f"{statistics.median(s.ms):.1f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpora", nargs="*", type=Path, help="fixture sets (default: fixtures/corpus/*)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per page; the fastest is timed")
    parser.add_argument("--english", type=Path, default=os.environ.get("KSPIDER_AEB_DIR") or None,
                        help="directory of the English article-extraction benchmark (html/, ground-truth.json)")
    parser.add_argument("--real", type=Path, default=os.environ.get("KSPIDER_REAL_PAGES_DIR") or None,
                        help="directory of saved real pages with truth (original/, cleaned/, date/[, title/])")
    parser.add_argument("--no-corpus", action="store_true", help="skip the fixture sets (real pages only)")
    parser.add_argument("--only", help="comma-separated extractor names")
    parser.add_argument("--per-page", action="store_true", help="one line per page and extractor on stderr")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    import logging

    logging.disable(logging.WARNING)  # the anchors log every page they find hard

    extractors: dict[str, Callable[[Page], Output]] = {"kspider generic": run_generic}
    for name, factory in (("trafilatura", make_trafilatura), ("GNE", make_gne), ("readability", make_readability)):
        run = factory()
        if run is None:
            print(f"{name}: not installed (pip install -r requirements-bench.txt); skipped", file=sys.stderr)
        else:
            extractors[name] = run
    if args.only:
        wanted = {w.strip().lower() for w in args.only.split(",")}
        extractors = {k: v for k, v in extractors.items() if k.lower() in wanted or k.split()[-1].lower() in wanted}

    sets = args.corpora or sorted(p for p in (ROOT / "fixtures" / "corpus").glob("*") if p.is_dir())
    corpora: list[tuple[str, list[Page]]] = []
    chinese = [] if args.no_corpus else load_fixture_sets(sets)
    if chinese:
        corpora.append(("Chinese corpus (" + ", ".join(sorted({p.corpus for p in chinese})) + ")", chinese))
    elif not args.no_corpus:
        print("no Chinese fixture set found", file=sys.stderr)
    if args.english:
        if (Path(args.english) / "ground-truth.json").exists():
            corpora.append(("English article-extraction benchmark", load_english(Path(args.english))))
        else:
            print(f"{args.english}: no ground-truth.json; English benchmark skipped", file=sys.stderr)
    if args.real:
        if (Path(args.real) / "original").is_dir():
            corpora.append(("Real pages (" + Path(args.real).name + ")", load_real_pages(Path(args.real))))
        else:
            print(f"{args.real}: no original/ directory; real pages skipped", file=sys.stderr)
    if not corpora:
        return 1
    for corpus, pages in corpora:
        results = {name: score(name, run, pages, args.rounds, args.per_page) for name, run in extractors.items()}
        print_table(corpus, len(pages), results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
