"""Spider `jssuxun`: 江苏苏讯网, a Jiangsu news portal in Traditional script (docs/SITE_NOTES.md).

Runs DedeCMS: column listings ``/html/COLUMN/`` (pages ``list_T_N.html``) →
articles ``/html/YYYY/COLUMN_MMDD/ID.html``. Pages are Traditional with pinyin
artifacts and some encoding damage, some GBK with the charset only in
``<meta>`` (Scrapy's response decoding reads it); the cleaning pipeline strips
the pinyin, flags the damage and adds ``content_text_hans``. The site's
address is configuration: the routes match any host, the registry entry names it.

The DedeCMS URL routes and the registry's layout selectors are hints: every page
of the host is read by its content (article, listing or other), so the same
site served by another CMS (PHPCMS's ``index.php?m=content…`` URLs, say) is
crawled from any start URL, through the generic readers, each fallback counted.
"""
from __future__ import annotations

from typing import Any, Iterator

from scrapy.http import Response

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

    # The callbacks are the news-portal template's; these carry the contracts on this site's pages.
    def parse_listing(self, response: Response) -> Iterator[Any]:
        """Column listings.

        @url http://www.jssuxun.example/html/szxw/
        @returns items 0 0
        @returns requests 5 5
        @follows http://www.jssuxun.example/html/2021/szxw_0602/20644.html
        @follows http://www.jssuxun.example/html/szxw/list_3_2.html
        """
        return super().parse_listing(response)

    def parse_article(self, response: Response) -> Iterator[Any]:
        """An article (Traditional script). The callback's output is the page's text: pinyin
        artifacts are stripped and ``content_text_hans`` added later, by the cleaning pipeline.

        @url http://www.jssuxun.example/html/2021/szxw_0608/20783.html
        @returns items 1 1
        @scrapes title published_at content_text
        @value title 太倉新增德資項目21個 中德合作再上新臺階
        @value published_at 2021-06-08T16:05:00+08:00
        @value editor 張敏
        @value source_name 蘇州日報
        @value views 1287
        """
        return super().parse_article(response)
