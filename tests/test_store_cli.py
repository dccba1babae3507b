"""``python -m kspider.store find|export`` on both backends, which store a command opened, and the installed package.

A replay crawl of three 021cf posts fills each backend (the embedded store, and
jongodb over the MongoDB wire); the commands are then run as a user would.
The export is read back the way ``mongoimport`` reads a file (each line parsed
as MongoDB Extended JSON, inserted with the driver) and compared with the
collection field by field.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Iterator

import pymongo
import pytest
from bson import json_util

from kspider.store import __main__ as cli

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "021cf"
POST_2066 = "http://kunshanmaigao.021cf.cn/index.php/post/2066.html"  # listing post: 昆山千灯 标准厂房出租, 2026-02-16
POST_2053 = "http://kunshanmaigao.021cf.cn/index.php/post/2053.html"  # news: 周市镇推进低效工业用地再开发, 2025-10-20
POST_532 = "http://suzhou.021cf.cn/index.php/post/532.html"  # news with the inline 太仓事达产业园 ad, 2024-09-20


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("REPLAY_DIR", "RECORD_DIR", "MONGO_URI", "EMBEDDED_DB_DIR", "SPILL_DIR", "MONGO_DATABASE",
                        "STATS_FILE", "PYTHONPATH", "SCRAPY_SETTINGS_MODULE")}
    env.update(extra)
    return env


@pytest.fixture(scope="module", params=["embedded", "jongodb"])
def filled_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Store options (for the CLI) of a store filled by a replay crawl of three 021cf posts."""
    tmp = tmp_path_factory.mktemp(f"cli-{request.param}")
    options = {"--embedded-dir": str(tmp / "db"), "--database": f"kspider_cli_{uuid.uuid4().hex[:8]}"}
    settings = ["-s", f"EMBEDDED_DB_DIR={tmp / 'db'}", "-s", f"MONGO_DATABASE={options['--database']}"]
    if request.param == "jongodb":
        uri = request.getfixturevalue("jongodb").uri
        options = {"--mongo-uri": uri, "--database": options["--database"]}
        settings += ["-s", f"MONGO_URI={uri}"]
    # Every socket forbidden, except for the crawl that talks to jongodb over TCP.
    runner = ["scrapy"] if request.param == "jongodb" else ["tests.support.nosocket", str(tmp / "attempts.txt")]
    cmd = [sys.executable, "-m", *runner, "crawl", "021cf",
           "-a", f"urls={POST_2066},{POST_2053},{POST_532}", "-s", f"REPLAY_DIR={FIXTURES}",
           "-s", f"SPILL_DIR={tmp / 'spill'}", "-s", f"SPIDERMON_REPORT_DIR={tmp / 'reports'}",
           "-s", f"RUN_REPORT_DIR={tmp / 'reports'}", *settings]
    proc = subprocess.run(cmd, cwd=ROOT, env=clean_env(PYTHONPATH=str(ROOT)), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    yield {**options, "backend": request.param}


def run_cli(filled: dict[str, str], *args: str) -> tuple[int, str, str]:
    """The store command in a subprocess from a directory outside the checkout (the installed package)."""
    options = [x for k, v in filled.items() if k.startswith("--") for x in (k, v)]
    proc = subprocess.run([sys.executable, "-m", "kspider.store", *args, *options], cwd=Path(filled.get("cwd", "/")),
                          env=clean_env(), capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def cli_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """The store command in this process (as `python -m kspider.store`, without the start-up cost)."""
    for name in ("MONGO_URI", "EMBEDDED_DB_DIR", "SPILL_DIR", "MONGO_DATABASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "kspider.settings")

    def run(filled: dict[str, str], *args: str) -> tuple[int, str, str]:
        options = [x for k, v in filled.items() if k.startswith("--") for x in (k, v)]
        capsys.readouterr()
        try:
            code = cli.main([*args, *options])
        except SystemExit as exc:  # argparse and filter errors
            code = exc.code if isinstance(exc.code, int) else 2
            if not isinstance(exc.code, int):
                print(exc.code, file=sys.stderr)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_find_by_site_and_date_prints_the_stored_article(filled_store: dict[str, str]) -> None:
    """Run as a user runs it: a subprocess outside the checkout."""
    query = {"site": "kunshanmaigao.021cf.cn", "published_at": {"$gte": "2026-02-01", "$lt": "2026-03-01"}}
    code, out, err = run_cli(filled_store, "find", json.dumps(query), "--fields", "title,published_at,url,views")
    assert code == 0, err
    docs = [json.loads(line) for line in out.splitlines()]
    assert docs == [{
        "_id": docs[0]["_id"], "title": "昆山千灯 标准厂房出租 1200-4800平 可分租",
        "published_at": "2026-02-16T16:00:00+08:00", "url": POST_2066, "views": 31,
    }]
    where = "MongoDB mongodb://127.0.0.1" if filled_store["backend"] == "jongodb" else "embedded store /"
    assert err.splitlines()[0].startswith(f"store: {where}")
    assert err.splitlines()[-1] == "store: 1 document(s) in articles"


def test_find_rental_ads_with_limit_and_fields(filled_store: dict[str, str], cli_main: Any) -> None:
    code, out, err = cli_main(filled_store, "find", '{"city": "太仓"}', "--collection", "rental_ads",
                             "--fields", "park_name,area_sqm_min,availability,seen_on")
    assert code == 0, err
    assert [json.loads(line) for line in out.splitlines()] == [{
        "_id": json.loads(out)["_id"], "park_name": "太仓事达产业园", "area_sqm_min": 1100,
        "availability": "现房", "seen_on": [POST_532],
    }]
    code, out, _ = cli_main(filled_store, "find", "--limit", "2")
    assert code == 0 and len(out.splitlines()) == 2


def test_find_rejects_a_filter_that_is_not_an_object(filled_store: dict[str, str], cli_main: Any) -> None:
    code, out, err = cli_main(filled_store, "find", '["site"]')
    assert code != 0 and out == ""
    assert "filter must be a JSON object" in err


def test_export_is_what_mongoimport_reads_and_equals_the_collection(filled_store: dict[str, str], jongodb: Any,
                                                                    tmp_path: Path, cli_main: Any) -> None:
    out_file = tmp_path / "articles.jsonl"
    code, _, err = cli_main(filled_store, "export", "--collection", "articles", "--out", str(out_file))
    assert code == 0, err
    assert err.splitlines()[-1] == f"store: exported 3 document(s) of articles to {out_file}"
    lines = out_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    # mongoimport's reading: one Extended JSON document per line, inserted as is.
    imported = [json_util.loads(line) for line in lines]
    client: pymongo.MongoClient[Any] = pymongo.MongoClient(jongodb.uri, serverSelectionTimeoutMS=10000)
    try:
        target = client[f"kspider_import_{uuid.uuid4().hex[:8]}"]["articles"]
        target.insert_many(imported)
        round_trip = {d["_id"]: d for d in target.find({})}
    finally:
        client.close()
    code, out, _ = cli_main(filled_store, "find")
    stored = {d["_id"]: d for d in map(json_util.loads, out.splitlines())}
    assert round_trip == stored
    by_url = {d["url"]: d for d in stored.values()}
    assert by_url[POST_532]["title"] == "2024年嘉昆太协同创新核心圈轮值会议在太仓举行"
    assert by_url[POST_532]["published_at"] == "2024-09-20T00:00:00+08:00"
    # The store's own fields are in the export (they are what the feed export lacks).
    for doc in stored.values():
        assert doc["first_seen"] and doc["last_seen"] and doc["dup_group"] and doc["version"] == 1
    # `-` writes the same lines to stdout.
    code, out, _ = cli_main(filled_store, "export", "--collection", "articles", "--out", "-")
    assert code == 0 and sorted(out.splitlines()) == sorted(lines)


def test_missing_embedded_directory_is_refused_unless_created(tmp_path: Path, cli_main: Any) -> None:
    missing = tmp_path / "typo-db"
    filled = {"--embedded-dir": str(missing), "cwd": str(tmp_path)}
    for command in (["count"], ["stats"], ["find"], ["export", "--out", str(tmp_path / "x.jsonl")], ["recover"]):
        code, out, err = (run_cli if command == ["count"] else cli_main)(filled, *command)
        assert code == 2, (command, err)
        assert out == ""
        assert err.splitlines()[0] == f"store: embedded store {missing} database kspider"
        assert f"no embedded store at {missing}" in err and "--create" in err
        assert not missing.exists()
    code, out, err = cli_main(filled, "count", "--create")
    assert code == 0, err
    assert out.splitlines() == ["articles\t0", "rental_ads\t0", "article_versions\t0", "total\t0"]
    assert missing.is_dir()


def test_store_named_by_environment_is_the_one_opened(tmp_path: Path) -> None:
    """EMBEDDED_DB_DIR from the environment, relative to the working directory, is resolved and printed."""
    (tmp_path / "mine").mkdir()
    proc = subprocess.run([sys.executable, "-m", "kspider.store", "count", "--total"], cwd=tmp_path,
                          env=clean_env(EMBEDDED_DB_DIR="mine"), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines()[0] == f"store: embedded store {tmp_path / 'mine'} database kspider"
    assert proc.stdout == "0\n"


def test_uri_password_is_never_printed() -> None:
    assert cli.redact_uri("mongodb://crawler:s3cr3t@db.example:27017,db2.example/kspider?authSource=admin") == \
        "mongodb://crawler:***@db.example:27017,db2.example/kspider?authSource=admin"
    assert cli.redact_uri("mongodb+srv://crawler:p%40ss@cluster.example/") == "mongodb+srv://crawler:***@cluster.example/"
    assert cli.redact_uri("mongodb://db.example/") == "mongodb://db.example/"


def test_scrapy_runs_outside_the_checkout(tmp_path: Path) -> None:
    """The project is installed into the venv: `scrapy` finds it by SCRAPY_SETTINGS_MODULE from any directory."""
    scrapy = Path(sys.executable).with_name("scrapy")
    proc = subprocess.run([str(scrapy), "list"], cwd=tmp_path, env=clean_env(SCRAPY_SETTINGS_MODULE="kspider.settings"),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["021cf", "jssuxun", "matchexpo", "xinjiapo"]
