"""Anonymous writes are budgeted: each kind (a post, a reply, a message, a report, a check-in, a
survey answer, an "I'll come") has a limit per browser session and one for everybody, per hour; so do a ticket holder's
changes to their post (each one is written whole to the journal).

The limits sit far above what a neighborhood does by honest use (README: "Write budgets") and
exist so that one browser, or a script, cannot fill the kiosk's storage or slow every later
write. A session is known only by a digest of its CSRF token, kept in memory for the hour and
never written anywhere; the overall count is only times. A refused write stores nothing and
answers with a page saying when to try again.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from functools import wraps

from cachetools import TTLCache
from flask import current_app, make_response, render_template, request, session
from flask_babel import ngettext

from .pagecache import from_touchscreen
from .throttle import MAX_KEYS

WINDOW = 3600
# name: (per session, overall), per hour, before KIOSK_WRITE_BUDGET_SCALE.
BUDGETS = {
    "post": (10, 300),
    "reply": (20, 600),
    "message": (60, 1200),
    "report": (10, 200),
    "checkin": (6, 600),
    "survey": (3, 600),
    "come": (30, 1200),
    "edit": (60, 1200),  # a ticket holder's changes: edits, answers to replies, closing, thanks
}


class OverBudget(Exception):
    """A write refused by its budget: try again in ``wait_seconds``."""

    def __init__(self, wait_seconds: int):
        super().__init__(wait_seconds)
        self.wait_seconds = wait_seconds


class Budget:
    def __init__(self, per_session: int, overall: int, window: float = WINDOW, clock=time.monotonic):
        self.per_session, self.overall, self.window = per_session, overall, window
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: TTLCache = TTLCache(MAX_KEYS, window, timer=clock)
        self._all: deque = deque()

    def spend(self, key: str, overall: bool = True) -> tuple[int, float | None]:
        """Count one write for the session ``key`` (and for everybody, if ``overall``): returns
        (0, a stamp for ``refund``) if allowed, else (the seconds to wait, None), counting nothing."""
        now = self._clock()
        with self._lock:
            while self._all and self._all[0] <= now - self.window:
                self._all.popleft()
            mine = self._sessions.get(key) or deque()
            while mine and mine[0] <= now - self.window:
                mine.popleft()
            waits = []
            if overall and len(self._all) >= self.overall:
                waits.append(self._all[len(self._all) - self.overall] + self.window - now)
            if len(mine) >= self.per_session:
                waits.append(mine[len(mine) - self.per_session] + self.window - now)
            if waits:
                return max(1, int(max(waits) + 0.999)), None
            if overall:
                self._all.append(now)
            mine.append(now)
            self._sessions[key] = mine  # stored again: kept for a window after the last write
            return 0, now

    def refund(self, key: str, stamp: float) -> None:
        """Take back a write that stored nothing (a form shown again, a refusal)."""
        with self._lock:
            for spent in (self._all, self._sessions.get(key) or ()):
                try:
                    spent.remove(stamp)
                except ValueError:
                    pass


def make_budgets(scale: float) -> dict[str, Budget | None]:
    """The budgets, each limit times ``scale`` (0: none, for load tests and benchmarks)."""
    return {name: Budget(max(1, int(mine * scale)), max(1, int(everyone * scale))) if scale else None
            for name, (mine, everyone) in BUDGETS.items()}


def session_key() -> str:
    """Which browser session wrote, as a digest that leads back to nothing once it is forgotten."""
    token = session.get("csrf_token") or ""
    return hashlib.sha256(f"budget:{token}".encode()).hexdigest()[:24]


def budgeted(name: str):
    """A view whose POST spends one of ``name``'s budget before anything else happens; given
    back when the answer is not a redirect (a write answers with one: nothing was stored)."""
    if name not in BUDGETS:
        raise KeyError(f"no write budget named {name}")

    def wrap(view):
        @wraps(view)
        def inner(*args, **kwargs):
            if request.method != "POST":
                return view(*args, **kwargs)
            from .services import services  # (services holds the budgets: imported when used)

            budget = services().budgets.get(name)
            if budget is None:
                return view(*args, **kwargs)
            key = session_key()
            # The screen in the room is limited by people standing at it: a flood from the
            # Wi-Fi that uses up everybody's budget does not lock it out.
            wait, stamp = budget.spend(key, overall=not from_touchscreen(current_app.config, request.remote_addr))
            if wait:
                raise OverBudget(wait)
            try:
                response = make_response(view(*args, **kwargs))
            except BaseException:
                budget.refund(key, stamp)
                raise
            if not 300 <= response.status_code < 400:
                budget.refund(key, stamp)
            return response
        return inner
    return wrap


def over_budget_page(exc: OverBudget):
    """Nothing was stored; the page says when to come back, and nothing says who was refused."""
    from flask_babel import gettext as _

    from .helpers import minutes  # (helpers needs services, which needs this module)

    message = ngettext(
        "Many things were sent from here in the last hour, more than a neighborhood sends. Nothing was saved. "
        "Please try again in %(num)d minute.",
        "Many things were sent from here in the last hour, more than a neighborhood sends. Nothing was saved. "
        "Please try again in %(num)d minutes.", minutes(exc.wait_seconds))
    page = render_template("error.html", title=_("Please wait a little"), message=message)
    return page, 429, {"Retry-After": str(exc.wait_seconds)}
