"""Storage: MongoDB or the embedded store, with dedupe, versions, near-duplicate groups and spill files.

Public entry points: ``for_crawler(crawler) -> Store`` (the crawl's one store,
shared by its components), ``open_store(settings) -> Store``, and for Scrapy
``kspider.pipelines.store.StorePipeline``. ``python -m kspider.store`` works on
the configured store from the command line. Design: docs/STORE.md.
"""
from kspider.store.component import for_crawler
from kspider.store.core import STORE_ERRORS, Store, open_store
from kspider.store.config import StoreConfig
from kspider.store.documents import ARTICLES, CRAWL_STATE, RENTAL_ADS, VERSIONS, exported_fields, sanitize_keys

__all__ = ["ARTICLES", "CRAWL_STATE", "RENTAL_ADS", "VERSIONS", "STORE_ERRORS", "Store", "StoreConfig", "open_store",
           "sanitize_keys", "exported_fields", "for_crawler"]
