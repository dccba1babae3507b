"""Distributed crawling: workers sharing one Redis frontier and one MongoDB-wire store.

Every crawl here replays fixtures/021cf (fixtures/021cf/README.md: 2 start hosts,
11 listing fetches of 9 listing URLs, 17 post URLs with 2051 → 301 to 2050, a
robots.txt per host) with Redis (Debian's redis-server, started per test on a
random 127.0.0.1 port) and jongodb (tests/conftest.py). Workers are real
`scrapy crawl` subprocesses. The kill test coordinates the processes through
Redis lists (BLPOP), never through sleeps: the victim stops itself inside its
own reactor at a known response, reports its ledger, and SIGKILLs itself when
told to.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal as os_signal
import socket
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, Iterator, Optional

import pymongo
import pytest
import redis
from scrapy import signals
from scrapy.utils.project import get_project_settings

from kspider.distributed import INFLIGHT_KEY, LEDGER_META, STORE_LOCK_KEY, LockedStorePipeline, worker_id_for
from kspider.extract.ids import text_fingerprint, url_fingerprint
from kspider.items import Article
from kspider.store import Store, open_store
from tests import test_store as store_case

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "021cf"
CRAWLED = re.compile(r"Crawled \((\d+)\) <GET ([^>]+)>")
START_URLS = {"http://kunshanmaigao.021cf.cn/", "http://suzhou.021cf.cn/"}
READY_KEY, KILL_KEY, RUNNING_KEY = "test:victim-ready", "test:kill-now", "test:survivor-running"
OPENED_KEY, GO_KEY = "test:opened", "test:go"
# How long a test waits for a message from a worker before failing (a hung worker, not a timing assumption).
BLPOP_TIMEOUT_S = 240


# --- Redis -------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_bin() -> str:
    found = shutil.which("redis-server") or ("/usr/bin/redis-server" if os.access("/usr/bin/redis-server", os.X_OK) else None)
    if found:
        return found
    message = "redis-server missing: run scripts/setup.sh (installs Debian's redis-server)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A private redis-server on 127.0.0.1 (no persistence), stopped after the test."""
    port = _free_port()
    proc = subprocess.Popen(
        [_redis_bin(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert proc.stdout is not None
    # Reading blocks until the server says it listens (no sleep).
    for line in proc.stdout:
        if "Ready to accept connections" in line:
            break
    else:
        raise RuntimeError(f"redis-server exited with {proc.wait()} before listening on {port}")
    yield f"redis://127.0.0.1:{port}/0"
    proc.kill()
    proc.wait()
    proc.stdout.close()


# --- crawls ------------------------------------------------------------------------
def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for name in ("REPLAY_DIR", "RECORD_DIR", "MONGO_URI", "MONGO_DATABASE", "EMBEDDED_DB_DIR", "REDIS_URL",
                 "STATS_FILE", "SPIDERMON_REPORT_FILE", "SPIDERMON_REPORT_DIR", "http_proxy", "HTTP_PROXY"):
        env.pop(name, None)
    return env


def _project_extensions(**extra: int) -> str:
    return json.dumps({**get_project_settings().getdict("EXTENSIONS"), **extra})


class Worker:
    """One `scrapy crawl 021cf` subprocess replaying the fixture set into one store."""

    def __init__(self, work: Path, name: str, mongo_uri: str, database: str, redis_url: str = "", *extra: str):
        self.name = name
        self.stats_path = work / f"{name}.stats.json"
        self.log_path = work / f"{name}.log"
        cmd = [
            sys.executable, "-m", "scrapy", "crawl", "021cf",
            "-s", f"REPLAY_DIR={FIXTURES}",
            "-s", f"MONGO_URI={mongo_uri}", "-s", f"MONGO_DATABASE={database}",
            "-s", f"EMBEDDED_DB_DIR={work / 'db'}", "-s", f"SPILL_DIR={work / 'spill'}",
            "-s", f"STATS_FILE={self.stats_path}",
            # Per-worker site minimums mean nothing when workers split the sites' pages.
            "-s", "SPIDERMON_ENABLED=0", "-s", f"SPIDERMON_REPORT_DIR={work / 'reports'}",
            "-s", "LOG_LEVEL=DEBUG",
            *extra,
        ]
        if redis_url:
            cmd += ["-s", f"REDIS_URL={redis_url}"]
        work.mkdir(parents=True, exist_ok=True)
        self.log = open(self.log_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=_env(), stdout=self.log, stderr=subprocess.STDOUT)

    def wait(self) -> int:
        code = self.proc.wait(timeout=300)
        self.log.close()
        return code

    def stats(self) -> dict[str, Any]:
        assert self.stats_path.exists(), f"worker {self.name} wrote no stats:\n{self.log_path.read_text()[-3000:]}"
        return json.loads(self.stats_path.read_text(encoding="utf-8"))

    def fetched(self) -> list[str]:
        """Every URL this worker downloaded (Scrapy's DEBUG line per response), robots.txt excluded."""
        return [u for _, u in CRAWLED.findall(self.log_path.read_text(encoding="utf-8")) if not u.endswith("/robots.txt")]


def crawl(work: Path, name: str, mongo_uri: str, database: str, redis_url: str = "", *extra: str) -> Worker:
    worker = Worker(work, name, mongo_uri, database, redis_url, *extra)
    assert worker.wait() == 0, worker.log_path.read_text()[-3000:]
    return worker


def store_snapshot(mongo_uri: str, database: str) -> dict[str, Any]:
    """A stored crawl in a form that does not depend on crawl order.

    Which copy of a repost becomes the document (the others go to alt_urls), and so
    which `_id` names a near-duplicate group, depends on which one was stored first;
    so an article is keyed by all its URLs and its group by all its members' URLs.
    """
    client: pymongo.MongoClient[Any] = pymongo.MongoClient(mongo_uri, serverSelectionTimeoutMS=10000)
    try:
        db = client[database]
        docs = list(db.articles.find())
        urls_of = {d["_id"]: frozenset([d["canonical_url"], *(d.get("alt_urls") or [])]) for d in docs}
        groups: dict[str, frozenset[str]] = {}
        for d in docs:
            groups[d["dup_group"]] = groups.get(d["dup_group"], frozenset()) | urls_of[d["_id"]]
        articles = {urls_of[d["_id"]]: (d["title"], d["content_hash"], groups[d["dup_group"]]) for d in docs}
        ads = {d["_id"]: (d["kind"], d.get("price_value"), frozenset(d["seen_on"])) for d in db.rental_ads.find()}
        versions = db.article_versions.count_documents({})
    finally:
        client.close()
    assert len(articles) == len(docs), "two article documents share a URL"
    return {"articles": articles, "rental_ads": ads, "versions": versions}


@pytest.fixture(scope="module")
def single_run(tmp_path_factory: pytest.TempPathFactory, jongodb: Any) -> dict[str, Any]:
    """The reference: the same replay in one plain Scrapy process (no Redis)."""
    database = f"single_{uuid.uuid4().hex[:8]}"
    worker = crawl(tmp_path_factory.mktemp("single"), "single", jongodb.uri, database)
    return {"stats": worker.stats(), "fetched": worker.fetched(), "store": store_snapshot(jongodb.uri, database)}


def test_single_run_reference(single_run: dict[str, Any]) -> None:
    """What the reference run does, so the distributed comparisons below mean something."""
    fetched = Counter(single_run["fetched"])
    # Start requests go through the dupefilter (kspider.spiders.base): the home pages, linked from
    # their own pages, are fetched once.
    assert START_URLS <= set(fetched) and max(fetched.values()) == 1
    assert len(fetched) == 27
    assert single_run["stats"]["downloader/request_count"] == 29  # + robots.txt of 2 hosts
    assert single_run["stats"]["item_scraped_count"] == 25
    store = single_run["store"]
    assert len(store["articles"]) == 15 and len(store["rental_ads"]) == 8
    # 9 ads scraped, 8 stored: one inline ad is carried by two pages (seen_on grows, one document).
    assert sorted(len(ad[2]) for ad in store["rental_ads"].values()) == [1] * 7 + [2]
    # 1873 reposts 532's text: one document, the other URL in alt_urls.
    assert [sorted(urls) for urls in store["articles"] if len(urls) > 1] == [
        ["http://kunshanmaigao.021cf.cn/index.php/post/1873.html", "http://suzhou.021cf.cn/index.php/post/532.html"]]


def _page_requests(stats: dict[str, Any]) -> int:
    return stats.get("downloader/request_count", 0) - stats.get("robotstxt/request_count", 0)


def test_two_workers_fetch_each_url_once_and_store_each_item_once(
        tmp_path: Path, jongodb: Any, redis_url: str, single_run: dict[str, Any]) -> None:
    database = f"dist_{uuid.uuid4().hex[:8]}"
    server = redis.Redis.from_url(redis_url, socket_timeout=None)
    barrier = ["-s", f"EXTENSIONS={_project_extensions(**{'tests.test_distributed.KillSwitch': 0})}", "-s", "TEST_BARRIER=1"]
    workers = [Worker(tmp_path / "dist", name, jongodb.uri, database, redis_url, *barrier) for name in ("w1", "w2")]
    # A replay crawl takes about a second: without a barrier one worker could finish the run before
    # the other has started (and the other would then start a new run).
    opened = sorted(_blpop(server, OPENED_KEY).decode() for _ in workers)
    server.rpush(GO_KEY, *["go"] * len(workers))
    codes = [w.wait() for w in workers]
    assert codes == [0, 0], [w.log_path.read_text()[-3000:] for w in workers]
    stats = [w.stats() for w in workers]
    assert [s["finish_reason"] for s in stats] == ["finished", "finished"]
    assert sorted(s["distributed/mode"] for s in stats) == sorted(opened) == ["fresh", "joined"]
    assert all(s.get("replay/miss", 0) == 0 and s.get("log_count/ERROR", 0) == 0 for s in stats)

    # Every URL once across both workers: the single run's URLs, none twice (each worker runs start()).
    fetched = Counter(u for w in workers for u in w.fetched())
    assert set(fetched) == set(single_run["fetched"]) and max(fetched.values()) == 1
    # Summed page requests equal the single process's; robots.txt is fetched per process and host
    # (RobotsTxtMiddleware keeps its own cache), so it is counted apart.
    assert sum(_page_requests(s) for s in stats) == _page_requests(single_run["stats"]) == 27
    # A worker that got no page of a host fetches no robots.txt for it (the stat is then absent).
    assert all(s.get("robotstxt/request_count", 0) <= 2 for s in stats)
    # Every item once: as many scraped as in one process, and the same stored documents.
    assert sum(s.get("item_scraped_count", 0) for s in stats) == single_run["stats"]["item_scraped_count"] == 25
    assert store_snapshot(jongodb.uri, database) == single_run["store"]
    # The last worker out removed the run's keys: the next run starts fresh.
    assert sum(s.get("distributed/cleaned_up", 0) for s in stats) == 1
    assert redis.Redis.from_url(redis_url, socket_timeout=None).keys("*") == []


class KillSwitch:
    """Test hook, loaded into worker processes through EXTENSIONS.

    ``TEST_KILL_AT=N``: at the N-th item scraped, push the URLs
    of this worker's ledger and its scraped-item count to ``test:victim-ready``,
    block until ``test:kill-now`` and SIGKILL itself. ``TEST_ANNOUNCE=1``: push its
    mode to ``test:survivor-running`` when the spider opens. ``TEST_BARRIER=1``: when the
    spider opens (the worker has joined the run), push its mode to ``test:opened``
    and wait for ``test:go``.
    """

    def __init__(self, crawler: Any):
        self.crawler = crawler
        self.kill_at = crawler.settings.getint("TEST_KILL_AT")
        self.announce = crawler.settings.getbool("TEST_ANNOUNCE")
        self.server = redis.Redis.from_url(crawler.settings["REDIS_URL"], socket_timeout=None)
        self.seen = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> "KillSwitch":
        ext = cls(crawler)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        return ext

    def spider_opened(self, spider: Any) -> None:
        if self.announce:
            self.server.rpush(RUNNING_KEY, self.crawler.engine.scheduler.mode)
        if self.crawler.settings.getbool("TEST_BARRIER"):
            self.server.rpush(OPENED_KEY, self.crawler.engine.scheduler.mode)
            self.server.blpop([GO_KEY], timeout=BLPOP_TIMEOUT_S)

    def item_scraped(self, item: Any, response: Any, spider: Any) -> None:
        self.seen += 1
        if self.kill_at and self.seen == self.kill_at:
            # The item's request is still in the ledger: its callback output is being consumed.
            scheduler = self.crawler.engine.scheduler
            ledger = INFLIGHT_KEY % {"spider": spider.name, "worker": scheduler.worker_id}
            in_flight = sorted(scheduler.queue._decode_request(p).url for p in self.server.hvals(ledger))
            report = {"in_flight": in_flight, "items_scraped": self.seen}
            self.server.rpush(READY_KEY, json.dumps(report))
            self.server.blpop([KILL_KEY], timeout=BLPOP_TIMEOUT_S)
            os.kill(os.getpid(), os_signal.SIGKILL)


def _blpop(server: Any, key: str) -> bytes:
    got = server.blpop([key], timeout=BLPOP_TIMEOUT_S)
    assert got is not None, f"no message on {key} within {BLPOP_TIMEOUT_S} s"
    return got[1]


def test_killed_worker_requests_are_requeued_and_next_run_stores_the_rest(
        tmp_path: Path, jongodb: Any, redis_url: str, single_run: dict[str, Any]) -> None:
    database = f"kill_{uuid.uuid4().hex[:8]}"
    work = tmp_path / "kill"
    server = redis.Redis.from_url(redis_url, socket_timeout=None)
    hook = _project_extensions(**{"tests.test_distributed.KillSwitch": 0})

    victim = Worker(work, "victim", jongodb.uri, database, redis_url, "-s", f"EXTENSIONS={hook}", "-s", "TEST_KILL_AT=3")
    report = json.loads(_blpop(server, READY_KEY))
    # Part-way: the victim holds requests it popped and has not finished (at least the 3rd item's page).
    assert 1 <= len(report["in_flight"]) <= 16 and report["items_scraped"] == 3
    survivor = Worker(work, "survivor", jongodb.uri, database, redis_url, "-s", f"EXTENSIONS={hook}", "-s", "TEST_ANNOUNCE=1")
    # The survivor has joined the run (registered, live) before the victim dies. The victim may hold
    # every queued request by then, so the survivor may have nothing to do until it re-queues them.
    assert _blpop(server, RUNNING_KEY) == b"joined"
    server.rpush(KILL_KEY, "now")
    assert victim.wait() == -os_signal.SIGKILL
    assert survivor.wait() == 0, survivor.log_path.read_text()[-3000:]
    stats = survivor.stats()
    assert stats["distributed/mode"] == "joined" and stats["finish_reason"] == "finished"

    # Counted and not lost: exactly the victim's ledger went back into the queue, and the survivor fetched it.
    assert stats["distributed/requeued"] == len(report["in_flight"])
    assert set(report["in_flight"]) <= set(survivor.fetched())
    # Between them the two workers fetched every page of the crawl.
    assert set(victim.fetched()) | set(survivor.fetched()) == set(single_run["fetched"])
    assert victim.fetched() and survivor.fetched()

    # The victim's scraped items were still in its store batch (STORE_BATCH_SIZE 100) when it died:
    # their requests were done, so nothing re-queues them and the store lacks exactly those.
    after_kill = store_snapshot(jongodb.uri, database)
    reference = single_run["store"]
    assert len(after_kill["articles"]) + len(after_kill["rental_ads"]) < len(reference["articles"]) + len(reference["rental_ads"])
    assert set(after_kill["articles"]) < set(reference["articles"])
    assert server.keys("*") == []  # the survivor was the last worker out

    # The next (incremental) run fetches the posts the store lacks, skips the stored ones, and completes the store.
    rerun = crawl(work, "rerun", jongodb.uri, database, redis_url)
    rerun_stats = rerun.stats()
    assert rerun_stats["distributed/mode"] == "fresh"
    missing = set(reference["articles"]) - set(after_kill["articles"])
    assert missing and any(urls & set(rerun.fetched()) for urls in missing)
    assert rerun_stats.get("incremental/skipped", 0) >= len(after_kill["articles"]) - 1
    assert store_snapshot(jongodb.uri, database) == reference


# --- the store under two writers ------------------------------------------------------
def _article(url: str, text: str, crawled_at: str) -> Article:
    from kspider.extract.ids import canonical_url, url_fingerprint

    return Article(_id=url_fingerprint(canonical_url(url)), url=url, canonical_url=canonical_url(url),
                   site="suzhou.021cf.cn", spider="021cf", title="太仓事达产业园厂房出租", content_text=text,
                   crawled_at=crawled_at)


REPOST_TEXT = ("太仓事达产业园位于太仓市城厢镇，紧邻嘉定安亭，标准厂房单层面积2000平方米起，层高8米，"
               "承重3吨每平方米，可环评，独立产证，租金0.9元/平方米/天，联系人王经理13812345678。")


def _race(first: Store, first_items: list[Any], second: Store, second_items: list[Any]) -> None:
    """Two processes writing at once, deterministically: A reads, B reads, A writes, B writes.

    Each batch decides from a read that misses the other's write; whatever a writer
    loses is retried the way `Store.write_items` retries it (a fresh read, then a write).
    """
    from kspider.store.core import _Prepared, item_to_doc

    for store in (first, second):
        assert store.ensure_indexes()
    second_prepared = [_Prepared(*item_to_doc(item)) for item in second_items]
    commit_first = first._commit
    state = {"raced": False}

    def commit_between_reads_and_second_write(batch: Any) -> Any:
        if state["raced"]:
            return commit_first(batch)
        state["raced"] = True
        second_batch = second._plan(second_prepared)  # B reads before A writes
        lost = commit_first(batch)  # A writes
        second._write_prepared(second_prepared, planned=second_batch)  # B writes what it decided
        return lost

    first._commit = commit_between_reads_and_second_write  # type: ignore[method-assign]
    assert first.write_items(first_items)
    assert state["raced"]


@pytest.fixture
def two_writers(store_settings: dict[str, Any]) -> Iterator[tuple[Store, Store]]:
    """Two Store objects on one database (embedded store or jongodb), as two crawler processes have."""
    first, second = open_store(store_settings), open_store(store_settings)
    yield first, second
    first.close()
    second.close()


def _articles(store: Store) -> dict[str, dict[str, Any]]:
    return {doc["_id"]: doc for doc in store.collections["articles"].find({})}


ORIGINAL_URL = "http://suzhou.021cf.cn/index.php/post/532.html"
REPOST_URL = "http://kunshanmaigao.021cf.cn/index.php/post/1873.html"


def test_store_race_two_processes_store_one_repost_twice(two_writers: tuple[Store, Store]) -> None:
    """Two crawler processes each store one copy of the same text under different URLs at the same time:
    one document, the other URL in alt_urls, as one process stores them (the content-hash claim)."""
    first, second = two_writers
    original = _article(ORIGINAL_URL, REPOST_TEXT, "2026-02-19T08:00:00+00:00")
    repost = _article(REPOST_URL, REPOST_TEXT, "2026-02-19T08:00:05+00:00")
    _race(first, [original], second, [repost])
    docs = list(first.collections["articles"].find())
    assert len(docs) == 1
    assert docs[0]["canonical_url"] == ORIGINAL_URL
    assert docs[0]["alt_urls"] == [REPOST_URL]
    assert docs[0]["alt_ids"] == [url_fingerprint(REPOST_URL)]
    assert (docs[0]["first_seen"], docs[0]["last_seen"]) == ("2026-02-19T08:00:00+00:00", "2026-02-19T08:00:05+00:00")
    assert first.counters == {"inserted": 1}
    # B's insert lost the claim to A's article: decided again, it became an alternate.
    assert second.counters == {"race_retries": 1, "alt_urls": 1}


def test_store_race_near_duplicates_written_at_once_share_one_group(two_writers: tuple[Store, Store]) -> None:
    """A repost with small edits stored by another process at the same time joins the original's group
    (the query on the LSH index after the write), instead of both leading a group of their own."""
    first, second = two_writers
    _race(first, [store_case.article(store_case.URL_A, store_case.KUNSHAN_TEXT)],
          second, [store_case.article(store_case.URL_B, store_case.KUNSHAN_REPOST, crawled_at=store_case.T1),
                   store_case.article(store_case.URL_C, store_case.NEWS_TEXT, crawled_at=store_case.T1)])
    articles = _articles(first)
    original = url_fingerprint(store_case.URL_A)
    assert articles[original]["dup_group"] == original
    assert articles[url_fingerprint(store_case.URL_B)]["dup_group"] == original
    assert articles[url_fingerprint(store_case.URL_C)]["dup_group"] == url_fingerprint(store_case.URL_C)
    # B inserted the repost as leading its own group (its read saw no near-duplicate); its query after
    # the write found A's earlier article and moved the repost into A's group.
    assert second.counters == {"inserted": 2, "near_dups": 1}
    assert first.near_duplicates(store_case.KUNSHAN_REPOST)[0] == url_fingerprint(store_case.URL_B)


@pytest.mark.parametrize("first_at, second_at", [(store_case.T2, store_case.T0), (store_case.T0, store_case.T2)],
                         ids=["newer-writes-first", "older-writes-first"])
def test_store_race_seen_times_only_move_outwards(two_writers: tuple[Store, Store], first_at: str, second_at: str) -> None:
    """A page stored at T1 is seen again by two processes at once, at T0 (an old item from a spill file)
    and at T2: first_seen becomes T0 and last_seen T2 whichever writes last ($min/$max, or on a server
    without them conditional $set)."""
    first, second = two_writers
    assert first.write_items([store_case.article(store_case.URL_A, store_case.KUNSHAN_TEXT, crawled_at=store_case.T1),
                              store_case.rental_ad(store_case.URL_A, crawled_at=store_case.T1)])
    _race(first, [store_case.article(store_case.URL_A, store_case.KUNSHAN_TEXT, crawled_at=first_at),
                  store_case.rental_ad(store_case.URL_A, crawled_at=first_at)],
          second, [store_case.article(store_case.URL_A, store_case.KUNSHAN_TEXT, crawled_at=second_at),
                   store_case.rental_ad(store_case.URL_B, crawled_at=second_at)])
    doc = _articles(first)[url_fingerprint(store_case.URL_A)]
    assert (doc["first_seen"], doc["last_seen"], doc["crawled_at"]) == (store_case.T0, store_case.T2, store_case.T2)
    assert doc["version"] == 1
    ad = first.collections["rental_ads"].find_one({"_id": text_fingerprint(store_case.AD_TEXT)})
    assert (ad["first_seen"], ad["last_seen"], ad["crawled_at"]) == (store_case.T0, store_case.T2, store_case.T2)
    assert ad["seen_on"] == [store_case.URL_A, store_case.URL_B]


TEXT_V1 = store_case.KUNSHAN_TEXT
TEXT_V2 = TEXT_V1.replace("超15亿欧元", "超16亿欧元")
TEXT_V3 = TEXT_V1.replace("超15亿欧元", "超17亿欧元")


@pytest.mark.parametrize("stored, first_item, second_item, version, archived", [
    # Serially: v1 → v2 (A), v2 → v3 (B): three versions, both superseded contents archived.
    (True, (TEXT_V2, store_case.T1), (TEXT_V3, store_case.T2), 3, {TEXT_V1: 1, TEXT_V2: 2}),
    # A stores the newest content; B's older content arrives late: history only.
    (True, (TEXT_V3, store_case.T2), (TEXT_V2, store_case.T1), 2, {TEXT_V1: 1, TEXT_V2: None}),
    # The page is new to both: A's content is version 1, B's (newer) version 2.
    (False, (TEXT_V2, store_case.T1), (TEXT_V3, store_case.T2), 2, {TEXT_V2: 1}),
], ids=["two-changes", "change-and-late-content", "two-first-contents"])
def test_store_race_two_contents_for_one_url_are_two_versions(
        two_writers: tuple[Store, Store], stored: bool, first_item: tuple[str, str], second_item: tuple[str, str],
        version: int, archived: dict[str, Optional[int]]) -> None:
    """Two processes store different contents of one URL at once: the article ends with the newest
    content and every other content archived, as if they had written one after the other (the
    version update is conditional on the content hash read; the loser reads again)."""
    first, second = two_writers
    url_id = url_fingerprint(store_case.URL_A)
    if stored:
        assert first.write_items([store_case.article(store_case.URL_A, TEXT_V1, crawled_at=store_case.T0)])
    _race(first, [store_case.article(store_case.URL_A, first_item[0], crawled_at=first_item[1])],
          second, [store_case.article(store_case.URL_A, second_item[0], crawled_at=second_item[1])])
    doc = _articles(first)[url_id]
    assert "超17亿欧元" in doc["content_text"] and doc["content_hash"] == text_fingerprint(TEXT_V3)
    assert doc["version"] == version
    assert sorted(doc["past_hashes"]) == sorted(text_fingerprint(t) for t in archived)
    versions = {v["content_hash"]: v for v in first.collections["article_versions"].find({})}
    assert {h: v["version"] for h, v in versions.items()} == {text_fingerprint(t): n for t, n in archived.items()}
    assert "超16亿欧元" in versions[text_fingerprint(TEXT_V2)]["content_text"]
    assert second.counters["race_retries"] == 1


def test_locked_store_pipeline_writes_hold_the_crawl_lock(tmp_path: Path, jongodb: Any, redis_url: str) -> None:
    """With REDIS_URL, each batch's read-decide-write runs under one Redis lock per spider: another
    worker cannot take it mid-batch, and takes it as soon as the batch is written."""
    from scrapy.settings import Settings

    settings = Settings({"REDIS_URL": redis_url, "MONGO_URI": jongodb.uri, "MONGO_DATABASE": f"lock_{uuid.uuid4().hex[:8]}",
                         "SPILL_DIR": str(tmp_path / "spill"), "EMBEDDED_DB_DIR": str(tmp_path / "db")})
    spider = type("S", (), {"name": "021cf"})()
    pipeline = LockedStorePipeline(settings)
    pipeline.open_spider(spider)
    other_worker = redis.Redis.from_url(redis_url, socket_timeout=None).lock(STORE_LOCK_KEY % {"spider": "021cf"}, timeout=5)
    taken_mid_batch = []
    assert pipeline.store is not None
    write = pipeline.store._write_prepared

    def write_and_probe(prepared: Any) -> None:
        taken_mid_batch.append(other_worker.acquire(blocking=False))
        write(prepared)

    pipeline.store._write_prepared = write_and_probe  # type: ignore[method-assign]
    pipeline.process_item(_article("http://suzhou.021cf.cn/index.php/post/532.html", REPOST_TEXT, "2026-02-19T08:00:00+00:00"))
    pipeline.flush()
    assert taken_mid_batch == [False]
    assert other_worker.acquire(blocking=False) is True
    other_worker.release()
    assert pipeline.store.counts()["articles"] == 1
    pipeline.close_spider(spider)


def test_worker_ids_are_redis_client_names() -> None:
    """Liveness is read from Redis' client list, so an id must be a valid client name (no spaces)."""
    wid = worker_id_for("021cf", host="build host #1", pid=4242)
    assert re.fullmatch(r"021cf@build_host__1:4242:[0-9a-f]{6}", wid)
    assert wid != worker_id_for("021cf", host="build host #1", pid=4242)
