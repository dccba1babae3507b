"""``python -m kspider.demo`` and the README's examples work in any order.

The demo writes to its own store (``.kspider/demo/db`` under the working
directory), says where, and accounts for every item; the README's replay
example run afterwards in the same directory still gets its article (the
default store is untouched, so incremental crawling has nothing to skip).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

pytestmark = pytest.mark.slow


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items()
           if k not in ("REPLAY_DIR", "RECORD_DIR", "MONGO_URI", "EMBEDDED_DB_DIR", "SPILL_DIR", "STATS_FILE",
                        "PYTHONPATH", "SCRAPY_SETTINGS_MODULE", "RUN_REPORT_DIR", "SPIDERMON_REPORT_DIR")}
    out["LOG_LEVEL"] = "ERROR"
    return out


def demo(cwd: Path) -> str:
    proc = subprocess.run([sys.executable, "-m", "kspider.demo"], cwd=cwd, env=env(), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout
    return proc.stdout


def figures(out: str) -> dict[str, int]:
    """The demo's accounting: items, new documents, and each line's count by its first words."""
    found: dict[str, int] = {}
    head = re.search(r"^(\d+) item\(s\) scraped became (\d+) new document\(s\):$", out, re.M)
    assert head, out
    found["items"], found["new"] = int(head.group(1)), int(head.group(2))
    for n, words in re.findall(r"^ +(\d+) (\S+ \S+)", out, re.M):
        found[words] = int(n)
    return found


def find(cwd: Path, query: dict[str, Any], fields: str) -> list[dict[str, Any]]:
    proc = subprocess.run([sys.executable, "-m", "kspider.store", "find", json.dumps(query), "--fields", fields,
                           "--embedded-dir", ".kspider/demo/db"], cwd=cwd, env=env(), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_demo_uses_its_own_store_and_explains_the_counts_then_readme_example_still_works(tmp_path: Path) -> None:
    first = demo(tmp_path)
    store_dir = tmp_path / ".kspider" / "demo" / "db"
    assert first.splitlines()[0] == (f"kspider demo: replaying {FIXTURES} (no network) into the demo's own embedded "
                                     f"store {store_dir}")
    assert store_dir.is_dir()
    assert not (tmp_path / ".kspider" / "db").exists()  # the default store is not touched

    stored = re.search(r"^stored in .*: articles (\d+) \(\+(\d+)\), rental_ads (\d+) \(\+(\d+)\)", first, re.M)
    assert stored, first
    articles, ads = int(stored.group(1)), int(stored.group(3))
    assert (int(stored.group(2)), int(stored.group(4))) == (articles, ads)  # a fresh store: all new
    numbers = figures(first)
    assert numbers["new"] == articles + ads == numbers["stored as"]
    # Every scraped item is accounted for: a new document, merged into one, or an update of one.
    assert numbers["items"] == numbers["stored as"] + numbers.get("exact copies", 0) + numbers.get("updated a", 0)
    # The fixture sets hold a rental ad repeated on two 021cf pages: one document, counted as an update.
    assert numbers.get("updated a", 0) >= 1
    assert numbers["article(s) off"] == 3  # xinjiapo: 3 of its 6 articles are off topic
    # What the demo stored can be read back by site and date (hand-checked values of the fixture pages).
    assert find(tmp_path, {"site": "www.matchexpo.com", "published_at": {"$gte": "2021-11-01", "$lt": "2021-12-01"}},
                "title,published_at,views") == [{
        "_id": find(tmp_path, {"site": "www.matchexpo.com", "views": 3311}, "_id")[0]["_id"],
        "title": "昆山打造具有全球竞争优势的新兴产业“高地”", "published_at": "2021-11-10T09:26:41+08:00", "views": 3311}]
    assert re.search(r"^  matchexpo +\d+ +5 +5 +0 +0 +0  \.kspider/demo/reports/matchexpo-\d{8}T\d{6}Z\.html$",
                     first, re.M), first
    assert (tmp_path / ".kspider" / "demo" / "reports" / "matchexpo-latest.html").is_file()

    # Again: nothing new, and the demo says why (every post is already in its store).
    second = demo(tmp_path)
    assert re.search(rf"articles {articles} \(\+0\), rental_ads {ads} \(\+0\)", second), second
    assert figures(second)["items"] == 0
    skipped = re.search(r"^ +(\d+) post\(s\) not fetched: already in this store", second, re.M)
    assert skipped and int(skipped.group(1)) >= 5, second

    # The README's replay example, in the same directory after the demo, gets its article.
    out = tmp_path / "out.jsonl"
    proc = subprocess.run([str(Path(sys.executable).with_name("scrapy")), "crawl", "xinjiapo",
                           "-a", "urls=https://xinjiapo.news/news/41528", "-s", f"REPLAY_DIR={FIXTURES / 'xinjiapo'}",
                           "-O", str(out)], cwd=tmp_path, env={**env(), "SCRAPY_SETTINGS_MODULE": "kspider.settings"},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(i["url"], i["title"]) for i in items] == [
        ("https://xinjiapo.news/news/41528", "聚焦长三角|苏州相城:打造长三角国际开放合作新引擎")]
