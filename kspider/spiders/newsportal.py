"""What the news-portal spiders share (xinjiapo, jssuxun): listing → articles, topic filter.

A news-portal spider declares only its ``name`` and its URL ``routes``; the
page layout, time zone, boilerplate extras and topic keywords of each site
are data in the site registry (kspider/sites.py), read through
kspider.extract.newsportal.

Crawl: home and channel listings (with their pagination) → the articles they
list. Previous/next links on article pages are not followed: listings already
reach every article, and following them would walk the whole archive.

Topic filter: on a site with ``topic_keywords``, an article scoring below
``topic_min_score`` (kspider.extract.topic) is logged, counted in the stat
``topic/dropped`` and not yielded; kept ones carry their ``topic_score``.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Optional

from scrapy.http import Response

from kspider.extract import newsportal
from kspider.extract.ids import canonical_url
from kspider.extract.phones import extract_phones
from kspider.extract.topic import on_topic, topic_hits
from kspider.sites import Site
from kspider.spiders.base import KSpider

# Listing pages followed along one pagination chain, unless -a full=1.
DEFAULT_MAX_LIST_PAGES = 20


class NewsPortalSpider(KSpider):
    """Base of the news-portal spiders; subclasses set ``name`` and ``routes``."""

    def max_list_pages(self) -> Optional[int]:
        if self.full:
            return None
        return self.crawler.settings.getint("NEWSPORTAL_MAX_LIST_PAGES", DEFAULT_MAX_LIST_PAGES)

    def _site(self, response: Response) -> Optional[Site]:
        return self.site_for(response.url)

    def _start_urls(self) -> set[str]:
        # Start requests bypass the duplicate filter, so links back to them (every page's
        # 首页 link) would fetch them again; they are skipped instead.
        if not hasattr(self, "_start_canon"):
            self._start_canon = {canonical_url(u) for u in (self.arg_urls or self.default_start_urls())}
        return self._start_canon

    def follow_new(self, response: Response, urls: Iterable[str], **kwargs: Any) -> Iterator[Any]:
        starts = self._start_urls()
        yield from self.follow_all_routed(
            response, (u for u in urls if canonical_url(response.urljoin(u)) not in starts), **kwargs)

    # --- listings ------------------------------------------------------------
    def parse_listing(self, response: Response) -> Iterator[Any]:
        site = self._site(response)
        listing = newsportal.parse_listing(response.text, response.url, site.layout if site else None)
        if not listing.article_urls:
            self.crawler.stats.inc_value("listing/empty")
            self.logger.warning("listing %s lists no articles (markup changed?)", response.url)
        yield from self.follow_new(response, listing.article_urls)
        depth = response.meta.get("list_page", 1)
        limit = self.max_list_pages()
        if limit is None or depth < limit:
            yield from self.follow_new(response, listing.page_urls, meta={"list_page": depth + 1})
        else:
            self.crawler.stats.inc_value("listing/page_limit")
        # Channel pages start their own pagination chain.
        yield from self.follow_new(response, listing.channel_urls)

    # --- articles ------------------------------------------------------------
    def parse_article(self, response: Response) -> Iterator[Any]:
        site = self._site(response)
        page = newsportal.parse_article(
            response.text, response.url, self.ref_date(response),
            tz=site.tz if site else "Asia/Shanghai",
            layout=site.layout if site else None,
            extra_boilerplate=site.boilerplate if site else (),
        )
        fields = dict(page.fields, **newsportal.finish_article(page, response.url))
        if not fields["content_text"]:
            self.crawler.stats.inc_value("article/no_body")
            self.logger.warning("article %s: no body text found (markup changed?)", response.url)
        fields["phones"] = extract_phones(fields["content_text"])
        if site is not None and site.topic_keywords:
            hits = topic_hits(fields.get("title"), fields["content_text"], site.topic_keywords)
            score = round(sum(hits.values()), 3)
            if not on_topic(score, site.topic_keywords, site.topic_min_score):
                self.crawler.stats.inc_value("topic/dropped")
                response.meta["no_item_reason"] = "off_topic"  # dropped on purpose: not template drift
                self.logger.info("off-topic, not stored: %s (score %s < %s, hits %s) %r", response.url, score,
                                 site.topic_min_score, hits, fields.get("title"))
                return
            self.crawler.stats.inc_value("topic/kept")
            fields["topic_score"] = score
        yield self.make_article(response, fields, canonical=page.canonical)
