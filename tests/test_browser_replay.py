"""Browser replay (kspider.replay.browser) with real headless Chromium.

One Scrapy process renders a few pages of a fixture set written here: the page's
script and style, the JSON its script fetches, a recorded redirect, a tracker
and an API call with no exchange (aborted, counted), and a page with no
exchange (404). The handler is used on its own, as DOWNLOAD_HANDLERS, so it is
tested without the project's handler around it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
DATE = "Mon, 15 Jan 2024 08:00:00 GMT"

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/static/app.css"><script src="/static/app.js"></script>
<script src="https://hm.baidu.com/hm.js?abc"></script></head>
<body><h1 id="title">{{ article.title }}</h1><span id="views">{{ article.views }}</span></body></html>"""
APP_JS = """document.addEventListener('DOMContentLoaded', function () {
  fetch('/api/article?id=7').then(function (r) { return r.json(); }).then(function (d) {
    document.getElementById('title').textContent = d.title;
    document.getElementById('views').textContent = d.views.toLocaleString('en-US');
    document.body.setAttribute('data-css', getComputedStyle(document.body).color);
  });
  fetch('/api/missing').catch(function () { document.body.setAttribute('data-missing', 'aborted'); });
});"""

SPIDER = r'''
import json, sys
import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy_playwright.page import PageMethod

pages = []

class Probe(scrapy.Spider):
    name = "probe"
    custom_settings = {"HTTPERROR_ALLOW_ALL": True}

    async def start(self):
        for url in sys.argv[3:]:
            yield scrapy.Request(url, dont_filter=True, meta={
                "playwright": True, "capture_json": True,
                "playwright_page_methods": [PageMethod("wait_for_load_state", "networkidle")]})

    def parse(self, response):
        pages.append({"url": response.url, "status": response.status, "flags": response.flags,
                      "date": response.headers.get("Date", b"").decode(),
                      "title": response.css("#title::text").get(), "views": response.css("#views::text").get(),
                      "css": response.css("body::attr(data-css)").get(),
                      "missing": response.css("body::attr(data-missing)").get(),
                      "captured": [c["url"] for c in response.meta.get("captured_json", [])]})

process = CrawlerProcess({
    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    "DOWNLOAD_HANDLERS": {"http": "kspider.replay.browser.BrowserDownloadHandler",
                          "https": "kspider.replay.browser.BrowserDownloadHandler"},
    "REPLAY_DIR": sys.argv[1], "ROBOTSTXT_OBEY": False, "LOG_LEVEL": "WARNING",
    "PLAYWRIGHT_LAUNCH_OPTIONS": {"executable_path": "/usr/bin/chromium", "headless": True,
                                  "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                           "--disable-component-update", "--disable-sync"]},
    "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": 20000,
})
crawler = process.create_crawler(Probe)
process.crawl(crawler)
process.start()
stats = {k: v for k, v in crawler.stats.get_stats().items() if isinstance(v, int)}
with open(sys.argv[2], "w", encoding="utf-8") as fh:
    json.dump({"pages": pages, "stats": stats}, fh, ensure_ascii=False)
'''


def write_set(root: Path) -> None:
    files = {
        "site/page.html": PAGE,
        "site/app.js": APP_JS,
        "site/app.css": "body { color: rgb(1, 2, 3); }",
        "site/article.json": json.dumps({"title": "太仓港经济技术开发区签约项目42个", "views": 2045}, ensure_ascii=False),
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")

    def rec(url: str, body: str | None, ctype: str, status: int = 200, **headers: str) -> dict:
        return {"url": url, "status": status, "headers": {"Content-Type": ctype, "Date": DATE, **headers}, "body": body}

    records = [
        rec("https://www.example.test/a/7", "site/page.html", "text/html; charset=utf-8"),
        rec("https://www.example.test/static/app.js", "site/app.js", "application/javascript"),
        rec("https://www.example.test/static/app.css", "site/app.css", "text/css"),
        rec("https://www.example.test/api/article?id=7", "site/article.json", "application/json; charset=utf-8"),
        rec("https://www.example.test/old/7", None, "text/html", status=301, Location="/a/7"),
    ]
    with (root / "manifest.jsonl").open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed")
def test_browser_replays_page_and_subresources_from_fixtures(tmp_path: Path) -> None:
    fixture_set = tmp_path / "set"
    write_set(fixture_set)
    script = tmp_path / "probe.py"
    script.write_text(SPIDER, encoding="utf-8")
    out = tmp_path / "out.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for name in ("REPLAY_DIR", "RECORD_DIR", "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env.pop(name, None)
    urls = ["https://www.example.test/a/7", "https://www.example.test/old/7", "https://www.example.test/nothing"]
    proc = subprocess.run([sys.executable, str(script), str(fixture_set), str(out), *urls],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    pages = {p["url"]: p for p in result["pages"]}
    stats = result["stats"]

    page = pages["https://www.example.test/a/7"]
    # The app script ran in Chromium, got its JSON and the stylesheet from the fixture set.
    assert (page["status"], page["title"], page["views"]) == (200, "太仓港经济技术开发区签约项目42个", "2,045")
    assert page["css"] == "rgb(1, 2, 3)"
    assert page["missing"] == "aborted"
    assert page["date"] == DATE and "playwright" in page["flags"]
    assert page["captured"] == ["https://www.example.test/api/article?id=7"]
    # A recorded redirect is followed inside the set.
    assert pages["https://www.example.test/old/7"]["title"] == "太仓港经济技术开发区签约项目42个"
    assert stats.get("replay/redirect/browser") == 1
    # A page with no exchange is a 404, as in plain replay.
    assert pages["https://www.example.test/nothing"]["status"] == 404
    # Misses: per rendered page the tracker and /api/missing (two pages), and the missing page itself.
    assert stats["replay/miss/browser/script"] == 2
    assert stats["replay/miss/browser/fetch"] == 2
    assert stats["replay/miss/browser/document"] == 1
    assert stats["replay/miss"] == 5
