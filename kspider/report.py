"""The run report: one HTML page per crawl, for people (``RUN_REPORT``, ``RUN_REPORT_DIR``).

At the end of each crawl the ``RunReport`` extension writes
``<RUN_REPORT_DIR>/<spider>-<UTC time>.html`` and points ``latest.html`` and
``<spider>-latest.html`` at it. The page shows, per site, the items stored,
the posts skipped as already stored and what failed; field coverage of the
items stored; template drift and the fields read by the generic fallback
(``extract/fallback/<field>``); invalid items (``item_invalid/...``); the
store's outcome (``store/...``); the monitors' outcome; and two charts drawn
as inline SVG (no script, no network): items per site over the last runs
(from ``history.json``, a small run history kept next to the reports), and
for rental ads, rent and sale price per ㎡ and area offered, by town.

Everything here but the extension is pure: stats and item figures in, HTML out.
"""
from __future__ import annotations

import html
import json
import logging
import os
import pkgutil
import statistics
import string
from dataclasses import dataclass, field, fields as dataclass_fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import NotConfigured

from kspider.extract.ids import is_robots_txt
from kspider.items import Article, RentalAd
from kspider.stat_keys import (ARTICLE_MISSING, ARTICLES_PARSED, FALLBACK, POST_PAGES, POST_PAGES_NO_ARTICLE,
                                POST_PAGES_SKIPPED, SKIPPED, SKIPPED_FOR_SITE)

logger = logging.getLogger(__name__)

# Read with pkgutil, so that it is found inside a zipped egg too (Scrapyd).
TEMPLATE = "templates/run_report.html"
HISTORY_FILE = "history.json"
HISTORY_KEEP = 500  # runs kept in history.json (all spiders)
CHART_RUNS = 10  # runs shown in the items-per-site chart
# Days per month for rents quoted per day (元/㎡/天 → 元/㎡/月).
DAYS_PER_MONTH = 365 / 12
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")
KINDS = {Article: "article", RentalAd: "rental_ad"}
# Item fields the store fills in the document it writes (empty on the item unless the store
# pipeline passes the stored values on).
STORE_ASSIGNED = frozenset({"first_seen", "last_seen", "dup_group", "alt_urls"})


# --- figures from items ----------------------------------------------------------------------
def rent_per_sqm_month(ad: Mapping[str, Any]) -> Optional[float]:
    """A rent as 元 per ㎡ per month, or None (a sale, no price, or a unit that needs an unknown area)."""
    value, unit = ad.get("price_value"), ad.get("price_unit")
    if value is None or ad.get("deal_type") == "sale":
        return None
    if unit == "元/㎡/天":
        return value * DAYS_PER_MONTH
    if unit == "元/㎡/月":
        return float(value)
    area = ad.get("area_sqm_min") or ad.get("area_sqm_max")
    if unit == "万元/年" and area:
        return value * 10000 / 12 / area
    return None


def sale_per_sqm(ad: Mapping[str, Any]) -> Optional[float]:
    """A sale price as 元 per ㎡ of building, or None."""
    value, unit = ad.get("price_value"), ad.get("price_unit")
    if value is None or ad.get("deal_type") == "rent":
        return None
    if unit == "元/㎡":
        return float(value)
    area = ad.get("area_sqm_min") or ad.get("area_sqm_max")
    if unit == "万元" and area:
        return value * 10000 / area
    return None


def town_of(ad: Mapping[str, Any]) -> Optional[str]:
    """The town (district) of an ad, else its city; None when the ad names neither."""
    return ad.get("district") or ad.get("city")


@dataclass
class SiteFigures:
    pages: int = 0
    errors: int = 0
    items: dict[str, int] = field(default_factory=dict)  # kind → items stored
    dropped: int = 0


