"""Throttling of guesses at ticket codes and passphrases, per client and overall, in memory only.

Nothing is ever locked: a post number or a coordinator's handle has no counter, so someone who
guesses at them cannot keep their owner out (promise 9). What is limited is how often one
client may guess (a short burst, then per hour) and how often everybody together may, which
bounds how long guessing a code takes (README: "Guessing"). A guess is counted before it is
checked, under one lock, so simultaneous guesses cannot slip past a limit; a right one is given
back. A client is its network address, held only as a digest under a key that lives in memory
only, and forgotten once its last counted guess is an hour old; the overall count is only times.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from cachetools import TTLCache

MAX_KEYS = 50_000  # ids remembered at once by a RateLimit
WINDOW = 3600  # the per-client and overall limits count the last hour
BURST_WINDOW = 60  # the burst limit counts the last minute


@dataclass(frozen=True)
class GuessLimits:
    burst: int  # guesses per client in a minute
    per_client: int  # guesses per client in an hour (not for the touchscreen: its burst limit only)
    overall: int  # guesses by everybody together in an hour (the touchscreen's are not counted)


class GuessThrottle:
    def __init__(self, limits: GuessLimits, clock=time.monotonic):
        self.limits = limits
        self._clock = clock  # monotonic: a wall clock that jumps must not reset a count
        self._lock = threading.Lock()
        self._key = secrets.token_bytes(16)  # never stored: once the process ends no digest leads back
        self._clients: dict[str, deque] = {}  # digest -> times of its counted guesses, oldest first
        self._all: deque = deque()

    def client(self, address: str | None) -> str:
        """The digest a client is counted under."""
        return hashlib.blake2b(str(address).encode(), key=self._key, digest_size=12).hexdigest()

    def attempt(self, client: str, overall: bool = True) -> tuple[int, float | None]:
        """Count one guess by ``client`` (and for everybody, if ``overall``): returns (0, a stamp
        for ``refund``) if it may be checked, else (seconds to wait, None), counting nothing."""
        limits, now = self.limits, self._clock()
        with self._lock:
            self._forget(now)
            mine = self._clients.get(client, ())
            waits = []
            # The touchscreen (not ``overall``) has the burst limit only: one person's mistakes
            # there must not keep the next visitor, or a coordinator, out for an hour.
            if overall and len(mine) >= limits.per_client:
                waits.append(mine[-limits.per_client] + WINDOW - now)
            if len(mine) >= limits.burst and mine[-limits.burst] > now - BURST_WINDOW:
                waits.append(mine[-limits.burst] + BURST_WINDOW - now)
            if overall and len(self._all) >= limits.overall:
                waits.append(self._all[-limits.overall] + WINDOW - now)
            if waits:
                return max(1, math.ceil(max(waits))), None
            self._clients.setdefault(client, deque()).append(now)
            if overall:
                self._all.append(now)
            return 0, now

    def refund(self, client: str, stamp: float, overall: bool = True) -> None:
        """Take back a guess that was right: the owner of a code is never counted."""
        with self._lock:
            mine = self._clients.get(client)
            for spent in (mine, self._all if overall else None):
                try:
                    spent.remove(stamp)
                except (AttributeError, ValueError):  # forgotten meanwhile (an hour-long check?)
                    pass
            if mine is not None and not mine:
                del self._clients[client]

    def _forget(self, now: float) -> None:
        # At most one entry per counted guess of the last hour exists (the overall limit bounds
        # them), so looking at all of them on each guess is cheap, and nothing outlives its hour.
        old = now - WINDOW
        while self._all and self._all[0] <= old:
            self._all.popleft()
        for client in list(self._clients):
            times = self._clients[client]
            while times and times[0] <= old:
                times.popleft()
            if not times:
                del self._clients[client]

    def remembered(self) -> int:
        """How many clients are counted now: what the memory holds about anyone."""
        with self._lock:
            self._forget(self._clock())
            return len(self._clients)


class ClientGuesses:
    """One client's guesses at one throttle, for the rules that check a code or passphrase.
    ``attempt`` and ``succeeded`` take what was guessed at only to read well at the call: it is
    not counted, so no post or handle is ever locked."""

    def __init__(self, throttle: GuessThrottle, client: str, overall: bool = True):
        self.throttle, self.client, self.overall = throttle, client, overall
        self._stamp: float | None = None

    def attempt(self, _target=None) -> int:
        """0 if the guess may be checked (it is counted until ``succeeded``), else seconds to wait."""
        wait, self._stamp = self.throttle.attempt(self.client, self.overall)
        return wait

    def succeeded(self, _target=None) -> None:
        if self._stamp is not None:
            self.throttle.refund(self.client, self._stamp, self.overall)
            self._stamp = None


def guesses(throttle: GuessThrottle) -> ClientGuesses:
    """This request's client at ``throttle``: its address, or the touchscreen, which has its own
    limits but is kept out of the overall count (people standing at it in the room cannot
    flood it, and a flood from the Wi-Fi must not keep them out)."""
    from flask import current_app, request

    from .pagecache import from_touchscreen

    screen = from_touchscreen(current_app.config, request.remote_addr)
    return ClientGuesses(throttle, throttle.client("touchscreen" if screen else request.remote_addr), overall=not screen)


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
