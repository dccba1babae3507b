"""Whether the store is up: one failed call marks it down, a background thread brings it back.

Owns the outage rule: after a call fails (``Unavailable``) the store is
*down*; while down, no call on the crawl's path touches the backend (writes
spill at once, lookups answer "unknown"), so a crawl waits out at most one
timeout per outage. A daemon thread pings the backend with exponential
backoff (``STORE_RETRY_S`` doubling up to ``STORE_RETRY_MAX_S``); once it
answers, the next call on the crawl's path sees the store *back*, and the
store writes what was spilled before anything else.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable, Optional

from kspider.store.backend import Unavailable

logger = logging.getLogger(__name__)

UP, DOWN, BACK = "up", "down", "back"


class Health:
    def __init__(self, ping: Callable[[], None], count: Callable[[str, int], None], retry_s: float = 1.0,
                 retry_max_s: float = 60.0, where: str = "store"):
        self._ping = ping
        self._count = count
        self.retry_s = retry_s
        self.retry_max_s = retry_max_s
        self.where = where
        self.down = False
        self._back = threading.Event()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def state(self) -> str:
        """UP, DOWN, or BACK (down until now, answering again: the caller writes the spill first)."""
        if not self.down:
            return UP
        if self._back.is_set():
            self._back.clear()
            self.down = False
            self._count("up", 1)
            logger.warning("store: %s answers again", self.where)
            return BACK
        return DOWN

    def failed(self, exc: BaseException) -> None:
        """A call on the crawl's path failed: count it, mark the store down, start retrying."""
        self._count("failed_calls", 1)
        if isinstance(exc, Unavailable) and exc.timed_out:
            self._count("timeouts", 1)
        if self.down:
            return
        self.down = True
        self._back.clear()
        self._count("down", 1)
        logger.error("store: %s is unreachable (%s); spilling writes and answering lookups with "
                     "'unknown' until it answers again (retried in the background)", self.where, exc)
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._retry, name="kspider-store-retry", daemon=True)
            self._thread.start()

    def retry_now(self) -> bool:
        """Ping once; True (and BACK on the next ``state()``) when the backend answers."""
        try:
            self._ping()
        except Exception:  # still down: any failure of the ping means the same
            return False
        self._back.set()
        return True

    def _retry(self) -> None:
        delay = self.retry_s
        while self.down and not self._stop.wait(delay):
            if self.retry_now():
                return
            delay = min(delay * 2, self.retry_max_s)

    def close(self) -> None:
        self._stop.set()
