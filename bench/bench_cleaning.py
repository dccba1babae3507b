"""Cleaning throughput on the fixture corpus, in characters per second.

    python bench/bench_cleaning.py [--seeds DIR] [--fixtures DIR] [--rounds N]

The corpus: the seed texts (default fixtures/seeds) and the
HTML bodies of every fixture set under fixtures/ (their <body> text, split into
blocks as the spiders do). Runs with an empty or missing fixtures/ too.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from w3lib.encoding import html_to_unicode  # noqa: E402

from kspider.extract.html import body_blocks  # noqa: E402
from kspider.extract.text import clean_text  # noqa: E402
from kspider.sites import site_for_url  # noqa: E402


def seed_texts(seeds: Path) -> Iterator[tuple[str, str]]:
    if seeds.is_dir():
        for path in sorted(seeds.glob("*.txt")):
            yield path.name, path.read_text(encoding="utf-8", errors="replace")


def fixture_texts(fixtures: Path) -> Iterator[tuple[str, str]]:
    """Body text of each HTML exchange in every manifest under ``fixtures``."""
    import lxml.html

    for manifest in sorted(fixtures.glob("**/manifest.jsonl")) if fixtures.is_dir() else ():
        for line in manifest.read_text(encoding="utf-8").splitlines():
            try:
                exchange = json.loads(line)
            except ValueError:
                continue
            headers = {k.lower(): v for k, v in (exchange.get("headers") or {}).items()}
            body_path = manifest.parent / (exchange.get("body") or "")
            if "html" not in headers.get("content-type", "text/html") or not body_path.is_file():
                continue
            _, html = html_to_unicode(headers.get("content-type"), body_path.read_bytes())
            try:
                root = lxml.html.document_fromstring(html)
            except (ValueError, lxml.etree.ParserError):
                continue
            body = root.find("body")
            text = "\n".join(b.text for b in body_blocks(body if body is not None else root))
            if text:
                yield exchange.get("url", str(body_path)), text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=Path, default=Path(__file__).resolve().parent.parent / "fixtures" / "seeds")
    parser.add_argument("--fixtures", type=Path, default=ROOT / "fixtures")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    corpus = [(name, text, None) for name, text in seed_texts(args.seeds)]
    corpus += [(url, text, site_for_url(url)) for url, text in fixture_texts(args.fixtures)]
    if not corpus:
        print("no corpus: no seed texts and no fixture HTML bodies")
        return 0
    chars = sum(len(text) for _, text, _ in corpus)
    clean_text(corpus[0][1], corpus[0][2])  # warm up OpenCC and the regex caches
    start = time.perf_counter()
    for _ in range(args.rounds):
        for _, text, site in corpus:
            clean_text(text, site)
    elapsed = time.perf_counter() - start
    rate = chars * args.rounds / elapsed if elapsed else float("inf")
    print(f"documents: {len(corpus)}  characters: {chars}  rounds: {args.rounds}")
    print(f"cleaning throughput: {rate:,.0f} characters/second")
    return 0


if __name__ == "__main__":
    sys.exit(main())
