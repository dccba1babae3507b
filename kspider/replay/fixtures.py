"""Fixture sets (README, "Replay"): loading, lookup and writing.

A fixture set is a directory with ``manifest.jsonl`` and the bodies. A replay
directory may hold several sets in subdirectories; all their manifests load.
URLs match after ``w3lib.url.canonicalize_url``.
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Optional, Union
from urllib.parse import urlsplit

from w3lib.url import canonicalize_url

logger = logging.getLogger(__name__)

MANIFEST = "manifest.jsonl"
HeaderValue = Union[str, list]


def match_key(url: str) -> str:
    """The key URLs are matched by: canonical form, without the fragment."""
    return canonicalize_url(url.strip(), keep_fragments=False)


@dataclass
class Exchange:
    """One recorded request/response exchange."""

    url: str
    status: int
    headers: dict[str, HeaderValue] = field(default_factory=dict)
    body_path: Optional[Path] = None

    def body(self) -> bytes:
        if self.body_path is None:
            return b""
        return self.body_path.read_bytes()

    def header_items(self) -> list[tuple[str, str]]:
        """Headers as (name, value) pairs; a list value gives one pair per entry."""
        pairs: list[tuple[str, str]] = []
        for name, value in self.headers.items():
            for v in value if isinstance(value, list) else [value]:
                pairs.append((name, str(v)))
        return pairs


class FixtureIndex:
    """Every exchange of every fixture set below a directory, by canonical URL."""

    def __init__(self, exchanges: Iterable[Exchange] = ()) -> None:
        self._by_key: dict[str, Exchange] = {}
        for ex in exchanges:
            self.add(ex)

    def add(self, ex: Exchange) -> None:
        # The last exchange recorded for a URL wins, as in a later re-recording.
        self._by_key[match_key(ex.url)] = ex

    @classmethod
    def load(cls, root: Union[str, Path]) -> "FixtureIndex":
        root = Path(root)
        index = cls()
        manifests = sorted(root.rglob(MANIFEST)) if root.is_dir() else []
        if not manifests:
            logger.warning("replay: no %s found under %s", MANIFEST, root)
        for manifest in manifests:
            base = manifest.parent
            with manifest.open(encoding="utf-8") as fh:
                for lineno, line in enumerate(fh, 1):
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        rec = json.loads(line)
                        body = rec.get("body")
                        index.add(
                            Exchange(
                                url=rec["url"],
                                status=int(rec.get("status", 200)),
                                headers=dict(rec.get("headers") or {}),
                                body_path=(base / body) if body else None,
                            )
                        )
                    except (ValueError, KeyError, TypeError) as exc:
                        logger.error("replay: bad manifest line %s:%d: %s", manifest, lineno, exc)
        return index

    def lookup(self, url: str) -> Optional[Exchange]:
        return self._by_key.get(match_key(url))

    def urls(self) -> list[str]:
        return [ex.url for ex in self._by_key.values()]

    def __len__(self) -> int:
        return len(self._by_key)

    def __contains__(self, url: str) -> bool:
        return match_key(url) in self._by_key


def body_relpath(url: str) -> str:
    """Where a URL's body is stored inside a set: host/path[?query-hash], index.html for '/'."""
    import hashlib

    parts = urlsplit(url)
    path = parts.path or "/"
    if path.endswith("/"):
        path += "index.html"
    rel = (parts.hostname or "unknown-host") + path
    if parts.query:
        rel += "__" + hashlib.sha1(parts.query.encode()).hexdigest()[:12]
    # Keep the path inside the set whatever the URL holds.
    safe = [seg for seg in rel.split("/") if seg not in ("", ".", "..")]
    return "/".join(safe)


class FixtureWriter:
    """Appends exchanges to a fixture set in the replayable format (thread-safe)."""

    def __init__(self, root: Union[str, Path]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._used: set[str] = set()

    def write(self, url: str, status: int, headers: Mapping[str, HeaderValue], body: bytes) -> Path:
        rel: Optional[str] = None
        if body or not (300 <= status < 400):
            rel = body_relpath(url)
            with self._lock:
                # Two URLs can map to one path (e.g. /a and /a/index.html): number the later one.
                candidate, n = rel, 1
                while candidate in self._used:
                    n += 1
                    candidate = f"{rel}.{n}"
                self._used.add(candidate)
                rel = candidate
            target = self.root / rel
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.is_dir():
                    raise NotADirectoryError(str(target))
            except (NotADirectoryError, FileExistsError):
                # A file and a directory want the same name (/index.php vs /index.php/post/1.html).
                import hashlib

                rel = "_bodies/" + hashlib.sha1(url.encode()).hexdigest()
                target = self.root / rel
                target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
        record = {"url": url, "status": status, "headers": dict(headers), "body": rel}
        line = json.dumps(record, ensure_ascii=False)
        with self._lock, (self.root / MANIFEST).open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        return self.root / MANIFEST
