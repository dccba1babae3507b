"""Scrapy settings for kspider.

The settings of the README's table (REPLAY_DIR, RECORD_DIR, MONGO_URI, MONGO_DATABASE,
EMBEDDED_DB_DIR) and the project's own knobs are also read from environment
variables of the same name; ``-s NAME=value`` on the command line wins over both.
"""
import os
import sys


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def _scrapy_command() -> str:
    """The ``scrapy`` command this process runs ('' when it is not the scrapy command line).

    Scrapy loads this module before its parser takes the command name out of
    sys.argv, and finds the name the same way: the first argument not starting with '-'.
    """
    argv = sys.argv or [""]
    if os.path.basename(argv[0]) != "scrapy" and not argv[0].endswith(os.path.join("scrapy", "__main__.py")):
        return ""
    return next((arg for arg in argv[1:] if not arg.startswith("-")), "")


# Scrapy's page tools are not crawls: under them monitors, run reports and incremental
# skipping are off by default (a one-page `scrapy parse` would fail MinItems, and a known
# post would be skipped instead of shown). The environment or -s can still turn them on.
KSPIDER_COMMAND = _scrapy_command()
TOOL_COMMANDS = ("parse", "check", "shell", "fetch", "view")
_ON_BY_DEFAULT = "0" if KSPIDER_COMMAND in TOOL_COMMANDS else "1"


BOT_NAME = "kspider"
SPIDER_MODULES = ["kspider.spiders"]
NEWSPIDER_MODULE = "kspider.spiders"

# --- Replay / record (fixture sets) ------------------------------------
REPLAY_DIR = _env("REPLAY_DIR")
RECORD_DIR = _env("RECORD_DIR")

# --- Storage ------------------------------------------------------------
MONGO_URI = _env("MONGO_URI")
MONGO_DATABASE = _env("MONGO_DATABASE", "kspider")
EMBEDDED_DB_DIR = _env("EMBEDDED_DB_DIR", ".kspider/db")
MONGO_WRITE_CONCERN = _env("MONGO_WRITE_CONCERN", "1")
STORE_BATCH_SIZE = int(_env("STORE_BATCH_SIZE", "100"))
MONGO_TIMEOUT_MS = int(_env("MONGO_TIMEOUT_MS", "5000"))
# Where items go when the store cannot take them (JSON Lines), replayed at the next open.
SPILL_DIR = _env("SPILL_DIR")  # empty: "spill" beside EMBEDDED_DB_DIR
# Estimated Jaccard similarity of character shingles above which two articles share a dup_group.
NEARDUP_THRESHOLD = float(_env("NEARDUP_THRESHOLD", "0.7"))

# --- Politeness for live crawling -----------------------------------------
CONTACT_URL = _env("KSPIDER_CONTACT_URL", "https://github.com/kspider/kspider")
USER_AGENT = f"kspider/1.0 (+{CONTACT_URL})"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# Items processed in parallel per response. A page yields a handful of items; Scrapy starts one
# asyncio task per slot for every response, so its default of 100 costs more than it parallelizes.
CONCURRENT_ITEMS = 8
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# Exponential backoff between retries (kspider.middlewares.BackoffRetryMiddleware).
RETRY_BACKOFF_BASE = 2.0
RETRY_BACKOFF_MAX = 60.0
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False

# --- Download stack --------------------------------------------------------
# One handler serves http/https: live HTTP, fixture replay, or the browser.
DOWNLOAD_HANDLERS = {
    "http": "kspider.replay.handler.KspiderDownloadHandler",
    "https": "kspider.replay.handler.KspiderDownloadHandler",
}
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
DOWNLOADER_MIDDLEWARES = {
    # Outermost: each request's final outcome, per site, for the exit status.
    "kspider.download.outcome.DownloadOutcomeMiddleware": 50,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "kspider.middlewares.BackoffRetryMiddleware": 550,
    # Right after decompression (590): the page's real charset, then its size, depth and completeness.
    "kspider.download.charset.CharsetCorrectionMiddleware": 585,
    "kspider.download.pages.PageGuardMiddleware": 580,
    # Closest to the downloader, so it sees responses exactly as served.
    "kspider.replay.record.RecordMiddleware": 990,
}

# --- Browser (scrapy-playwright) ------------------------------------------
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "headless": True,
    "executable_path": _env("CHROMIUM_PATH", "/usr/bin/chromium"),
    "args": [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ],
}
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000

# --- Items -----------------------------------------------------------------
ITEM_PIPELINES = {
    "kspider.pipelines.clean.CleaningPipeline": 100,
    "kspider.pipelines.validate.ValidationPipeline": 300,
    "kspider.pipelines.store.StorePipeline": 800,
}

# `scrapy check`: contracts that look at values, not just field names (kspider/contracts.py).
SPIDER_CONTRACTS = {
    "scrapy.contracts.default.ScrapesContract": None,
    "kspider.contracts.ScrapesContract": 3,
    "kspider.contracts.ValueContract": 4,
    "kspider.contracts.FollowsContract": 5,
    "kspider.contracts.BrowserContract": 6,
}

FEED_EXPORT_ENCODING = "utf-8"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
LOG_LEVEL = _env("LOG_LEVEL", "INFO")

