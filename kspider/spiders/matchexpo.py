"""Spider `matchexpo`: the Matchexpo community, a Vue single-page app (docs/SITE_NOTES.md).

The community listing is filled by JavaScript from a JSON API, so it is
rendered in Chromium (scrapy-playwright); the article links come from the
rendered DOM and, when the DOM has none (click handlers instead of links),
from the API JSON the page fetched. Article pages are parsed from the raw HTML
first; only a page whose raw HTML lacks the title, body, date or counters is
fetched again through the browser (stats ``playwright/skipped`` /
``playwright/rendered``). One document per article across the UI languages:
the canonical link names it, the other hreflang URLs go to ``alt_urls``.

Assumptions (not seen on the live site; correct them here):

- article URLs ``https://www.matchexpo.com/community/article/ID``; UI-language
  variants ``/tw/community/article/ID`` (Traditional) and ``/cn/…`` (Simplified),
  tied together by ``<link rel=canonical>`` (the International URL) and hreflang;
- the listing ``https://www.matchexpo.com/community`` (``?page=N`` for more
  pages) calls ``/api/community/articles?page=N&page_size=…`` returning
  ``{"code":0,"data":{"list":[{"id","title",…}],"total","page","page_size"}}``;
- the English UI prints Chinese relative dates word for word (2年前 → "2 Last
  year", 5个月前 → "5 Months ago"), so "N Last year" is read as N years ago;
- 文章授权转载自“NAME”… names the source (``source_name`` = NAME) and is not body text;
- counters are shown in the order views, likes, comments.
"""
from __future__ import annotations

from typing import Any, Iterator, Optional
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import scrapy
from scrapy.http import Response
from scrapy_playwright.page import PageMethod

from kspider.extract import matchexpo as mx
from kspider.extract.ids import canonical_url
from kspider.spiders.base import KSpider

# Third-party trackers the pages load; never needed to render content.
TRACKER_HOSTS = ("hm.baidu.com", "www.google-analytics.com", "www.googletagmanager.com", "s4.cnzz.com",
                 "s95.cnzz.com", "c.cnzz.com", "zz.bdstatic.com")


def abort_unneeded_request(request: Any) -> bool:
    """PLAYWRIGHT_ABORT_REQUEST: skip images, media, fonts and trackers (never needed for text)."""
    if request.resource_type in ("image", "media", "font"):
        return True
    host = (urlsplit(request.url).hostname or "").lower()
    return host in TRACKER_HOSTS


def browser_meta(capture_json: bool = False) -> dict[str, Any]:
    """Request meta that renders a page in Chromium and waits until its API calls are done."""
    meta: dict[str, Any] = {
        "playwright": True,
        "playwright_page_methods": [PageMethod("wait_for_load_state", "networkidle")],
    }
    if capture_json:
        meta["capture_json"] = True
    return meta


