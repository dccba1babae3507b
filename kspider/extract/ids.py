"""Stable identifiers: document `_id`s and content hashes."""
from __future__ import annotations

import hashlib
import re
import unicodedata

from w3lib.url import canonicalize_url


def canonical_url(url: str) -> str:
    """The canonical form of a URL (w3lib: sorted query, no fragment, %-encoding normalized)."""
    return canonicalize_url(url.strip())


def url_fingerprint(url: str) -> str:
    """`_id` of an article: SHA-1 of its canonical URL, hex, 40 chars."""
    return hashlib.sha1(canonical_url(url).encode("utf-8")).hexdigest()


_WS = re.compile(r"\s+")
_PUNCT_FOLD = str.maketrans({"，": ",", "。": ".", "：": ":", "；": ";", "！": "!", "？": "?", "（": "(", "）": ")"})


def normalize_for_hash(text: str) -> str:
    """Text as compared for identity: NFKC, punctuation folded, all whitespace removed."""
    text = unicodedata.normalize("NFKC", text or "").translate(_PUNCT_FOLD)
    return _WS.sub("", text).lower()


def text_fingerprint(text: str) -> str:
    """Hash of normalized text (`content_hash`, and the `_id` of a rental ad)."""
    return hashlib.sha1(normalize_for_hash(text).encode("utf-8")).hexdigest()


def is_robots_txt(url: str) -> bool:
    """Whether a URL is a site's robots.txt (fetched by Scrapy itself, not a page of the site)."""
    return url.split("?", 1)[0].endswith("/robots.txt")
