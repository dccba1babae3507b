"""Spider `jssuxun`: 江苏苏讯网, a Jiangsu news portal in Traditional script (CONTRACT §2, SITES.md).

Runs DedeCMS: column listings ``/html/COLUMN/`` (pages ``list_T_N.html``) →
articles ``/html/YYYY/COLUMN_MMDD/ID.html``. Pages are Traditional with pinyin
artifacts and some encoding damage, some GBK with the charset only in
``<meta>`` (Scrapy's response decoding reads it); the cleaning pipeline strips
the pinyin, flags the damage and adds ``content_text_hans``. The site's
address is configuration: the routes match any host, the registry entry names it.
"""
from __future__ import annotations

from kspider.spiders.newsportal import NewsPortalSpider


class JssuxunSpider(NewsPortalSpider):
    name = "jssuxun"
    routes = (
        # DedeCMS article URLs: static {typedir}/.../{aid}.html (page N: {aid}_N.html), dynamic view.php.
        (r"^https?://[^/]+/(?:[\w-]+/)*\d+(?:_\d+)?\.html$", "parse_article"),
        (r"^https?://[^/]+/plus/view\.php\?aid=\d+", "parse_article"),
        (r"^https?://[^/]+/html/[\w-]+/(?:list_\d+_\d+\.html|index\.html)?$", "parse_listing"),
        (r"^https?://[^/]+/plus/list\.php\?tid=\d+(&PageNo=\d+)?$", "parse_listing"),
        (r"^https?://[^/]+/(?:index\.html)?$", "parse_listing"),
    )
