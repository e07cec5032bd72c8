"""The long-lived objects one app owns, reachable from views as ``services()``."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from flask import current_app

from .handoff import TicketHandoff
from .store import Store
from .throttle import GuessThrottle


@dataclass
class Services:
    store: Store
    throttle: GuessThrottle
    handoff: TicketHandoff
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
