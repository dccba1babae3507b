"""The last pipeline: items into MongoDB (``MONGO_URI``) or the embedded store.

Items are buffered and written every ``STORE_BATCH_SIZE`` items and at close.
A batch that cannot be written goes to a spill file; spill files are written
into the store when a spider opens and, if this crawl spilled, again when it
closes (see kspider.store). Stats: ``store/inserted``, ``store/updated``,
``store/versions``, ``store/alt_urls``, ``store/near_dups``,
``store/spilled``, ``store/write_errors``, ``store/recovered``,
``store/rejected``, ``store/index_errors``, ``store/race_retries`` (items
decided again because another writer changed what they depended on between
the batch's read and its write; see kspider.store.core).
"""
from __future__ import annotations

import logging
from typing import Any, Optional

from kspider.store import Store, open_store

logger = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, settings: Any, stats: Any = None):
        self.settings = settings
        self.stats = stats
        self.store: Optional[Store] = None
        self.buffer: list[Any] = []

    @classmethod
    def from_crawler(cls, crawler: Any) -> "StorePipeline":
        return cls(crawler.settings, crawler.stats)

    def open_spider(self, spider: Any = None) -> None:
        self.store = open_store(self.settings, stats=self.stats)
        logger.info("store: writing to %r", self.store)
        self.store.ensure_indexes()
        recovered = self.store.recover()
        if recovered:
            logger.info("store: recovered %d spilled items", recovered)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        self.buffer.append(item)
        if self.store is not None and len(self.buffer) >= self.store.config.batch_size:
            self.flush()
        return item

    def flush(self) -> None:
        """Write the buffered items (spilling them if the store fails)."""
        if self.store is None or not self.buffer:
            return
        batch, self.buffer = self.buffer, []
        self.store.write_items(batch)

    def close_spider(self, spider: Any = None) -> None:
        if self.store is None:
            return
        self.flush()
        if self.store.spill.count:
            # The store may be back: try once more before leaving the items for the next run.
            self.store.recover()
            pending = self.store.pending_spill()
            if pending:
                logger.error("store: %d items remain in spill files under %s; run `python -m kspider.store recover`",
                             pending, self.store.config.spill_dir)
        self.store.close()
        self.store = None
