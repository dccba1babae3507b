"""The HTML run report of a replay crawl of fixtures/021cf, rendered in headless Chromium.

The numbers asserted are those of the fixture set (counted by hand from its
pages and expected.json): kunshanmaigao.021cf.cn has 10 posts (5 of them
rental listings) on 6 listing pages, suzhou.021cf.cn 6 posts (3 listings, and
post 532 carries the inline 太仓事达产业园 ad) on 5 listing pages; post 1873
repeats 532 word for word (merged: one document, 1873 in alt_urls) and
carries the same inline ad (one rental ad document seen on both pages).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from kspider.report import rent_per_sqm_month, sale_per_sqm, svg_towns_chart

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
EARLIER_RUN = {"spider": "021cf", "finished_at": "2026-11-30T06:15:00+00:00",
               "sites": {"kunshanmaigao.021cf.cn": 12, "suzhou.021cf.cn": 7}, "items": 19}


def crawl(tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("REPLAY_DIR", "RECORD_DIR", "MONGO_URI", "STATS_FILE", "RUN_REPORT", "SPIDERMON_ENABLED")}
    env["PYTHONPATH"] = str(ROOT)
    cmd = [sys.executable, "-m", "tests.support.nosocket", str(tmp / "attempts.txt"), "crawl", "021cf",
           "-s", f"REPLAY_DIR={ROOT / 'fixtures' / '021cf'}", "-s", f"EMBEDDED_DB_DIR={tmp / 'db'}",
           "-s", f"SPILL_DIR={tmp / 'spill'}", "-s", f"RUN_REPORT_DIR={tmp / 'reports'}",
           "-s", f"SPIDERMON_REPORT_DIR={tmp / 'reports'}", "-s", f"STATS_FILE={tmp / 'stats.json'}", *extra]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("run-report")
    (tmp / "reports").mkdir()
    (tmp / "reports" / "history.json").write_text(json.dumps([EARLIER_RUN]), encoding="utf-8")
    proc = crawl(tmp)
    assert proc.returncode == 0, proc.stderr[-3000:]
    stats = json.loads((tmp / "stats.json").read_text())
    yield {"dir": tmp / "reports", "stats": stats, "log": proc.stderr}


@pytest.fixture(scope="module")
def page(report: dict[str, Any]) -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Debian chromium missing (scripts/setup.sh installs it)")
        pytest.skip("Debian chromium not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"])
        tab = browser.new_page()
        requests: list[str] = []
        tab.on("request", lambda r: requests.append(r.url))
        tab.goto((report["dir"] / "latest.html").resolve().as_uri())
        tab.requests = requests  # type: ignore[attr-defined]
        yield tab
        browser.close()


def row_cells(page: Any, table: str, first_cell: str) -> list[str]:
    row = page.locator(f"{table} tr", has=page.locator("td", has_text=first_cell)).first
    return [c.strip() for c in row.locator("td").all_inner_texts()]


@pytest.mark.browser
def test_report_files_and_links(report: dict[str, Any]) -> None:
    directory = report["dir"]
    path = Path(report["stats"]["run_report/file"]) if "run_report/file" in report["stats"] else None
    htmls = sorted(p.name for p in directory.glob("021cf-2*.html"))
    assert len(htmls) == 1
    assert (directory / "latest.html").resolve() == (directory / htmls[0]).resolve()
    assert (directory / "021cf-latest.html").resolve() == (directory / htmls[0]).resolve()
    assert path is None or path.name == htmls[0]
    assert f"run report: {(directory / htmls[0]).resolve()}" in report["log"]
    history = json.loads((directory / "history.json").read_text())
    assert history[0] == EARLIER_RUN
    assert history[1]["sites"] == {"kunshanmaigao.021cf.cn": 15, "suzhou.021cf.cn": 10}
    assert history[1]["items"] == 25


@pytest.mark.browser
def test_report_per_site_numbers(page: Any, report: dict[str, Any]) -> None:
    assert page.title().startswith("kspider run report: 021cf")
    assert page.locator("#status").inner_text() == "ok"
    assert page.locator("#items").inner_text() == "25"
    # site, articles stored, rental ads stored, skipped (already stored), dropped items, failed pages, pages
    assert row_cells(page, "#sites", "kunshanmaigao.021cf.cn") == ["kunshanmaigao.021cf.cn", "10", "5", "0", "0", "0", "16"]
    assert row_cells(page, "#sites", "suzhou.021cf.cn") == ["suzhou.021cf.cn", "6", "4", "0", "0", "0", "11"]
    assert row_cells(page, "#sites", "total") == ["total", "16", "9", "0", "0", "0", "27"]


@pytest.mark.browser
def test_report_coverage_drift_invalid_and_store(page: Any, report: dict[str, Any]) -> None:
    def coverage(kind: str, field: str) -> str:
        return page.locator(f'#coverage tr[data-kind="{kind}"][data-field="{field}"] td').nth(1).inner_text().strip()

    assert coverage("article", "title") == "16/16 (100%)"
    assert coverage("article", "published_at") == "16/16 (100%)"
    assert coverage("article", "views") == "16/16 (100%)"
    assert coverage("article", "dup_group") == "set by the store in the stored document"
    assert coverage("rental_ad", "contact_phones") == "9/9 (100%)"
    assert coverage("rental_ad", "wechat") == "0/9 (0%)"
    assert row_cells(page, "#drift", "post pages without an article") == ["post pages without an article", "0"]
    assert row_cells(page, "#drift", "articles parsed") == ["articles parsed", "16"]
    assert page.locator("#invalid").inner_text().strip() == "None."
    # 23 new documents, 1 exact copy merged (post 1873 → alt_urls of 532), 1 update (the inline ad on its 2nd page).
    assert row_cells(page, "#store", "inserted") == ["inserted", "23"]
    assert row_cells(page, "#store", "alt_urls") == ["alt_urls", "1"]
    assert row_cells(page, "#store", "updated") == ["updated", "1"]
    assert row_cells(page, "#monitors", "passed") == ["passed", "4"]
    assert row_cells(page, "#monitors", "failed") == ["failed", "0"]
    for name, value in report["stats"].items():
        if name.startswith("store/") and isinstance(value, int) and name.count("/") == 1:
            assert row_cells(page, "#store", name[6:])[1] == str(value)


@pytest.mark.browser
def test_report_charts_are_drawn(page: Any) -> None:
    runs = page.locator("#chart-runs")
    box = runs.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 150
    bars = [(r.get_attribute("data-site"), r.get_attribute("data-items")) for r in runs.locator("rect.bar").all()]
    assert bars == [("kunshanmaigao.021cf.cn", "12"), ("suzhou.021cf.cn", "7"),
                    ("kunshanmaigao.021cf.cn", "15"), ("suzhou.021cf.cn", "10")]
    heights = [r.bounding_box()["height"] for r in runs.locator("rect.bar").all()]
    assert heights[2] > heights[0] > heights[3] > heights[1] > 0

    towns = page.locator("#chart-towns")
    assert towns.bounding_box()["height"] > 100

    def value(town: str, key: str) -> float:
        return float(towns.locator(f'rect[data-town="{town}"][data-{key}]').get_attribute(f"data-{key}"))

    # 千灯 (post 2066): 22 元/㎡/月, 1200-4800 平; 周市 (post 2068): 0.9 元/㎡/天 = 27.4 元/㎡/月, 2800 平;
    # 花桥 (post 2061): for sale at 5800 元/㎡, 4500 平.
    assert value("千灯", "rent") == 22.0 and value("千灯", "area") == 4800.0
    assert value("周市", "rent") == pytest.approx(0.9 * 365 / 12, abs=0.01) and value("周市", "area") == 2800.0
    assert value("花桥", "sale") == 5800.0 and value("花桥", "area") == 4500.0
    assert towns.locator('rect[data-town="花桥"][data-rent]').count() == 0
    # Nothing was loaded from elsewhere: the charts are inline SVG.
    assert [u for u in page.requests if not u.startswith("file://")] == []  # type: ignore[attr-defined]


def test_price_per_square_metre() -> None:
    assert rent_per_sqm_month({"price_value": 1.2, "price_unit": "元/㎡/天", "deal_type": "rent"}) == pytest.approx(36.5)
    assert rent_per_sqm_month({"price_value": 30, "price_unit": "万元/年", "area_sqm_min": 5000}) == pytest.approx(5.0)
    assert rent_per_sqm_month({"price_value": 2610, "price_unit": "万元", "deal_type": "sale"}) is None
    assert sale_per_sqm({"price_value": 2610, "price_unit": "万元", "deal_type": "sale", "area_sqm_min": 4500}) == 5800
    assert sale_per_sqm({"price_value": 22, "price_unit": "元/㎡/月", "deal_type": "rent"}) is None
    svg = svg_towns_chart({"安亭": {"rent": [30.0, 36.0], "sale": [], "area": [3000.0]}})
    assert 'data-town="安亭" data-rent="33.00"' in svg and 'data-area="3000.00"' in svg


def test_report_can_be_turned_off(tmp_path: Path) -> None:
    proc = crawl(tmp_path, "-s", "RUN_REPORT=0", "-a", "urls=http://suzhou.021cf.cn/index.php/post/532.html")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert list(tmp_path.glob("reports/*.html")) == []
