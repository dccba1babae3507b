"""Several crawler processes sharing one frontier through Redis (docs/SCALING.md).

Enabled by the ``REDIS_URL`` setting (kspider.addons.RedisMode); without it
nothing here is used and a crawl is plain single-process Scrapy.

Built on scrapy-redis 0.9.1 (its Redis priority queue and dupefilter), with
what a multi-worker crawl needs on top of it:

- **One dupefilter for all workers, with Scrapy's own fingerprints.**
  scrapy-redis hashes (method, canonical URL, body) itself; ``SharedDupeFilter``
  uses the crawler's ``request_fingerprinter`` (Scrapy ≥ 2.7 API), so a URL is
  a duplicate in distributed mode exactly when it is one in a single process.
- **Start requests are filtered.** Every worker runs the spider's ``start()``
  unchanged; the shared dupefilter lets the first copy of each start request
  through and drops the others (no spider-specific code, no start-URL key to
  fill by hand, and a restarted worker does not re-inject the start pages of a
  run in progress). ``FrontierMiddleware.process_start`` clears ``dont_filter``
  on start requests, so this holds for any spider, also one whose start
  requests bypass the filter (Scrapy's default).
- **An in-flight ledger.** scrapy-redis pops a request and forgets it: a worker
  killed between the pop and the end of the callback loses the request and every
  request its page would have yielded. ``LedgerQueue.pop_to_ledger`` moves the
  request atomically (one Lua script) from the queue into the worker's hash
  ``<spider>:inflight:<worker>``; it leaves the ledger once the callback's output
  has all been scheduled (``FrontierMiddleware``), once a redirect or retry that
  replaces it is queued, or when the worker is idle (nothing can be in progress
  then). A dead worker's ledger is pushed back into the queue by the next worker
  that opens or goes idle (stat ``distributed/requeued``).
- **Worker liveness without timers.** Each worker's Redis connections carry its
  worker id as client name; a worker is alive while Redis lists a client of
  that name. SIGKILL closes the sockets, so a killed worker is dead at once.
- **A run's lifecycle.** ``SCHEDULER_PERSIST`` is forced on (scrapy-redis
  would otherwise let the first worker to finish delete the queue and the
  seen-set under the others). A worker that opens with no live peer, an empty
  queue and no dead ledger starts a fresh run (clears the seen-set); otherwise
  it joins or resumes. A worker that goes idle while a live peer has requests
  in flight waits (the peer may yield more). The last worker to finish deletes
  the run's keys.
- **Store writes of one crawl are serialized**: ``StoreWriteLock`` gives the
  crawl's store a Redis lock shared by the workers, held around each batch's
  read-decide-write step; the store decides a batch (dedupe, near-duplicate
  groups, versions) from what it read before writing, so two workers flushing
  at once could each miss the other's copy of an article (docs/STORE.md).
"""
from __future__ import annotations

import logging
import os
import re
import socket
import uuid
from contextlib import contextmanager
from typing import Any, AsyncIterator, Callable, ContextManager, Iterable, Iterator, Optional

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider
from scrapy_redis import connection, defaults, picklecompat
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from kspider.pipelines.store import StorePipeline
from kspider.store import Store, for_crawler

logger = logging.getLogger(__name__)

# Request meta key holding the ledger field of the pop that produced the request.
LEDGER_META = "_kspider_ledger"
WORKERS_KEY = "%(spider)s:workers"
INFLIGHT_KEY = "%(spider)s:inflight:%(worker)s"
LOCK_KEY = "%(spider)s:lock"
STORE_LOCK_KEY = "%(spider)s:store-lock"
# A lock left by a killed holder expires after this; long enough for one store batch.
LOCK_TIMEOUT_S = 120
# How soon an idle worker that waits for its peers looks at the queue again
# (Scrapy's own heartbeat would take 5 s).
IDLE_POLL_S = 0.25

# ZRANGE+ZREMRANGEBYRANK+HSET in one step: a request is always in the queue or in a ledger.
_POP_TO_LEDGER = """
local top = redis.call('ZRANGE', KEYS[1], 0, 0)
if #top == 0 then return false end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, 0)
local field = redis.sha1hex(top[1])
redis.call('HSET', KEYS[2], field, top[1])
return {field, top[1]}
"""


