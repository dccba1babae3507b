"""Near-duplicate detection: MinHash over character shingles, LSH band keys.

Each article stores its MinHash signature (``minhash``, base64 of NUM_PERM
uint32) and its LSH band keys (``lsh``, an indexed array). Two articles are
candidates when they share a band key — a store query, so every crawler
process writing to the same database sees the same index — and
near-duplicates when their signatures estimate a Jaccard similarity of at
least the threshold.

Text is the Simplified one (``content_text_hans`` or ``content_text``),
normalized as for hashing (NFKC, punctuation folded, whitespace removed,
lowercase), cut into overlapping 5-character shingles: Chinese has no word
breaks, and 5 characters make a shingle rare enough that unrelated articles
share few of them while a small edit touches only 5 shingles.

Cost: the shingles are hashed all at once with numpy (a polynomial hash of
the code points, mixed to 32 bits), and the permutations (multiply-shift
hashes) are one matrix operation. Fewer permutations did not pay: on the
benchmark's generated set 64 lost about a tenth of the recall at the 0.7
threshold (bench/bench_store.py --neardup prints recall and precision of this
scheme and of the earlier datasketch one).
Band keys carry their layout (``<rows>r<band>``) and the scheme (``m2``), so
keys of another scheme or threshold never collide with these (documents signed
by the earlier scheme are not candidates for new ones).
"""
from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import Optional

import numpy as np
from datasketch.lsh import _optimal_param

from kspider.extract.ids import normalize_for_hash

NUM_PERM = 128
SHINGLE_SIZE = 5
DEFAULT_THRESHOLD = 0.7
SCHEME = "m2"
# Verification removes false positives, so the band layout favours recall.
_FALSE_POSITIVE_WEIGHT = 0.2
_FALSE_NEGATIVE_WEIGHT = 0.8
_MAX_HASH = np.uint64((1 << 32) - 1)


def shingles(text: Optional[str], size: int = SHINGLE_SIZE) -> set[str]:
    """Overlapping character shingles of the normalized text (a short text is one shingle)."""
    norm = normalize_for_hash(text or "")
    if not norm:
        return set()
    if len(norm) <= size:
        return {norm}
    return {norm[i : i + size] for i in range(len(norm) - size + 1)}


def shingle_hashes(text: Optional[str], size: int = SHINGLE_SIZE) -> np.ndarray:
    """32-bit hashes of the distinct shingles of the normalized text (empty for empty text)."""
    norm = normalize_for_hash(text or "")
    codes = np.frombuffer(norm.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    if codes.size == 0:
        return codes
    n = max(1, codes.size - size + 1)
    with np.errstate(over="ignore"):
        h = np.zeros(n, dtype=np.uint64)
        for k in range(min(size, codes.size)):
            h = h * np.uint64(1000003) + codes[k : k + n]
        # splitmix64's finalizer: every input bit reaches the low 32 bits.
        h ^= h >> np.uint64(30)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(31)
    return np.unique(h & _MAX_HASH)


def signature(text: Optional[str]) -> Optional[np.ndarray]:
    """MinHash signature (uint32 array of NUM_PERM) of the text, None for empty text."""
    hashes = shingle_hashes(text)
    if hashes.size == 0:
        return None
    a, b = _permutations()
    with np.errstate(over="ignore"):
        # Multiply-shift hashing (a odd, arithmetic mod 2^64, the high 32 bits): one
        # independent-enough permutation per column, all shingles at once, in place.
        values = np.multiply.outer(hashes, a)
        values += b
    # The shift is monotonic: the minimum's high bits are the minimum of the high bits.
    return (values.min(axis=0) >> np.uint64(32)).astype(np.uint32)


@lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    # A fixed seed of numpy's legacy generator (its stream never changes): the same in every process.
    rng = np.random.RandomState(20261201)
    a = rng.randint(0, 1 << 62, NUM_PERM, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.randint(0, 1 << 62, NUM_PERM, dtype=np.uint64)
    return a, b


def encode_signature(sig: np.ndarray) -> str:
    return base64.b64encode(sig.astype("<u4").tobytes()).decode("ascii")


def decode_signature(value: Optional[str]) -> Optional[np.ndarray]:
    """A stored signature back to an array; None when missing or malformed."""
    if not isinstance(value, str):
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        return None
    if len(raw) != NUM_PERM * 4:
        return None
    return np.frombuffer(raw, dtype="<u4")


@lru_cache(maxsize=None)
def band_layout(threshold: float) -> tuple[int, int]:
    """(bands, rows per band) for the threshold, from datasketch's LSH parameter optimiser."""
    return _optimal_param(threshold, NUM_PERM, _FALSE_POSITIVE_WEIGHT, _FALSE_NEGATIVE_WEIGHT)


def band_keys(sig: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> list[str]:
    """The LSH keys of a signature: ``"<scheme>.<rows>r<band>:<hash>"``.

    The layout is part of the key, so documents indexed under another
    threshold never collide with these ones.
    """
    bands, rows = band_layout(threshold)
    data = sig.astype("<u4")
    keys = []
    for band in range(bands):
        chunk = data[band * rows : (band + 1) * rows].tobytes()
        keys.append(f"{SCHEME}.{rows}r{band}:{hashlib.blake2b(chunk, digest_size=8).hexdigest()}")
    return keys


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures (share of equal slots)."""
    return float(np.count_nonzero(a == b)) / float(len(a))
