"""Full-pipeline throughput: replay a large generated set through parse, clean, dedupe and store.

    .venv/bin/python bench/bench_pipeline.py [--posts 5000] [--work /tmp/kspider-bench] [--stores embedded,jongodb]
    .venv/bin/python bench/bench_pipeline.py --stores embedded --workers 1      # the one-worker figure only
    .venv/bin/python bench/bench_pipeline.py --posts 600 --stores embedded --workers 1 --repeat 3   # median of 3 pairs

Generates the set (bench/gen_replay_set.py), then runs ``scrapy crawl 021cf``
from its listing chain into the embedded store and into jongodb (the npm test
server; tests/conftest.py), with 1 worker and with 2 workers sharing a Redis
(redis-server on a random 127.0.0.1 port). For each run it prints pages/s and
items/s over the crawl's wall time (first worker's start to last worker's end,
process start-up included) and over Scrapy's own elapsed time (crawl time),
each as a ratio to ``scrapy bench``, the peak RSS of each worker, CPU milliseconds per page
over the whole process and over crawl time (sampled from /proc), and the 1-minute load average
(the machine may be shared: the ratio is what compares). It also runs stock ``scrapy bench`` (outside the project, so
with Scrapy's default settings) for 10 s in the same session and prints its
pages/min: the reference rate of this machine. Not a test: nothing is asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.gen_replay_set import generate  # noqa: E402

SCRAPY = [sys.executable, "-m", "scrapy"]


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for name in ("REPLAY_DIR", "MONGO_URI", "EMBEDDED_DB_DIR", "REDIS_URL", "STATS_FILE"):
        env.pop(name, None)
    return env


def _wait_rss(proc: subprocess.Popen[Any]) -> tuple[int, int, float]:
    """(exit status, peak RSS in MiB, CPU seconds) of one child, from wait4's rusage (Linux: ru_maxrss in KiB)."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss // 1024, usage.ru_utime + usage.ru_stime


class CpuSampler:
    """The CPU seconds a running child has used, sampled from /proc every 20 ms with the wall
    clock, so the CPU spent between two moments (the crawl's start and finish) can be read."""

    def __init__(self, pid: int) -> None:
        import threading

        self.samples: list[tuple[float, float]] = []
        self._path = f"/proc/{pid}/stat"
        self._ticks = os.sysconf("SC_CLK_TCK")
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                with open(self._path) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                return
            if fields[0] == "Z":  # exited, not yet reaped
                return
            self.samples.append((time.time(), (int(fields[11]) + int(fields[12])) / self._ticks))
            time.sleep(0.02)

    def cpu_between(self, start: float, end: float) -> Optional[float]:
        """CPU seconds used from ``start`` to ``end`` (Unix times), from the nearest samples."""
        self._thread.join(timeout=5)
        before = [cpu for t, cpu in self.samples if t <= start]
        after = [cpu for t, cpu in self.samples if t >= end]
        if not before or not after:
            return None
        return after[0] - before[-1]


def _stat_time(value: Any) -> Optional[float]:
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return None


