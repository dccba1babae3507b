"""Spill files: items that could not be written, kept as JSON Lines until recovery.

One file per writing process: ``<SPILL_DIR>/spill-<host>-<pid>-<token>.jsonl``.
Each line is ``{"v": 1, "collection": "articles", "doc": {...the item...},
"error": "...", "spilled_at": "<UTC ISO>"}``. A recovering process claims a
file by renaming it to ``….jsonl.recovering-<pid>`` (atomic, so two processes
never replay the same file), replays it, and deletes it. Lines that are not
valid JSON go to ``rejected.jsonl`` so that recovery cannot loop on them.
"""
from __future__ import annotations

import json
import logging
import os
import re
import socket
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Optional

logger = logging.getLogger(__name__)

SPILL_FORMAT_VERSION = 1
_NAME = re.compile(r"^spill-(?P<host>.+)-(?P<pid>\d+)-(?P<token>[0-9a-f]+)\.jsonl(?:\.recovering-(?P<claimer>\d+))?$")
REJECTED_NAME = "rejected.jsonl"


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SpillWriter:
    """Appends spilled items to this process's spill file (created on first use)."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.path: Optional[Path] = None
        self.count = 0
        self.paths: list[Path] = []  # every file this writer started

    def _new_path(self) -> Path:
        host = re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname()) or "host"
        return self.directory / f"spill-{host}-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"

    def write(self, entries: list[tuple[str, dict[str, Any]]], error: str) -> int:
        """Append (collection, doc) entries; flushed and fsynced before returning."""
        if not entries:
            return 0
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.path is None:
            self.path = self._new_path()
            self.paths.append(self.path)
        stamp = utc_now_iso()
        with open(self.path, "a", encoding="utf-8") as fh:
            for collection, doc in entries:
                line = {"v": SPILL_FORMAT_VERSION, "collection": collection, "doc": doc, "error": error, "spilled_at": stamp}
                fh.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.count += len(entries)
        return len(entries)

    def rotate(self) -> None:
        """Start a new file for the next spill (the current one becomes recoverable)."""
        self.path = None

    def reject(self, raw: str, reason: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / REJECTED_NAME, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"reason": reason, "raw": raw, "at": utc_now_iso()}, ensure_ascii=False) + "\n")


def recoverable_files(directory: str | Path, own_current: Optional[Path] = None) -> list[Path]:
    """Spill files no live process is writing or recovering, oldest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = _NAME.match(path.name)
        if not match or path == own_current:
            continue
        host_here = match["host"] == re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname())
        owner = int(match["claimer"] or match["pid"])
        # Files of live processes on this host are still being written or recovered.
        if host_here and owner != os.getpid() and _pid_alive(owner):
            continue
        found.append(path)
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def claim(path: Path) -> Optional[Path]:
    """Rename a spill file to mark it as being recovered by this process; None if another took it."""
    base = path.name.split(".recovering-")[0]
    target = path.with_name(f"{base}.recovering-{os.getpid()}")
    try:
        os.rename(path, target)
    except FileNotFoundError:
        return None
    return target


def read_entries(path: Path, writer: SpillWriter) -> Iterator[tuple[str, dict[str, Any]]]:
    """(collection, doc) of each valid line; malformed lines are moved to the rejected file."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        for raw in fh:
            raw = raw.strip()
            if not raw:
                continue
            try:
                line = json.loads(raw)
                collection, doc = line["collection"], line["doc"]
            except (ValueError, KeyError, TypeError):
                logger.error("store: unreadable spill line in %s moved to %s", path, REJECTED_NAME)
                writer.reject(raw, "unreadable spill line")
                continue
            if isinstance(collection, str) and isinstance(doc, dict):
                yield collection, doc
            else:
                writer.reject(raw, "spill line without collection/doc")
