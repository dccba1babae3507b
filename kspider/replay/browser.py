"""Browser (Playwright) downloads that replay from, and record into, fixture sets.

``BrowserDownloadHandler`` is scrapy-playwright's download handler with one
change: when ``REPLAY_DIR`` is set, every request the browser makes — the page
itself and every script, style, fetch/XHR it asks for — is answered from the
fixture set through Playwright request routing, so nothing leaves the machine.
A request with no exchange is aborted (a main-frame navigation gets an empty
404 instead, like the plain replay handler) and counted in ``replay/miss``.
Without ``REPLAY_DIR`` it behaves as scrapy-playwright does live; with
``RECORD_DIR`` it also writes every response the browser receives (raw bytes
as served, not the rendered DOM) into a fixture set, so a recorded browser
crawl replays unchanged.

How routing is wired (scrapy-playwright 0.0.48): scrapy-playwright registers a
*page-level* ``page.route("**", …)`` whose handler ends in ``route.continue_()``.
``continue_`` sends the request to the network and skips every other route
handler, and page routes run before context routes, so a context-level replay
route alone would never see the page's requests. We therefore replace the
handler scrapy-playwright registers (``_make_request_handler``) with the replay
handler, and add the same handler as a context-level route as a safety net for
requests no page route sees (popups, workers). Service workers are blocked in
replay (their requests bypass routing) and WebSockets are closed. As defence in
depth, Chromium gets a host-resolver rule that makes every DNS lookup fail, so
even a request that escaped routing could not reach a server.
"""
from __future__ import annotations

import asyncio
import gzip
import logging
import os
import zlib
from contextlib import suppress
from typing import Any, Callable, Optional
from urllib.parse import urljoin

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, Request as PlaywrightRequest, Response as PlaywrightResponse, Route
from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.http import Headers, Request, Response
from scrapy.responsetypes import responsetypes
from scrapy_playwright._utils import _maybe_await
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from kspider.replay.fixtures import Exchange, FixtureIndex, FixtureWriter

logger = logging.getLogger(__name__)

# Debian's Chromium (``playwright install`` cannot download browsers here); the full
# launch options live in kspider.settings (PLAYWRIGHT_LAUNCH_OPTIONS).
DEBIAN_CHROMIUM = "/usr/bin/chromium"
# Every DNS lookup fails: a request that escapes routing cannot leave the machine.
REPLAY_RESOLVER_ARG = "--host-resolver-rules=MAP * ~NOTFOUND"

NOT_FOUND_PAGE = b"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>"
# Hop-by-hop or body-describing headers that no longer hold once the body is decoded.
_DROP_ON_FULFILL = {"content-encoding", "content-length", "transfer-encoding", "connection"}


def decoded_body(body: bytes, headers: dict[str, str]) -> bytes:
    """The body with its Content-Encoding undone (Playwright fulfils decoded bytes).

    Unknown encodings, or bytes that do not decode, are returned unchanged.
    """
    encoding = ""
    for name, value in headers.items():
        if name.lower() == "content-encoding":
            encoding = value.strip().lower()
    try:
        if encoding in ("gzip", "x-gzip"):
            return gzip.decompress(body)
        if encoding == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:  # raw deflate without the zlib wrapper
                return zlib.decompress(body, -zlib.MAX_WBITS)
        if encoding == "br":
            import brotli  # type: ignore[import-not-found]

            return brotli.decompress(body)
    except Exception:  # noqa: BLE001 - a broken fixture body is served as stored
        logger.warning("replay: could not undo Content-Encoding %r; serving the body as stored", encoding)
    return body


def fulfil_headers(exchange: Exchange) -> dict[str, str]:
    """An exchange's headers as Playwright's ``route.fulfill`` takes them (one string per name)."""
    merged: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for name, value in exchange.header_items():
        key = name.lower()
        if key in _DROP_ON_FULFILL:
            continue
        names.setdefault(key, name)
        merged.setdefault(key, []).append(value)
    # Playwright separates repeated Set-Cookie values by newlines; others join as HTTP allows.
    return {
        names[key]: ("\n" if key == "set-cookie" else ", ").join(values) for key, values in merged.items()
    }


def _is_main_frame_navigation(pw_request: PlaywrightRequest) -> bool:
    try:
        return pw_request.is_navigation_request() and pw_request.frame.parent_frame is None
    except PlaywrightError:  # service-worker requests have no frame
        return False


class BrowserDownloadHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's handler, replaying from (or recording into) a fixture set."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        replay_dir = settings.get("REPLAY_DIR") or ""
        record_dir = settings.get("RECORD_DIR") or ""
        self.fixtures: Optional[FixtureIndex] = FixtureIndex.load(replay_dir) if replay_dir else None
        # Recording live responses only makes sense when not replaying.
        self.recorder: Optional[FixtureWriter] = (
            FixtureWriter(record_dir) if record_dir and self.fixtures is None else None
        )
        self._launch_once_lock = asyncio.Lock()
        self._pending_records: dict[int, list[asyncio.Task]] = {}

        options = self.config.launch_options = dict(self.config.launch_options or {})
        if (
            self.config.browser_type_name == "chromium"
            and not options.get("executable_path")
            and os.path.exists(DEBIAN_CHROMIUM)
        ):
            options["executable_path"] = DEBIAN_CHROMIUM
        if self.fixtures is not None and self.config.browser_type_name == "chromium":
            args = list(options.get("args") or [])
            if not any(a.startswith("--host-resolver-rules") for a in args):
                args.append(REPLAY_RESOLVER_ARG)
            options["args"] = args

    @property
    def replaying(self) -> bool:
        return self.fixtures is not None

    # --- launching -----------------------------------------------------------
    async def _launch(self) -> None:
        # The handler may be built after engine_started fired (the project's
        # handler creates it lazily), so launching happens on first use too;
        # the lock and the check keep it to one launch.
        async with self._launch_once_lock:
            if getattr(self, "browser_provider", None) is not None:
                return
            await super()._launch()

    async def download_request(self, request: Request, spider: Optional[Spider] = None) -> Response:  # type: ignore[override]
        """Download with the browser if ``meta["playwright"]``; else from the fixture set (replay) or HTTP."""
        if request.meta.get("playwright"):
            await self._launch()
            return await self._maybe_future_from_coro(self._download_request(request, spider))
        if self.replaying:
            return self._plain_replay_response(request)
        return await super().download_request(request)

    def _plain_replay_response(self, request: Request) -> Response:
        """A non-browser request in replay, for when this handler is used on its own."""
        assert self.fixtures is not None
        exchange = self.fixtures.lookup(request.url)
        if exchange is None:
            self.stats.inc_value("replay/miss")
            logger.warning("replay miss: %s", request.url)
            return Response(url=request.url, status=404, request=request, flags=["replay"])
        self.stats.inc_value("replay/hit")
        headers = Headers(exchange.header_items())
        body = decoded_body(exchange.body(), dict(exchange.header_items()))
        headers.pop("Content-Encoding", None)
        respcls = responsetypes.from_args(headers=headers, url=request.url, body=body)
        return respcls(url=request.url, status=exchange.status, headers=headers, body=body,
                       request=request, flags=["replay"])

    # --- replay routing -------------------------------------------------------
    async def _create_browser_context(self, name: str, context_kwargs: Optional[dict], spider: Optional[Spider] = None):  # type: ignore[override]
        if self.replaying:
            context_kwargs = dict(context_kwargs or {})
            # Service-worker requests are not routed; a replayed page must not get one.
            context_kwargs.setdefault("service_workers", "block")
        wrapper = await super()._create_browser_context(name=name, context_kwargs=context_kwargs, spider=spider)
        if self.replaying:
            await wrapper.context.route("**/*", self._replay_route)
            with suppress(AttributeError):  # Playwright < 1.48 has no WebSocket routing
                await wrapper.context.route_web_socket("**/*", self._refuse_web_socket)
        return wrapper

    def _make_request_handler(self, **kwargs: Any) -> Callable:  # type: ignore[override]
        """The page-level route handler: scrapy-playwright's live one, or the replay one."""
        if not self.replaying:
            return super()._make_request_handler(**kwargs)
        initial_request_done: asyncio.Event = kwargs["initial_request_done"]

        async def _replay_page_route(route: Route, pw_request: PlaywrightRequest) -> None:
            if _is_main_frame_navigation(pw_request):
                initial_request_done.set()
            await self._replay_route(route, pw_request)

        return _replay_page_route

    async def _replay_route(self, route: Route, pw_request: PlaywrightRequest) -> None:
        """Answer one browser request from the fixture set; abort (count) a miss."""
        try:
            if self.abort_request and await _maybe_await(self.abort_request(pw_request)):
                await route.abort()
                self.stats.inc_value("playwright/request_count/aborted")
                return
            exchange = self._resolve_redirects(pw_request.url)
            if exchange is None:
                self.stats.inc_value("replay/miss")
                self.stats.inc_value(f"replay/miss/browser/{pw_request.resource_type}")
                logger.warning("replay miss (browser %s): %s", pw_request.resource_type, pw_request.url)
                if _is_main_frame_navigation(pw_request):
                    # Same answer as the plain replay handler: an empty 404 page.
                    # (Chromium fails the navigation on an empty 404, so the page has a body.)
                    await route.fulfill(status=404, body=NOT_FOUND_PAGE,
                                        headers={"Content-Type": "text/html; charset=utf-8"})
                else:
                    await route.abort("blockedbyclient")
                return
            self.stats.inc_value("replay/hit/browser")
            body = b""
            if exchange.body_path is not None:
                body = decoded_body(exchange.body(), dict(exchange.header_items()))
            await route.fulfill(status=exchange.status, headers=fulfil_headers(exchange), body=body)
        except PlaywrightError as exc:
            # The page closed while we answered; nothing left to serve.
            logger.debug("replay route for %s failed: %s", pw_request.url, exc)

    def _resolve_redirects(self, url: str, max_hops: int = 10) -> Optional[Exchange]:
        """The exchange for a URL, with recorded redirects followed inside the fixture set.

        Chromium does not follow a redirect given to ``route.fulfill`` (the
        navigation fails), so a 3xx chain is resolved here and the final
        exchange served under the first URL; the page URL then stays the
        requested one.
        """
        if self.fixtures is None:
            return None
        exchange = self.fixtures.lookup(url)
        hops = 0
        while exchange is not None and 300 <= exchange.status < 400 and hops < max_hops:
            location = next((v for k, v in exchange.header_items() if k.lower() == "location"), None)
            if not location:
                break
            url = urljoin(url, location)
            exchange = self.fixtures.lookup(url)
            hops += 1
            self.stats.inc_value("replay/redirect/browser")
        return exchange

    async def _refuse_web_socket(self, ws_route: Any) -> None:
        self.stats.inc_value("replay/miss")
        self.stats.inc_value("replay/miss/browser/websocket")
        logger.warning("replay miss (browser websocket): %s", ws_route.url)
        with suppress(PlaywrightError):
            await ws_route.close()

    # --- recording --------------------------------------------------------------
    async def _create_page(self, request: Request, spider: Spider) -> Page:
        page = await super()._create_page(request=request, spider=spider)
        pending = self._pending_records.setdefault(id(page), [])
        page.on("close", lambda _page: self._pending_records.pop(id(page), None))
        if self.recorder is not None:
            page.on("response", lambda resp: pending.append(asyncio.ensure_future(self._record(resp))))
        if request.meta.get("capture_json"):
            # The JSON the page's scripts fetched (e.g. a listing API), for the callback:
            # response.meta["captured_json"] = [{"url", "status", "data"}, …].
            captured = request.meta.setdefault("captured_json", [])
            page.on("response", lambda resp: pending.append(asyncio.ensure_future(self._capture_json(resp, captured))))
        return page

    @staticmethod
    async def _capture_json(response: PlaywrightResponse, captured: list) -> None:
        if response.request.resource_type not in ("fetch", "xhr"):
            return
        try:
            if "json" not in ((await response.header_value("content-type")) or "").lower():
                return
            data = await response.json()
        except (PlaywrightError, ValueError):
            return
        captured.append({"url": response.url, "status": response.status, "data": data})

    async def _apply_page_methods(self, page: Page, request: Request, spider: Spider) -> None:
        await super()._apply_page_methods(page, request, spider)
        # Bodies (recorded or captured) must be read before scrapy-playwright closes the page.
        pending = self._pending_records.get(id(page))
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
            pending.clear()

    async def _record(self, response: PlaywrightResponse) -> None:
        assert self.recorder is not None
        try:
            headers = await response.all_headers()
            body = b"" if 300 <= response.status < 400 else await response.body()
        except PlaywrightError as exc:
            logger.debug("record: no body for %s: %s", response.url, exc)
            return
        # Playwright hands over decoded bytes, so the stored headers must not claim an encoding.
        headers = {k: v for k, v in headers.items() if k.lower() not in _DROP_ON_FULFILL}
        self.recorder.write(response.url, response.status, headers, body)
        self.stats.inc_value("record/browser")
