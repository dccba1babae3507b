"""The two item types (every field: docs/DATA_MODEL.md).

Field names are the stored document's field names. Missing values are
``None`` (or ``[]`` for lists); nothing is invented. Items are dataclasses so
that itemadapter, Scrapy's feed exports and the pipelines all see the same
fields.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

SCHEMA_VERSION = 1

DATE_PRECISIONS = ("second", "minute", "day", "month", "approx")


@dataclass
class Article:
    _id: Optional[str] = None
    url: Optional[str] = None
    canonical_url: Optional[str] = None
    site: Optional[str] = None
    site_name: Optional[str] = None
    spider: Optional[str] = None
    title: Optional[str] = None
    author: Optional[str] = None
    editor: Optional[str] = None
    category: Optional[str] = None
    breadcrumbs: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    published_at: Optional[str] = None
    published_raw: Optional[str] = None
    date_precision: Optional[str] = None
    views: Optional[int] = None
    likes: Optional[int] = None
    comments: Optional[int] = None
    shares: Optional[int] = None
    source_name: Optional[str] = None
    source_url: Optional[str] = None
    content_text: Optional[str] = None
    content_html: Optional[str] = None
    content_text_hans: Optional[str] = None
    lang: Optional[str] = None
    images: list[dict[str, Any]] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    related_urls: list[str] = field(default_factory=list)
    content_hash: Optional[str] = None
    dup_group: Optional[str] = None
    alt_urls: list[str] = field(default_factory=list)
    quality_flags: list[str] = field(default_factory=list)
    # Topic filter score (kspider.extract.topic.topic_score) on sites with a topic keyword
    # list in the registry; None where every article is kept unscored.
    topic_score: Optional[float] = None
    first_seen: Optional[str] = None
    last_seen: Optional[str] = None
    crawled_at: Optional[str] = None
    schema_version: int = SCHEMA_VERSION


@dataclass
class RentalAd:
    _id: Optional[str] = None
    kind: Optional[str] = None  # "listing" | "inline"
    seen_on: list[str] = field(default_factory=list)
    title: Optional[str] = None
    deal_type: Optional[str] = None  # "rent" | "sale" | "rent_or_sale"
    property_type: Optional[str] = None
    park_name: Optional[str] = None
    city: Optional[str] = None
    district: Optional[str] = None
    location_text: Optional[str] = None
    area_sqm_min: Optional[float] = None
    area_sqm_max: Optional[float] = None
    land_area_mu: Optional[float] = None
    price_value: Optional[float] = None
    price_unit: Optional[str] = None
    floor_height_m: Optional[float] = None
    floor_load_t_per_sqm: Optional[float] = None
    power_kva: Optional[float] = None
    availability: Optional[str] = None
    features: list[str] = field(default_factory=list)
    transport: list[str] = field(default_factory=list)
    contact_name: Optional[str] = None
    contact_phones: list[str] = field(default_factory=list)
    wechat: Optional[str] = None
    raw_text: Optional[str] = None
    quality_flags: list[str] = field(default_factory=list)
    published_at: Optional[str] = None
    first_seen: Optional[str] = None
    last_seen: Optional[str] = None
    crawled_at: Optional[str] = None
    site: Optional[str] = None
    spider: Optional[str] = None
    schema_version: int = SCHEMA_VERSION


# Which fields must be present (non-empty) and what type each field has; the
# validation pipeline checks items against these tables.
REQUIRED_FIELDS: dict[type, tuple[str, ...]] = {
    Article: ("_id", "url", "canonical_url", "site", "spider", "title", "content_text", "crawled_at"),
    RentalAd: ("_id", "kind", "seen_on", "raw_text", "site", "spider", "crawled_at"),
}

ENUMS: dict[str, tuple[str, ...]] = {
    "kind": ("listing", "inline"),
    "deal_type": ("rent", "sale", "rent_or_sale"),
    "date_precision": DATE_PRECISIONS,
}

COLLECTIONS: dict[type, str] = {Article: "articles", RentalAd: "rental_ads"}

