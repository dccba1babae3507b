"""The last pipeline: items into the crawl's store (MongoDB with ``MONGO_URI``, else the embedded store).

Items are buffered and written every ``STORE_BATCH_SIZE`` items and at close.
A batch that cannot be written goes to a spill file; spill files are written
into the store when a spider opens, when the store answers again after an
outage, and (if this crawl spilled) when it closes. The store is the crawl's
one store (``kspider.store.for_crawler``), shared with the incremental
middleware.

What is passed on (feed exports, ``-O``): with ``STORE_EXPORT_STORED``
(default ``auto``: on when the crawl has feeds), an item waits for its batch
to be written and then carries the document it ended in, as stored (the
store-assigned ``_id``, ``first_seen``, ``last_seen``, ``dup_group``,
``alt_urls``, ``version`` where the item has the field, a rental ad's
``seen_on``), so the feed holds what the collection holds. Each stored document is exported once: an item merged into
another document (an exact copy at another URL, or a rental ad already
exported from another page) is dropped from the feed (DEBUG log, stat
``store/not_exported_merged``); its URL is in that document's ``alt_urls``.
A batch goes when it is full, when Scrapy stops feeding the scraper, when
the crawl is quiet (nothing downloading or scheduled: no other item can
come), and at the latest after ``STORE_EXPORT_WAIT_S`` (5) seconds.

Stats: ``store/inserted``, ``store/updated``, ``store/versions``,
``store/alt_urls``, ``store/near_dups``, ``store/spilled``,
``store/write_errors``, ``store/recovered``, ``store/rejected``,
``store/index_errors``, ``store/race_retries``, ``store/batch_errors`` (a batch
whose write raised something other than a store outage: its items are then
written one by one, a failing one rejected); outages: ``store/down``,
``store/timeouts``, ``store/up``, ``store/lookups_unknown``; at close
``store/spilled_items`` (this crawl's items left in spill files) and ``store/unreachable``
(1 when the store was down at close).
"""
from __future__ import annotations

import logging
import time
from typing import Any, Optional

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem
from twisted.internet.defer import Deferred

from kspider.store import Store, exported_fields, for_crawler, open_store
from kspider.stat_keys import STORE_SPILLED, STORE_UNREACHABLE

logger = logging.getLogger(__name__)

# How often a batch waiting for more items looks whether the crawl went quiet, and how many
# looks in a row must find it quiet and unchanged.
_POLL_S = 0.02
_QUIET_LOOKS = 5


def _export_stored(settings: Any) -> bool:
    value = str(settings.get("STORE_EXPORT_STORED", "auto") if settings is not None else "auto").lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    feeds = settings.get("FEEDS") if settings is not None else None
    return bool(feeds)


