"""Scrapy settings for kspider.

The settings of CONTRACT §3 (REPLAY_DIR, RECORD_DIR, MONGO_URI, MONGO_DATABASE,
EMBEDDED_DB_DIR) and the project's own knobs are also read from environment
variables of the same name; ``-s NAME=value`` on the command line wins over both.
"""
import os


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


BOT_NAME = "kspider"
SPIDER_MODULES = ["kspider.spiders"]
NEWSPIDER_MODULE = "kspider.spiders"

# --- Replay / record (CONTRACT §5) ---------------------------------------
REPLAY_DIR = _env("REPLAY_DIR")
RECORD_DIR = _env("RECORD_DIR")

# --- Storage (CONTRACT §3) -------------------------------------------------
MONGO_URI = _env("MONGO_URI")
MONGO_DATABASE = _env("MONGO_DATABASE", "kspider")
EMBEDDED_DB_DIR = _env("EMBEDDED_DB_DIR", ".kspider/db")
MONGO_WRITE_CONCERN = _env("MONGO_WRITE_CONCERN", "1")
STORE_BATCH_SIZE = int(_env("STORE_BATCH_SIZE", "100"))

# --- Politeness for live crawling -----------------------------------------
CONTACT_URL = _env("KSPIDER_CONTACT_URL", "https://github.com/kspider/kspider")
USER_AGENT = f"kspider/1.0 (+{CONTACT_URL})"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
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
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "kspider.middlewares.BackoffRetryMiddleware": 550,
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

FEED_EXPORT_ENCODING = "utf-8"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
LOG_LEVEL = _env("LOG_LEVEL", "INFO")

EXTENSIONS = {
    "kspider.extensions.StatsFile": 900,
}
STATS_FILE = _env("STATS_FILE")
