"""Incremental crawls that converge, and crash-safe job directories.

``IncrementalMiddleware`` (spider middleware) makes a scheduled re-crawl cheap
without ever leaving a post unfetched for good.

Posts: every response's post requests (``meta["page_kind"] == "post"``) are
checked against the store in one query per response; a post whose would-be
``_id`` (``url_fingerprint`` of the request URL) was seen within
``REFETCH_DAYS`` is dropped (stat ``incremental/skipped``).

Listing chains: a chain is the listing pages reached from one start page (a
start URL, or a link the spider marks ``meta["pagination"] = False``), its
pagination included. What the last passes over a chain reached is kept in the
store (``crawl_state``, one document per site and chain), so it holds across
runs, workers and ``JOBDIR`` resumes:

- A listing page whose posts are all known extends a streak; once it reaches
  ``INCREMENTAL_STOP_PAGES`` the chain's further pages are dropped (stat
  ``incremental/stopped_listings``) — but only if the chain was *complete*
  when this run began. Otherwise the pass continues to the chain's end
  (stat ``incremental/incomplete_chains``).
- A chain is marked complete only by a run that closed as ``finished``, fetched
  the chain's first page itself, and got a response for every listing page and
  every post it asked for in that chain. A partial run (killed, stopped,
  ``CLOSESPIDER_*``, downloads that failed) marks nothing complete.
- A pass that finds posts the store does not hold on a complete chain first
  marks the chain incomplete in the store, so a run killed before it fetched
  them leaves the chain to be walked to its end next time.

``-a full=1`` (``spider.full``) turns incremental mode off. Per-chain state of
a run lives in request meta (strings and ints), so requests stay serializable
for ``JOBDIR``.

``JobdirGuard`` (extension) makes ``-s JOBDIR=…`` safe after a hard kill:
Scrapy writes the dupefilter and the queue state of a job directory only
partly until a graceful stop, so a job killed with SIGKILL leaves a seen-set
naming requests whose items never reached the store. A run that finds the
"running" marker of a killed run drops that untrustworthy request state and
starts over. A job that *finished* clears its request state too: the next
scheduled run with the same ``JOBDIR`` is a new job, not a resumed one.
"""
from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, AsyncIterator, Iterable, Iterator, Optional

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured

from kspider.extract.ids import canonical_url
from kspider.extract.ids import url_fingerprint as _url_fingerprint
from kspider.sites import host_of
from kspider.stat_keys import SKIPPED, SKIPPED_FOR_SITE

logger = logging.getLogger(__name__)

# A post's URL is fingerprinted when it is requested, when its listing's output is filtered and
# when its response comes back: computed once (canonicalizing a URL costs more than the lookup).
url_fingerprint = lru_cache(maxsize=16384)(_url_fingerprint)

STREAK_KEY = "incremental_known_streak"
CHAIN_KEY = "incremental_chain"


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
    may_stop: bool = True,
) -> tuple[list[Any], dict[str, int]]:
    """What a response's callback output becomes under incremental rules (pure).

    ``may_stop`` says whether the chain may be cut short (it was complete when the run
    began). Returns (kept outputs, counts) with counts ``skipped`` (known posts dropped),
    ``stopped`` (1 if this listing's pagination was dropped), ``dropped_pages``,
    ``would_stop`` (1 if the streak asked for a stop that ``may_stop`` refused).
    """
    posts = [o for o in outputs if is_post(o)]
    known_posts = [o for o in posts if post_id(o) in known_ids]
    counts = {"skipped": len(known_posts), "stopped": 0, "dropped_pages": 0, "would_stop": 0}
    known_request_ids = {id(o) for o in known_posts}
    kept = [o for o in outputs if id(o) not in known_request_ids]
    if not response_is_listing:
        return kept, counts
    all_known = bool(posts) and len(known_posts) == len(posts)
    streak = streak_in + 1 if all_known else 0
    stop = stop_pages > 0 and streak >= stop_pages
    result: list[Any] = []
    for obj in kept:
        if is_listing(obj):
            if obj.meta.get("pagination") is False:
                obj.meta[STREAK_KEY] = 0  # a new chain (e.g. a category link the spider marked)
            elif stop and may_stop:
                counts["dropped_pages"] += 1
                continue
            else:
                if stop:
                    counts["would_stop"] = 1
                obj.meta[STREAK_KEY] = streak
        result.append(obj)
    if counts["dropped_pages"]:
        counts["stopped"] = 1
    return result, counts


