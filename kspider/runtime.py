"""Process-level settings of a crawl that cost nothing in what it extracts."""
from __future__ import annotations

import gc
import logging
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)


class GarbageCollectorTuning:
    """Extension: the garbage collector set for a crawl when the engine starts.

    - ``GC_FREEZE_AT_START`` (on): the objects built so far (modules, settings, the components,
      a replay set's index) leave the collector's view (``gc.freeze``). They live as long as
      the process does; otherwise every full collection during the crawl walks them again.
    - ``GC_GEN0_THRESHOLD`` (10000; 0 keeps Python's 700): allocations between young
      collections. Parsing a page allocates in bursts (element proxies, strings, match objects)
      that die by reference counting within the page; a small threshold traverses them again
      and again while they are alive. Cyclic garbage waits a little longer to be freed.
    """

    def __init__(self, freeze: bool, gen0_threshold: int) -> None:
        self.freeze = freeze
        self.gen0_threshold = gen0_threshold

    @classmethod
    def from_crawler(cls, crawler: Any) -> "GarbageCollectorTuning":
        settings = crawler.settings
        ext = cls(settings.getbool("GC_FREEZE_AT_START", True), settings.getint("GC_GEN0_THRESHOLD", 10000))
        if not ext.freeze and ext.gen0_threshold <= 0:
            raise NotConfigured
        crawler.signals.connect(ext.engine_started, signal=signals.engine_started)
        return ext

    def engine_started(self) -> None:
        if self.gen0_threshold > 0:
            _, gen1, gen2 = gc.get_threshold()
            gc.set_threshold(self.gen0_threshold, gen1, gen2)
        if self.freeze:
            gc.collect()  # the start-up's garbage is freed, not frozen
            gc.freeze()
        logger.debug("gc: thresholds %s, %d start-up objects frozen", gc.get_threshold(), gc.get_freeze_count())
