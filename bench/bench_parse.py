"""Benchmark: parsing one post page (extraction and cleaning, no I/O), per template.

Prints the mean, median and 95th-percentile CPU milliseconds per post, and the
mean of the fastest round (as timeit's minimum: the least disturbed by other
work on a shared machine) over the fixture
pages of each template (the 021cf target is under 5 ms per post). Bodies are
read and decoded before timing, so only parsing and cleaning are measured.

    .venv/bin/python bench/bench_parse.py [--rounds N]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scrapy import Request  # noqa: E402
from scrapy.utils.test import get_crawler  # noqa: E402

from kspider.pipelines.clean import CleaningPipeline  # noqa: E402
from kspider.replay.fixtures import FixtureIndex  # noqa: E402
from kspider.replay.handler import replay_response  # noqa: E402

TEMPLATES = {
    "021cf": ("kspider.spiders.zblog_tpure", "ZblogTpureSpider", "fixtures/021cf", "parse_post"),
    "xinjiapo": ("kspider.spiders.xinjiapo", None, "fixtures/xinjiapo", None),
    "jssuxun": ("kspider.spiders.jssuxun", None, "fixtures/jssuxun", None),
}


def spider_for(module_name: str):
    import importlib
    import inspect

    from kspider.spiders.base import KSpider

    module = importlib.import_module(module_name)
    for obj in vars(module).values():
        if inspect.isclass(obj) and issubclass(obj, KSpider) and obj.__module__ == module_name:
            return obj
    raise LookupError(module_name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    for name, (module_name, _, fixture_dir, _) in TEMPLATES.items():
        cls = spider_for(module_name)
        crawler = get_crawler(cls)
        spider = cls.from_crawler(crawler)
        crawler.spider = spider
        clean = CleaningPipeline.from_crawler(crawler)
        index = FixtureIndex.load(ROOT / fixture_dir)
        pages = []
        for url in index.urls():
            request = Request(url)
            route = spider.route(url)
            if route is None or "listing" in route:
                continue
            response = replay_response(index, request)
            if response.status != 200:
                continue
            _ = response.text  # decode before timing
            response.request.meta.update(route=route, page_kind="post")
            pages.append((getattr(spider, route), response))
        timings = []
        round_means = []
        from kspider.extract.phones import _extract_phones_cached, _numbers_in

        for _ in range(args.rounds):
            round_start = len(timings)
            # Every round parses the pages as if for the first time: no answers cached from the last.
            _extract_phones_cached.cache_clear()
            _numbers_in.cache_clear()
            for callback, response in pages:
                # CPU time of this process: on a shared machine wall time measures the neighbours too.
                start = time.process_time()
                for item in callback(response):
                    if not isinstance(item, Request):
                        clean.process_item(item)
                timings.append((time.process_time() - start) * 1000)
            round_means.append(statistics.mean(timings[round_start:]))
        timings.sort()
        p95 = timings[int(len(timings) * 0.95) - 1]
        print(f"{name:9s} {len(pages):3d} post pages x {args.rounds} rounds: "
              f"mean {statistics.mean(timings):6.2f} ms, median {statistics.median(timings):6.2f} ms, p95 {p95:6.2f} ms, "
              f"best round's mean {min(round_means):6.2f} ms CPU per post")


if __name__ == "__main__":
    main()
