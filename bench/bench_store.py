"""Store benchmark (not a test): article writes/s against a plain-SQLite reference, lookups, peak memory.

    .venv/bin/python bench/bench_store.py                      # 10k and 100k, embedded (and jongodb at 10k)
    .venv/bin/python bench/bench_store.py --sizes 2000         # quick
    .venv/bin/python bench/bench_store.py --backends embedded --sizes 10000,100000
    .venv/bin/python bench/bench_store.py --neardup            # MinHash recall/precision, before/after

Each (backend, size) runs in its own process, so peak RSS is its own. The
synthetic articles are ~450 Chinese characters; 10% are near-duplicate reposts
(a few characters changed) and 5% exact copies at another URL, so the
dedupe paths are exercised. Lookups are ``Store.near_duplicates(text)`` on
edited copies of stored articles.

The reference, measured in the same process right after the store: plain
SQLite (the embedded store's file settings, ``FILE_SETTINGS``: WAL,
synchronous=NORMAL, page cache, checkpoint interval) taking the same rows in
transactions of one store batch: one row per article (its document as the
store writes a new article) and exactly the index rows the store writes for
it (one per value of each indexed field: content hash, site, group, last
seen, the LSH band keys; the `_id` is the documents' primary key in both) in
one indexed key table. Its rows are built before its clock starts, so the
ratio is the store's whole cost (documents, MinHash, reads, decisions,
writes) against SQLite's cost of the inserts alone. Both are timed in wall
time (the ratio) and in CPU time of the process (``ms CPU/article``); the
load average is printed, since other work on the machine slows both. The
reference runs a second time with SQLite's default page cache and checkpoint
interval (only WAL and synchronous=NORMAL set, as the benchmark's reference
had before the store tuned its file): the second ratio shows how much of the
store's speed is its file settings.

jongodb runs from node_modules (`npm ci`); its own peak RSS is reported as
``server_peak_rss_mb``. jongodb is a wire test server: it answers
``{"lsh": {"$in": [...]}}`` by scanning, so it slows with size; MongoDB uses
the multikey index.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from itertools import islice
from typing import Any, Iterable, Iterator, Optional

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

JONGODB_BIN = REPO / "node_modules" / "@jongodb" / "memory-server-bin-linux-x64-gnu" / "bin" / "jongodb"
POOL = ("昆山太仓嘉定苏州工业园区开发区厂房仓库土地出租出售标准单层高新技术产业项目签约投资亿元万平方米"
        "企业制造新能源汽车零部件生物医药智能装备集成电路科技创新平台服务招商引资政策营商环境建设发展"
        "经济增长同比季度年度会议代表团考察合作交流推进落实重点工程交通物流港口高速铁路配套设施人才")


def synthetic_articles(n: int, seed: int = 7) -> list[Any]:
    return list(iter_synthetic_articles(n, seed))


def iter_synthetic_articles(n: int, seed: int = 7) -> Iterator[Any]:
    """The benchmark's articles, made one at a time (only their texts are kept, for the copies)."""
    from kspider.extract.ids import text_fingerprint, url_fingerprint
    from kspider.items import Article

    rng = random.Random(seed)
    texts: list[str] = []
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
        yield Article(_id=url_fingerprint(url), url=url, canonical_url=url, site=f"bench{i % 7}.example.cn",
                      spider="bench", title=f"文章{i}", content_text=text, content_hash=text_fingerprint(text),
                      crawled_at=f"2026-02-19T08:{(i // 60) % 60:02d}:{i % 60:02d}+00:00")


def batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


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


# The reference's file settings before the store tuned its own (SQLite's defaults otherwise).
PLAIN_SETTINGS = ("journal_mode=WAL", "synchronous=NORMAL")