@dataclass
class RunFigures:
    """What the extension gathers from signals during a crawl (the rest comes from the stats)."""

    sites: dict[str, SiteFigures] = field(default_factory=dict)
    kind_items: dict[str, int] = field(default_factory=dict)
    coverage: dict[str, dict[str, int]] = field(default_factory=dict)  # kind → field → items with a value
    towns: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # town → rent/sale/area → values
    dropped_reasons: dict[str, int] = field(default_factory=dict)

    def site(self, host: str) -> SiteFigures:
        return self.sites.setdefault(host or "?", SiteFigures())

    def add_item(self, item: Any) -> None:
        kind = KINDS.get(type(item), type(item).__name__)
        adapter = ItemAdapter(item)
        site = self.site(str(adapter.get("site") or "?"))
        site.items[kind] = site.items.get(kind, 0) + 1
        self.kind_items[kind] = self.kind_items.get(kind, 0) + 1
        counts = self.coverage.setdefault(kind, {})
        for name in adapter.field_names():
            if adapter.get(name) not in (None, "", [], {}):
                counts[name] = counts.get(name, 0) + 1
        if kind == "rental_ad":
            ad = adapter  # read in place: asdict() would deep-copy every field of every ad
            town = town_of(ad)
            if town:
                figures = self.towns.setdefault(town, {"rent": [], "sale": [], "area": []})
                rent, sale = rent_per_sqm_month(ad), sale_per_sqm(ad)
                area = ad.get("area_sqm_max") or ad.get("area_sqm_min")
                if rent is not None:
                    figures["rent"].append(rent)
                if sale is not None:
                    figures["sale"].append(sale)
                if area:
                    figures["area"].append(float(area))


# --- history ---------------------------------------------------------------------------------
def load_history(directory: Path) -> list[dict[str, Any]]:
    try:
        runs = json.loads((directory / HISTORY_FILE).read_text(encoding="utf-8"))
        return runs if isinstance(runs, list) else []
    except (OSError, ValueError):
        return []


def save_history(directory: Path, runs: list[dict[str, Any]]) -> None:
    tmp = directory / f".{HISTORY_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(runs[-HISTORY_KEEP:], ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(directory / HISTORY_FILE)


# --- SVG charts --------------------------------------------------------------------------------
def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}".rstrip("0").rstrip(".")


def svg_runs_chart(runs: list[dict[str, Any]]) -> str:
    """Grouped bars: items stored per site, one group per run (oldest left)."""
    hosts = sorted({h for run in runs for h in run.get("sites", {})})
    if not runs or not hosts:
        return '<p class="empty">No items stored in these runs.</p>'
    top = max([run["sites"].get(h, 0) for run in runs for h in hosts] + [1])
    width, height, left, bottom, top_pad = 640, 220, 40, 46, 16
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    group_w = plot_w / len(runs)
    bar_w = max(2.0, min(24.0, (group_w - 8) / len(hosts)))
    parts = [f'<svg class="chart" id="chart-runs" xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{height + 18 * ((len(hosts) + 2) // 3)}" role="img" aria-label="items stored per site per run">',
             f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 10}" y2="{top_pad + plot_h}" stroke="#888"/>',
             f'<text x="{left - 4}" y="{top_pad + 4}" text-anchor="end" class="axis">{top}</text>',
             f'<text x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end" class="axis">0</text>']
    for i, run in enumerate(runs):
        x0 = left + i * group_w + (group_w - bar_w * len(hosts)) / 2
        for j, host in enumerate(hosts):
            n = int(run["sites"].get(host, 0))
            h = plot_h * n / top
            x = x0 + j * bar_w
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{top_pad + plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
                         f'height="{h:.1f}" fill="{PALETTE[j % len(PALETTE)]}" data-site="{_esc(host)}" '
                         f'data-run="{_esc(run.get("finished_at", ""))}" data-items="{n}">'
                         f'<title>{_esc(host)}: {n} item(s), run {_esc(run.get("finished_at", ""))}</title></rect>')
            if n:
                parts.append(f'<text x="{x + (bar_w - 1) / 2:.1f}" y="{top_pad + plot_h - h - 2:.1f}" '
                             f'text-anchor="middle" class="val">{n}</text>')
        label = str(run.get("finished_at", ""))[5:16].replace("T", " ")
        parts.append(f'<text x="{left + (i + 0.5) * group_w:.1f}" y="{top_pad + plot_h + 14}" text-anchor="middle" '
                     f'class="axis">{_esc(label)}</text>')
    for j, host in enumerate(hosts):
        x, y = left + (j % 3) * 200, height + 4 + 18 * (j // 3)
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{PALETTE[j % len(PALETTE)]}"/>'
                     f'<text x="{x + 14}" y="{y}" class="legend">{_esc(host)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _hbar_panel(x: float, width: float, rows: list[str], values: dict[str, Optional[float]], title: str,
                color: str, row_h: float, top: float, key: str) -> list[str]:
    present = [v for v in values.values() if v is not None]
    top_value = max(present + [1e-9])
    parts = [f'<text x="{x}" y="{top - 8}" class="panel">{_esc(title)}</text>']
    for i, row in enumerate(rows):
        value = values.get(row)
        y = top + i * row_h
        if value is None:
            parts.append(f'<text x="{x}" y="{y + row_h * 0.65:.1f}" class="none">–</text>')
            continue
        w = (width - 60) * value / top_value
        parts.append(f'<rect class="bar" x="{x}" y="{y + 3:.1f}" width="{max(w, 1):.1f}" height="{row_h - 6:.1f}" '
                     f'fill="{color}" data-town="{_esc(row)}" data-{key}="{value:.2f}"/>'
                     f'<text x="{x + max(w, 1) + 4:.1f}" y="{y + row_h * 0.65:.1f}" class="val">{_num(value)}</text>')
    return parts


