"""Incremental crawls converge: no post is skipped forever after an interrupted run.

A generated 021cf set (bench/gen_replay_set.py: 150 posts on 5 listing chains of
6 pages) is crawled in replay, in subprocesses with every socket forbidden:

- a reference crawl, uninterrupted, into its own store;
- a crawl killed with SIGKILL part-way (after a third of its items reached the
  store), then the same command again: the store must equal the reference,
  document for document;
- a crawl cut short by ``CLOSESPIDER_PAGECOUNT``, then the same command again:
  the same;
- a further scheduled run over the unchanged set fetches each chain's first
  listing page only.

The kill is triggered by an event (the halting pipeline's line on stdout), not
by a clock.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.test_incremental import ROOT, crawl_cmd, crawl_env, open_test_store, run_crawl
from tests.test_resume import HALT_LINE

pytestmark = pytest.mark.slow

POSTS = 150
CHAINS = 5
PER_PAGE = 5  # posts per generated listing page
PAGES_PER_CHAIN = POSTS // CHAINS // PER_PAGE  # 6
# Store-assigned times differ from run to run; everything else must be identical.
VOLATILE = {"crawled_at", "first_seen", "last_seen"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("converge_set")
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "gen_replay_set.py"), str(out),
                           "--posts", str(POSTS), "--chains", str(CHAINS), "--seed", "5"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    info["dir"] = out
    return info


def store_documents(work: Path) -> dict[str, dict[Any, Any]]:
    """Every stored article and ad, without what legitimately depends on the order pages were fetched in.

    The store keeps one document per content: when several URLs serve the same body (exact
    reposts), the first one fetched names the document and gives it its title, and the others
    become ``alt_urls``; an ad repeated on several pages carries the figures of the first page
    stored. An interrupted crawl fetches in another order than an uninterrupted one, so articles
    are keyed by the set of URLs they answer for, a multi-URL document is compared by its content,
    a near-duplicate group by its members, an ad seen on several pages by its text and pages.
    Everything else must be identical field for field."""
    store = open_test_store(work)
    try:
        raw_articles = list(store.collections["articles"].find({}))
        raw_ads = list(store.collections["rental_ads"].find({}))
    finally:
        store.close()
    url_key = {d["_id"]: tuple(sorted([d["canonical_url"], *(d.get("alt_urls") or [])])) for d in raw_articles}
    groups: dict[Any, set[tuple[str, ...]]] = {}
    for d in raw_articles:
        if d.get("dup_group") is not None:
            groups.setdefault(d["dup_group"], set()).add(url_key[d["_id"]])
    articles: dict[Any, Any] = {}
    for d in raw_articles:
        key = url_key[d["_id"]]
        doc = {k: v for k, v in d.items() if k not in VOLATILE | {"_id", "url", "canonical_url", "alt_urls"}}
        if len(key) > 1:
            doc = {k: doc.get(k) for k in ("content_text", "content_hash", "site", "spider")}
        if d.get("dup_group") is not None:
            doc["dup_group"] = sorted(groups[d["dup_group"]])
        for name in ("minhash", "lsh", "alt_ids", "past_hashes"):  # store bookkeeping derived from the above
            doc.pop(name, None)
        articles[key] = doc
    ads: dict[Any, Any] = {}
    for d in raw_ads:
        doc = {k: v for k, v in d.items() if k not in VOLATILE}
        doc["seen_on"] = sorted(doc.get("seen_on") or [])
        if len(doc["seen_on"]) > 1:
            doc = {k: doc[k] for k in ("_id", "kind", "seen_on", "site", "spider")}
        ads[d["_id"]] = doc
    return {"articles": articles, "rental_ads": ads}


def differences(got: dict[str, dict[str, Any]], want: dict[str, dict[str, Any]]) -> list[str]:
    """Readable differences between two stores' documents (missing, extra, differing fields)."""
    out: list[str] = []
    for name in want:
        missing = sorted(set(want[name]) - set(got[name]))
        extra = sorted(set(got[name]) - set(want[name]))
        out += [f"{name}: missing {i}" for i in missing] + [f"{name}: extra {i}" for i in extra]
        for doc_id in sorted(set(want[name]) & set(got[name])):
            for key in sorted(set(want[name][doc_id]) | set(got[name][doc_id])):
                if want[name][doc_id].get(key) != got[name][doc_id].get(key):
                    out.append(f"{name} {doc_id} {key}: {got[name][doc_id].get(key)!r:.120} != "
                               f"{want[name][doc_id].get(key)!r:.120}")
    return out