class StorePipeline:
    def __init__(self, settings: Any, stats: Any = None, crawler: Any = None):
        self.settings = settings
        self.stats = stats
        self.crawler = crawler
        self.store: Optional[Store] = None
        self.buffer: list[Any] = []
        self.waiting: list[tuple[Any, Deferred[Any]]] = []
        self.export_stored = _export_stored(settings)
        self.wait_s = float(settings.get("STORE_EXPORT_WAIT_S", 5)) if settings is not None else 5.0
        self.exported: set[tuple[str, str]] = set()
        self._timer: Any = None
        self._waiting_since = 0.0
        self._last_state: Optional[tuple[int, ...]] = None
        self._quiet_looks = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> "StorePipeline":
        return cls(crawler.settings, crawler.stats, crawler)

    def _open_store(self) -> Store:
        if self.crawler is not None:
            return for_crawler(self.crawler)
        return open_store(self.settings, stats=self.stats)

    def open_spider(self, spider: Any = None) -> None:
        self.store = self._open_store()
        logger.info("store: writing to %r", self.store)
        self.store.ensure_indexes()
        recovered = self.store.recover()
        if recovered:
            logger.info("store: recovered %d spilled items", recovered)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        self.buffer.append(item)
        if not self.export_stored:
            if self.store is not None and len(self.buffer) >= self.store.config.batch_size:
                self.flush()
            return item
        done: Deferred[Any] = Deferred()
        self.waiting.append((item, done))
        if self.store is None or len(self.buffer) >= self.store.config.batch_size or self._scraper_backs_out():
            self.flush()
        else:
            self._arm_timer()
        return self._stored(done)

    @staticmethod
    async def _stored(done: "Deferred[Any]") -> Any:
        from scrapy.utils.defer import maybe_deferred_to_future

        return await maybe_deferred_to_future(done)

    def _scraper_backs_out(self) -> bool:
        """Whether Scrapy stops feeding the scraper (too many responses in progress): items
        waiting for a full batch would then wait for each other, so the batch goes now."""
        engine = getattr(self.crawler, "engine", None)
        slot = getattr(getattr(engine, "scraper", None), "slot", None)
        return bool(slot is not None and slot.needs_backout())

    def _arm_timer(self) -> None:
        if self._timer is None or not self._timer.active():
            from twisted.internet import reactor

            if not self._waiting_since:
                self._waiting_since = time.monotonic()
            self._timer = reactor.callLater(_POLL_S, self._tick)  # type: ignore[attr-defined]

    def _tick(self) -> None:
        """A batch goes when nothing more can come (the crawl stays quiet over several looks), or
        after ``STORE_EXPORT_WAIT_S``."""
        self._timer = None
        if not self.buffer:
            return
        state = self._crawl_state()
        if state is not None and state == self._last_state:
            self._quiet_looks += 1
        else:
            self._quiet_looks = 0
        self._last_state = state
        if self._quiet_looks >= _QUIET_LOOKS or time.monotonic() - self._waiting_since >= self.wait_s:
            self.flush()
        else:
            self._arm_timer()

    def _crawl_state(self) -> Optional[tuple[int, ...]]:
        """None while anything but the items waiting here is in progress; else what is in progress.

        As ExecutionEngine.spider_is_idle(), whose scraper check these waiting items would fail:
        start requests exhausted, nothing downloading or scheduled, no response waiting for its
        callback, every item in the item pipelines one waiting here. A response between the
        downloader and the scraper is in none of these for a moment: the state must hold
        unchanged over several looks.
        """
        engine = getattr(self.crawler, "engine", None)
        downloader = getattr(engine, "downloader", None)
        scheduler = getattr(engine, "scheduler", None)
        slot = getattr(getattr(engine, "scraper", None), "slot", None)
        if downloader is None or scheduler is None or slot is None:
            return None
        if (getattr(engine, "_start", None) is not None or downloader.active or scheduler.has_pending_requests()
                or slot.queue or slot.itemproc_size > len(self.waiting)):
            return None
        return (len(self.buffer), len(slot.active), slot.itemproc_size)

    def flush(self) -> None:
        """Write the buffered items (spilling them if the store fails); release the waiting ones."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        self._waiting_since = 0.0
        self._quiet_looks = 0
        self._last_state = None
        if self.store is None or not self.buffer:
            return
        batch, self.buffer = self.buffer, []
        waiting, self.waiting = self.waiting, []
        logger.debug("store: writing a batch of %d items (%d waiting for it)", len(batch), len(waiting))
        try:
            self._write(batch, waiting)
        except Exception as exc:  # not a store outage (those spill inside the store): a bad item or a bug
            self._write_one_by_one(batch, waiting, exc)

    def _write(self, batch: list[Any], waiting: list[tuple[Any, "Deferred[Any]"]]) -> None:
        assert self.store is not None
        if not waiting:
            self.store.write_items(batch)
            return
        prepared = [self.store.prepare([item]) for item in batch]
        self.store.write_prepared([p for one in prepared for p in one])
        for (item, done), one in zip(waiting, prepared):
            stored = one[0].stored if one else None
            if stored is None:
                done.callback(item)  # not written (spilled, rejected): passed on as it came
                continue
            collection = one[0].collection
            key = (collection, stored["_id"])
            if key in self.exported or stored["_id"] != one[0].doc["_id"]:
                if self.stats is not None:
                    self.stats.inc_value("store/not_exported_merged")
                done.errback(DropItem(f"merged into stored {collection} document {stored['_id']}", log_level="DEBUG"))
                continue
            self.exported.add(key)
            adapter = ItemAdapter(item)
            for name, value in exported_fields(stored).items():
                if isinstance(item, dict) or name in adapter.field_names():
                    adapter[name] = value
            done.callback(item)

    def _write_one_by_one(self, batch: list[Any], waiting: list[tuple[Any, "Deferred[Any]"]],
                          exc: Exception) -> None:
        """A batch whose write raised: each item is written alone, so a bad item costs only itself
        and is set aside in the spill directory's rejects file; the batch's other items are stored."""
        assert self.store is not None
        logger.error("store: writing a batch of %d items raised %s: %s; writing them one by one",
                     len(batch), type(exc).__name__, exc)
        self._inc("batch_errors")
        dones = {id(item): done for item, done in waiting}
        for item in batch:
            done = dones.get(id(item))
            try:
                # as a batch of one: a feed gets the stored document, merged duplicates once
                self._write([item], [(item, done)] if done is not None else [])
            except Exception as item_exc:
                reason = f"{type(item_exc).__name__}: {item_exc}"
                logger.error("store: item rejected, its write raised %s: %.200r", reason, item)
                try:
                    self.store.spill.reject(repr(item)[:10000], reason)
                except OSError as os_exc:
                    logger.critical("store: could not set the item aside in %s: %s", self.store.config.spill_dir,
                                    os_exc)
                    self._inc("lost")
                    continue
                self._inc("rejected")
        for item, done in waiting:
            if not done.called:
                done.callback(item)  # rejected: passed on as it came, like a spilled item

    def _inc(self, name: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"store/{name}")

    def close_spider(self, spider: Any = None) -> None:
        if self.store is None:
            return
        self.flush()
        store = self.store
        if store.spilled_count and not store.down:
            # The store may be back: try once more before leaving the items for the next run.
            store.recover()
        pending = store.pending_spill()
        if self.stats is not None:
            # This crawl's own items still in spill files (not other workers' or earlier runs').
            self.stats.set_value(STORE_SPILLED, store.pending_spill(own=True))
            self.stats.set_value(STORE_UNREACHABLE, 1 if store.down else 0)
        if pending:
            logger.error("store: %d items remain in spill files under %s%s; run `python -m kspider.store recover`",
                         pending, store.config.spill_dir, " (the store is unreachable)" if store.down else "")
        if self.crawler is None:
            store.close()  # a crawl's shared store is closed when the engine stops
        self.store = None
