"""Storage: MongoDB or the embedded store, with dedupe, versions, near-duplicate groups and spill files.

Public entry points: ``open_store(settings) -> Store`` and, for Scrapy,
``kspider.pipelines.store.StorePipeline``. ``python -m kspider.store
count|stats|recover`` works on the configured store from the command line.
"""
from kspider.store.core import (
    ARTICLES,
    RENTAL_ADS,
    VERSIONS,
    Store,
    StoreConfig,
    open_store,
    sanitize_keys,
)
from kspider.store.component import for_crawler

__all__ = ["ARTICLES", "RENTAL_ADS", "VERSIONS", "Store", "StoreConfig", "open_store", "sanitize_keys", "for_crawler"]
