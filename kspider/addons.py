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
