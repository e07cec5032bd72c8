"""Open numbers for /stats: only counts, per month (and category), never anything that could
point at one person: a count under 3 is shown as "fewer than 3"."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict

from . import posts
from .store import Store

SMALL = 3
MONTHS_SHOWN = 12


def _blank() -> dict:
    return {"requests": 0, "offers": 0, "matched": 0, "fulfilled": 0}


def compute(store: Store, now: dt.datetime) -> dict:
    """Counts per month, per month and category, median days to a first reply, check-ins,
    tools lent and people at gatherings. Reads the archive a month at a time."""
    from .exchange import _post_batches

    by_month: dict = defaultdict(_blank)
    by_category: dict = defaultdict(_blank)
    waits: dict = defaultdict(list)
    for batch in _post_batches(store):
        for p in batch:
            month = p["created"][:7]
            for key in (month,):
                row = by_month[key]
                row["requests" if p["kind"] == "request" else "offers"] += 1
                if p.get("matched") or p["status"] == "matched":
                    row["matched"] += 1
                if p["status"] == "fulfilled":
                    row["fulfilled"] += 1
            cat = by_category[(month, p["category"])]
            cat["requests" if p["kind"] == "request" else "offers"] += 1
            if p.get("matched") or p["status"] == "matched":
                cat["matched"] += 1
            if p["status"] == "fulfilled":
                cat["fulfilled"] += 1
            replies = [r["created"] for r in p.get("replies") or () if r.get("created")]
            if replies:
                first = posts.parse_iso(min(replies)) - posts.parse_iso(p["created"])
                waits[month].append(max(first.total_seconds(), 0) / 86400)
    checkins: dict = defaultdict(int)
    for note in store.records("checkins"):
        checkins[note["month"]] += 1
    lent: dict = defaultdict(int)
    for loan in store.records("library_loans"):
        if loan.get("lent"):
            lent[str(loan["lent"])[:7]] += 1
    try:
        from . import events

        people = events.attendance_by_month(store)
    except (ImportError, AttributeError):
        people = {}
    months = sorted(set(by_month) | set(checkins) | set(lent) | set(people))[-MONTHS_SHOWN:]
    return {
        "months": months,
        "by_month": {m: by_month.get(m, _blank()) for m in months},
        "by_category": {k: v for k, v in by_category.items() if k[0] in months},
        # A median of one or two replies would tell when one person answered: not shown.
        "median_days": {m: round(statistics.median(waits[m]), 1) if len(waits.get(m) or ()) >= SMALL else None
                        for m in months},
        "checkins": {m: checkins.get(m, 0) for m in months},
        "lent": {m: lent.get(m, 0) for m in months},
        "people": {m: people.get(m, 0) for m in months},
    }


def shown(count: int | None, strict: bool = False):
    """The small-cell rule: None for nothing, "<3" below three, else the count. ``strict``
    also hides zeros (category cells beside monthly totals, where a zero helps subtract)."""
    if count is None:
        return None
    if count == 0 and not strict:
        return 0
    return count if count >= SMALL else f"<{SMALL}"
