"""The project's download handler for http and https.

One handler, three modes, so that every downloader middleware (robots.txt,
retries, redirects, decompression, charset detection, recording) runs the same
in all of them:

- ``REPLAY_DIR`` set: every response comes from the fixture sets below it; no
  socket is ever opened. A URL with no exchange gets a 404 (``replay/miss``);
  a missing robots.txt is served empty (allow all).
- a request with ``meta["playwright"]``: handed to the browser handler
  (kspider.replay.browser), which replays through Playwright routing in replay
  mode.
- otherwise: Scrapy's own HTTP/1.1 handler, live.
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.http import Headers, Request, Response
from scrapy.responsetypes import responsetypes
from scrapy.utils.misc import build_from_crawler

from kspider.extract.ids import is_robots_txt
from kspider.replay.fixtures import FixtureIndex
from kspider.stat_keys import REPLAY_DIR_MISSING

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def replay_response(index: FixtureIndex, request: Request, stats=None) -> Response:
    """The recorded response for a request, or a 404 for a miss (shared with the browser path)."""
    exchange = index.lookup(request.url)
    if exchange is None:
        if is_robots_txt(request.url):
            if stats:
                stats.inc_value("replay/robots_default")
            return Response(url=request.url, status=200, body=b"", request=request, flags=["replay"])
        logger.warning("replay miss: no exchange for %s", request.url)
        if stats:
            stats.inc_value("replay/miss")
        return Response(url=request.url, status=404, body=b"", request=request, flags=["replay", "replay-miss"])
    if stats:
        stats.inc_value("replay/hit")
    headers = Headers()
    for name, value in exchange.header_items():
        headers.appendlist(name, value)
    body = exchange.body()
    respcls = responsetypes.from_args(headers=headers, url=request.url, body=body)
    return respcls(
        url=request.url, status=exchange.status, headers=headers, body=body, request=request, flags=["replay"]
    )


class KspiderDownloadHandler(BaseDownloadHandler):
    lazy = False

    def __init__(self, crawler: "Crawler") -> None:
        super().__init__(crawler)
        settings = crawler.settings
        self.replay_dir: str = settings.get("REPLAY_DIR") or ""
        self.index: Optional[FixtureIndex] = None
        self._http = None
        self._browser = None
        if self.replay_dir and not Path(self.replay_dir).is_dir():
            # Never go live instead: an empty index answers every request with a replay miss,
            # and the spiders start nothing (the exit status says why).
            if not crawler.stats.get_value(REPLAY_DIR_MISSING):  # one handler per scheme: say it once
                logger.error("REPLAY_DIR %s does not exist (or is not a directory): nothing to replay",
                             self.replay_dir)
            crawler.stats.set_value(REPLAY_DIR_MISSING, 1)
            self.index = FixtureIndex()
        elif self.replay_dir:
            self.index = FixtureIndex.load(self.replay_dir)
            logger.info("replay: %d exchanges loaded from %s", len(self.index), self.replay_dir)
        else:
            from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler

            self._http = build_from_crawler(HTTP11DownloadHandler, crawler)

    def _browser_handler(self):
        if self._browser is None:
            from kspider.replay.browser import BrowserDownloadHandler

            self._browser = BrowserDownloadHandler.from_crawler(self.crawler)
        return self._browser

    async def download_request(self, request: Request) -> Response:
        if request.meta.get("playwright"):
            return await self._browser_handler().download_request(request)
        if self.index is not None:
            return replay_response(self.index, request, self.crawler.stats)
        delay = float(request.meta.get("backoff_delay") or 0)
        if delay > 0:
            self.crawler.stats.inc_value("retry/backoff_waits")
            await asyncio.sleep(delay)
        return await self._http.download_request(request)

    async def close(self) -> None:
        if self._browser is not None:
            await self._browser.close()
        if self._http is not None:
            await self._http.close()
