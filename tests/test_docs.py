"""The documentation is in the repository and complete: every stored field is documented in
docs/DATA_MODEL.md, nothing cites a file outside the repository, the README links to docs/
instead of repeating them, and the fixtures rebuild from the seed texts in the repository."""
from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kspider.items import Article, RentalAd

ROOT = Path(__file__).resolve().parent.parent
DATA_MODEL = ROOT / "docs" / "DATA_MODEL.md"
README = ROOT / "README.md"

# Citations of files the repository does not hold: the project's spec texts, issue numbers,
# the seeds folder beside the checkout. (Built from parts so this file does not match itself.)
OUTSIDE = re.compile("|".join([
    "CONTRACT" + r"\s*§", "CONTRACT" + r"\.md", r"(?<![\w/])" + "SITES" + r"\.md",
    r"\bissues?\s+#?\d+", r"/work/" + "shared", r"\.\./" + "shared", r"\.\./" + "seeds",
]))


def store_fields() -> set[str]:
    """Fields the store writes into article documents beyond the item's own."""
    try:
        from kspider.store.documents import STORE_FIELDS
    except ImportError:  # the store before its split into parts
        from kspider.store.core import _STORE_FIELDS as STORE_FIELDS  # type: ignore[attr-defined,no-redef]
    return set(STORE_FIELDS)


def documented(section: str) -> set[str]:
    """Field names documented as table rows (first cell a `code` name) in a part of the page."""
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, re.M))


def sections() -> dict[str, str]:
    text = DATA_MODEL.read_text(encoding="utf-8")
    parts = re.split(r"^## ", text, flags=re.M)
    return {part.splitlines()[0]: part for part in parts[1:]}


def test_every_article_field_and_store_field_is_documented() -> None:
    articles = sections()["`articles` — one document per article"].split("### Quality flags")[0]
    want = {f.name for f in dataclasses.fields(Article)} | store_fields()
    assert want - documented(articles) == set()
    # Each documented row says what the field is and gives an example (4 cells, none empty).
    for row in re.findall(r"^\| `[a-z_]+` \|.*$", articles, re.M):
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert len(cells) == 4 and all(cells), row


def test_every_rental_ad_field_is_documented() -> None:
    ads = sections()["`rental_ads` — one document per ad text"]
    want = {f.name for f in dataclasses.fields(RentalAd)} | {"first_seen", "last_seen"}
    assert want - documented(ads) == set()
    assert documented(ads) - {f.name for f in dataclasses.fields(RentalAd)} == set()  # nothing undocumented-by-code


def test_store_collections_and_quality_flags_are_documented() -> None:
    own = sections()["The store's own collections"]
    for collection in ("article_versions", "store_claims", "crawl_state"):
        assert f"| `{collection}` |" in own
    flags = set(re.findall(r"^\| `([a-z_]+)`", sections()["`articles` — one document per article"].split(
        "### Quality flags")[1], re.M))
    for flag in ("adlaw_restored", "pinyin_stripped", "mojibake", "missing_date", "empty_body", "multi_page",
                 "charset_corrected", "truncated", "oversized"):
        assert flag in flags


def repository_texts() -> list[Path]:
    paths = [README, ROOT / "setup.py", ROOT / ".ci" / "run", *sorted((ROOT / "docs").glob("*.md")),
             *sorted((ROOT / "scripts").glob("*"))]
    for folder in ("kspider", "tests", "bench"):
        paths += [p for p in sorted((ROOT / folder).rglob("*.py")) if p != Path(__file__).resolve()]
    for pattern in ("*/_build.py", "*/build_fixtures.py", "*/README.md", "*/*/_build.py", "*/*/README.md"):
        paths += sorted((ROOT / "fixtures").glob(pattern))
    return [p for p in paths if p.is_file() and "__pycache__" not in p.parts]


def test_nothing_cites_files_outside_the_repository() -> None:
    found = []
    for path in repository_texts():
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert found == []


def test_readme_links_to_docs_instead_of_repeating_them() -> None:
    readme = README.read_text(encoding="utf-8")
    for link in set(re.findall(r"docs/[A-Z_]+\.md", readme)):
        assert (ROOT / link).is_file(), link
    for name in ("DATA_MODEL", "SITE_NOTES", "OPERATING", "SCALING"):
        assert f"](docs/{name}.md)" in readme, name
    # No paragraph of the docs is repeated in the README.
    for doc in ("OPERATING", "SCALING", "DATA_MODEL", "SITE_NOTES"):
        text = (ROOT / "docs" / f"{doc}.md").read_text(encoding="utf-8")
        for paragraph in re.split(r"\n\s*\n", text):
            flat = " ".join(paragraph.split())
            if len(flat) >= 160 and not flat.startswith(("|", "```", "#")):
                assert flat not in " ".join(readme.split()), (doc, flat[:80])
    # The sections the docs hold are short summaries in the README.
    for heading in ("## Operating\n", "## Scaling out\n"):
        body = readme.split(heading, 1)[1].split("\n## ", 1)[0]
        assert len(body.splitlines()) < 25, heading


def test_fixtures_rebuild_from_seed_texts_in_the_repository(tmp_path: Path) -> None:
    """fixtures/021cf/_build.py reads fixtures/seeds/ and renders the shipped pages byte for byte."""
    copy = tmp_path / "fixtures"
    shutil.copytree(ROOT / "fixtures" / "021cf", copy / "021cf")
    shutil.copytree(ROOT / "fixtures" / "seeds", copy / "seeds")
    env = {k: v for k, v in os.environ.items() if k != "SEEDS_DIR"}
    proc = subprocess.run([sys.executable, str(copy / "021cf" / "_build.py")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    shipped = ROOT / "fixtures" / "021cf"
    bodies = [p.relative_to(shipped) for p in shipped.rglob("*") if p.is_file()
              and p.name not in ("expected.json", "_build.py", "README.md") and "__pycache__" not in p.parts]
    assert len(bodies) >= 30
    for rel in bodies:
        assert (copy / "021cf" / rel).read_bytes() == (shipped / rel).read_bytes(), rel
