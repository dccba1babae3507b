"""Spider `021cf`: the 021cf.cn network, Z-BlogPHP with the "tpure" theme.

Every ``*.021cf.cn`` host is a site of this template (the registry's glob
entry). Home and category/tag listings are crawled with all their pages, then
the posts they list; a post yields an Article and any rental ads it carries.
"""
from __future__ import annotations

from typing import Any, Iterator

from scrapy.http import Response

from kspider.extract import tpure
from kspider.extract.article import extract_article
from kspider.extract.phones import extract_phones
from kspider.extract.result import fill_from_generic
from kspider.spiders.base import AdsMixin, KSpider

# Fields the theme's selectors read and the generic extractor stands in for when they find nothing.
FALLBACK_FIELDS = ("title", "published_at", "content_text")


class ZblogTpureSpider(AdsMixin, KSpider):
    name = "021cf"
    # Z-BlogPHP URL schemes: index.php rewrite (docs/SITE_NOTES.md), full rewrite, and dynamic ?id=/?cate=.
    routes = (
        (r"^https?://[^/]+(/index\.php)?/post/\d+\.html$", "parse_post"),
        (r"^https?://[^/]+/(index\.php)?\?id=\d+$", "parse_post"),
        # Z-BlogPHP pages (留言本, 关于我们, tag cloud, archive): fetched, recognized, never stored.
        (r"^https?://[^/]+(/index\.php)?/\d+\.html$", "parse_post"),
        (r"^https?://[^/]+(/index\.php)?/(category|tags|author)-\d+(_\d+)?\.html$", "parse_listing"),
        (r"^https?://[^/]+(/index\.php)?/date-\d{4}-\d{1,2}(_\d+)?\.html$", "parse_listing"),
        (r"^https?://[^/]+(/index\.php)?/page_\d+\.html$", "parse_listing"),
        (r"^https?://[^/]+/(index\.php)?\?(cate|tags|auth|page)=\d+(&page=\d+)?$", "parse_listing"),
        # Home; the pagebar's 首页 link is /index.php/.
        (r"^https?://[^/]+/(index\.php/?)?$", "parse_listing"),
    )

    def parse_listing(self, response: Response) -> Iterator[Any]:
        """Home, category, tag and page-N listings: the posts they list, their pages, the categories.

        @url http://kunshanmaigao.021cf.cn/
        @returns items 0 0
        @returns requests 11 11
        @follows http://kunshanmaigao.021cf.cn/index.php/post/2068.html
        @follows http://kunshanmaigao.021cf.cn/index.php/post/2057.html
        @follows http://kunshanmaigao.021cf.cn/index.php/page_2.html
        @follows http://kunshanmaigao.021cf.cn/index.php/category-3.html
        """
        listing = tpure.parse_listing(response.text, response.url)
        if not listing.post_urls:
            self.crawler.stats.inc_value("listing/empty")
            self.logger.warning("listing %s lists no posts (markup changed?)", response.url)
        yield from self.follow_all_routed(response, listing.post_urls)
        yield from self.follow_all_routed(response, listing.page_urls)
        yield from self.follow_all_routed(response, listing.category_urls)

    def parse_post(self, response: Response) -> Iterator[Any]:
        """A post: its article, and the rental ads it carries (here the inline 太仓事达产业园 ad).

        @url http://suzhou.021cf.cn/index.php/post/532.html
        @returns items 2 2
        @returns requests 0 0
        @scrapes title published_at content_text
        @value title 2024年嘉昆太协同创新核心圈轮值会议在太仓举行
        @value published_at 2024-09-20T00:00:00+08:00
        @value site_name 嘉定厂房网
        @value views 126
        @value park_name 太仓事达产业园
        @value area_sqm_min 1100
        """
        # The response's own parse (the one every extractor below reads): no second parse of the page.
        kind = tpure.page_kind(response.selector)
        if kind in tpure.NOT_POST_KINDS:
            # The engine's own pages (留言本, 关于我们, tag cloud, archive) and listings reached by a
            # post-shaped URL: recognized, counted, never stored as articles.
            self.crawler.stats.inc_value("page/not_post")
            self.crawler.stats.inc_value(f"page/not_post/{kind}")
            self.logger.info("not a post (%s page): %s", kind, response.url)
            if kind in ("index", "category", "tag", "author", "date", "search", "list"):
                yield from self.parse_listing(response)
            return
        site = self.site_for(response.url)
        tz = site.tz if site else "Asia/Shanghai"
        ref = self.ref_date(response)
        post = tpure.parse_post(response.selector, response.url, ref, tz=tz,
                                extra_boilerplate=site.boilerplate if site else ())
        ads, removed = self.ads_for_post(
            response, post.result.title or post.head_title, [b.text for b in post.all_blocks],
            post.result.published_at, kept_texts=[b.text for b in post.blocks],
        )
        result = tpure.finish_post(post, response.url, removed)
        # What the theme's selectors missed (another theme version, a changed template) comes from
        # the generic extractor, flagged layout_fallback and counted extract/fallback/<field>.
        result = fill_from_generic(result, lambda: extract_article(response.selector, response.url, ref, tz),
                                   watched=FALLBACK_FIELDS)
        if not result.title and post.head_title:
            result.title = post.head_title
        self.report_fallbacks(response, result)
        fields = result.item_fields()
        # Contact numbers anywhere in the body, inserted blocks included: what the page offers to call.
        fields["phones"] = extract_phones(post.raw_body_text or fields["content_text"])
        yield self.make_article(response, fields, canonical=result.canonical)
        yield from ads