def worker_id_for(spider_name: str, host: Optional[str] = None, pid: Optional[int] = None) -> str:
    """A worker id usable as a Redis client name (no spaces): ``<spider>@<host>:<pid>:<token>``."""
    host = re.sub(r"[^A-Za-z0-9_.-]", "_", host or socket.gethostname()) or "host"
    return f"{spider_name}@{host}:{pid or os.getpid()}:{uuid.uuid4().hex[:6]}"


def redis_client(settings: Any, client_name: Optional[str] = None) -> Any:
    """The Redis client of scrapy-redis' settings (REDIS_URL, REDIS_PARAMS), named ``client_name``."""
    params = defaults.REDIS_PARAMS.copy()
    params.update(settings.getdict("REDIS_PARAMS"))
    for source, dest in connection.SETTINGS_PARAMS_MAP.items():
        value = settings.get(source)
        if value:
            params[dest] = value
    # Payloads are pickled requests: bytes in, bytes out.
    params.pop("decode_responses", None)
    if client_name:
        params["client_name"] = client_name
    return connection.get_redis(**params)


def live_clients(server: Any) -> set[str]:
    """Names of the clients connected to Redis now."""
    return {c.get("name") for c in server.client_list() if c.get("name")}


class SharedDupeFilter(RFPDupeFilter):
    """scrapy-redis' Redis seen-set keyed by Scrapy's request fingerprints."""

    def __init__(self, server: Any, key: str, debug: bool = False, fingerprinter: Any = None):
        super().__init__(server, key, debug)
        self.fingerprinter = fingerprinter

    @classmethod
    def from_spider(cls, spider: Any) -> "SharedDupeFilter":
        settings = spider.settings
        key = settings.get("SCHEDULER_DUPEFILTER_KEY", defaults.SCHEDULER_DUPEFILTER_KEY) % {"spider": spider.name}
        return cls(redis_client(settings), key, settings.getbool("DUPEFILTER_DEBUG"),
                   getattr(spider.crawler, "request_fingerprinter", None))

    def request_fingerprint(self, request: Request) -> str:
        if self.fingerprinter is None:
            return super().request_fingerprint(request)
        return self.fingerprinter.fingerprint(request).hex()


class LedgerQueue(PriorityQueue):
    """scrapy-redis' priority queue with an atomic pop into a worker's in-flight ledger."""

    _script: Any = None

    def pop_to_ledger(self, ledger_key: str) -> Optional[tuple[str, Request]]:
        """(ledger field, request) of the highest-priority request, now recorded in the ledger."""
        if self._script is None:
            self._script = self.server.register_script(_POP_TO_LEDGER)
        result = self._script(keys=[self.key, ledger_key])
        if not result:
            return None
        field, payload = result
        field = field.decode() if isinstance(field, bytes) else str(field)
        return field, self._decode_request(payload)

    def push_payload(self, payload: bytes) -> Request:
        """Push a serialized request back (from a dead worker's ledger)."""
        request = self._decode_request(payload)
        self.push(request)
        return request