def crawl(generated: dict[str, Any], work: Path, run: str, *extra: str) -> dict[str, Any]:
    # The generated set holds a post whose body is all boilerplate: an invalid item, logged as an error.
    return run_crawl("021cf", generated["dir"], work, run, "-a", f"urls={generated['start_urls']}", *extra,
                     errors_expected=True)


@pytest.fixture(scope="module")
def reference(generated, tmp_path_factory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("converge_reference")
    stats = crawl(generated, work, "reference")
    assert stats["finish_reason"] == "finished"
    assert stats["incremental/chains_completed"] >= CHAINS
    docs = store_documents(work)
    assert len(docs["articles"]) > POSTS * 0.9
    return docs


def killed_run(generated: dict[str, Any], work: Path, jobdir: Path, halt_after: int) -> int:
    """Start the JOBDIR crawl, SIGKILL it once `halt_after` items have passed the store pipeline."""
    cmd = crawl_cmd("021cf", generated["dir"], work, "killed", "-a", f"urls={generated['start_urls']}",
                    "-s", f"JOBDIR={jobdir}", "-s", "STORE_BATCH_SIZE=1",
                    "-s", f"HALT_AFTER_ITEMS={halt_after}",
                    "-s", 'ITEM_PIPELINES={"kspider.pipelines.clean.CleaningPipeline": 100, '
                          '"kspider.pipelines.validate.ValidationPipeline": 300, '
                          '"kspider.pipelines.store.StorePipeline": 800, '
                          '"tests.test_resume.HaltAfterItems": 900}')
    proc = subprocess.Popen(cmd, cwd=ROOT, env=crawl_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:  # an event, not a clock: the pipeline says it has halted
        if line.strip() == HALT_LINE:
            proc.send_signal(signal.SIGKILL)
            break
    proc.communicate(timeout=120)
    return proc.returncode


def test_killed_crawl_then_rerun_equals_an_uninterrupted_crawl(generated, reference, tmp_path):
    jobdir = tmp_path / "job"
    assert killed_run(generated, tmp_path, jobdir, halt_after=POSTS // 3) == -signal.SIGKILL
    partial = store_documents(tmp_path)
    assert 0 < len(partial["articles"]) < len(reference["articles"])

    rerun = crawl(generated, tmp_path, "rerun", "-s", f"JOBDIR={jobdir}")
    assert rerun["finish_reason"] == "finished"
    # The killed run marked no chain complete: the rerun walks every chain to its end.
    assert rerun.get("incremental/stopped_listings", 0) == 0
    assert differences(store_documents(tmp_path), reference) == []

    # The next scheduled run over the unchanged set: each chain's first page, nothing else.
    again = crawl(generated, tmp_path, "again", "-s", f"JOBDIR={jobdir}")
    fetched = sorted(u for u in again["_fetched"] if not u.endswith("robots.txt"))
    assert fetched == sorted(generated["start_urls"].split(","))
    assert again["incremental/stopped_listings"] == CHAINS
    assert again.get("item_scraped_count", 0) == 0
    assert differences(store_documents(tmp_path), reference) == []


def test_closespider_cut_then_rerun_equals_an_uninterrupted_crawl(generated, reference, tmp_path):
    cut = crawl(generated, tmp_path, "cut", "-s", "CLOSESPIDER_PAGECOUNT=60")
    assert cut["finish_reason"] == "closespider_pagecount"
    assert cut.get("incremental/chains_completed", 0) == 0
    assert 0 < len(store_documents(tmp_path)["articles"]) < len(reference["articles"])

    rerun = crawl(generated, tmp_path, "rerun")
    assert rerun["finish_reason"] == "finished"
    assert rerun["incremental/chains_completed"] >= CHAINS
    assert differences(store_documents(tmp_path), reference) == []


def test_new_posts_found_by_a_killed_run_do_not_hide_older_unfetched_ones(generated, reference, tmp_path):
    """A complete store, then posts missing from the middle of every chain (as after new posts pushed
    them down while a run was killed): the chain is walked to its end again, and they are fetched."""
    first = crawl(generated, tmp_path, "first")
    assert first["incremental/chains_completed"] >= CHAINS
    # A run that finds an unknown post on a complete chain marks the chain incomplete before it fetches
    # anything; simulate its kill by deleting posts after such a mark.
    store = open_test_store(tmp_path)
    try:
        page1_and_deep = [d["_id"] for d in store.collections["articles"].find({})][::7]
        store.collections["articles"].delete_many({"_id": {"$in": page1_and_deep}})
        for chain in generated["start_urls"].split(","):
            store.crawl_state_put("kunshanmaigao.021cf.cn", chain, {"complete": False})
    finally:
        store.close()
    rerun = crawl(generated, tmp_path, "rerun")
    assert rerun.get("incremental/stopped_listings", 0) == 0
    assert store_documents(tmp_path)["articles"].keys() == reference["articles"].keys()


# --- the chain rules on one middleware, with a store stand-in that records crawl-state writes ---------
class StateRecorder:
    """What the middleware asks of the store: seen posts and crawl state."""

    def __init__(self, known: set[str], states: dict[str, dict[str, Any]]) -> None:
        self.known, self.states, self.puts = known, states, []

    def seen_recently(self, ids: list[str], since: str) -> set[str]:
        return {i for i in ids if i in self.known}

    def crawl_state_get(self, site: str, chain: str) -> dict[str, Any] | None:
        return self.states.get(chain)

    def crawl_state_put(self, site: str, chain: str, doc: dict[str, Any]) -> bool:
        self.puts.append((chain, doc["complete"]))
        self.states[chain] = doc
        return True


def middleware_with(store: StateRecorder) -> Any:
    from scrapy import Spider
    from scrapy.utils.test import get_crawler

    from kspider.incremental import IncrementalMiddleware

    crawler = get_crawler(Spider, {"INCREMENTAL_STOP_PAGES": 1})
    crawler.spider = Spider("t")
    mw = IncrementalMiddleware(crawler)
    mw.store, mw.active = store, True
    return mw


def listing_response(url: str, **meta: Any) -> Any:
    from scrapy import Request
    from scrapy.http import HtmlResponse

    request = Request(url, meta={"page_kind": "listing", **meta})
    return HtmlResponse(url, body=b"<html></html>", request=request)


def test_unknown_posts_on_a_complete_chain_mark_it_incomplete_before_they_are_fetched():
    from scrapy import Request

    from kspider.extract.ids import url_fingerprint

    cat = "http://kunshanmaigao.021cf.cn/index.php/category-900.html"
    page2 = "http://kunshanmaigao.021cf.cn/index.php/category-900_2.html"
    new, old = (f"http://kunshanmaigao.021cf.cn/index.php/post/{n}.html" for n in (7, 1))
    store = StateRecorder({url_fingerprint(old)}, {cat: {"complete": True}})
    mw = middleware_with(store)
    out = mw._apply(listing_response(cat), [Request(new, meta={"page_kind": "post"}),
                                            Request(old, meta={"page_kind": "post"}),
                                            Request(page2, meta={"page_kind": "listing"})])
    assert [r.url for r in out] == [new, page2]
    assert store.puts == [(cat, False)]  # written before the new post is even requested
    # The run is killed here: nothing marks the chain complete again, so the next run may not stop early.
    mw2 = middleware_with(store)
    out2 = mw2._apply(listing_response(cat), [Request(old, meta={"page_kind": "post"}),
                                              Request(page2, meta={"page_kind": "listing"})])
    assert [r.url for r in out2] == [page2]
    assert mw2.stats.get_value("incremental/incomplete_chains") == 1


def test_a_finished_run_marks_only_chains_whose_every_request_was_answered():
    from scrapy import Request
    from scrapy.http import HtmlResponse

    cat_a = "http://kunshanmaigao.021cf.cn/index.php/category-900.html"
    cat_b = "http://kunshanmaigao.021cf.cn/index.php/category-901.html"
    post_a, post_b = (f"http://kunshanmaigao.021cf.cn/index.php/post/{n}.html" for n in (1, 2))
    store = StateRecorder(set(), {})
    mw = middleware_with(store)
    (req_a,) = mw._apply(listing_response(cat_a), [Request(post_a, meta={"page_kind": "post"})])
    mw._apply(listing_response(cat_b), [Request(post_b, meta={"page_kind": "post"})])
    # post_a is answered; post_b's download failed (no response ever reached the spider).
    mw._apply(HtmlResponse(post_a, body=b"<html></html>", request=req_a), [{"title": "a"}])
    mw.spider_closed(mw.crawler.spider, "finished")
    assert store.puts == [(cat_a, True)]
    assert mw.stats.get_value("incremental/chains_left_incomplete") == 1


def test_a_completion_the_store_dropped_is_not_counted():
    """The store down at the end of the run: the completion is not written, so not counted."""
    from scrapy import Request
    from scrapy.http import HtmlResponse

    class DroppingStore(StateRecorder):
        def crawl_state_put(self, site: str, chain: str, doc: dict[str, Any]) -> bool:
            super().crawl_state_put(site, chain, doc)
            return False

    cat = "http://kunshanmaigao.021cf.cn/index.php/category-900.html"
    post = "http://kunshanmaigao.021cf.cn/index.php/post/1.html"
    store = DroppingStore(set(), {})
    mw = middleware_with(store)
    (req,) = mw._apply(listing_response(cat), [Request(post, meta={"page_kind": "post"})])
    mw._apply(HtmlResponse(post, body=b"<html></html>", request=req), [{"title": "a"}])
    mw.spider_closed(mw.crawler.spider, "finished")
    assert store.puts == [(cat, True)]
    assert mw.stats.get_value("incremental/chains_completed") is None


def test_a_run_that_did_not_finish_marks_nothing_complete():
    from scrapy import Request
    from scrapy.http import HtmlResponse

    cat = "http://kunshanmaigao.021cf.cn/index.php/category-900.html"
    post = "http://kunshanmaigao.021cf.cn/index.php/post/1.html"
    store = StateRecorder(set(), {})
    mw = middleware_with(store)
    (req,) = mw._apply(listing_response(cat), [Request(post, meta={"page_kind": "post"})])
    mw._apply(HtmlResponse(post, body=b"<html></html>", request=req), [])
    mw.spider_closed(mw.crawler.spider, "closespider_pagecount")
    assert store.puts == []


def test_a_redirect_to_a_page_already_fetched_answers_for_the_url_it_came_from():
    """2051 redirects to 2050, which this run fetched already: the duplicate filter drops the
    redirected request, and 2051 counts as answered (by 2050's response)."""
    from scrapy import Request
    from scrapy.http import HtmlResponse

    cat = "http://kunshanmaigao.021cf.cn/index.php/category-900.html"
    p2050, p2051 = (f"http://kunshanmaigao.021cf.cn/index.php/post/{n}.html" for n in (2050, 2051))
    store = StateRecorder(set(), {})
    mw = middleware_with(store)
    req_2050, _ = mw._apply(listing_response(cat), [Request(p2050, meta={"page_kind": "post"}),
                                                    Request(p2051, meta={"page_kind": "post"})])
    mw._apply(HtmlResponse(p2050, body=b"<html></html>", request=req_2050), [])
    mw.request_dropped(Request(p2050, meta={"page_kind": "post", "redirect_urls": [p2051]}), mw.crawler.spider)
    mw.spider_closed(mw.crawler.spider, "finished")
    assert store.puts == [(cat, True)]