EXTENSIONS = {
    "kspider.extensions.StatsFile": 900,
    # The garbage collector set for a crawl (kspider/runtime.py): start-up objects frozen, fewer young collections.
    "kspider.runtime.GarbageCollectorTuning": 0,
}
GC_FREEZE_AT_START = _env("GC_FREEZE_AT_START", "1").lower() in ("1", "true", "yes")
GC_GEN0_THRESHOLD = int(_env("GC_GEN0_THRESHOLD", "10000"))
STATS_FILE = _env("STATS_FILE")
# The HTML run report of each crawl (kspider/report.py): <RUN_REPORT_DIR>/<spider>-<UTC time>.html,
# latest.html and <spider>-latest.html pointing at the newest, and history.json (the charts' run history).
RUN_REPORT = _env("RUN_REPORT", _ON_BY_DEFAULT).lower() in ("1", "true", "yes")
RUN_REPORT_DIR = _env("RUN_REPORT_DIR", ".kspider/reports")
# After the monitors (500) and the exit status (800), so the report shows their outcome.
EXTENSIONS["kspider.report.RunReport"] = 850

# === Operations: incremental crawls, resumable jobs, monitoring ===
# Owned by the operations work; see docs/OPERATING.md. Every value here is also
# read from the environment variable of the same name.
# Incremental: a post seen (stored) within REFETCH_DAYS is not fetched again; a listing
# chain stops after INCREMENTAL_STOP_PAGES pages that list only known posts. -a full=1 turns it off.
INCREMENTAL_ENABLED = _env("INCREMENTAL_ENABLED", _ON_BY_DEFAULT).lower() in ("1", "true", "yes")
REFETCH_DAYS = float(_env("REFETCH_DAYS", "7"))
INCREMENTAL_STOP_PAGES = int(_env("INCREMENTAL_STOP_PAGES", "1"))
SPIDER_MIDDLEWARES = {
    **globals().get("SPIDER_MIDDLEWARES", {}),
    "kspider.incremental.IncrementalMiddleware": 850,
    # Closest to the spider: sees each post page's output exactly as the callback yielded it.
    "kspider.monitors.TemplateDriftMiddleware": 950,
}
# Spidermon, run at spider close (kspider.monitors.SpiderCloseSuite).
SPIDERMON_ENABLED = _env("SPIDERMON_ENABLED", _ON_BY_DEFAULT).lower() in ("1", "true", "yes")
SPIDERMON_SPIDER_CLOSE_MONITORS = ("kspider.monitors.SpiderCloseSuite",)
# Shares of stored items that must carry a field ("kind/field"; rental_ad/area_or_price is
# area or land area or price). Also the drift thresholds for fields of parsed post pages.
SPIDERMON_FIELD_COVERAGE = {
    "article/title": 0.95,
    "article/published_at": 0.8,
    "article/content_text": 0.9,
    "rental_ad/area_or_price": 0.7,
}
SPIDERMON_DRIFT_FIELDS = ["title", "published_at", "content_text"]
# Share of post pages allowed to give no article before the drift monitor fails.
SPIDERMON_DRIFT_MAX_EMPTY_SHARE = float(_env("SPIDERMON_DRIFT_MAX_EMPTY_SHARE", "0.1"))
SPIDERMON_MAX_ITEM_INVALID = int(_env("SPIDERMON_MAX_ITEM_INVALID", "0"))
SPIDERMON_MAX_REPLAY_MISS = int(_env("SPIDERMON_MAX_REPLAY_MISS", "0"))
SPIDERMON_MAX_ERRORS = int(_env("SPIDERMON_MAX_ERRORS", "0"))
# One JSON report per run: SPIDERMON_REPORT_FILE if set, else <SPIDERMON_REPORT_DIR>/<spider>-<UTC time>.json.
SPIDERMON_REPORT_DIR = _env("SPIDERMON_REPORT_DIR", ".kspider/reports")
SPIDERMON_REPORT_FILE = _env("SPIDERMON_REPORT_FILE")
# Exit with status 3 when a monitor failed (for cron and CI; kspider.extensions.ExitStatus).
SPIDERMON_FAIL_EXIT = _env("SPIDERMON_FAIL_EXIT", "0").lower() in ("1", "true", "yes")
EXTENSIONS.update({
    "kspider.incremental.JobdirGuard": 100,
    "kspider.monitors.MonitorStats": 400,
    # Before StatsFile (900), so the stats file holds the monitors' outcome.
    "kspider.monitors.Spidermon": 500,
    # After the monitors (500), before StatsFile (900): the stats file holds exit/code.
    "kspider.extensions.ExitStatus": 800,
})
# `scrapy crawl` exits non-zero when the crawl failed (docs/OPERATING.md, "Exit codes");
# 0 turns that off (the failures are still logged, as warnings, and counted).
EXIT_ON_FAILURE = _env("EXIT_ON_FAILURE", _ON_BY_DEFAULT).lower() in ("1", "true", "yes")
COMMANDS_MODULE = "kspider.commands"
# Work spent on one page: beyond these the page is cut and its items flagged `oversized`
# (what was found before the cut is kept); deeper nesting is flattened.
PAGE_MAX_CHARS = int(_env("PAGE_MAX_CHARS", "3000000"))
PAGE_MAX_ELEMENTS = int(_env("PAGE_MAX_ELEMENTS", "60000"))
PAGE_MAX_DEPTH = int(_env("PAGE_MAX_DEPTH", "200"))
# === end Operations ===

ADDONS = {
    "kspider.addons.ReplayMode": 0,
    # Distributed crawling when REDIS_URL is set (docs/SCALING.md).
    "kspider.addons.RedisMode": 10,
}