def run_crawl(label: str, set_dir: Path, start_url: str, work: Path, workers: int,
              mongo_uri: str = "", redis_url: str = "") -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    database = f"bench_{uuid.uuid4().hex[:8]}"
    procs = []
    began = time.perf_counter()
    for n in range(workers):
        cmd = SCRAPY + [
            "crawl", "021cf", "-a", f"urls={start_url}",
            "-s", f"REPLAY_DIR={set_dir}", "-s", f"EMBEDDED_DB_DIR={work / 'db'}", "-s", f"SPILL_DIR={work / 'spill'}",
            "-s", f"MONGO_URI={mongo_uri}", "-s", f"MONGO_DATABASE={database}",
            "-s", f"STATS_FILE={work / f'w{n}.stats.json'}", "-s", "LOG_LEVEL=INFO",
            # The whole crawl as it runs in production: monitors at close, the run report.
            "-s", "SPIDERMON_ENABLED=1", "-s", f"SPIDERMON_REPORT_DIR={work / 'reports'}",
            "-s", f"RUN_REPORT_DIR={work / 'reports'}",
        ]
        if redis_url:
            cmd += ["-s", f"REDIS_URL={redis_url}"]
        log = open(work / f"w{n}.log", "w")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=_env(), stdout=log, stderr=subprocess.STDOUT)
        procs.append((proc, log, CpuSampler(proc.pid)))
    results = []
    for proc, log, _ in procs:
        results.append(_wait_rss(proc))
        log.close()
    wall = time.perf_counter() - began
    stats = [json.loads((work / f"w{n}.stats.json").read_text()) for n in range(workers)]
    pages = sum(s.get("downloader/request_count", 0) - s.get("robotstxt/request_count", 0) for s in stats)
    items = sum(s.get("item_scraped_count", 0) for s in stats)
    elapsed = max(s.get("elapsed_time_seconds", 0) for s in stats)
    # CPU of the crawls between their start and finish (start-up and shutdown left out).
    crawl_cpu = [sampler.cpu_between(_stat_time(st.get("start_time")) or 0, _stat_time(st.get("finish_time")) or 0)
                 for (_, _, sampler), st in zip(procs, stats)]
    crawl_cpu_s = sum(c for c in crawl_cpu if c is not None) if all(c is not None for c in crawl_cpu) else None
    row = {
        "run": label, "workers": workers, "exit": [r[0] for r in results], "pages": pages, "items": items,
        "stored": {k.split("/", 1)[1]: sum(s.get(k, 0) for s in stats)
                   for k in ("store/inserted", "store/updated", "store/alt_urls", "store/near_dups", "store/spilled")},
        "wall_s": round(wall, 1), "crawl_s": round(elapsed, 1),
        "pages_per_s_wall": round(pages / wall, 1), "items_per_s_wall": round(items / wall, 1),
        "pages_per_s_crawl": round(pages / elapsed, 1) if elapsed else None,
        "peak_rss_mib": [r[1] for r in results],
        # CPU per page (user + system, all workers): what the pipeline costs, whatever the core count.
        "cpu_s": round(sum(r[2] for r in results), 1),
        "cpu_ms_per_page": round(1000 * sum(r[2] for r in results) / pages, 1) if pages else None,
        # The same over crawl time only (what the pages/s over crawl time is made of).
        "crawl_cpu_s": round(crawl_cpu_s, 2) if crawl_cpu_s is not None else None,
        "crawl_cpu_ms_per_page": round(1000 * crawl_cpu_s / pages, 1) if pages and crawl_cpu_s else None,
        "load_avg_1min": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(row, ensure_ascii=False), flush=True)
    return row