def svg_towns_chart(towns: dict[str, dict[str, list[float]]]) -> str:
    """Rental ads by town: median rent (元/㎡/月), median sale price (元/㎡) and total area offered (㎡)."""
    rows = sorted(towns, key=lambda t: (-sum(towns[t]["area"]), t))
    if not rows:
        return '<p class="empty">No rental ad with a town in this run.</p>'

    def median(values: list[float]) -> Optional[float]:
        return statistics.median(values) if values else None

    rent = {t: median(towns[t]["rent"]) for t in rows}
    sale = {t: median(towns[t]["sale"]) for t in rows}
    area = {t: (sum(towns[t]["area"]) or None) for t in rows}
    row_h, top, label_w, panel_w = 24, 34, 70, 190
    height = top + row_h * len(rows) + 10
    width = label_w + 3 * panel_w
    parts = [f'<svg class="chart" id="chart-towns" xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{height}" role="img" aria-label="rental ads by town: price per square metre and area">']
    for i, town in enumerate(rows):
        n = len(towns[town]["area"]) or len(towns[town]["rent"]) + len(towns[town]["sale"])
        parts.append(f'<text x="{label_w - 6}" y="{top + i * row_h + row_h * 0.65:.1f}" text-anchor="end" '
                     f'class="town">{_esc(town)}</text>')
        parts.append(f'<title>{_esc(town)}: {n} ad(s)</title>')
    parts += _hbar_panel(label_w, panel_w, rows, rent, "rent, 元/㎡/月 (median)", "#2ca02c", row_h, top, "rent")
    parts += _hbar_panel(label_w + panel_w, panel_w, rows, sale, "sale, 元/㎡ (median)", "#d62728", row_h, top, "sale")
    parts += _hbar_panel(label_w + 2 * panel_w, panel_w, rows, area, "area offered, ㎡ (sum)", "#1f77b4", row_h, top,
                         "area")
    parts.append("</svg>")
    return "".join(parts)


# --- the page ------------------------------------------------------------------------------------
def _table(head: list[str], rows: Iterable[list[Any]], cls: str = "") -> str:
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    if not body:
        return '<p class="empty">None.</p>'
    return (f'<table class="{cls}"><thead><tr>' + "".join(f"<th>{_esc(h)}</th>" for h in head)
            + f"</tr></thead><tbody>{body}</tbody></table>")


def _stats_with(stats: Mapping[str, Any], prefix: str) -> list[tuple[str, Any]]:
    return sorted((k[len(prefix):], v) for k, v in stats.items() if k.startswith(prefix))


def _share(n: int, total: int) -> str:
    return f"{n}/{total} ({n / total:.0%})" if total else f"{n}/0"