class SharedScheduler(Scheduler):
    """scrapy-redis' scheduler with the ledger, liveness and run lifecycle of the module doc."""

    def __init__(self, server: Any, worker_id: str, crawler: Any, **kwargs: Any):
        kwargs["persist"] = True  # the run lifecycle below decides when keys go
        super().__init__(server, **kwargs)
        self.worker_id = worker_id
        self.crawler = crawler
        self.stats = crawler.stats
        # Ledger fields whose callback output is being scheduled right now.
        self.active: set[str] = set()
        self.mode = ""

    @classmethod
    def from_crawler(cls, crawler: Any) -> "SharedScheduler":
        settings = crawler.settings
        spider_name = getattr(crawler.spidercls, "name", None) or "spider"
        worker_id = worker_id_for(spider_name)
        server = redis_client(settings, client_name=worker_id)
        server.ping()
        kwargs: dict[str, Any] = {
            "queue_key": settings.get("SCHEDULER_QUEUE_KEY") or defaults.SCHEDULER_QUEUE_KEY,
            "dupefilter_key": settings.get("SCHEDULER_DUPEFILTER_KEY") or defaults.SCHEDULER_DUPEFILTER_KEY,
            "dupefilter_cls": "kspider.distributed.SharedDupeFilter",
            "serializer": picklecompat,
        }
        scheduler = cls(server, worker_id, crawler, **kwargs)
        crawler.signals.connect(scheduler.on_idle, signal=signals.spider_idle)
        return scheduler

    # -- keys ---------------------------------------------------------------------
    def _keys(self, worker: Optional[str] = None) -> dict[str, str]:
        name = self.spider.name
        return {
            "workers": WORKERS_KEY % {"spider": name},
            "ledger": INFLIGHT_KEY % {"spider": name, "worker": worker or self.worker_id},
            "lock": LOCK_KEY % {"spider": name},
        }

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self.server.lock(self._keys()["lock"], timeout=LOCK_TIMEOUT_S, sleep=0.02):
            yield

    # -- lifecycle ------------------------------------------------------------------
    def open(self, spider: Any) -> None:
        self.spider = spider
        self.df = SharedDupeFilter(
            self.server, self.dupefilter_key % {"spider": spider.name},
            spider.settings.getbool("DUPEFILTER_DEBUG"), getattr(self.crawler, "request_fingerprinter", None),
        )
        # As scrapy-redis' open(), without its deprecated Spider.log() call.
        self.queue = LedgerQueue(server=self.server, spider=spider, key=self.queue_key % {"spider": spider.name},
                                 serializer=self.serializer)
        keys = self._keys()
        with self._locked():
            self.server.sadd(keys["workers"], self.worker_id)
            live = live_clients(self.server)
            peers = {w.decode() for w in self.server.smembers(keys["workers"])} - {self.worker_id}
            requeued = self._reclaim(peers - live)
            if not (peers & live) and not requeued and len(self.queue) == 0:
                self.df.clear()  # left by an earlier, finished run
                self.mode = "fresh"
            else:
                self.mode = "resumed" if requeued or not (peers & live) else "joined"
        self.stats.set_value("distributed/worker", self.worker_id)
        self.stats.set_value("distributed/mode", self.mode)
        logger.info("distributed: worker %s %s the crawl (queue %d, %d re-queued from dead workers)",
                    self.worker_id, {"fresh": "starts", "joined": "joins", "resumed": "resumes"}[self.mode],
                    len(self.queue), requeued)

    def _reclaim(self, dead: set[str]) -> int:
        """Push the ledgers of dead workers back into the queue; the number of requests. Call under the lock."""
        total = 0
        for worker in sorted(dead):
            ledger = self._keys(worker)["ledger"]
            payloads = self.server.hvals(ledger)
            for payload in payloads:
                self.queue.push_payload(payload)
            self.server.delete(ledger)
            self.server.srem(self._keys()["workers"], worker)
            if payloads:
                logger.warning("distributed: worker %s is gone with %d request(s) in flight; re-queued",
                               worker, len(payloads))
            total += len(payloads)
        if total:
            self.stats.inc_value("distributed/requeued", total)
        return total

    def close(self, reason: str) -> None:
        keys = self._keys()
        if reason != "finished":
            # Cancelled or shut down: this worker's ledger stays and is re-queued by the next worker.
            logger.info("distributed: worker %s stopped (%s); its in-flight requests stay for re-queueing",
                        self.worker_id, reason)
            return
        with self._locked():
            self.server.delete(keys["ledger"])
            self.server.srem(keys["workers"], self.worker_id)
            live = live_clients(self.server)
            peers = {w.decode() for w in self.server.smembers(keys["workers"])}
            if not (peers & live) and len(self.queue) == 0 and not self._reclaim(peers - live):
                # The last worker out: the run is complete, so its seen-set goes.
                self.flush()
                self.server.delete(keys["workers"])
                self.stats.set_value("distributed/cleaned_up", 1)

    # -- requests -------------------------------------------------------------------
    def enqueue_request(self, request: Request) -> bool:
        field = request.meta.get(LEDGER_META)
        if field is not None:
            request = request.replace(meta={k: v for k, v in request.meta.items() if k != LEDGER_META})
        # As scrapy-redis' enqueue_request(), without the deprecated spider argument to the stats.
        added = request.dont_filter or not self.df.request_seen(request)
        if added:
            self.stats.inc_value("scheduler/enqueued/redis")
            self.queue.push(request)
        else:
            self.df.log(request, self.spider)
        if field is not None and field not in self.active:
            # A redirect or retry replacing a popped request: the replacement is queued, the original is done.
            self.ack(field)
        return added

    def next_request(self) -> Optional[Request]:
        popped = self.queue.pop_to_ledger(self._keys()["ledger"])
        if popped is None:
            return None
        field, request = popped
        request.meta[LEDGER_META] = field
        self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def ack(self, field: str) -> None:
        self.server.hdel(self._keys()["ledger"], field)

    def in_flight(self, worker: Optional[str] = None) -> int:
        return int(self.server.hlen(self._keys(worker)["ledger"]))

    # -- idle -------------------------------------------------------------------------
    def on_idle(self, spider: Any) -> None:
        """Idle here: reclaim dead peers' requests; wait while live peers have requests in flight."""
        keys = self._keys()
        with self._locked():
            # Nothing is in progress in this process: whatever its ledger still holds is done.
            self.server.delete(keys["ledger"])
            live = live_clients(self.server)
            peers = {w.decode() for w in self.server.smembers(keys["workers"])} - {self.worker_id}
            requeued = self._reclaim(peers - live)
            busy = [w for w in peers & live if self.in_flight(w)]
        if requeued or len(self.queue) or busy:
            self.stats.inc_value("distributed/idle_waits")
            self._wake_soon()
            raise DontCloseSpider

    def _wake_soon(self) -> None:
        # The engine re-checks an idle spider only on its 5 s heartbeat; ask for an earlier look.
        from twisted.internet import reactor

        slot = getattr(self.crawler.engine, "_slot", None)
        nextcall = getattr(slot, "nextcall", None)
        if nextcall is not None:
            reactor.callLater(IDLE_POLL_S, nextcall.schedule)  # type: ignore[attr-defined]


