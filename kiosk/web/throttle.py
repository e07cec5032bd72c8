"""Throttling of ticket-code guesses, per post and overall, kept in memory only.

Nothing about who guessed is recorded: no IP address, no cookie, no time per person. A
post that collects ``limit`` wrong codes inside ``window`` seconds is locked for a while,
and each further lock-out doubles; many wrong codes across all posts pause every check.
Every map forgets its keys after their time (cachetools' TTLCache), so memory stays bounded
however many ids are tried.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from cachetools import TTLCache

MAX_KEYS = 50_000  # ids remembered at once; the overall limit makes filling this take a day


class GuessThrottle:
    def __init__(self, limit: int, window: float, global_limit: int, clock=time.monotonic,
                 max_lock: float = 3600):
        self.limit = limit
        self.max_lock = max_lock  # doubling stops here: nobody is locked out for days
        self.window = window
        self.global_limit = global_limit
        self._clock = clock  # monotonic: a wall clock that jumps must not unlock anything
        self._lock = threading.Lock()
        self._failures: TTLCache = TTLCache(MAX_KEYS, window, timer=clock)
        self._locked_until: TTLCache = TTLCache(MAX_KEYS, max_lock, timer=clock)
        # A key's doubling starts over once it has been quiet for the longest lock-out.
        self._lockouts: TTLCache = TTLCache(MAX_KEYS, max_lock + window, timer=clock)
        self._global: deque = deque()

    def attempt(self, key: str | None) -> int:
        """Ask to check one guess for ``key``. Returns seconds to wait (nothing is counted), or
        0: the guess is counted as a failure at once, under the same lock, so simultaneous
        guesses cannot slip past the limit; ``succeeded`` takes it back."""
        now = self._clock()
        with self._lock:
            self._expire(now)
            waits = [0.0]
            if len(self._global) >= self.global_limit:
                waits.append(self._global[0] + self.window / 10 - now)
            if key is not None:
                waits.append(self._locked_until.get(key, 0) - now)
            wait = max(0, int(max(waits) + 0.999))
            if wait:
                return wait
            self._global.append(now)
            if key is not None:
                tries = self._failures.get(key) or deque()
                tries.append(now)
                self._failures[key] = tries  # stored again: its time starts anew
                while tries and tries[0] < now - self.window:
                    tries.popleft()
                if len(tries) >= self.limit:
                    count = self._lockouts.get(key, 0)
                    self._lockouts[key] = count + 1
                    self._locked_until[key] = now + min(self.window * (2 ** min(count, 20)), self.max_lock)
                    tries.clear()
            return 0

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
            self._lockouts.pop(key, None)
            self._locked_until.pop(key, None)
            if self._global:
                self._global.pop()  # the right code was not a guess

    def _expire(self, now: float) -> None:
        # The overall counter only looks back a tenth of the window so a flood pauses
        # checks briefly rather than locking honest people out for long.
        while self._global and self._global[0] < now - self.window / 10:
            self._global.popleft()
        self._failures.expire()
        self._locked_until.expire()
        self._lockouts.expire()


class RateLimit:
    """At most ``limit`` actions per key within ``window`` seconds (replies per post, messages
    per ticket, reports per target). Memory only; keys are ids, never people."""

    def __init__(self, limit: int, window: float = 3600, clock=time.monotonic):
        self.limit = limit
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._hits: TTLCache = TTLCache(MAX_KEYS, window, timer=clock)

    def hit(self, key: str) -> int:
        """Count one action for ``key``: 0 if allowed, else the seconds until it will be."""
        now = self._clock()
        with self._lock:
            hits = self._hits.get(key) or deque()
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1, int(hits[0] + self.window - now + 0.999))
            hits.append(now)
            self._hits[key] = hits  # stored again: kept for a window after the last action
            return 0