def render(spider: str, finished_at: str, reason: str, stats: Mapping[str, Any], run: RunFigures,
           history: list[dict[str, Any]]) -> str:
    """The report page (pure)."""
    hosts = sorted(set(run.sites) | {k for k, _ in _stats_with(stats, SKIPPED_FOR_SITE)})
    site_rows = []
    for host in hosts:
        fig = run.sites.get(host, SiteFigures())
        site_rows.append([host, fig.items.get("article", 0), fig.items.get("rental_ad", 0),
                          int(stats.get(SKIPPED_FOR_SITE + host, 0)), fig.dropped, fig.errors, fig.pages])
    totals = ["total", run.kind_items.get("article", 0), run.kind_items.get("rental_ad", 0),
              int(stats.get(SKIPPED, 0)), sum(f.dropped for f in run.sites.values()),
              sum(f.errors for f in run.sites.values()), sum(f.pages for f in run.sites.values())]
    sites_html = _table(["site", "articles stored", "rental ads stored", "skipped (already stored)",
                         "failed (dropped items)", "failed (pages)", "pages"], site_rows + [totals], "sites")

    coverage_parts = []
    for kind, cls in (("article", Article), ("rental_ad", RentalAd)):
        total = run.kind_items.get(kind, 0)
        if not total:
            continue
        counts = run.coverage.get(kind, {})
        rows = []
        for f in dataclass_fields(cls):
            n = counts.get(f.name, 0)
            bar = f'<span class="meter"><span style="width:{100 * n / total:.0f}%"></span></span>'
            if not n and f.name in STORE_ASSIGNED:
                bar = '<span class="note">set by the store in the stored document</span>'
            share = "" if bar.startswith('<span class="note"') else _esc(_share(n, total))
            rows.append(f'<tr data-kind="{kind}" data-field="{_esc(f.name)}"><td>{_esc(f.name)}</td>'
                        f'<td>{bar} {share}</td></tr>')
        coverage_parts.append(f'<h3>{kind.replace("_", " ")}s ({total})</h3><table class="coverage">'
                              f'<thead><tr><th>field</th><th>items with a value</th></tr></thead>'
                              f'<tbody>{"".join(rows)}</tbody></table>')
    coverage_html = "".join(coverage_parts) or '<p class="empty">No items stored.</p>'

    parsed = int(stats.get(ARTICLES_PARSED, 0))
    drift_rows = [["post pages", stats.get(POST_PAGES, 0)],
                  ["post pages without an article", stats.get(POST_PAGES_NO_ARTICLE, 0)],
                  ["articles parsed", parsed]]
    drift_rows += [[f"post pages skipped: {k}", v] for k, v in _stats_with(stats, POST_PAGES_SKIPPED)]
    drift_rows += [[f"parsed without {k}", _share(int(v), parsed)] for k, v in
                   _stats_with(stats, ARTICLE_MISSING)]
    fallback_rows = [[k, v] for k, v in _stats_with(stats, FALLBACK)]
    invalid_rows = [[k, v] for k, v in _stats_with(stats, "item_invalid/") if k.count("/") >= 1]
    invalid_rows += [[f"dropped: {k}", v] for k, v in sorted(run.dropped_reasons.items())]
    store_rows = [[k, v] for k, v in _stats_with(stats, "store/") if isinstance(v, (int, float, str))]
    monitor_rows = [["passed", stats.get("spidermon/passed", "–")], ["failed", stats.get("spidermon/failed", "–")]]
    monitor_rows += [[f"failed: {k}", v] for k, v in _stats_with(stats, "spidermon/failed/")]
    exit_code = stats.get("exit/code")

    failed_monitors = int(stats.get("spidermon/failed", 0) or 0)
    status = "failed" if failed_monitors or (exit_code not in (None, 0)) or reason != "finished" else "ok"
    own = [r for r in history if r.get("spider") == spider][-CHART_RUNS:]
    template = string.Template((pkgutil.get_data("kspider", TEMPLATE) or b"").decode("utf-8"))
    return template.substitute(
        spider=_esc(spider), finished_at=_esc(finished_at), reason=_esc(reason), status=status,
        exit_code=_esc("–" if exit_code is None else exit_code),
        items=int(stats.get("item_scraped_count", 0)), pages=int(stats.get("response_received_count", 0)),
        sites_table=sites_html, coverage=coverage_html,
        drift_table=_table(["", "count"], drift_rows, "drift"),
        fallback_table=_table(["field read by the generic extractor", "pages"], fallback_rows, "fallbacks"),
        invalid_table=_table(["kind/field", "items"], invalid_rows, "invalid"),
        store_table=_table(["store stat", "value"], store_rows, "store"),
        monitors_table=_table(["monitors", ""], monitor_rows, "monitors"),
        runs_chart=svg_runs_chart(own), runs_shown=len(own), towns_chart=svg_towns_chart(run.towns),
    )