class FrontierMiddleware:
    """Spider middleware (outermost): start requests go through the shared dupefilter, and a
    request leaves its worker's ledger once its callback's output has all been scheduled."""

    def __init__(self, crawler: Any):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> "FrontierMiddleware":
        return cls(crawler)

    def _scheduler(self) -> Optional[SharedScheduler]:
        scheduler = getattr(self.crawler.engine, "scheduler", None)
        return scheduler if isinstance(scheduler, SharedScheduler) else None

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for obj in start:
            if isinstance(obj, Request) and obj.dont_filter:
                obj = obj.replace(dont_filter=False)
            yield obj

    def _begin(self, response: Any) -> tuple[Optional[SharedScheduler], Optional[str]]:
        scheduler = self._scheduler()
        request = getattr(response, "request", None)
        field = request.meta.get(LEDGER_META) if request is not None else None
        if scheduler is not None and field:
            scheduler.active.add(field)
        return scheduler, field

    @staticmethod
    def _end(scheduler: Optional[SharedScheduler], field: Optional[str], done: bool) -> None:
        if scheduler is None or not field:
            return
        scheduler.active.discard(field)
        if done:
            scheduler.ack(field)

    def process_spider_output(self, response: Any, result: Iterable[Any]) -> Iterator[Any]:
        scheduler, field = self._begin(response)
        done = False
        try:
            yield from result
            done = True
        finally:
            self._end(scheduler, field, done)

    async def process_spider_output_async(self, response: Any, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        scheduler, field = self._begin(response)
        done = False
        try:
            async for obj in result:
                yield obj
            done = True
        finally:
            self._end(scheduler, field, done)


def store_lock(settings: Any, spider_name: str) -> Callable[[], ContextManager[Any]]:
    """The crawl's store lock: a Redis lock per spider, held around each store batch by every worker."""
    server = redis_client(settings)
    key = STORE_LOCK_KEY % {"spider": spider_name}
    return lambda: server.lock(key, timeout=LOCK_TIMEOUT_S, sleep=0.01)


class StoreWriteLock:
    """Crawler component (an extension): gives the crawl's store the workers' shared write lock.

    A batch's decisions (exact and near duplicates, versions, seen times) come
    from what the store held when the batch read it; the lock makes each
    read-decide-write step of one worker atomic with respect to the others.
    Built with the crawler, so index creation and spill recovery at open hold it too.
    """

    def __init__(self, crawler: Any):
        spider_name = getattr(crawler.spidercls, "name", None) or "spider"
        for_crawler(crawler).use_write_lock(store_lock(crawler.settings, spider_name))

    @classmethod
    def from_crawler(cls, crawler: Any) -> "StoreWriteLock":
        return cls(crawler)


class LockedStorePipeline(StorePipeline):
    """StorePipeline whose store holds the crawl's Redis write lock (for a pipeline built without
    a crawler; a crawl in distributed mode gets the lock from ``StoreWriteLock``)."""

    def _open_store(self) -> Store:
        store = super()._open_store()
        store.use_write_lock(store_lock(self.settings, getattr(self.spider, "name", None) or "spider"))
        return store

    def open_spider(self, spider: Any = None) -> None:
        self.spider = spider
        super().open_spider(spider)
