"""Hands a fresh ticket code from the posting request to the ticket page, once.

The code may not be stored nor put in the session cookie, yet the ticket lives at its own
URL (/ticket/<id>) so that reloading or printing does not re-post. The posting request leaves
the code here, in memory, for a few minutes; the first view of the ticket takes it away.
"""

from __future__ import annotations

import threading
import time


class TicketHandoff:
    def __init__(self, ttl: float = 300, clock=time.monotonic):
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, tuple[str, float]] = {}

    def leave(self, key: str, code: str) -> None:
        with self._lock:
            self._drop_stale()
            self._codes[key] = (code, self._clock() + self.ttl)

    def take(self, key: str) -> str | None:
        with self._lock:
            self._drop_stale()
            entry = self._codes.pop(key, None)
            return entry[0] if entry else None

    def forget(self, key: str) -> None:
        with self._lock:
            self._codes.pop(key, None)

    def _drop_stale(self) -> None:
        now = self._clock()
        for key in [k for k, (_, until) in self._codes.items() if until < now]:
            del self._codes[key]
