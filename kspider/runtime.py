"""Process-level settings of a crawl that cost nothing in what it extracts."""
from __future__ import annotations

import gc
import logging
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)


class FreezeStartupObjects:
    """Extension: when the engine starts, the objects built so far (modules, settings, the
    components, a replay set's index) leave the garbage collector's view (``gc.freeze``).

    They live as long as the process does; without this, every full collection during the
    crawl walks all of them again (a few hundred milliseconds per collection, growing with
    the process). ``GC_FREEZE_AT_START = False`` turns it off.
    """

    @classmethod
    def from_crawler(cls, crawler: Any) -> "FreezeStartupObjects":
        if not crawler.settings.getbool("GC_FREEZE_AT_START", True):
            raise NotConfigured
        ext = cls()
        crawler.signals.connect(ext.engine_started, signal=signals.engine_started)
        return ext

    def engine_started(self) -> None:
        gc.collect()  # garbage of the start-up is freed, not frozen
        gc.freeze()
        logger.debug("gc: %d start-up objects frozen", gc.get_freeze_count())
