"""Browser recording (RECORD_DIR through kspider.replay.browser) with real headless Chromium.

A page on a local HTTP server on 127.0.0.1 loads a script and a stylesheet and
fetches JSON. Rendering it with RECORD_DIR set writes the page and every
sub-resource into a fixture set; rendering the same URL again with REPLAY_DIR
on that set (server stopped) gives the same page, all from the recording.
"""
from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from kspider.replay.fixtures import FixtureIndex
from tests.test_browser_replay import APP_JS, CHROMIUM, ROOT, SPIDER

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/static/app.css"><script src="/static/app.js"></script></head>
<body><h1 id="title">{{ article.title }}</h1><span id="views">{{ article.views }}</span></body></html>"""
FILES = {
    "/a/7": ("text/html; charset=utf-8", PAGE),
    "/static/app.js": ("application/javascript", APP_JS),
    "/static/app.css": ("text/css", "body { color: rgb(4, 5, 6); }"),
    "/api/article?id=7": ("application/json; charset=utf-8",
                          json.dumps({"title": "昆山周市单层厂房出租", "views": 3311}, ensure_ascii=False)),
}
DATE = "Tue, 16 Jan 2024 03:12:45 GMT"


class _Site(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        found = FILES.get(self.path)
        if found is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        ctype, text = found
        body = text.encode("utf-8")
        self.send_response_only(200)  # no automatic Date: the page's own Date is the one to keep
        self.send_header("Content-Type", ctype)
        self.send_header("Date", DATE)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _render(mode_setting: str, fixture_dir: Path, url: str, tmp_path: Path, name: str) -> dict:
    script = tmp_path / f"{name}.py"
    script.write_text(SPIDER.replace('"REPLAY_DIR": sys.argv[1]', f'"{mode_setting}": sys.argv[1]'), encoding="utf-8")
    out = tmp_path / f"{name}.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for var in ("REPLAY_DIR", "RECORD_DIR", "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env.pop(var, None)
    proc = subprocess.run([sys.executable, str(script), str(fixture_dir), str(out), url],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"), reason="Debian chromium not installed")
def test_browser_records_page_and_subresources_then_replays_them(tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        live = _render("RECORD_DIR", tmp_path / "rec", f"{base}/a/7", tmp_path, "record")
    finally:
        server.shutdown()
        server.server_close()
    page = live["pages"][0]
    assert (page["title"], page["views"], page["css"]) == ("昆山周市单层厂房出租", "3,311", "rgb(4, 5, 6)")

    # Every response the browser received is in the set, as served (not the rendered DOM).
    recorded = FixtureIndex.load(tmp_path / "rec")
    assert recorded.lookup(f"{base}/a/7").body().decode("utf-8") == PAGE
    assert recorded.lookup(f"{base}/static/app.js").body().decode("utf-8") == APP_JS
    assert json.loads(recorded.lookup(f"{base}/api/article?id=7").body()) == {"title": "昆山周市单层厂房出租", "views": 3311}
    headers = {name.lower(): value for name, value in recorded.lookup(f"{base}/a/7").headers.items()}
    assert headers["date"] == DATE  # kept, so relative dates stay resolvable in replay

    # The server is gone: the replay renders the same page from the recording alone.
    replayed = _render("REPLAY_DIR", tmp_path / "rec", f"{base}/a/7", tmp_path, "replay")
    again = replayed["pages"][0]
    assert (again["status"], again["title"], again["views"], again["css"]) == (200, "昆山周市单层厂房出租", "3,311", "rgb(4, 5, 6)")
    assert again["date"] == DATE and "playwright" in again["flags"]
    assert replayed["stats"].get("replay/miss/browser/script", 0) == 0
    assert replayed["stats"].get("replay/miss/browser/stylesheet", 0) == 0
