"""What every template spider shares: arguments, routing, reference dates, item building.

A template spider declares ``name`` (its template) and ``routes``
(URL regex → callback name); the sites it crawls come from the site registry.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator, Optional
from urllib.parse import urljoin

import scrapy
from scrapy.http import Response

from kspider.extract.ids import canonical_url, url_fingerprint
from kspider.items import Article, RentalAd
from kspider.sites import Site, host_of, site_for_host, sites_for_spider
from kspider.stat_keys import BAD_ARGUMENT, BAD_START_URL, FALLBACK, REPLAY_DIR_MISSING, UNKNOWN_SITE

logger = logging.getLogger(__name__)


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def with_page_flags(flags: Optional[list[str]], response: Response) -> list[str]:
    """An item's quality flags plus those the download layer put on its page (``charset_corrected``,
    ``truncated``, ``oversized``, ``deeply_nested``: kspider.download)."""
    from kspider.download.pages import page_flags

    out = list(flags or [])
    out.extend(f for f in page_flags(response) if f not in out)
    return out


def split_arg(value: Optional[str]) -> list[str]:
    """A comma-separated spider argument as a list (empty items dropped)."""
    if not value:
        return []
    return [part.strip() for part in str(value).split(",") if part.strip()]


class KSpider(scrapy.Spider):
    """Base of the template spiders.

    Arguments: ``-a urls=URL[,URL…]`` starts from these URLs, each
    routed by its URL pattern; ``-a sites=HOST[,HOST…]`` crawls only these hosts.
    """

    # (compiled regex on the URL without scheme/host, callback name); first match wins.
    routes: tuple[tuple[str, str], ...] = ()
    # Spider arguments beyond urls, sites and full that a template documents; any other
    # argument is an error (a misspelt -a site= would otherwise crawl everything).
    extra_arguments: tuple[str, ...] = ()
    # Spiders that tell a page's kind from its content name their one callback here: every
    # URL of an allowed host is then fetched, and a matching route is only a hint (meta
    # "route"). None: strict routing, a URL without a route is not followed.
    content_callback: Optional[str] = None

    def __init__(self, urls: Optional[str] = None, sites: Optional[str] = None, full: Optional[str] = None,
                 *args: Any, **kwargs: Any) -> None:
        # Scrapyd adds _job to every job's arguments.
        accepted = {"urls", "sites", "full", "_job", *self.extra_arguments}
        self.unknown_arguments = sorted(name for name in kwargs if name not in accepted)
        super().__init__(*args, **kwargs)
        self.arg_urls = split_arg(urls)
        self.only_hosts = {h.lower() for h in split_arg(sites)}
        self.full = str(full or "").lower() in ("1", "true", "yes")
        self._routes = [(re.compile(pattern), callback) for pattern, callback in self.routes]
        self.registry: tuple[Site, ...] = sites_for_spider(self.name)

    # --- sites and hosts ---------------------------------------------------
    def site_for(self, url_or_host: str) -> Optional[Site]:
        host = host_of(url_or_host) if "/" in url_or_host else url_or_host.lower()
        site = site_for_host(host, self.registry)
        return site

    def host_allowed(self, url: str) -> bool:
        host = host_of(url)
        if self.site_for(host) is None:
            return False
        return not self.only_hosts or host in self.only_hosts

    def default_start_urls(self) -> list[str]:
        urls: list[str] = []
        for site in self.registry:
            if self.only_hosts and site.host not in self.only_hosts:
                continue
            urls.extend(site.start_urls)
        # Hosts asked for with -a sites= that only a glob entry covers start at their home page.
        for host in sorted(self.only_hosts):
            site = self.site_for(host)
            if site is not None and site.host != host:
                urls.append(self.home_url(host))
        return urls

    def home_url(self, host: str) -> str:
        return f"http://{host}/"

    # --- routing -----------------------------------------------------------
    def route(self, url: str) -> Optional[str]:
        """The callback name for a URL, by the template's URL patterns."""
        for pattern, callback in self._routes:
            if pattern.search(url):
                return callback
        return None

    def parse(self, response: Response, **kwargs: Any) -> Any:
        """Any page of the template, dispatched like start URLs and followed links (by URL, or to the
        content callback): what Scrapy calls when no callback is named, e.g. ``scrapy parse URL``."""
        routed = self.route(response.url)
        callback = self.content_callback or routed
        if callback is None:
            self.crawler.stats.inc_value("route/unrouted")
            logger.error("%s is not a page of spider %s (no URL pattern matches)", response.url, self.name)
            return []
        response.meta.setdefault("page_kind", "post" if routed and "listing" not in routed else "listing")
        return getattr(self, callback)(response, **kwargs)

    def request_for(self, url: str, **kwargs: Any) -> Optional[scrapy.Request]:
        """A request for a URL, routed to its callback; None (counted) if off-site or unroutable."""
        if not self.host_allowed(url):
            self.crawler.stats.inc_value("route/offsite")
            logger.debug("off-site link %s not followed", url)
            return None
        routed = self.route(url)
        callback = self.content_callback or routed
        if callback is None:
            self.crawler.stats.inc_value("route/unrouted")
            logger.debug("no route for %s", url)
            return None
        kwargs.setdefault("meta", {})
        if routed is not None:
            kwargs["meta"].setdefault("route", routed)
        # Listings are re-read on every crawl; posts may be skipped when already stored (incremental).
        # A page of unknown kind counts as a listing: always fetched.
        kwargs["meta"].setdefault("page_kind", "post" if routed and "listing" not in routed else "listing")
        return scrapy.Request(url, callback=getattr(self, callback), errback=self.on_error, **kwargs)

    def arguments_ok(self) -> bool:
        """Log and count (``spider/bad_argument/<name>``, ``spider/unknown_site/<host>``) arguments
        that name nothing this spider knows; False when there is one (nothing is then crawled)."""
        import difflib

        accepted = sorted({"urls", "sites", "full", *self.extra_arguments})
        for name in self.unknown_arguments:
            close = difflib.get_close_matches(name, accepted, n=1)
            hint = f"; did you mean -a {close[0]}=?" if close else ""
            logger.error("unknown spider argument -a %s=… (spider %s accepts %s)%s; nothing crawled",
                         name, self.name, ", ".join(accepted), hint)
            self.crawler.stats.set_value(BAD_ARGUMENT + name, 1)
        for host in sorted(self.only_hosts):
            if self.site_for(host) is None:
                logger.error("-a sites=%s: no registry entry of spider %s covers this host; nothing crawled",
                             host, self.name)
                self.crawler.stats.set_value(UNKNOWN_SITE + host, 1)
        return not self.unknown_arguments and all(self.site_for(h) is not None for h in self.only_hosts)

    async def start(self) -> Any:
        if not self.arguments_ok():
            return
        if self.crawler.stats.get_value(REPLAY_DIR_MISSING):
            return  # the replay handler logged it; there is nothing to replay and no going live
        urls = self.arg_urls or self.default_start_urls()
        for url in urls:
            # Filtered like any request: a home page that links to itself (pagination's
            # page 1) is fetched once, and workers sharing a frontier fetch it once.
            request = self.request_for(url)
            if request is None:
                logger.error("start URL %s is not a page of spider %s (wrong host or URL pattern)", url, self.name)
                self.crawler.stats.inc_value(BAD_START_URL)
                continue
            yield request

    def follow_all_routed(self, response: Response, urls: Iterable[str], **kwargs: Any) -> Iterator[scrapy.Request]:
        for url in urls:
            request = self.request_for(response.urljoin(url), **kwargs)
            if request is not None:
                yield request

    def on_error(self, failure: Any) -> None:
        from scrapy.spidermiddlewares.httperror import HttpError

        request = getattr(failure, "request", None)
        url = getattr(request, "url", "?")
        if failure.check(HttpError) and failure.value.response.status in (404, 410):
            # A dead link (or a page the fixture set does not hold) is the site's state, not a crawler fault.
            self.crawler.stats.inc_value(f"errback/HttpError/{failure.value.response.status}")
            logger.warning("gone: %s (%d)", url, failure.value.response.status)
            return
        self.crawler.stats.inc_value(f"errback/{failure.type.__name__}")
        logger.error("request failed: %s: %s", url, failure.getErrorMessage())

    # --- dates ---------------------------------------------------------------
    def ref_date(self, response: Response) -> datetime:
        """The reference time for relative dates: the response's Date header, else the crawl clock."""
        from kspider.extract.dates import http_date

        value = response.headers.get(b"Date")
        parsed = http_date(value) if value else None
        if parsed is None:
            self.crawler.stats.inc_value("date/no_date_header")
            return datetime.now(timezone.utc)
        return parsed

    # --- items ---------------------------------------------------------------
    def report_fallbacks(self, response: Response, result: Any) -> None:
        """Count and log the fields the generic extractor supplied because the template's
        selectors missed them (``ArticleResult.fallback_fields``): layout drift, not loss."""
        for name in result.fallback_fields:
            self.crawler.stats.inc_value(FALLBACK + name)
            logger.warning("layout fallback: %s of %s read by the generic extractor (the template's selectors "
                           "found none)", name, response.url)

    def make_article(self, response: Response, fields: dict[str, Any], canonical: Optional[str] = None) -> Article:
        """An Article from one page's parsed fields plus the identity fields every article has."""
        fields = dict(fields, quality_flags=with_page_flags(fields.get("quality_flags"), response))
        # resolved against the page (its <base href> included)
        return self.article_at(response.url, fields, response.urljoin(canonical) if canonical else None)

    def article_at(self, url: str, fields: dict[str, Any], canonical: Optional[str] = None) -> Article:
        """An Article for the page at ``url`` (the first page of a split article) from parsed fields
        (their ``quality_flags`` already holding the download layer's page flags)."""
        site = self.site_for(url)
        canon = canonical_url(urljoin(url, canonical)) if canonical else canonical_url(url)
        # Only trust a canonical link that stays on a host of this template.
        if self.site_for(canon) is None:
            canon = canonical_url(url)
        values = {
            "_id": url_fingerprint(canon),
            "url": url,
            "canonical_url": canon,
            "site": host_of(url),
            "site_name": fields.pop("site_name", None) or (site.name if site else None),
            "spider": self.name,
            "crawled_at": utc_now_iso(),
        }
        values.update({k: v for k, v in fields.items() if v is not None or k not in values})
        values["quality_flags"] = list(values.get("quality_flags") or [])
        return Article(**values)

    def make_ad(self, response: Response, ad_fields: dict[str, Any], kind: str,
                published_at: Optional[str] = None) -> RentalAd:
        """A RentalAd from extractor output; its id is the hash of the normalized ad text."""
        from kspider.extract.ads import ad_fingerprint

        raw = ad_fields.get("raw_text") or ""
        values = dict(ad_fields)
        values.update(
            _id=ad_fingerprint(raw),
            kind=kind,
            seen_on=[canonical_url(response.url)],
            published_at=published_at,
            site=host_of(response.url),
            spider=self.name,
            crawled_at=utc_now_iso(),
        )
        values["quality_flags"] = with_page_flags(values.get("quality_flags"), response)
        return RentalAd(**values)


