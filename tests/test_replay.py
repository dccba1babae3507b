"""Replay and record through Scrapy's real download stack.

Each test runs a real ``scrapy`` process (the probe spider, or a template
spider) against a fixture set written here in the contract format, the way
someone else's set would be written.
"""
from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import brotli
import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = str(ROOT / "tests" / "support" / "probe_spider.py")
DATE = "Thu, 19 Feb 2026 08:00:00 GMT"

GBK_PAGE = (
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk">'
    "<title>太仓标准厂房出租</title></head><body><p>厂房面积1100平方米</p></body></html>"
).encode("gbk")
UTF8_PAGE = "<html><head><title>嘉昆太协同创新核心圈</title></head><body>ok</body></html>".encode("utf-8")
GZ_PAGE = "<html><head><title>压缩页面</title></head><body>gz</body></html>".encode("utf-8")
BR_PAGE = "<html><head><title>Brotli压缩页面</title></head><body>br</body></html>".encode("utf-8")


def write_set(root: Path) -> Path:
    """A fixture set with a hit, a redirect, a gzip body and a meta-only GBK page."""
    (root / "a.example").mkdir(parents=True)
    (root / "a.example" / "hit.html").write_bytes(UTF8_PAGE)
    (root / "a.example" / "gbk.html").write_bytes(GBK_PAGE)
    (root / "a.example" / "gz.html.gz").write_bytes(gzip.compress(GZ_PAGE))
    (root / "a.example" / "br.html.br").write_bytes(brotli.compress(BR_PAGE))
    records = [
        {"url": "http://a.example/hit.html?b=2&a=1", "status": 200,
         "headers": {"Content-Type": "text/html; charset=utf-8", "Date": DATE}, "body": "a.example/hit.html"},
        {"url": "http://a.example/old", "status": 301,
         "headers": {"Location": "http://a.example/hit.html?a=1&b=2", "Date": DATE}, "body": None},
        {"url": "http://a.example/gz.html", "status": 200,
         "headers": {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip", "Date": DATE},
         "body": "a.example/gz.html.gz"},
        {"url": "http://a.example/br.html", "status": 200,
         "headers": {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "br", "Date": DATE},
         "body": "a.example/br.html.br"},
        {"url": "http://a.example/gbk.html", "status": 200,
         "headers": {"Content-Type": "text/html", "Date": DATE}, "body": "a.example/gbk.html"},
    ]
    with (root / "manifest.jsonl").open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return root


def run_scrapy(args: list[str], cwd: Path, env_extra: dict | None = None, nosocket: Path | None = None):
    env = dict(os.environ, PYTHONPATH=str(ROOT), **(env_extra or {}))
    for name in ("REPLAY_DIR", "RECORD_DIR", "MONGO_URI", "http_proxy", "HTTP_PROXY"):
        if name not in (env_extra or {}):
            env.pop(name, None)
    if nosocket is not None:
        cmd = [sys.executable, "-m", "tests.support.nosocket", str(nosocket)] + args
    else:
        cmd = [sys.executable, "-m", "scrapy"] + args
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    return proc


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def probe_run(tmp_path_factory):
    """One replay crawl of the probe spider over every case, with sockets forbidden."""
    tmp = tmp_path_factory.mktemp("replay")
    fixtures = write_set(tmp / "sets" / "one")
    out, stats, attempts = tmp / "out.jsonl", tmp / "stats.json", tmp / "attempts.txt"
    urls = ",".join([
        "http://a.example/hit.html?a=1&b=2", "http://a.example/old", "http://a.example/gz.html",
        "http://a.example/gbk.html", "http://a.example/missing.html", "http://a.example/br.html",
    ])
    proc = run_scrapy(
        ["runspider", PROBE, "-a", f"urls={urls}", "-s", f"REPLAY_DIR={tmp / 'sets'}",
         "-s", f"STATS_FILE={stats}", "-O", str(out)],
        cwd=ROOT, nosocket=attempts,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    items = {item["url"]: item for item in read_jsonl(out)}
    return {"items": items, "stats": json.loads(stats.read_text()), "attempts": attempts.read_text(),
            "log": proc.stderr, "fixtures": fixtures}


def test_replay_hit_matches_canonical_url(probe_run):
    item = probe_run["items"]["http://a.example/hit.html?a=1&b=2"]
    assert item["status"] == 200
    assert item["title"] == "嘉昆太协同创新核心圈"
    assert item["body_sha1"] == hashlib.sha1(UTF8_PAGE).hexdigest()
    assert "replay" in item["flags"]


def test_replay_redirect_followed_by_redirect_middleware(probe_run):
    # The 301 is served as recorded; Scrapy's RedirectMiddleware follows it to the page.
    hit = [i for i in probe_run["items"].values() if i["redirect_urls"]]
    assert len(hit) == 1
    assert hit[0]["redirect_urls"] == ["http://a.example/old"]
    assert hit[0]["title"] == "嘉昆太协同创新核心圈"


def test_replay_gzip_body_decompressed_by_middleware(probe_run):
    item = probe_run["items"]["http://a.example/gz.html"]
    assert item["title"] == "压缩页面"
    assert item["body_sha1"] == hashlib.sha1(GZ_PAGE).hexdigest()


def test_replay_brotli_body_decompressed_by_middleware(probe_run):
    item = probe_run["items"]["http://a.example/br.html"]
    assert item["title"] == "Brotli压缩页面"
    assert item["body_sha1"] == hashlib.sha1(BR_PAGE).hexdigest()


def test_replay_charset_only_in_meta(probe_run):
    item = probe_run["items"]["http://a.example/gbk.html"]
    assert item["encoding"] in ("gbk", "gb18030")
    assert item["title"] == "太仓标准厂房出租"


def test_replay_miss_is_404_and_counted(probe_run):
    item = probe_run["items"]["http://a.example/missing.html"]
    assert item["status"] == 404
    assert probe_run["stats"]["replay/miss"] == 1
    assert "replay miss: no exchange for http://a.example/missing.html" in probe_run["log"]


def test_replay_opens_no_socket(probe_run):
    assert probe_run["attempts"] == ""
    # robots.txt had no exchange: served empty (allow all), not counted as a miss.
    assert probe_run["stats"]["replay/robots_default"] >= 1
    # hit, the 301, its target, gz, br, gbk
    assert probe_run["stats"]["replay/hit"] == 6


class _FixtureProxy(http.server.BaseHTTPRequestHandler):
    """An HTTP proxy on 127.0.0.1 that serves the fixture bytes of a set for absolute-URL requests."""

    index = None

    def do_GET(self):  # noqa: N802
        exchange = self.index.lookup(self.path)
        if exchange is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = exchange.body()
        self.send_response(exchange.status)
        for name, value in exchange.header_items():
            if name.lower() not in ("content-length", "date", "server"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_record_then_replay_is_byte_identical(tmp_path):
    """Record a live crawl (a local proxy serving fixture bytes), then replay the recording."""
    from kspider.replay.fixtures import FixtureIndex

    source = write_set(tmp_path / "source")
    _FixtureProxy.index = FixtureIndex.load(source)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FixtureProxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    urls = "http://a.example/hit.html?a=1&b=2,http://a.example/old,http://a.example/gz.html,http://a.example/gbk.html"
    try:
        proxy = f"http://127.0.0.1:{server.server_address[1]}"
        live = run_scrapy(
            ["runspider", PROBE, "-a", f"urls={urls}", "-s", f"RECORD_DIR={tmp_path / 'rec'}",
             "-s", "ROBOTSTXT_OBEY=False", "-O", str(tmp_path / "live.jsonl")],
            cwd=ROOT, env_extra={"http_proxy": proxy},
        )
    finally:
        server.shutdown()
    assert live.returncode == 0, live.stderr[-3000:]
    recorded = FixtureIndex.load(tmp_path / "rec")
    # Bodies are stored exactly as served: the gzip body still compressed, the GBK bytes untouched.
    assert recorded.lookup("http://a.example/gz.html").body() == (source / "a.example/gz.html.gz").read_bytes()
    assert recorded.lookup("http://a.example/gz.html").headers["Content-Encoding"] == "gzip"
    assert recorded.lookup("http://a.example/gbk.html").body() == GBK_PAGE
    redirect = recorded.lookup("http://a.example/old")
    assert redirect.status == 301 and redirect.body_path is None
    assert redirect.headers["Location"] == "http://a.example/hit.html?a=1&b=2"

    replay = run_scrapy(
        ["runspider", PROBE, "-a", f"urls={urls}", "-s", f"REPLAY_DIR={tmp_path / 'rec'}",
         "-s", "ROBOTSTXT_OBEY=False", "-O", str(tmp_path / "replay.jsonl")],
        cwd=ROOT, nosocket=tmp_path / "attempts.txt",
    )
    assert replay.returncode == 0, replay.stderr[-3000:]
    strip = lambda items: sorted(  # noqa: E731
        (i["url"], i["status"], i["title"], i["body_sha1"], tuple(i["redirect_urls"])) for i in items)
    assert strip(read_jsonl(tmp_path / "replay.jsonl")) == strip(read_jsonl(tmp_path / "live.jsonl"))
    assert (tmp_path / "attempts.txt").read_text() == ""
