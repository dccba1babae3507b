"""Spider `021cf`: the 021cf.cn network, Z-BlogPHP with the "tpure" theme (CONTRACT §2, SITES.md).

Every ``*.021cf.cn`` host is a site of this template (the registry's glob
entry). Home and category/tag listings are crawled with all their pages, then
the posts they list; a post yields an Article and any rental ads it carries.
"""
from __future__ import annotations

from typing import Any, Iterator

from scrapy.http import Response

from kspider.extract import tpure
from kspider.spiders.base import AdsMixin, KSpider


class ZblogTpureSpider(AdsMixin, KSpider):
    name = "021cf"
    # Z-BlogPHP URL schemes: index.php rewrite (SITES.md), full rewrite, and dynamic ?id=/?cate=.
    routes = (
        (r"^https?://[^/]+(/index\.php)?/post/\d+\.html$", "parse_post"),
        (r"^https?://[^/]+/(index\.php)?\?id=\d+$", "parse_post"),
        (r"^https?://[^/]+(/index\.php)?/(category|tags)-\d+(_\d+)?\.html$", "parse_listing"),
        (r"^https?://[^/]+(/index\.php)?/page_\d+\.html$", "parse_listing"),
        (r"^https?://[^/]+/(index\.php)?\?(cate|tags|page)=\d+(&page=\d+)?$", "parse_listing"),
        (r"^https?://[^/]+/(index\.php)?$", "parse_listing"),
    )

    def parse_listing(self, response: Response) -> Iterator[Any]:
        listing = tpure.parse_listing(response.text, response.url)
        if not listing.post_urls:
            self.crawler.stats.inc_value("listing/empty")
            self.logger.warning("listing %s lists no posts (markup changed?)", response.url)
        yield from self.follow_all_routed(response, listing.post_urls)
        yield from self.follow_all_routed(response, listing.page_urls)
        yield from self.follow_all_routed(response, listing.category_urls)

    def parse_post(self, response: Response) -> Iterator[Any]:
        site = self.site_for(response.url)
        post = tpure.parse_post(
            response.text, response.url, self.ref_date(response),
            tz=site.tz if site else "Asia/Shanghai",
            extra_boilerplate=site.boilerplate if site else (),
        )
        ads, removed = self.ads_for_post(
            response, post.fields.get("title"), [b.text for b in post.all_blocks], post.fields.get("published_at"),
            kept_texts=[b.text for b in post.blocks],
        )
        body = tpure.finish_body(post, response.url, removed)
        fields = dict(post.fields, **body)
        # Contact numbers anywhere in the body, inserted blocks included: what the page offers to call.
        from kspider.extract.phones import extract_phones

        fields["phones"] = extract_phones(post.raw_body_text)
        yield self.make_article(response, fields, canonical=post.canonical)
        yield from ads