@dataclass
class ChainPass:
    """This run's pass over one listing chain."""

    site: str
    chain: str
    complete_at_start: bool = False
    started_here: bool = False  # this run fetched the chain's first page
    marked_incomplete: bool = False
    asked: set[str] = field(default_factory=set)  # fingerprints of the requests it yielded


def response_keys(response: Any) -> list[str]:
    """Fingerprints of the URLs a response answers for: the URL requested, every URL it was
    redirected through, and the URL it ended at."""
    meta = getattr(response, "meta", None) or {}
    urls = [*meta.get("redirect_urls", ()), response.url]
    request = getattr(response, "request", None)
    if request is not None:
        urls.append(request.url)
    return [url_fingerprint(u) for u in dict.fromkeys(urls)]


class IncrementalMiddleware:
    """Spider middleware: skip posts the store has seen recently; stop listing chains the store
    holds completely; record which chains a finished run walked completely."""

    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        if not settings.getbool("INCREMENTAL_ENABLED", True):
            raise NotConfigured
        self.crawler = crawler
        self.stats = crawler.stats
        self.refetch_days = settings.getfloat("REFETCH_DAYS", 7.0)
        self.stop_pages = settings.getint("INCREMENTAL_STOP_PAGES", 1)
        self.store: Any = None
        self.active = False
        self.chains: dict[str, ChainPass] = {}
        self.answered: set[str] = set()  # fingerprints of URLs a response came back for
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.request_dropped, signal=signals.request_dropped)

    @classmethod
    def from_crawler(cls, crawler: Any) -> "IncrementalMiddleware":
        return cls(crawler)

    def _open_store(self) -> Any:
        from kspider.store import for_crawler

        return for_crawler(self.crawler)  # the crawl's one store, shared with the store pipeline

    def spider_opened(self, spider: Any) -> None:
        if getattr(spider, "full", False):
            logger.info("incremental: off (full crawl requested with -a full=1)")
            self.stats.set_value("incremental/mode", "full")
        try:
            self.store = self._open_store()
        except Exception as exc:  # a crawl without its store still works, just not incrementally
            logger.warning("incremental: store unavailable (%s); crawling in full", exc)
            self.stats.set_value("incremental/mode", "unavailable")
            return
        # A full crawl still records what it walked, so the next incremental run may stop early.
        self.active = True
        if not getattr(spider, "full", False):
            self.stats.set_value("incremental/mode", "incremental")
            logger.info("incremental: skipping posts seen within %s days; stop after %s known listing page(s) "
                        "of a chain the store holds completely", self.refetch_days, self.stop_pages)

    def spider_closed(self, spider: Any, reason: str = "finished") -> None:
        try:
            if self.active and reason == "finished":
                self._mark_complete_chains()
            elif self.active and self.chains:
                logger.info("incremental: the run ended as %r; no listing chain is marked complete", reason)
        finally:
            self.store = None  # the crawl's store is closed by kspider.store when the engine stops
            self.active = False

    def request_dropped(self, request: Request, spider: Any) -> None:
        # A redirect to a page this run already fetched is dropped by the duplicate filter:
        # the URLs it came through are answered by that page.
        if request.meta.get("redirect_urls") and url_fingerprint(request.url) in self.answered:
            self.answered.update(url_fingerprint(u) for u in request.meta["redirect_urls"])

    # --- the store ---------------------------------------------------------------
    def _known(self, ids: list[str]) -> set[str]:
        if not ids or self.store is None or getattr(self.crawler.spider, "full", False):
            return set()
        try:
            return set(self.store.seen_recently(ids, since_iso(datetime.now(timezone.utc), self.refetch_days)))
        except Exception as exc:  # a failing lookup must not lose posts: fetch them
            logger.error("incremental: store lookup failed (%s); fetching %d post(s)", exc, len(ids))
            self.stats.inc_value("incremental/lookup_error")
            return set()

    def _state_get(self, site: str, chain: str) -> Optional[dict[str, Any]]:
        getter = getattr(self.store, "crawl_state_get", None)
        if getter is None:
            return None
        try:
            return getter(site, chain)
        except Exception as exc:  # unknown state: walk the chain to its end
            logger.error("incremental: crawl state of %s unreadable (%s); walking it to its end", chain, exc)
            self.stats.inc_value("incremental/state_error")
            return None

    def _state_put(self, site: str, chain: str, doc: dict[str, Any]) -> bool:
        putter = getattr(self.store, "crawl_state_put", None)
        if putter is None:
            return False
        try:
            return bool(putter(site, chain, doc))  # False: the store dropped it (logged, counted there)
        except Exception as exc:
            logger.error("incremental: crawl state of %s not written (%s)", chain, exc)
            self.stats.inc_value("incremental/state_error")
            return False

    # --- chains ------------------------------------------------------------------
    def _chain_for(self, response: Any) -> ChainPass:
        meta = getattr(response, "meta", None) or {}
        chain_id = meta.get(CHAIN_KEY)
        started_here = chain_id is None
        if chain_id is None:
            # No chain yet: this listing page starts one (a start URL, or a link marked as a new chain).
            request = getattr(response, "request", None)
            chain_id = canonical_url(request.url if request is not None else response.url)
        chain = self.chains.get(chain_id)
        if chain is None:
            site = host_of(chain_id)
            state = self._state_get(site, chain_id) if self.store is not None else None
            chain = ChainPass(site=site, chain=chain_id, complete_at_start=bool(state and state.get("complete")))
            self.chains[chain_id] = chain
        chain.started_here = chain.started_here or started_here
        return chain

    def _mark_incomplete(self, chain: ChainPass, new_posts: int) -> None:
        if chain.marked_incomplete or not chain.complete_at_start:
            return
        chain.marked_incomplete = True
        self._state_put(chain.site, chain.chain, {
            "site": chain.site, "chain": chain.chain, "complete": False,
            "incomplete_since": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        })
        logger.debug("incremental: %s lists %d post(s) not stored; marked incomplete until a pass completes",
                      chain.chain, new_posts)

    def _mark_complete_chains(self) -> None:
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        for chain in self.chains.values():
            missing = chain.asked - self.answered
            if not chain.started_here or missing:
                self.stats.inc_value("incremental/chains_left_incomplete")
                if missing:
                    logger.info("incremental: chain %s not marked complete: %d of its requests got no response",
                                chain.chain, len(missing))
                continue
            if self._state_put(chain.site, chain.chain, {
                    "site": chain.site, "chain": chain.chain, "complete": True, "completed_at": now}):
                self.stats.inc_value("incremental/chains_completed")

    # --- output filtering ----------------------------------------------------------
    def _apply(self, response: Any, outputs: list[Any]) -> list[Any]:
        if not self.active:
            return outputs
        self.answered.update(response_keys(response))
        meta = getattr(response, "meta", None) or {}
        response_is_listing = meta.get("page_kind") == "listing"
        chain: Optional[ChainPass] = None
        if response_is_listing:
            chain = self._chain_for(response)
        elif meta.get(CHAIN_KEY):
            chain = self.chains.get(meta[CHAIN_KEY])
        ids = list(dict.fromkeys(post_id(o) for o in outputs if is_post(o)))
        known = self._known(ids)
        may_stop = bool(chain and chain.complete_at_start)
        kept, counts = filter_output(
            outputs, known, response_is_listing, int(meta.get(STREAK_KEY, 0) or 0), self.stop_pages, may_stop
        )
        if chain is not None:
            new_posts = sum(1 for o in kept if is_post(o))
            if new_posts:
                self._mark_incomplete(chain, new_posts)
            for obj in kept:
                if isinstance(obj, Request) and (is_post(obj) or is_listing(obj)):
                    if is_listing(obj) and obj.meta.get("pagination") is False:
                        continue  # it starts a chain of its own
                    obj.meta.setdefault(CHAIN_KEY, chain.chain)
                    chain.asked.add(url_fingerprint(obj.url))
        if counts["skipped"]:
            self.stats.inc_value(SKIPPED, counts["skipped"])
            self.stats.inc_value(SKIPPED_FOR_SITE + host_of(response.url), counts["skipped"])
            logger.debug("incremental: %s: %d post(s) seen within %s days not fetched again",
                         response.url, counts["skipped"], self.refetch_days)
        if counts["stopped"]:
            self.stats.inc_value("incremental/stopped_listings")
            self.stats.inc_value("incremental/dropped_pages", counts["dropped_pages"])
            logger.info("incremental: %s lists only known posts; not following its %d next page(s)",
                        response.url, counts["dropped_pages"])
        if counts["would_stop"]:
            self.stats.inc_value("incremental/incomplete_chains")
            logger.info("incremental: %s lists only known posts, but chain %s is not known complete; "
                        "continuing to its end", response.url, chain.chain if chain else "?")
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
        if reason == "finished":
            # The job is done: its seen-set must not filter the next scheduled run's requests.
            (self.jobdir / "requests.seen").unlink(missing_ok=True)
            shutil.rmtree(self.jobdir / "requests.queue", ignore_errors=True)
        (self.jobdir / MARKER).unlink(missing_ok=True)
