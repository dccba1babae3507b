"""Pages that cannot crash or stall a crawl: cut off, too large or nested too deep.

``PageGuardMiddleware`` looks at every HTML response before any parser does:

- ``truncated``: the document opens <html>/<body> but closes neither, or Scrapy
  flagged the download ``dataloss``; the page is parsed as it is.
- ``oversized``: beyond ``PAGE_MAX_CHARS`` characters or ``PAGE_MAX_ELEMENTS``
  elements the page is cut (before a tag) and parsed up to there, so items
  still carry what was found.
- ``deeply_nested``: elements nested deeper than ``PAGE_MAX_DEPTH`` are unwrapped
  (their text kept); parsers give up at some depth and drop the rest of the page.

Each is a response flag, a stat (``page/<flag>``) and a log line; spiders copy
the flags onto their items' ``quality_flags`` (kspider.spiders.base.with_page_flags).
"""
from __future__ import annotations

import logging
from typing import Any

from scrapy import Request
from scrapy.http import HtmlResponse, Response

from kspider.extract.page import cap_page, flatten_nesting, nesting_estimate, page_truncated

logger = logging.getLogger(__name__)

# Response flags that are item quality flags (set here and by kspider.download.charset).
PAGE_QUALITY_FLAGS = ("charset_corrected", "truncated", "oversized", "deeply_nested")


def page_flags(response: Any) -> list[str]:
    """The quality flags the download layer put on a response."""
    return [f for f in getattr(response, "flags", None) or () if f in PAGE_QUALITY_FLAGS]


class PageGuardMiddleware:
    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        self.stats = crawler.stats
        self.max_chars = settings.getint("PAGE_MAX_CHARS", 3_000_000)
        self.max_elements = settings.getint("PAGE_MAX_ELEMENTS", 60_000)
        self.max_depth = settings.getint("PAGE_MAX_DEPTH", 200)

    @classmethod
    def from_crawler(cls, crawler: Any) -> "PageGuardMiddleware":
        return cls(crawler)

    def _flag(self, flags: list[str], flag: str, message: str, *args: Any) -> None:
        flags.append(flag)
        self.stats.inc_value(f"page/{flag}")
        logger.warning(message, *args)

    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, HtmlResponse) or not response.body:
            return response
        text = response.text
        flags: list[str] = []
        if "dataloss" in response.flags or page_truncated(text):
            self._flag(flags, "truncated", "truncated page %s: the document ends before closing <body>/<html> "
                       "(%d characters); parsed as it is", response.url, len(text))
        capped, oversized = cap_page(text, self.max_chars, self.max_elements)
        if oversized:
            self._flag(flags, "oversized", "oversized page %s: %d characters, cut at %d (limits: PAGE_MAX_CHARS=%d, "
                       "PAGE_MAX_ELEMENTS=%d); items keep what was found before the cut", response.url, len(text),
                       len(capped), self.max_chars, self.max_elements)
        unwrapped = 0
        if self.max_depth and nesting_estimate(capped) > self.max_depth:
            capped, unwrapped = flatten_nesting(capped, self.max_depth)
            if unwrapped:
                self._flag(flags, "deeply_nested", "deeply nested page %s: %d element(s) deeper than "
                           "PAGE_MAX_DEPTH=%d unwrapped (their text kept)", response.url, unwrapped, self.max_depth)
        if not flags:
            return response
        changes: dict[str, Any] = {"flags": list(response.flags) + [f for f in flags if f not in response.flags]}
        if oversized or unwrapped:
            # Re-encoded as UTF-8 and said so: the text is exactly what the checks produced.
            changes.update(body=capped.encode("utf-8", "surrogatepass"), encoding="utf-8")
        return response.replace(**changes)