def scrapy_bench(seconds: int = 10) -> Optional[float]:
    """Stock `scrapy bench` pages/min (last progress line), run outside the project."""
    with tempfile.TemporaryDirectory() as cwd:
        env = dict(os.environ)
        env.pop("SCRAPY_SETTINGS_MODULE", None)
        proc = subprocess.run(SCRAPY + ["bench", "-s", f"CLOSESPIDER_TIMEOUT={seconds}"], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=seconds * 10)
    rates = re.findall(r"Crawled \d+ pages \(at (\d+) pages/min\)", proc.stderr)
    # The first progress line covers the start-up minute fraction; the best steady rate is the reference.
    return float(max(int(r) for r in rates)) if rates else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--chains", type=int, default=10, help="listing chains in the set (frontier width)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "kspider-bench")
    parser.add_argument("--stores", default="embedded,jongodb",
                        help="comma-separated: embedded, jongodb (jongodb scans its collections: slow past ~2,000 posts)")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts (2: shared Redis frontier)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of (scrapy bench, crawls), each crawl compared with its round's reference")
    args = parser.parse_args()
    counts = {int(w) for w in args.workers.split(",") if w}

    set_dir = args.work / "set"
    info = generate(set_dir, args.posts, chains=args.chains)
    print(json.dumps({"replay_set": str(set_dir), **info}, ensure_ascii=False), flush=True)
    start_url = info["start_urls"]

    from tests.conftest import JONGODB_BIN, JongoServer
    from tests.test_distributed import _free_port

    redis_port = _free_port()
    redis_proc = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert redis_proc.stdout is not None
    for line in redis_proc.stdout:
        if "Ready to accept connections" in line:
            break
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    jongo: Optional[JongoServer] = None
    rows = []
    try:
        for repeat in range(1, args.repeat + 1):
            # Each round pairs the crawls with a reference measured right before them: on a shared
            # machine the load changes from minute to minute.
            reference = scrapy_bench()
            print(json.dumps({"run": "scrapy bench (stock settings, 10 s)", "round": repeat,
                              "pages_per_min": reference, "load_avg_1min": round(os.getloadavg()[0], 2)}),
                  flush=True)
            round_rows = []
            stores = set(args.stores.split(","))
            if "embedded" in stores:
                if 1 in counts:
                    round_rows.append(run_crawl("embedded, 1 worker", set_dir, start_url, args.work / "emb1", 1))
                if 2 in counts:
                    round_rows.append(run_crawl("embedded, 2 workers", set_dir, start_url, args.work / "emb2", 2,
                                                redis_url=redis_url))
            if "jongodb" in stores and JONGODB_BIN.exists():
                if jongo is None:
                    jongo = JongoServer().start()
                if 1 in counts:
                    round_rows.append(run_crawl("jongodb, 1 worker", set_dir, start_url, args.work / "jon1", 1,
                                                mongo_uri=jongo.uri))
                if 2 in counts:
                    round_rows.append(run_crawl("jongodb, 2 workers", set_dir, start_url, args.work / "jon2", 2,
                                                mongo_uri=jongo.uri, redis_url=redis_url))
            for row in round_rows:
                row["reference_pages_per_min"] = reference
            rows.extend(round_rows)
    finally:
        if jongo is not None:
            jongo.stop()
        redis_proc.kill()
        redis_proc.wait()
    ratios: dict[str, list[float]] = {}
    for row in rows:
        reference = row["reference_pages_per_min"]
        if not reference:
            continue
        ref_s = reference / 60
        print(f"\nscrapy bench reference: {reference:.0f} pages/min = {ref_s:.1f} pages/s")
        crawl_ratio = row["pages_per_s_crawl"] / ref_s if row["pages_per_s_crawl"] else None
        if crawl_ratio is not None:
            ratios.setdefault(row["run"], []).append(crawl_ratio)
        print(f"{row['run']:<22} {row['pages_per_s_wall']:>7.1f} pages/s wall, {row['pages_per_s_crawl']} pages/s "
              f"over crawl time  {row['items_per_s_wall']:>7.1f} items/s (wall {row['wall_s']} s, crawl "
              f"{row['crawl_s']} s)  ratio to scrapy bench: "
              f"{f'{crawl_ratio:.2f}' if crawl_ratio is not None else 'n/a'} over crawl time, "
              f"{row['pages_per_s_wall'] / ref_s:.2f} over wall time  peak RSS {row['peak_rss_mib']} MiB  "
              f"CPU {row['cpu_ms_per_page']} ms/page ({row['crawl_cpu_ms_per_page']} ms/page over crawl time)  "
              f"load {row['load_avg_1min']}")
    if args.repeat > 1:
        import statistics

        print()
        for run, values in ratios.items():
            print(f"{run:<22} ratio to scrapy bench over crawl time, {len(values)} rounds: median "
                  f"{statistics.median(values):.2f} (min {min(values):.2f}, max {max(values):.2f})")

if __name__ == "__main__":
    main()
