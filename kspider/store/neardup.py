"""Near-duplicate detection: MinHash over character shingles, LSH band keys.

Each article stores its MinHash signature (``minhash``, base64 of 128 uint32)
and its LSH band keys (``lsh``, an indexed array). Two articles are candidates
when they share a band key — a store query, so every crawler process writing
to the same database sees the same index — and near-duplicates when their
signatures estimate a Jaccard similarity of at least the threshold.

Text is the Simplified one (``content_text_hans`` or ``content_text``),
normalized as for hashing (NFKC, punctuation folded, whitespace removed,
lowercase), cut into overlapping 5-character shingles: Chinese has no word
breaks, and 5 characters make a shingle rare enough that unrelated articles
share few of them while a small edit touches only 5 shingles.
"""
from __future__ import annotations

import base64
import hashlib
import zlib
from functools import lru_cache
from typing import Optional

import numpy as np
from datasketch import MinHash
from datasketch.lsh import _optimal_param

from kspider.extract.ids import normalize_for_hash

NUM_PERM = 128
SHINGLE_SIZE = 5
DEFAULT_THRESHOLD = 0.7
# Verification removes false positives, so the band layout favours recall.
_FALSE_POSITIVE_WEIGHT = 0.2
_FALSE_NEGATIVE_WEIGHT = 0.8


def shingles(text: Optional[str], size: int = SHINGLE_SIZE) -> set[str]:
    """Overlapping character shingles of the normalized text (a short text is one shingle)."""
    norm = normalize_for_hash(text or "")
    if not norm:
        return set()
    if len(norm) <= size:
        return {norm}
    return {norm[i : i + size] for i in range(len(norm) - size + 1)}


def signature(text: Optional[str]) -> Optional[np.ndarray]:
    """MinHash signature (uint32 array of NUM_PERM) of the text, None for empty text."""
    grams = shingles(text)
    if not grams:
        return None
    # Shingles are hashed with CRC-32 before MinHash's permutations: stable across
    # processes and several times faster than datasketch's default SHA-1.
    mh = MinHash(num_perm=NUM_PERM, hashfunc=zlib.crc32, permutations=_permutations(), scheme="affine32")
    mh.update_batch([g.encode("utf-8") for g in grams])
    return mh.hashvalues.astype(np.uint32)


@lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    # datasketch draws these from its fixed seed on every MinHash(); draw them once.
    return MinHash(num_perm=NUM_PERM, scheme="affine32").permutations


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
    """The LSH keys of a signature: ``"<rows>r<band>:<hash>"``.

    The layout is part of the key, so documents indexed under another
    threshold never collide with these ones.
    """
    bands, rows = band_layout(threshold)
    data = sig.astype("<u4")
    keys = []
    for band in range(bands):
        chunk = data[band * rows : (band + 1) * rows].tobytes()
        keys.append(f"{rows}r{band}:{hashlib.sha1(chunk).hexdigest()[:16]}")
    return keys


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures (share of equal slots)."""
    return float(np.count_nonzero(a == b)) / float(len(a))
