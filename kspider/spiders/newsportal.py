"""What the news-portal spiders share (xinjiapo, jssuxun): pages read by content, topic filter.

A news-portal spider declares only its ``name`` and, optionally, URL
``routes``; a site's registry entry (kspider/sites.py) needs only a host and
start URLs, and may add topic keywords, a channel filter, layout hints, a time
zone and boilerplate lines.

Every page of a registry host is fetched and classified by its content
(kspider.extract.pagekind: article, listing or other); a URL route, or the
kind of link that led to the page, is only a prior for close cases, so an
unknown CMS or URL scheme works from any start URL of the host.

Crawl: listings (home, channels and their pagination) → the articles they
list. A listing's article links, pager and channel menu come from the site's
layout hints, else from the generic link finder (kspider.extract.listing);
channels are followed only when the registry's channel filter admits them.
Previous/next links on article pages are not followed: listings already reach
every article, and following them would walk the whole archive.

Articles split over pages: where the site's layout hints name the article's
page bar (``article_pages``), the later pages are fetched one after another
and one article is stored, its body joined from all pages (stat
``article/pages_joined``); a later page that fails leaves the article stored
with the pages read, flagged ``multi_page`` (stat ``article/pages_missing``;
a later page without body text: ``article/pages_empty``).
Without the hint a page bar only flags the article ``multi_page``.

Articles: kspider.extract.newsportal (hints first, the generic extractor for
what they miss; fallbacks are counted as ``extract/fallback/<field>`` and
logged). Topic filter: on a site with ``topic_keywords``, an article scoring
below ``topic_min_score`` (kspider.extract.topic) is logged, counted in the
stat ``topic/dropped`` and not yielded; kept ones carry their ``topic_score``.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Optional

from scrapy.http import Response

from kspider.extract import newsportal
from kspider.extract.ids import canonical_url
from kspider.extract.multipage import MAX_ARTICLE_PAGES, append_page, next_article_page
from kspider.extract.pagekind import ARTICLE, LISTING, classify_page
from kspider.extract.phones import extract_phones
from kspider.extract.topic import on_topic, topic_hits
from kspider.sites import Site
from kspider.spiders.base import KSpider, with_page_flags
from kspider.stat_keys import FALLBACK

# Listing pages followed along one pagination chain, unless -a full=1.
DEFAULT_MAX_LIST_PAGES = 20
_PRIOR_OF_ROUTE = {"parse_article": ARTICLE, "parse_listing": LISTING}
# Request meta of an article's later page: what the pages before it gave (JSON types only,
# so requests stay serializable for JOBDIR).
ARTICLE_PARTS = "article_parts"


class NewsPortalSpider(KSpider):
    """Base of the news-portal spiders; subclasses set ``name`` and (as priors) ``routes``."""

    content_callback = "parse_page"

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

    def follow_new(self, response: Response, urls: Iterable[str], kind: str, **kwargs: Any) -> Iterator[Any]:
        """Requests for links not yet started from; ``kind`` (article/listing) is what the link
        suggests: the page's prior, and whether the incremental crawl may skip it."""
        starts = self._start_urls()
        meta = dict(kwargs.pop("meta", {}))
        meta.setdefault("page_kind", "post" if kind == ARTICLE else "listing")
        meta.setdefault("link_kind", kind)
        for url in urls:
            if canonical_url(response.urljoin(url)) in starts:
                continue
            yield from self.follow_all_routed(response, [url], meta=dict(meta), **kwargs)

    # --- every page ------------------------------------------------------------
    def parse_page(self, response: Response) -> Iterator[Any]:
        """Read the page's kind from its content (the URL route or the link as a prior), then parse it."""
        prior = _PRIOR_OF_ROUTE.get(response.meta.get("route", "")) or response.meta.get("link_kind")
        page = classify_page(response.selector, response.url, prior, text=response.text)
        self.crawler.stats.inc_value(f"page_kind/{page.kind}")
        if prior and page.kind != prior:
            self.crawler.stats.inc_value("page_kind/not_as_linked")
            self.logger.debug("%s reads as %s, linked as %s", response.url, page.kind, prior)
        if page.kind == ARTICLE:
            yield from self.parse_article(response)
        elif page.kind == LISTING:
            response.meta["no_item_reason"] = "listing_page"  # a listing yields requests, not articles
            # The links the classification found, so parse_listing does not look for them again.
            response.meta["generic_links"] = page.listing
            yield from self.parse_listing(response)
        else:
            response.meta["no_item_reason"] = "not_an_article"
            self.logger.info("neither article nor listing, not parsed: %s", response.url)

    # --- listings ------------------------------------------------------------
    def parse_listing(self, response: Response) -> Iterator[Any]:
        site = self._site(response)
        listing = newsportal.parse_listing(
            response.selector, response.url, site.layout if site else None,
            channels=site.channels if site else (), found=response.meta.pop("generic_links", None))
        for role in listing.fallback_fields:
            self.crawler.stats.inc_value(FALLBACK + role)
            self.logger.warning("layout fallback: %s of %s found by the generic link finder (the site's "
                                "selectors found none)", role, response.url)
        if not listing.article_urls:
            self.crawler.stats.inc_value("listing/empty")
            self.logger.warning("listing %s lists no articles (markup changed?)", response.url)
        yield from self.follow_new(response, listing.article_urls, ARTICLE)
        depth = response.meta.get("list_page", 1)
        limit = self.max_list_pages()
        if limit is None or depth < limit:
            yield from self.follow_new(response, listing.page_urls, LISTING, meta={"list_page": depth + 1})
        else:
            self.crawler.stats.inc_value("listing/page_limit")
        # Channel pages start their own pagination chain.
        yield from self.follow_new(response, listing.channel_urls, LISTING)

    # --- articles ------------------------------------------------------------
    def _read_article(self, response: Response, site: Optional[Site]) -> Any:
        return newsportal.parse_article(
            response.selector, response.url, self.ref_date(response),
            tz=site.tz if site else "Asia/Shanghai",
            layout=site.layout if site else None,
            extra_boilerplate=site.boilerplate if site else (),
        )

    def parse_article(self, response: Response) -> Iterator[Any]:
        site = self._site(response)
        result = self._read_article(response, site)
        self.report_fallbacks(response, result)
        parts = {"url": response.url, "canonical": result.canonical, "fields": result.item_fields(),
                 "flags": with_page_flags(None, response), "seen": [canonical_url(response.url)]}
        yield from self._next_part_or_article(response, site, parts)

    def parse_article_part(self, response: Response) -> Iterator[Any]:
        """A later page of a split article: its body joins the pages before it."""
        site = self._site(response)
        parts = response.meta[ARTICLE_PARTS]
        later = self._read_article(response, site)
        if not later.content_text:
            parts["incomplete"] = True
            self.crawler.stats.inc_value("article/pages_empty")
            self.logger.warning("article %s: page %d (%s) shows no body text; stored without it, flagged "
                                "multi_page", parts["url"], len(parts["seen"]) + 1, response.url)
        append_page(parts["fields"], later)
        parts["flags"] = with_page_flags(parts["flags"], response)
        parts["seen"].append(canonical_url(response.url))
        yield from self._next_part_or_article(response, site, parts)

    def article_part_failed(self, failure: Any) -> Iterator[Any]:
        """A later page could not be fetched: the article is stored with the pages read, flagged."""
        self.on_error(failure)
        parts = failure.request.meta[ARTICLE_PARTS]
        self.crawler.stats.inc_value("article/pages_missing")
        self.logger.warning("article %s: page %d (%s) not fetched; stored with its first %d page(s), flagged "
                            "multi_page", parts["url"], len(parts["seen"]) + 1, failure.request.url, len(parts["seen"]))
        yield from self._article(parts, complete=False)

    def _next_part_or_article(self, response: Response, site: Optional[Site], parts: dict[str, Any]) -> Iterator[Any]:
        hint = tuple((site.layout if site else {}).get("article_pages", ()))
        following = next_article_page(response.selector, response.url, hint, parts["seen"]) if hint else None
        if following and len(parts["seen"]) >= MAX_ARTICLE_PAGES:
            self.crawler.stats.inc_value("article/page_limit")
            self.logger.warning("article %s: more than %d pages; stored with the first %d", parts["url"],
                                MAX_ARTICLE_PAGES, MAX_ARTICLE_PAGES)
            following = None
        if following:
            # The article is yielded from its last page; this page gave none on purpose.
            response.meta["no_item_reason"] = "article_continues"
            yield response.follow(following, callback=self.parse_article_part, errback=self.article_part_failed,
                                  meta={"page_kind": "post", ARTICLE_PARTS: parts})
            return
        yield from self._article(parts, complete=not parts.get("incomplete"), response=response)

    def _article(self, parts: dict[str, Any], complete: bool, response: Optional[Response] = None) -> Iterator[Any]:
        fields = parts["fields"]
        url = parts["url"]
        site = self.site_for(url)
        pages = len(parts["seen"])
        flags = list(dict.fromkeys(list(fields.get("quality_flags") or []) + parts["flags"]))
        if pages > 1:
            if complete:
                flags = [f for f in flags if f != "multi_page"]
                self.crawler.stats.inc_value("article/pages_joined")
                self.logger.debug("article %s: %d pages joined", url, pages)
            elif "multi_page" not in flags:
                flags.append("multi_page")
        fields["quality_flags"] = flags
        if not fields["content_text"]:
            self.crawler.stats.inc_value("article/no_body")
            self.logger.warning("article %s: no body text found (markup changed?)", url)
        fields["phones"] = extract_phones(fields["content_text"])
        if site is not None and site.topic_keywords:
            hits = topic_hits(fields.get("title"), fields["content_text"], site.topic_keywords)
            score = round(sum(hits.values()), 3)
            if not on_topic(score, site.topic_keywords, site.topic_min_score):
                self.crawler.stats.inc_value("topic/dropped")
                if response is not None:
                    response.meta["no_item_reason"] = "off_topic"  # dropped on purpose: not template drift
                self.logger.info("off-topic, not stored: %s (score %s < %s, hits %s) %r", url, score,
                                 site.topic_min_score, hits, fields.get("title"))
                return
            self.crawler.stats.inc_value("topic/kept")
            fields["topic_score"] = score
        yield self.article_at(url, fields, canonical=parts["canonical"])