def sqlite_reference(items: Iterable[Any], tmp: str, batch: int, settings: Optional[Iterable[str]] = None
                     ) -> tuple[float, float]:
    """(wall seconds, CPU seconds) plain SQLite takes to insert the same articles and index rows
    (see the module doc), with the store's file settings or `settings`. Each batch's rows are
    built before the clocks start; only the inserts are timed."""
    import json
    import sqlite3

    from kspider.store import neardup
    from kspider.store.documents import ARTICLES, INDEXES, item_to_doc
    from kspider.store.embedded_file import FILE_SETTINGS
    from kspider.store.embedded_ops import field_values

    fields = list(dict.fromkeys(f for keys in INDEXES[ARTICLES] for f, _ in keys))
    path = Path(tmp) / "reference.sqlite3"
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None)
    for setting in FILE_SETTINGS if settings is None else settings:
        conn.execute(f"PRAGMA {setting}")
    conn.execute("CREATE TABLE docs (id TEXT PRIMARY KEY, doc TEXT NOT NULL)")
    conn.execute("CREATE TABLE keys (kind TEXT NOT NULL, value NOT NULL, id TEXT NOT NULL)")
    conn.execute("CREATE INDEX keys_lookup ON keys (kind, value)")
    wall = cpu = 0.0
    for chunk in batches(items, batch):
        docs, keys = [], []
        for item in chunk:
            _, doc = item_to_doc(item)
            sig = neardup.signature(doc["content_text"])
            doc.update({"lsh": neardup.band_keys(sig), "minhash": neardup.encode_signature(sig), "dup_group": doc["_id"],
                        "version": 1, "alt_urls": [], "alt_ids": [], "past_hashes": [],
                        "first_seen": doc["crawled_at"], "last_seen": doc["crawled_at"]})
            docs.append((doc["_id"], json.dumps(doc, ensure_ascii=False, separators=(",", ":"))))
            keys.extend((f, v, doc["_id"]) for f in fields for v in field_values(doc, f))
        start, start_cpu = time.perf_counter(), time.process_time()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT OR REPLACE INTO docs (id, doc) VALUES (?, ?)", docs)
        conn.executemany("INSERT INTO keys (kind, value, id) VALUES (?, ?, ?)", keys)
        conn.execute("COMMIT")
        wall += time.perf_counter() - start
        cpu += time.process_time() - start_cpu
    conn.close()
    return wall, cpu


def worker(backend: str, size: int, lookups: int) -> dict[str, Any]:
    from kspider.store import open_store

    server = None
    with tempfile.TemporaryDirectory() as tmp:
        settings = {"EMBEDDED_DB_DIR": f"{tmp}/db", "SPILL_DIR": f"{tmp}/spill", "MONGO_DATABASE": "bench", "MONGO_URI": ""}
        if backend == "jongodb":
            server, settings["MONGO_URI"] = start_jongodb()
        try:
            store = open_store(settings)
            store.ensure_indexes()
            batch = store.config.batch_size
            rng = random.Random(11)
            sample: list[str] = []  # texts to look up afterwards (reservoir sample)
            written = 0
            insert_s = insert_cpu = 0.0
            load_before = os.getloadavg()[0]
            for chunk in batches(iter_synthetic_articles(size), batch):
                for item in chunk:
                    written += 1
                    if len(sample) < lookups:
                        sample.append(item.content_text)
                    elif rng.random() < lookups / written:
                        sample[rng.randrange(lookups)] = item.content_text
                start, start_cpu = time.perf_counter(), time.process_time()
                ok = store.write_items(chunk)
                insert_s += time.perf_counter() - start
                insert_cpu += time.process_time() - start_cpu
                if not ok:
                    # jongodb answers the band-key query by scanning: at ~10k articles
                    # one query outlasts the socket timeout.
                    return {"backend": backend, "articles_in": size, "error": f"write failed after {written} articles "
                            f"({insert_s:.0f} s); see the log above", "peak_rss_mb": round(peak_rss_mb(), 1)}

            queries = [edit(rng, text) for text in sample]
            start = time.perf_counter()
            hits = sum(1 for q in queries if store.near_duplicates(q))
            lookup_s = time.perf_counter() - start
            counts = store.counts()
            store.close()
            # The store's peak, before the reference's own work.
            store_peak = round(peak_rss_mb(), 1)
            load_store = os.getloadavg()[0]
            reference, reference_cpu = plain, _ = (None, None)
            if backend == "embedded":
                reference, reference_cpu = sqlite_reference(iter_synthetic_articles(size), tmp, batch)
                plain, _ = sqlite_reference(iter_synthetic_articles(size), tmp, batch, PLAIN_SETTINGS)
            result = {
                "backend": backend, "articles_in": size, "stored": counts["articles"],
                "reference_per_s": round(size / reference, 1) if reference else None,
                "reference_cpu_ms": round(1000 * reference_cpu / size, 3) if reference else None,
                "ratio": round(reference / insert_s, 3) if reference else None,
                "plain_per_s": round(size / plain, 1) if plain else None,
                "plain_ratio": round(plain / insert_s, 3) if plain else None,
                "inserts_per_s": round(size / insert_s, 1), "cpu_ms": round(1000 * insert_cpu / size, 3),
                "load": [round(load_before, 2), round(load_store, 2), round(os.getloadavg()[0], 2)],
                "near_dups": store.counters.get("near_dups", 0),
                "alt_urls": store.counters.get("alt_urls", 0),
                "lookups_per_s": round(len(queries) / lookup_s, 1), "lookup_hit_rate": round(hits / max(len(queries), 1), 3),
                "peak_rss_mb": store_peak,
            }
            if server is not None:
                result["server_peak_rss_mb"] = round(peak_rss_mb(server.pid), 1)
            return result
        finally:
            if server is not None:
                server.kill()
                server.wait()


