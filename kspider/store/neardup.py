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

Cost: a whole batch is signed at once (``signatures``): its texts are
normalized, joined into one array of code points, and every shingle of every
text is hashed by the same few numpy operations (a polynomial hash of the code
points, mixed to 32 bits); the permutations (multiply-shift hashes) are then
one matrix operation per text, into a reused buffer, and the minimum needs no
deduplication of the shingles first. Fewer permutations did not pay: on the
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
import re
import unicodedata
from functools import lru_cache
from typing import Optional, Sequence

import numpy as np
from datasketch.lsh import _optimal_param

from kspider.extract.ids import _PUNCT_FOLD, normalize_for_hash

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


_WHITESPACE = re.compile(r"\s+")
# normalize_for_hash's punctuation fold, done with str.replace on the joined texts (the
# characters are rare): str.translate looks every CJK character up in a dict, which was most of
# the normalization's cost. The fold maps to ASCII punctuation, which neither whitespace removal
# nor lowercasing touches, so doing it last gives the same text.
_FOLD = tuple((chr(src), dst) for src, dst in _PUNCT_FOLD.items())
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _normalized_codes(texts: Sequence[Optional[str]]) -> tuple[np.ndarray, list[int]]:
    """The code points of the texts as ``normalize_for_hash`` leaves them, joined; each text's length."""
    norms = [_WHITESPACE.sub("", unicodedata.normalize("NFKC", t or "")).lower() for t in texts]
    joined = "".join(norms)
    for src, dst in _FOLD:
        if src in joined:
            joined = joined.replace(src, dst)
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    return codes, [len(n) for n in norms]


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer, in place: every input bit reaches the low 32 bits (which are kept)."""
    with np.errstate(over="ignore"):
        h ^= h >> np.uint64(30)
        h *= _MIX1
        h ^= h >> np.uint64(27)
        h *= _MIX2
        h ^= h >> np.uint64(31)
    h &= _MAX_HASH
    return h


def _window_hashes(codes: np.ndarray, size: int) -> np.ndarray:
    """Polynomial hash of each window of `size` code points starting at 0 … len-size (mixed)."""
    n = codes.size - size + 1
    with np.errstate(over="ignore"):
        h = codes[:n].copy()
        for k in range(1, size):
            h *= np.uint64(1000003)
            h += codes[k : k + n]
    return _mix(h)


def shingle_hashes(text: Optional[str], size: int = SHINGLE_SIZE) -> np.ndarray:
    """32-bit hashes of the distinct shingles of the normalized text (empty for empty text)."""
    codes, _ = _normalized_codes([text])
    if codes.size == 0:
        return codes
    return np.unique(_window_hashes(codes, min(size, int(codes.size))))


def signature(text: Optional[str]) -> Optional[np.ndarray]:
    """MinHash signature (uint32 array of NUM_PERM) of the text, None for empty text."""
    return signatures([text])[0]


def signatures(texts: Sequence[Optional[str]]) -> list[Optional[np.ndarray]]:
    """MinHash signatures of many texts at once (see the module doc); None for an empty text."""
    codes, lengths = _normalized_codes(texts)
    size = SHINGLE_SIZE
    # Every window of the joined text; a text's shingles are the windows that start and end in it.
    windows = _window_hashes(codes, size) if codes.size >= size else codes[:0]
    a, b = _permutations()
    buffer = np.empty((max(lengths, default=0), NUM_PERM), dtype=np.uint64)
    result: list[Optional[np.ndarray]] = []
    start = 0
    for length in lengths:
        if length >= size:
            hashes = windows[start : start + length - size + 1]
        elif length:  # shorter than a shingle: the whole text is one
            hashes = _window_hashes(codes[start : start + length], length)
        else:
            result.append(None)
            continue
        start += length
        values = buffer[: hashes.size]
        with np.errstate(over="ignore"):
            # Multiply-shift hashing (a odd, arithmetic mod 2^64, the high 32 bits): one
            # independent-enough permutation per column, all shingles at once.
            np.multiply.outer(hashes, a, out=values)
            values += b
        # The shift is monotonic: the minimum's high bits are the minimum of the high bits.
        result.append((values.min(axis=0) >> np.uint64(32)).astype(np.uint32))
    return result


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
    raw = sig.astype("<u4").tobytes()
    width = band_layout(threshold)[1] * 4
    blake2b = hashlib.blake2b
    return [prefix + blake2b(raw[i * width : (i + 1) * width], digest_size=8).hexdigest()
            for i, prefix in enumerate(_key_prefixes(threshold))]


@lru_cache(maxsize=None)
def _key_prefixes(threshold: float) -> tuple[str, ...]:
    bands, rows = band_layout(threshold)
    return tuple(f"{SCHEME}.{rows}r{band}:" for band in range(bands))


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures (share of equal slots)."""
    return float(np.count_nonzero(a == b)) / float(len(a))
