"""The kiosk's own idea of "now", guarded against a wall clock that jumps.

A Raspberry Pi has no real-time clock and no internet: it wakes up in the past, and a wrong
date typed in can throw it years ahead. Expiry, retention and statistics must survive both. So
the kiosk keeps an *effective* time that:
- follows the wall clock while the wall clock moves at the pace of real (monotonic) time;
- otherwise advances at the pace of real time from the last good reading, and says the wall
  clock is suspect (``/healthz`` shows it; a coordinator can set the time later);
- across a restart, accepts a forward step of up to MAX_RESTART_STEP (the box was off for a
  few days) and never goes backwards.
The effective time is saved in the store at every upkeep.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

from .store import Store
from .times import iso, parse_iso, utcnow

SLACK = dt.timedelta(minutes=10)
MAX_RESTART_STEP = dt.timedelta(days=7)
META_KEY = "clock"


wall_now = utcnow


class GuardedClock:
    def __init__(self, store: Store, wall=None, mono=time.monotonic):
        self._store = store
        self._wall = wall or (lambda: wall_now())
        self._mono = mono
        self._lock = threading.Lock()
        wall_time = self._wall()
        saved = store.get_meta(META_KEY)
        start, self.suspect = wall_time, False
        if saved:
            last = parse_iso(saved)
            if wall_time < last or wall_time - last > MAX_RESTART_STEP:
                start, self.suspect = last, True
        self._base = start
        self._base_mono = mono()

    def now(self) -> dt.datetime:
        with self._lock:
            expected = self._base + dt.timedelta(seconds=self._mono() - self._base_mono)
            wall_time = self._wall()
            if abs(wall_time - expected) <= SLACK:
                # The wall clock agrees with real time again: follow it (and trust it).
                self._base, self._base_mono, self.suspect = wall_time, self._mono(), False
                return wall_time
            self.suspect = True
            return expected.replace(microsecond=0)

    def set(self, moment: dt.datetime) -> None:
        """A person says what time it is (coordinator screen, later): believe them."""
        with self._lock:
            self._base, self._base_mono, self.suspect = moment, self._mono(), False
        self.save()

    def save(self) -> None:
        self._store.set_meta(META_KEY, iso(self.now()))

    def offset_seconds(self) -> int:
        return int((self._wall() - self.now()).total_seconds())
