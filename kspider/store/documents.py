"""Items → store documents: collections, identity, the fields the store owns, key sanitizing.

The store owns ``_id`` (when the item has none), ``first_seen``/``last_seen``,
``version``, ``dup_group``, ``alt_urls``/``alt_ids``, ``past_hashes``, ``lsh``
and ``minhash``: an item's value for them (usually its dataclass default)
never overwrites the stored one. ``exported_fields`` gives the values an item
carries on after the store (feed exports): the stored document's.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import lru_cache
from collections.abc import Mapping
from typing import Any, Optional

import numpy as np
from itemadapter import ItemAdapter

from kspider.extract.ids import text_fingerprint, url_fingerprint
from kspider.items import COLLECTIONS

ARTICLES = "articles"
RENTAL_ADS = "rental_ads"
VERSIONS = "article_versions"
# Content-hash claims (`_id` "h:<content_hash>", `owner`) and the article write sequence (`_id` "writes", `n`).
CLAIMS = "store_claims"
WRITES = "writes"
# Per listing chain: how far the last passes went (`_id` "<site>|<chain>"; the incremental crawl owns the fields).
CRAWL_STATE = "crawl_state"
ITEM_COLLECTIONS = (ARTICLES, RENTAL_ADS)

STORE_FIELDS = frozenset({"_id", "first_seen", "last_seen", "dup_group", "alt_urls", "alt_ids", "version",
                          "past_hashes", "lsh", "minhash"})
# Fields of a stored document that are index material, not data: never given back to items.
INTERNAL_FIELDS = frozenset({"lsh", "minhash"})

INDEXES: dict[str, list[list[tuple[str, int]]]] = {
    ARTICLES: [
        [("site", 1), ("published_at", -1)],
        [("content_hash", 1)],
        [("dup_group", 1)],
        [("lsh", 1)],
        [("alt_ids", 1)],
        [("last_seen", 1)],
    ],
    RENTAL_ADS: [
        [("city", 1), ("district", 1)],
        [("area_sqm_min", 1)],
        [("price_value", 1)],
        [("last_seen", 1)],
    ],
    VERSIONS: [[("article_id", 1)]],
}


def sanitize_keys(value: Any) -> Any:
    """Keys from scraped data made safe for MongoDB: no leading ``$``, no dots."""
    kind = type(value)
    if kind is dict or (kind not in _SCALARS and isinstance(value, Mapping)):
        clean = {}
        for key, inner in value.items():
            key = str(key)
            if "." in key:
                key = key.replace(".", "_")
            if key[:1] == "$":
                key = "_" + key[1:]
            clean[key] = inner if type(inner) in _SCALARS else sanitize_keys(inner)
        return clean
    if kind is list or kind is tuple:
        return [v if type(v) in _SCALARS else sanitize_keys(v) for v in value]
    return value


_SCALARS = frozenset({str, int, float, bool, type(None)})


def collection_of(item: Any) -> Optional[str]:
    """Which collection an item (dataclass or dict) belongs to."""
    if type(item) in COLLECTIONS:
        return COLLECTIONS[type(item)]
    if isinstance(item, Mapping):
        if "raw_text" in item or "seen_on" in item:
            return RENTAL_ADS
        if "url" in item or "content_text" in item:
            return ARTICLES
    return None


@lru_cache(maxsize=64)
def _dataclass_fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls)) if dataclasses.is_dataclass(cls) else ()


def item_to_doc(item: Any, collection: Optional[str] = None) -> Optional[tuple[str, dict[str, Any]]]:
    """(collection, sanitized document with `_id` and `content_hash`), or None if it has no identity."""
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
        collection, item = item
    collection = collection or collection_of(item)
    names = _dataclass_fields(type(item))
    try:
        # A shallow copy (asdict() recurses slowly); sanitize_keys copies what is nested.
        raw = {n: getattr(item, n) for n in names} if names else dict(ItemAdapter(item).items())
    except TypeError:
        return None
    doc = sanitize_keys(raw)
    if collection == ARTICLES:
        if not doc.get("_id"):
            url = doc.get("canonical_url") or doc.get("url")
            if not url:
                return None
            doc["_id"] = url_fingerprint(url)
        if not doc.get("content_hash") and doc.get("content_text"):
            doc["content_hash"] = text_fingerprint(doc["content_text"])
    elif collection == RENTAL_ADS:
        if not doc.get("_id"):
            if not doc.get("raw_text"):
                return None
            doc["_id"] = text_fingerprint(doc["raw_text"])
        seen_on = doc.get("seen_on")
        doc["seen_on"] = [u for u in (seen_on if isinstance(seen_on, list) else [seen_on]) if u]
    else:
        return None
    doc["_id"] = str(doc["_id"])
    return collection, doc


@dataclass
class Prepared:
    """One item on its way into the store: its document, its MinHash signature and LSH keys,
    and (after the batch is written) the `_id` of the document it ended in and that document."""

    collection: str
    doc: dict[str, Any]
    signature: Optional[np.ndarray] = None
    keys: list[str] = field(default_factory=list)
    hashed: bool = False
    stored: Optional[dict[str, Any]] = None


def exported_fields(stored: Mapping[str, Any]) -> dict[str, Any]:
    """What an item carries on after the store: the stored document's values (store-assigned
    fields included), without its index material."""
    return {name: value for name, value in stored.items() if name not in INTERNAL_FIELDS}