# A post whose headline offers property for rent or sale is a dedicated listing post.
LISTING_TITLE = re.compile(
    r"(厂房|仓库|倉庫|土地|用地|办公楼|研发楼|冷库|车间|独栋|廠房)[^。]*?(出租|出售|招租|转让|租售|急租|急售|可租可售|可租|可售)"
    r"|(出租|出售|招租|转让|租售|急租|急售)[^。]*?(厂房|仓库|倉庫|土地|用地|办公楼|研发楼|冷库|车间|独栋|廠房)"
)


class AdsMixin:
    """Rental ads from a post: a dedicated listing post, and inline ad blocks inside any body."""

    def ads_for_post(self, response: Response, title: Optional[str], block_texts: list[str],
                     published_at: Optional[str], kept_texts: Optional[list[str]] = None
                     ) -> tuple[list[RentalAd], list[str]]:
        """(ads, texts to remove from the article body). Listing posts keep their body.

        ``block_texts`` is every body block in page order (inline ads may sit among the
        blocks the boilerplate rules dropped); ``kept_texts`` the body without boilerplate,
        which is what a listing post's ad is read from (not the site's contact block).
        """
        from kspider.extract.ads import extract_ad, find_inline_ads

        stats = self.crawler.stats
        body_text = "\n".join(t for t in block_texts if t)
        if title and LISTING_TITLE.search(title):
            listing_text = "\n".join(t for t in (kept_texts if kept_texts is not None else block_texts) if t)
            fields = extract_ad(listing_text, title)
            if fields is None:
                stats.inc_value("ads/listing_unparsed")
                logger.warning("listing post %s: no ad fields found in its body", response.url)
                return [], []
            stats.inc_value("ads/listing")
            return [self.make_ad(response, fields, "listing", published_at)], []
        ads: list[RentalAd] = []
        removed: list[str] = []
        for raw in find_inline_ads(body_text):
            fields = extract_ad(raw)
            if fields is None:
                stats.inc_value("ads/inline_unparsed")
                logger.warning("inline ad block on %s not parsed: %r", response.url, raw[:80])
                continue
            stats.inc_value("ads/inline")
            ads.append(self.make_ad(response, fields, "inline", None))
            removed.append(raw)
        return ads, removed