def with_page(url: str, page: int) -> str:
    """The URL with its ``page`` query parameter set."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "page"]
    query.insert(0, ("page", str(page)))
    return urlunsplit(parts._replace(query=urlencode(query)))


class MatchexpoSpider(KSpider):
    name = "matchexpo"
    _LANG = r"(?:(?:tw|cn|en|hk|zh-tw|zh-cn|zh-hant|zh-hans)/)?"
    routes = (
        (rf"^https?://[^/]+/{_LANG}community/article/\d+/?(?:[?#].*)?$", "parse_article"),
        (rf"^https?://[^/]+/{_LANG}community/?(?:[?#].*)?$", "parse_listing"),
        (r"^https?://[^/]+/api/community/articles(?:[/?#].*)?$", "parse_listing_api"),
    )
    custom_settings = {
        "PLAYWRIGHT_ABORT_REQUEST": "kspider.spiders.matchexpo.abort_unneeded_request",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._emitted: set[str] = set()  # canonical URLs already yielded (one document per article)

    def request_for(self, url: str, **kwargs: Any) -> Optional[scrapy.Request]:
        request = super().request_for(url, **kwargs)
        if request is not None and request.meta.get("route") == "parse_listing" and not request.meta.get("playwright"):
            # The listing is empty without JavaScript: always render it.
            request.meta.update(browser_meta(capture_json=True))
        return request

    def parse(self, response: Response, **kwargs: Any) -> Any:
        """Any page, routed by URL (``KSpider.parse``). A listing fetched without the browser (as
        ``scrapy parse URL`` fetches it) has no article links yet: it is requested again, rendered."""
        if self.route(response.url) == "parse_listing" and "playwright" not in response.flags:
            request = self.request_for(response.url, dont_filter=True)
            return [request] if request is not None else []
        return super().parse(response, **kwargs)

    # --- listing ---------------------------------------------------------------
    def parse_listing(self, response: Response) -> Iterator[Any]:
        """The rendered community listing: its article links, and the next page.

        @url https://www.matchexpo.com/community
        @browser
        @returns items 0 0
        @returns requests 4 4
        @follows https://www.matchexpo.com/community/article/3351
        @follows https://www.matchexpo.com/community/article/3315
        @follows https://www.matchexpo.com/community?page=2
        """
        listing = mx.parse_listing(response.text, response.url)
        urls = list(listing.article_urls)
        next_api: list[str] = []
        for captured in response.meta.get("captured_json") or []:
            api_urls, next_page = mx.parse_listing_api(captured.get("data"), response.url)
            for url in api_urls:
                if url not in urls:
                    self.crawler.stats.inc_value("listing/api_only_links")
                    urls.append(url)
            if api_urls and next_page and not listing.page_urls:
                next_api.append(with_page(captured["url"], next_page))
        if not urls:
            self.crawler.stats.inc_value("listing/empty")
            self.logger.warning("listing %s lists no articles (markup or API changed?)", response.url)
        self.crawler.stats.inc_value("listing/article_links", len(urls))
        yield from self.follow_all_routed(response, urls)
        yield from self.follow_all_routed(response, listing.page_urls)
        # No page links in the DOM (a JS pager): ask the API for the next page directly.
        yield from self.follow_all_routed(response, next_api)

    def parse_listing_api(self, response: Response) -> Iterator[Any]:
        urls, next_page = mx.parse_listing_api(response.body, response.url)
        yield from self.follow_all_routed(response, urls)
        if urls and next_page:
            yield from self.follow_all_routed(response, [with_page(response.url, next_page)])

    # --- articles --------------------------------------------------------------
    def parse_article(self, response: Response) -> Iterator[Any]:
        """An article page, from its raw HTML when that holds everything, else rendered.

        @url https://www.matchexpo.com/community/article/3279
        @returns items 1 1
        @scrapes title published_at content_text
        @value title 昆山打造具有全球竞争优势的新兴产业“高地”
        @value published_at 2021-11-10T09:26:41+08:00
        @value views 3311
        @value likes 70
        @value source_name 引力播
        """
        site = self.site_for(response.url)
        rendered = "playwright" in response.flags
        ref, tz = self.ref_date(response), site.tz if site else "Asia/Shanghai"
        # Without the generic fallback first: a raw page lacking what the app renders is
        # rendered, not read generically.
        fields = mx.parse_article(response.text, response.url, ref, tz=tz, fallback=False)
        missing = mx.missing_fields(fields)
        if not rendered:
            if missing:
                # The raw HTML lacks what the app fills in: render this page in the browser.
                self.crawler.stats.inc_value("playwright/rendered")
                self.logger.debug("rendering %s (raw HTML lacks %s)", response.url, ", ".join(missing))
                request = self.request_for(response.url, dont_filter=True, meta=browser_meta())
                if request is not None:
                    # Not drift: the article comes from the rendered page.
                    response.meta["no_item_reason"] = "rendering_in_browser"
                    yield request
                return
            self.crawler.stats.inc_value("playwright/skipped")
        elif missing:
            self.crawler.stats.inc_value("matchexpo/incomplete_after_render")
            self.logger.warning("rendered %s still lacks %s", response.url, ", ".join(missing))
        fields = mx.fill_fallback(fields, response.text, response.url, ref, tz)
        self.report_fallbacks(response, fields)
        if not fields.title and not fields.content_text:
            self.crawler.stats.inc_value("matchexpo/not_an_article")
            return
        canonical = fields.canonical or canonical_url(response.url)
        if canonical in self._emitted:
            self.crawler.stats.inc_value("matchexpo/duplicate_language_variant")
            response.meta["no_item_reason"] = "language_variant"
            return
        self._emitted.add(canonical)
        yield self.make_article(response, fields.item_fields(), canonical=canonical)
