"""The long-lived objects one app owns, reachable from views as ``services()``."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from flask import current_app

from .clock import GuardedClock
from .pagecache import PageCache
from .handoff import SubmitOnce, TicketHandoff, Unlocks
from .store import Store
from .throttle import GuessThrottle, RateLimit


@dataclass
class Services:
    store: Store
    throttle: GuessThrottle
    handoff: TicketHandoff
    clock: GuardedClock
    once: SubmitOnce = field(default_factory=SubmitOnce)
    unlocks: Unlocks = field(default_factory=Unlocks)
    reply_limit: RateLimit | None = None
    message_limit: RateLimit | None = None
    report_limit: RateLimit | None = None
    coord_unlocks: Unlocks = field(default_factory=Unlocks)
    coord_throttle: GuessThrottle | None = None
    pages: PageCache = field(default_factory=PageCache)
    jobs: dict = field(default_factory=dict)
    stats_cache: dict = field(default_factory=dict)  # background exports, by id, for the progress page
    upkeep_lock: threading.Lock = field(default_factory=threading.Lock)
    upkeep_due: float = 0.0  # time.monotonic() of the next expiry/erasure sweep

    def upkeep_is_due(self, every: float) -> bool:
        now = time.monotonic()
        if now < self.upkeep_due or not self.upkeep_lock.acquire(blocking=False):
            return False
        self.upkeep_due = now + every
        return True


def services() -> Services:
    return current_app.extensions["kiosk"]


def now():
    """The kiosk's guarded time (see clock.py): use it for every date the kiosk records."""
    return services().clock.now()
