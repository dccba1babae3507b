"""Downloader middlewares of the project."""
from __future__ import annotations

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries, with exponential backoff between attempts.

    The retry request carries ``meta["backoff_delay"]`` (RETRY_BACKOFF_BASE **
    attempt, capped at RETRY_BACKOFF_MAX seconds); the project's download
    handler waits that long before downloading it, without blocking the
    reactor. Replay mode does not wait: there is no server to be polite to.
    """

    def _retry(self, request: Request, reason):  # type: ignore[override]
        retry = super()._retry(request, reason)
        if retry is not None:
            settings = self.crawler.settings
            attempt = retry.meta.get("retry_times", 1)
            base = settings.getfloat("RETRY_BACKOFF_BASE", 2.0)
            cap = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)
            retry.meta["backoff_delay"] = min(base**attempt, cap) if base > 0 else 0.0
        return retry
