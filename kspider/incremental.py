"""Incremental crawls and crash-safe job directories (issue 10, docs/OPERATING.md).

``IncrementalMiddleware`` (spider middleware) makes a scheduled re-crawl cheap:

- every response's post requests (``meta["page_kind"] == "post"``) are checked
  against the store in one query per response; a post whose would-be ``_id``
  (``url_fingerprint`` of the request URL) was seen within ``REFETCH_DAYS`` is
  dropped (stat ``incremental/skipped``);
- a listing response whose post requests were *all* known extends a streak
  carried in request meta; once the streak reaches ``INCREMENTAL_STOP_PAGES``
  the listing requests it yields (its next pages) are dropped
  (stat ``incremental/stopped_listings``). A request the spider marks
  ``meta["pagination"] = False`` starts a new chain: never dropped, streak 0.

The store, not a process-local file, is the source of truth, so this holds
across machines and workers. ``-a full=1`` (``spider.full``) turns it off.
Per-chain state lives in request meta (an int), so requests stay serializable
for ``JOBDIR``.

``JobdirGuard`` (extension) makes ``-s JOBDIR=…`` safe after a hard kill:
Scrapy writes the dupefilter and the queue state of a job directory only
partly until a graceful stop, so a job killed with SIGKILL leaves a seen-set
naming requests whose items never reached the store. A run that finds the
"running" marker of a killed run drops that untrustworthy request state and
starts over; the incremental middleware then skips every post already stored.
"""
from __future__ import annotations

import logging
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Iterable, Iterator, Optional, Protocol

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured

from kspider.extract.ids import url_fingerprint
from kspider.sites import host_of

logger = logging.getLogger(__name__)

STREAK_KEY = "incremental_known_streak"


class SeenStore(Protocol):
    def seen_recently(self, ids: list[str], since_iso: str) -> set[str]: ...


def since_iso(now: datetime, refetch_days: float) -> str:
    """The oldest ``last_seen`` that still counts as "seen recently", ISO 8601 UTC."""
    return (now.astimezone(timezone.utc) - timedelta(days=refetch_days)).isoformat(timespec="seconds")


def post_id(request: Request) -> str:
    """The ``_id`` the article of a post request would get (fingerprint of its canonical URL)."""
    return url_fingerprint(request.url)


def is_post(obj: Any) -> bool:
    return isinstance(obj, Request) and obj.meta.get("page_kind") == "post"


def is_listing(obj: Any) -> bool:
    return isinstance(obj, Request) and obj.meta.get("page_kind") == "listing"


def filter_output(
    outputs: list[Any],
    known_ids: set[str],
    response_is_listing: bool,
    streak_in: int,
    stop_pages: int,
) -> tuple[list[Any], dict[str, int]]:
    """What a response's callback output becomes under incremental rules (pure).

    Returns (kept outputs, counts) with counts ``skipped`` (known posts dropped),
    ``stopped`` (1 if this listing's pagination was dropped), ``dropped_pages``.
    """
    posts = [o for o in outputs if is_post(o)]
    known_posts = [o for o in posts if post_id(o) in known_ids]
    counts = {"skipped": len(known_posts), "stopped": 0, "dropped_pages": 0}
    known_request_ids = {id(o) for o in known_posts}
    kept = [o for o in outputs if id(o) not in known_request_ids]
    if not response_is_listing:
        return kept, counts
    all_known = bool(posts) and len(known_posts) == len(posts)
    streak = streak_in + 1 if all_known else 0
    result: list[Any] = []
    for obj in kept:
        if is_listing(obj):
            if obj.meta.get("pagination") is False:
                obj.meta[STREAK_KEY] = 0  # a new chain (e.g. a category link the spider marked)
            elif stop_pages > 0 and streak >= stop_pages:
                counts["dropped_pages"] += 1
                continue
            else:
                obj.meta[STREAK_KEY] = streak
        result.append(obj)
    if counts["dropped_pages"]:
        counts["stopped"] = 1
    return result, counts


