"""Per site: downloads that gave a usable response and downloads that failed for good.

A crawl whose every download of a site failed (no DNS, connection refused, all
404/5xx) stored nothing from that site; the exit status reports it
(kspider.extensions.ExitStatus). Counted after retries and redirects, so one
request counts once; robots.txt is not counted (its own failure is harmless), nor a
request refused before download (robots.txt rules, off-site: ``IgnoreRequest``).
"""
from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from kspider.extract.ids import is_robots_txt
from kspider.sites import host_of

OK = "download/ok/"  # + host: responses with a status below 400
FAILED = "download/failed/"  # + host: exceptions after the last retry, and responses 400 and above
FAILED_REASON = "download/failed_reason/"  # + host + "/" + exception class or "http_<status>"


def _counted(request: Request) -> bool:
    return not is_robots_txt(request.url)


class DownloadOutcomeMiddleware:
    """Outermost downloader middleware: sees each request's final response or exception."""

    def __init__(self, crawler: Any) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> "DownloadOutcomeMiddleware":
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if _counted(request):
            host = host_of(request.url)
            if response.status < 400:
                self.stats.inc_value(OK + host)
            else:
                self.stats.inc_value(FAILED + host)
                self.stats.inc_value(f"{FAILED_REASON}{host}/http_{response.status}")
        return response

    def process_exception(self, request: Request, exception: BaseException) -> None:
        # Scrapy hands every middleware the exception another one raised in process_request:
        # a refused request (robots.txt, off-site) was never a download.
        if _counted(request) and not isinstance(exception, IgnoreRequest):
            host = host_of(request.url)
            self.stats.inc_value(FAILED + host)
            self.stats.inc_value(f"{FAILED_REASON}{host}/{type(exception).__name__}")
        return None


def hosts_all_failed(stats: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Hosts whose every counted download failed: host → {reason: count}."""
    out: dict[str, dict[str, int]] = {}
    for key, value in stats.items():
        if not key.startswith(FAILED) or not value:
            continue
        host = key[len(FAILED):]
        if int(stats.get(OK + host, 0) or 0) == 0:
            prefix = f"{FAILED_REASON}{host}/"
            out[host] = {k[len(prefix):]: int(v) for k, v in stats.items() if k.startswith(prefix)}
    return dict(sorted(out.items()))