def neardup_quality(n: int = 1000, seed: int = 5) -> None:
    """Recall and precision of near-duplicate grouping, the shipped MinHash against the earlier one.

    The set: `n` random texts and `n` edited copies, each with 5 to 120 of its
    450 characters changed, so true similarities spread across the 0.7
    threshold. Truth: pairs whose exact Jaccard similarity of shingles is at
    least 0.7 (computed for every pair of a family and every candidate pair).
    Predicted: pairs sharing an LSH band key whose signatures estimate ≥ 0.7.
    The earlier scheme (datasketch, CRC-32 per shingle, 128 permutations) is
    rebuilt here for the comparison.
    """
    import zlib
    from itertools import combinations

    import numpy as np
    from datasketch import MinHash
    from datasketch.lsh import _optimal_param

    from kspider.store import neardup

    rng = random.Random(seed)
    texts = ["".join(rng.choice(POOL) for _ in range(450)) for _ in range(n)]
    family = list(range(n))
    for i in range(n):
        source = rng.randrange(len(texts))
        texts.append(edit(rng, texts[source], changes=rng.randint(5, 120)))
        family.append(family[source])
    shingle_sets = [neardup.shingles(t) for t in texts]

    def jaccard(i: int, j: int) -> float:
        a, b = shingle_sets[i], shingle_sets[j]
        return len(a & b) / len(a | b)

    members: dict[int, list[int]] = {}
    for i, f in enumerate(family):
        members.setdefault(f, []).append(i)
    truth = {(i, j) for group in members.values() for i, j in combinations(group, 2) if jaccard(i, j) >= 0.7}

    perms = MinHash(num_perm=128, scheme="affine32").permutations
    rows_old = _optimal_param(0.7, 128, 0.2, 0.8)

    def old_signature(text: str) -> np.ndarray:
        mh = MinHash(num_perm=128, hashfunc=zlib.crc32, permutations=perms, scheme="affine32")
        mh.update_batch([g.encode("utf-8") for g in neardup.shingles(text)])
        return mh.hashvalues.astype(np.uint32)

    def old_keys(sig: np.ndarray) -> list[str]:
        bands, rows = rows_old
        return [f"{b}:{sig[b * rows:(b + 1) * rows].tobytes().hex()}" for b in range(bands)]

    schemes = {"earlier (CRC-32, 128 perm.)": (old_signature, old_keys),
               f"shipped ({neardup.SCHEME}, {neardup.NUM_PERM} perm.)": (neardup.signature, neardup.band_keys)}
    for label, (sign, keys_of) in schemes.items():
        start = time.perf_counter()
        sigs = [sign(t) for t in texts]
        keys = [keys_of(s) for s in sigs]
        per_doc_us = (time.perf_counter() - start) / len(texts) * 1e6
        buckets: dict[str, list[int]] = {}
        for i, ks in enumerate(keys):
            for k in ks:
                buckets.setdefault(k, []).append(i)
        candidates = {(i, j) for group in buckets.values() for i, j in combinations(sorted(set(group)), 2)}
        truth_all = truth | {(i, j) for i, j in candidates if jaccard(i, j) >= 0.7}
        predicted = {(i, j) for i, j in candidates if float(np.count_nonzero(sigs[i] == sigs[j])) / len(sigs[i]) >= 0.7}
        hits = len(predicted & truth_all)
        print(f"{label:30} recall {hits / max(len(truth_all), 1):.3f}  precision {hits / max(len(predicted), 1):.3f}  "
              f"({len(truth_all)} true pairs, {len(predicted)} predicted, {len(candidates)} candidates, "
              f"{len(keys[0])} band keys/doc, signature+keys {per_doc_us:.0f} µs/doc)", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated article counts")
    parser.add_argument("--backends", default="embedded,jongodb")
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--neardup", action="store_true", help="near-duplicate recall/precision, both MinHash schemes")
    parser.add_argument("--worker", nargs=2, metavar=("BACKEND", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.neardup:
        neardup_quality()
        return 0
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
            ref = (f" | plain SQLite {r['reference_per_s']:>8}/s ({r['reference_cpu_ms']} ms CPU/article), "
                   f"store/SQLite {r['ratio']:.2f}x; SQLite with its default cache and checkpoints "
                   f"{r['plain_per_s']}/s, store/that {r['plain_ratio']:.2f}x" if r.get("ratio") else "")
            print(f"{r['backend']:8} {r['articles_in']:>7} articles: {r['inserts_per_s']:>8} inserts/s "
                  f"({r['cpu_ms']} ms CPU/article){ref}, load average {'/'.join(map(str, r['load']))} "
                  "(start/after the store/after the reference), "
                  f"{r['lookups_per_s']:>8} near-dup lookups/s (hit rate {r['lookup_hit_rate']}), stored {r['stored']}, "
                  f"near-dups {r['near_dups']}, alt URLs {r['alt_urls']}, peak RSS {r['peak_rss_mb']} MB{server}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