class IncrementalMiddleware:
    """Spider middleware: skip posts the store has seen recently; stop fully-known listing chains."""

    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        if not settings.getbool("INCREMENTAL_ENABLED", True):
            raise NotConfigured
        self.crawler = crawler
        self.stats = crawler.stats
        self.refetch_days = settings.getfloat("REFETCH_DAYS", 7.0)
        self.stop_pages = settings.getint("INCREMENTAL_STOP_PAGES", 1)
        self.store: Optional[SeenStore] = None
        self.active = False
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> "IncrementalMiddleware":
        return cls(crawler)

    def spider_opened(self, spider: Any) -> None:
        if getattr(spider, "full", False):
            logger.info("incremental: off (full crawl requested with -a full=1)")
            self.stats.set_value("incremental/mode", "full")
            return
        try:
            from kspider.store import open_store

            self.store = open_store(self.crawler.settings)
        except Exception as exc:  # a crawl without its store still works, just not incrementally
            logger.warning("incremental: store unavailable (%s); crawling in full", exc)
            self.stats.set_value("incremental/mode", "unavailable")
            return
        self.active = True
        self.stats.set_value("incremental/mode", "incremental")
        logger.info("incremental: skipping posts seen within %s days; stop after %s known listing page(s)",
                    self.refetch_days, self.stop_pages)

    def spider_closed(self, spider: Any) -> None:
        close = getattr(self.store, "close", None)
        if callable(close):
            close()
        self.store = None
        self.active = False

    def _known(self, ids: list[str]) -> set[str]:
        if not ids or self.store is None:
            return set()
        try:
            return set(self.store.seen_recently(ids, since_iso(datetime.now(timezone.utc), self.refetch_days)))
        except Exception as exc:  # a failing lookup must not lose posts: fetch them
            logger.error("incremental: store lookup failed (%s); fetching %d post(s)", exc, len(ids))
            self.stats.inc_value("incremental/lookup_error")
            return set()

    def _apply(self, response: Any, outputs: list[Any]) -> list[Any]:
        if not self.active:
            return outputs
        ids = list(dict.fromkeys(post_id(o) for o in outputs if is_post(o)))
        known = self._known(ids)
        meta = getattr(response, "meta", None) or {}
        kept, counts = filter_output(
            outputs, known, meta.get("page_kind") == "listing", int(meta.get(STREAK_KEY, 0) or 0), self.stop_pages
        )
        if counts["skipped"]:
            self.stats.inc_value("incremental/skipped", counts["skipped"])
            self.stats.inc_value(f"incremental/skipped/{host_of(response.url)}", counts["skipped"])
        if counts["stopped"]:
            self.stats.inc_value("incremental/stopped_listings")
            self.stats.inc_value("incremental/dropped_pages", counts["dropped_pages"])
            logger.info("incremental: %s lists only known posts; not following its %d next page(s)",
                        response.url, counts["dropped_pages"])
        return kept

    def process_spider_output(self, response: Any, result: Iterable[Any]) -> Iterator[Any]:
        # One store query per response: the whole callback output is collected first.
        yield from self._apply(response, list(result))

    async def process_spider_output_async(self, response: Any, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        outputs = [o async for o in result]
        for obj in self._apply(response, outputs):
            yield obj


MARKER = "kspider.running"


def recover_jobdir(jobdir: Path) -> bool:
    """Drop a job directory's request state if the run that wrote it was killed. True if it did.

    The marker is written when a job starts and removed on a graceful stop;
    ``spider.state`` (written only at a graceful stop) is kept.
    """
    if not (jobdir / MARKER).exists():
        return False
    for name in ("requests.seen",):
        (jobdir / name).unlink(missing_ok=True)
    shutil.rmtree(jobdir / "requests.queue", ignore_errors=True)
    return True


class JobdirGuard:
    """Extension: a JOBDIR left by a killed run is reset instead of resumed half-written."""

    def __init__(self, crawler: Any, jobdir: Path) -> None:
        self.crawler = crawler
        self.jobdir = jobdir

    @classmethod
    def from_crawler(cls, crawler: Any) -> "JobdirGuard":
        jobdir = crawler.settings.get("JOBDIR")
        if not jobdir:
            raise NotConfigured
        ext = cls(crawler, Path(jobdir))
        # Extensions are built before the scheduler opens the job directory, so this runs first.
        ext.jobdir.mkdir(parents=True, exist_ok=True)
        if recover_jobdir(ext.jobdir):
            logger.warning("JOBDIR %s was left by a killed run; its request state was dropped and the "
                           "crawl starts over (posts already stored are skipped)", ext.jobdir)
            crawler.stats.set_value("jobdir/recovered_after_kill", 1)
        (ext.jobdir / MARKER).write_text("running\n", encoding="utf-8")
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Any, reason: str) -> None:
        # Any close that ran this handler also ran the scheduler's, which saved the queue state.
        (self.jobdir / MARKER).unlink(missing_ok=True)
