"""The audit trail: every coordinator action, appended (one file a month) and never edited.
The actions are the ones features declare (``Feature.audit_actions``)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from flask import g

from ..core.store import Store
from ..core.times import iso
from .services import now, services


def log(store: Store, handle: str, action: str, target: str, moment: dt.datetime, detail: str = "") -> None:
    store.append_audit({"at": iso(moment), "handle": handle, "action": action, "target": target, "detail": detail})


def audit(action: str, target: str = "", detail: str = "") -> None:
    """Log an action of the coordinator of this request (``g.handle``). An action no feature
    declared is a mistake in the code, caught at once rather than logged unreadably."""
    if action not in services().registry.audit_actions:
        raise ValueError(f"undeclared audit action {action!r}")
    log(services().store, g.handle, action, target, now(), detail)


def trail(store: Store, limit: int = 500) -> list[dict]:
    """Newest first, across months."""
    out: list[dict] = []
    for month in reversed(store.audit_months()):
        out.extend(reversed(store.audit_entries(month)))
        if len(out) >= limit:
            break
    return out[:limit]


def monthly_counts(store: Store, counted: tuple[str, ...]) -> list[tuple[str, dict]]:
    """[(YYYY-MM, {action: count})] of the ``counted`` actions, newest month first; no handles."""
    result = []
    for month in reversed(store.audit_months()):
        counts = Counter(e["action"] for e in store.audit_entries(month) if e["action"] in counted)
        result.append((month, {action: counts.get(action, 0) for action in counted}))
    return result
