"""The long-lived objects one app owns, reachable from views as ``services()``."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import current_app

from ..core.clock import GuardedClock
from ..core.store import Store
from .exchange.jobs import ExportJobs
from .budget import Budget, make_budgets
from .feature import Registry
from .handoff import SubmitOnce, TicketHandoff, Unlocks
from .pagecache import PageCache
from .throttle import GuessThrottle, RateLimit


@dataclass
class Services:
    store: Store
    registry: Registry
    throttle: GuessThrottle  # ticket and loan codes
    coord_throttle: GuessThrottle  # coordinators' passphrases
    clock: GuardedClock
    limits: dict[str, RateLimit]  # by the names features declare
    budgets: dict[str, Budget | None] = field(default_factory=lambda: make_budgets(1))  # anonymous writes
    handoff: TicketHandoff = field(default_factory=TicketHandoff)
    once: SubmitOnce = field(default_factory=SubmitOnce)
    unlocks: Unlocks = field(default_factory=Unlocks)
    coord_unlocks: Unlocks = field(default_factory=Unlocks)
    pages: PageCache = field(default_factory=PageCache)
    jobs: ExportJobs = field(default_factory=ExportJobs)  # background exports, for their progress page
    upkeep_lock: threading.Lock = field(default_factory=threading.Lock)
    upkeep_due: float = 0.0  # time.monotonic() of the next expiry/erasure sweep
    sealed_at_start: Any = None  # what sealing.seal_plain did at start, for `kiosk serve` to say

    def upkeep_is_due(self, every: float) -> bool:
        now = time.monotonic()
        if now < self.upkeep_due or not self.upkeep_lock.acquire(blocking=False):
            return False
        self.upkeep_due = now + every
        return True

    def remember(self, name: str, key: Any, make: Callable[[], Any]) -> Any:
        """``make()``'s value, worked out once per store version and ``key`` (Store.memo)."""
        return self.store.memo((name, key), make)


def services() -> Services:
    return current_app.extensions["kiosk"]


def now():
    """The kiosk's guarded time (core/clock.py): use it for every date the kiosk records."""
    return services().clock.now()


def limit(name: str) -> RateLimit:
    """A rate limit a feature declared (``Feature.limits``)."""
    return services().limits[name]
