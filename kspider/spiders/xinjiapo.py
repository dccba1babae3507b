"""Spider `xinjiapo`: xinjiapo.news (新加坡眼), a Singapore Chinese news portal (CONTRACT §2, SITES.md).

Home and channel listings → articles ``/news/ID``. The date line shows month,
day and weekday but no year; the year is inferred against the response Date
in Asia/Singapore time (the registry's ``tz``). The site covers all news: the
topic filter (registry ``topic_keywords``) keeps only articles on the
crawler's subject. Layout selectors are in the registry entry.
"""
from __future__ import annotations

from kspider.spiders.newsportal import NewsPortalSpider


class XinjiapoSpider(NewsPortalSpider):
    name = "xinjiapo"
    routes = (
        (r"^https?://[^/]+/news/\d+/?$", "parse_article"),
        (r"^https?://[^/]+/category/[\w-]+/?(\?page=\d+)?$", "parse_listing"),
        (r"^https?://[^/]+/?(\?page=\d+)?$", "parse_listing"),
    )
