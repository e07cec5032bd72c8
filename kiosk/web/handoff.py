"""Short-lived, in-memory hand-overs between requests of one browser.

``TicketHandoff``: a fresh ticket code goes from the posting request to the ticket page, once.
The code may not be stored nor put in the session cookie, yet the ticket lives at its own URL
(/ticket/<id>) so that reloading or printing does not re-post. The posting request leaves the
code here under a random key that only this browser's session knows; the first view takes it.

``SubmitOnce``: a double tap on "Post" sends the form twice. The first request does the work;
the second waits for it and is sent to the same ticket, so no post is left without its code.
"""

from __future__ import annotations

import threading
import time


class TicketHandoff:
    def __init__(self, ttl: float = 300, clock=time.monotonic):
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, tuple[str, str, float]] = {}

    def leave(self, key: str, post_id: str, code: str, ttl: float | None = None) -> None:
        with self._lock:
            self._drop_stale()
            self._codes[key] = (post_id, code, self._clock() + (self.ttl if ttl is None else ttl))

    def take(self, key: str, post_id: str) -> str | None:
        """The code left under ``key`` for ``post_id``, removed; None if there is none."""
        with self._lock:
            self._drop_stale()
            entry = self._codes.get(key)
            if entry is None or entry[0] != post_id:
                return None
            del self._codes[key]
            return entry[1]

    def forget(self, key: str) -> None:
        with self._lock:
            self._codes.pop(key, None)

    def _drop_stale(self) -> None:
        now = self._clock()
        for key in [k for k, entry in self._codes.items() if entry[2] < now]:
            del self._codes[key]


class _Submission:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: str | None = None


class SubmitOnce:
    def __init__(self, ttl: float = 600, clock=time.monotonic):
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[_Submission, float]] = {}

    def begin(self, key: str) -> tuple[bool, _Submission]:
        """(True, s) for the first request with ``key``; (False, s) for a repeat."""
        with self._lock:
            now = self._clock()
            for old in [k for k, (_, until) in self._seen.items() if until < now]:
                del self._seen[old]
            if key in self._seen:
                return False, self._seen[key][0]
            submission = _Submission()
            self._seen[key] = (submission, now + self.ttl)
            return True, submission

    def finish(self, key: str, submission: _Submission, result: str) -> None:
        submission.result = result
        submission.done.set()

    def cancel(self, key: str, submission: _Submission) -> None:
        """The first request stored nothing (bad input): a repeat may try again."""
        with self._lock:
            self._seen.pop(key, None)
        submission.done.set()


class Unlocks:
    """Which browsers have unlocked which post at /mine, and when they last used it.

    Kept in memory with a monotonic clock, so neither a wall clock that jumps nor a copied
    cookie can keep a post unlocked; a restart locks everything."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[object, float]] = {}

    def unlock(self, key: str, what, idle_seconds: float | None = None) -> None:
        """``what`` (it may hold a private key) is forgotten ``idle_seconds`` after its last use,
        by a timer: not only when someone next comes, which on a quiet night is the morning."""
        with self._lock:
            self._seen[key] = (what, self._clock())
        if idle_seconds is not None:
            self._forget_later(key, idle_seconds, idle_seconds)

    def _forget_later(self, key: str, idle_seconds: float, delay: float) -> None:
        timer = threading.Timer(delay + 1, self._forget_if_idle, args=(key, idle_seconds))
        timer.daemon = True
        timer.start()

    def _forget_if_idle(self, key: str, idle_seconds: float) -> None:
        with self._lock:
            entry = self._seen.get(key)
            if entry is None:
                return
            left = entry[1] + idle_seconds - self._clock()
            if left <= 0:
                del self._seen[key]
                return
        self._forget_later(key, idle_seconds, left)  # used meanwhile: look again when it may be idle

    def use(self, key: str, idle_seconds: float):
        """What was unlocked under ``key`` if used within ``idle_seconds``; refreshes it."""
        now = self._clock()
        with self._lock:
            for old in [k for k, (_, at) in self._seen.items() if now - at > idle_seconds]:
                del self._seen[old]
            entry = self._seen.get(key)
            if entry is None:
                return None
            self._seen[key] = (entry[0], now)
            return entry[0]

    def lock(self, key: str) -> None:
        with self._lock:
            self._seen.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()

    def drop_where(self, unlocked_what) -> None:
        """Forget every unlock whose ``what`` the predicate picks (a removed coordinator's)."""
        with self._lock:
            for key in [k for k, (what, _) in self._seen.items() if unlocked_what(what)]:
                del self._seen[key]
