"""Scrapy add-ons of the project (ADDONS setting)."""
from __future__ import annotations


# Above the project settings module (20), below spider custom_settings (30) and -s (40).
REPLAY_PRIORITY = 25


class ReplayMode:
    """In replay there is no server to be polite to: no delays, no throttling.

    Runs before the settings freeze, so it can look at REPLAY_DIR however it was
    given (settings module, environment, ``-s``); an explicit ``-s`` of the
    changed settings still wins.
    """

    def update_settings(self, settings) -> None:
        if not settings.get("REPLAY_DIR"):
            return
        settings.set("DOWNLOAD_DELAY", 0, priority=REPLAY_PRIORITY)
        settings.set("AUTOTHROTTLE_ENABLED", False, priority=REPLAY_PRIORITY)
        settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", 8, priority=REPLAY_PRIORITY)
        settings.set("RETRY_BACKOFF_BASE", 0, priority=REPLAY_PRIORITY)


# Same level as ReplayMode: above the settings module, below spider custom_settings and -s.
REDIS_PRIORITY = 25


class RedisMode:
    """Distributed crawling: several processes share one frontier through Redis (kspider.distributed).

    On when ``REDIS_URL`` is set (as a setting or in the environment); otherwise
    a crawl is plain single-process Scrapy, unchanged. Every spider works in both
    modes: the scheduler, dupefilter and ledger are spider-agnostic.
    """

    def update_settings(self, settings) -> None:
        import os

        url = settings.get("REDIS_URL") or os.environ.get("REDIS_URL", "")
        if not url:
            return
        from kspider.distributed import FrontierMiddleware, SharedDupeFilter, SharedScheduler, StoreWriteLock

        settings.set("REDIS_URL", url, priority=REDIS_PRIORITY)
        settings.set("SCHEDULER", SharedScheduler, priority=REDIS_PRIORITY)
        settings.set("DUPEFILTER_CLASS", SharedDupeFilter, priority=REDIS_PRIORITY)
        # The shared scheduler keeps the run's keys until its last worker finishes (never per worker).
        settings.set("SCHEDULER_PERSIST", True, priority=REDIS_PRIORITY)
        # Outermost spider middleware: it sees the callback output after every other middleware.
        settings["SPIDER_MIDDLEWARES"][FrontierMiddleware] = 1
        # The crawl's store takes the workers' shared write lock (the store pipeline is unchanged).
        settings["EXTENSIONS"][StoreWriteLock] = 0