def report_paths(directory: Path, spider: str, now: datetime) -> Path:
    return directory / f"{spider}-{now.strftime('%Y%m%dT%H%M%SZ')}.html"


def _point(link: Path, target: Path) -> None:
    """Make ``link`` a relative symlink to ``target`` (a copy where symlinks are not possible)."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}")
    try:
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(target.name)
    except OSError:
        tmp.write_bytes(target.read_bytes())
    tmp.replace(link)


class RunReport:
    """Extension: the HTML run report at spider close (``RUN_REPORT``, default on; ``RUN_REPORT_DIR``)."""

    def __init__(self, crawler: Any, directory: Path) -> None:
        self.crawler = crawler
        self.directory = directory
        self.run = RunFigures()

    @classmethod
    def from_crawler(cls, crawler: Any) -> "RunReport":
        settings = crawler.settings
        if not settings.getbool("RUN_REPORT", True) or not settings.get("RUN_REPORT_DIR"):
            raise NotConfigured
        ext = cls(crawler, Path(settings.get("RUN_REPORT_DIR")))
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        crawler.signals.connect(ext.spider_error, signal=signals.spider_error)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    @staticmethod
    def _host(url: str) -> str:
        from kspider.sites import host_of

        return host_of(url)

    def item_scraped(self, item: Any, response: Any = None, spider: Any = None) -> None:
        self.run.add_item(item)

    def item_dropped(self, item: Any, response: Any = None, exception: Any = None, spider: Any = None) -> None:
        site = ItemAdapter(item).get("site") if ItemAdapter.is_item(item) else None
        self.run.site(str(site or (self._host(response.url) if response is not None else "?"))).dropped += 1
        reason = str(exception or "dropped").splitlines()[0][:120]
        self.run.dropped_reasons[reason] = self.run.dropped_reasons.get(reason, 0) + 1

    def response_received(self, response: Any, request: Any = None, spider: Any = None) -> None:
        if is_robots_txt(response.url):
            return
        site = self.run.site(self._host(response.url))
        site.pages += 1
        if response.status >= 400:
            site.errors += 1

    def spider_error(self, failure: Any, response: Any = None, spider: Any = None) -> None:
        if response is not None:
            self.run.site(self._host(response.url)).errors += 1

    def spider_closed(self, spider: Any, reason: str) -> None:
        stats = self.crawler.stats.get_stats()
        now = datetime.now(timezone.utc)
        finished_at = now.isoformat(timespec="seconds")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            history = load_history(self.directory)
            history.append({"spider": spider.name, "finished_at": finished_at,
                            "sites": {h: sum(f.items.values()) for h, f in sorted(self.run.sites.items())
                                      if sum(f.items.values())},
                            "items": int(stats.get("item_scraped_count", 0))})
            save_history(self.directory, history)
            path = report_paths(self.directory, spider.name, now)
            path.write_text(render(spider.name, finished_at, reason, stats, self.run, history), encoding="utf-8")
            _point(self.directory / f"{spider.name}-latest.html", path)
            _point(self.directory / "latest.html", path)
        except OSError as exc:
            logger.error("run report not written to %s: %s", self.directory, exc)
            self.crawler.stats.inc_value("run_report/errors")
            return
        self.crawler.stats.set_value("run_report/file", str(path))
        logger.info("run report: %s", path.resolve())
