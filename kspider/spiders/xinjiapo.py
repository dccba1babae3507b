"""Spider `xinjiapo`: xinjiapo.news (新加坡眼), a Singapore Chinese news portal (docs/SITE_NOTES.md).

Home and channel listings → articles ``/news/ID``. The date line shows month,
day and weekday but no year; the year is inferred against the response Date
in Asia/Singapore time (the registry's ``tz``). The site covers all news: the
topic filter (registry ``topic_keywords``) keeps only articles on the
crawler's subject. Layout selectors are in the registry entry; they and the
URL routes are hints: every page of the host is read by its content, so another
rendering of the site (WordPress permalinks, other class names) is crawled too.
"""
from __future__ import annotations

from typing import Any, Iterator

from scrapy.http import Response

from kspider.spiders.newsportal import NewsPortalSpider


class XinjiapoSpider(NewsPortalSpider):
    name = "xinjiapo"
    routes = (
        (r"^https?://[^/]+/news/\d+/?$", "parse_article"),
        (r"^https?://[^/]+/category/[\w-]+/?(\?page=\d+)?$", "parse_listing"),
        (r"^https?://[^/]+/?(\?page=\d+)?$", "parse_listing"),
    )

    # The callbacks are the news-portal template's; these carry the contracts on this site's pages.
    def parse_listing(self, response: Response) -> Iterator[Any]:
        """Home and channel listings.

        @url https://xinjiapo.news/
        @returns items 0 0
        @returns requests 5 5
        @follows https://xinjiapo.news/news/118790
        @follows https://xinjiapo.news/category/china
        """
        return super().parse_listing(response)

    def parse_article(self, response: Response) -> Iterator[Any]:
        """An article, kept when on topic.

        @url https://xinjiapo.news/news/41528
        @returns items 1 1
        @scrapes title published_at content_text
        @value title 聚焦长三角|苏州相城:打造长三角国际开放合作新引擎
        @value published_at 2019-11-17T00:00:00+08:00
        @value site_name 新加坡眼
        """
        return super().parse_article(response)
