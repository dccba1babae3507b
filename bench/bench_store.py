"""Store benchmark (not a test): insert rate, near-duplicate lookup rate, peak memory.

    .venv/bin/python bench/bench_store.py                      # 10k and 100k, embedded and jongodb
    .venv/bin/python bench/bench_store.py --sizes 2000         # quick
    .venv/bin/python bench/bench_store.py --backends embedded --sizes 10000

Each (backend, size) runs in its own process, so peak RSS is its own. The
synthetic articles are ~450 Chinese characters; 10% are near-duplicate reposts
(a few characters changed) and 5% exact copies at another URL, so the
dedupe paths are exercised. Lookups are ``Store.near_duplicates(text)`` on
edited copies of stored articles. jongodb runs from node_modules (`npm ci`);
its own peak RSS is reported as ``server_peak_rss_mb``. jongodb is a wire
test server: it answers ``{"lsh": {"$in": [...]}}`` by scanning, so it slows
with size and fails (socket timeout) near 10k articles; MongoDB uses the
multikey index.
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

JONGODB_BIN = REPO / "node_modules" / "@jongodb" / "memory-server-bin-linux-x64-gnu" / "bin" / "jongodb"
POOL = ("昆山太仓嘉定苏州工业园区开发区厂房仓库土地出租出售标准单层高新技术产业项目签约投资亿元万平方米"
        "企业制造新能源汽车零部件生物医药智能装备集成电路科技创新平台服务招商引资政策营商环境建设发展"
        "经济增长同比季度年度会议代表团考察合作交流推进落实重点工程交通物流港口高速铁路配套设施人才")


def synthetic_articles(n: int, seed: int = 7) -> list[Any]:
    from kspider.extract.ids import text_fingerprint, url_fingerprint
    from kspider.items import Article

    rng = random.Random(seed)
    texts: list[str] = []
    items = []
    for i in range(n):
        roll = rng.random()
        if texts and roll < 0.10:
            text = edit(rng, rng.choice(texts))
        elif texts and roll < 0.15:
            text = rng.choice(texts)
        else:
            text = "".join(rng.choice(POOL) for _ in range(450))
        texts.append(text)
        url = f"http://bench{i % 7}.example.cn/post/{i}.html"
        items.append(Article(_id=url_fingerprint(url), url=url, canonical_url=url, site=f"bench{i % 7}.example.cn",
                             spider="bench", title=f"文章{i}", content_text=text, content_hash=text_fingerprint(text),
                             crawled_at=f"2026-02-19T08:{(i // 60) % 60:02d}:{i % 60:02d}+00:00"))
    return items


def edit(rng: random.Random, text: str, changes: int = 3) -> str:
    chars = list(text)
    for _ in range(changes):
        chars[rng.randrange(len(chars))] = rng.choice(POOL)
    return "".join(chars)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_jongodb() -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    proc = subprocess.Popen([str(JONGODB_BIN), f"--port={port}"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("JONGODB_URI="):
            break
    return proc, f"mongodb://127.0.0.1:{port}"


def peak_rss_mb(pid: Optional[int] = None) -> float:
    if pid is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def worker(backend: str, size: int, lookups: int) -> dict[str, Any]:
    from kspider.store import open_store

    items = synthetic_articles(size)
    server = None
    with tempfile.TemporaryDirectory() as tmp:
        settings = {"EMBEDDED_DB_DIR": f"{tmp}/db", "SPILL_DIR": f"{tmp}/spill", "MONGO_DATABASE": "bench", "MONGO_URI": ""}
        if backend == "jongodb":
            server, settings["MONGO_URI"] = start_jongodb()
        try:
            store = open_store(settings)
            store.ensure_indexes()
            batch = store.config.batch_size
            start = time.perf_counter()
            for i in range(0, size, batch):
                if not store.write_items(items[i : i + batch]):
                    # jongodb answers the band-key query by scanning: at ~10k articles
                    # one query outlasts the socket timeout.
                    return {"backend": backend, "articles_in": size, "error": f"write failed after {i} articles "
                            f"({time.perf_counter() - start:.0f} s); see the log above", "peak_rss_mb": round(peak_rss_mb(), 1)}
            insert_s = time.perf_counter() - start

            rng = random.Random(11)
            queries = [edit(rng, rng.choice(items).content_text) for _ in range(lookups)]
            start = time.perf_counter()
            hits = sum(1 for q in queries if store.near_duplicates(q))
            lookup_s = time.perf_counter() - start
            counts = store.counts()
            store.close()
            result = {
                "backend": backend, "articles_in": size, "stored": counts["articles"],
                "inserts_per_s": round(size / insert_s, 1), "near_dups": store.counters.get("near_dups", 0),
                "alt_urls": store.counters.get("alt_urls", 0),
                "lookups_per_s": round(lookups / lookup_s, 1), "lookup_hit_rate": round(hits / max(lookups, 1), 3),
                "peak_rss_mb": round(peak_rss_mb(), 1),
            }
            if server is not None:
                result["server_peak_rss_mb"] = round(peak_rss_mb(server.pid), 1)
            return result
        finally:
            if server is not None:
                server.kill()
                server.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated article counts")
    parser.add_argument("--backends", default="embedded,jongodb")
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--worker", nargs=2, metavar=("BACKEND", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]), args.lookups)))
        return 0
    for size in [int(s) for s in args.sizes.split(",") if s]:
        for backend in [b for b in args.backends.split(",") if b]:
            if backend == "jongodb" and not JONGODB_BIN.exists():
                print(f"jongodb: skipped, {JONGODB_BIN} missing (npm ci)")
                continue
            out = subprocess.run([sys.executable, __file__, "--worker", backend, str(size), "--lookups", str(args.lookups)],
                                 capture_output=True, text=True)
            if out.returncode:
                print(f"{backend} {size}: failed\n{out.stderr[-2000:]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            if "error" in r:
                print(f"{r['backend']:8} {r['articles_in']:>7} articles: {r['error']}", flush=True)
                continue
            server = f", jongodb server peak RSS {r['server_peak_rss_mb']} MB" if "server_peak_rss_mb" in r else ""
            print(f"{r['backend']:8} {r['articles_in']:>7} articles: {r['inserts_per_s']:>8} inserts/s, "
                  f"{r['lookups_per_s']:>8} near-dup lookups/s (hit rate {r['lookup_hit_rate']}), stored {r['stored']}, "
                  f"near-dups {r['near_dups']}, alt URLs {r['alt_urls']}, peak RSS {r['peak_rss_mb']} MB{server}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
