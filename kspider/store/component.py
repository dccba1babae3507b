"""The crawl's one store: created on first use from a crawler, shared by every component of that crawl.

``for_crawler(crawler)`` returns the same ``Store`` to the store pipeline,
the incremental middleware and anything else that asks during one crawl
(a crawler-level component, as Scrapy's own stats or signals are). It is
closed when the engine stops: after the item pipelines have flushed and after every
``spider_closed`` handler (which may still read or write crawl state).
"""
from __future__ import annotations

import weakref
from typing import Any

from scrapy import signals

from kspider.store.core import Store, open_store

_STORES: "weakref.WeakKeyDictionary[Any, Store]" = weakref.WeakKeyDictionary()


def for_crawler(crawler: Any) -> Store:
    """The store of this crawl (one per crawler), opened on first call."""
    store = _STORES.get(crawler)
    if store is None or store.closed:
        store = open_store(crawler.settings, stats=crawler.stats)
        _STORES[crawler] = store

        def close() -> None:
            if _STORES.get(crawler) is store:
                del _STORES[crawler]
            store.close()

        crawler.signals.connect(close, signal=signals.engine_stopped, weak=False)
    return store
