"""Counting posts per month and category, once, for the open numbers (/stats) and the export's
summary.csv: only counts, never anything that could point at one person."""

from __future__ import annotations

import statistics
from collections import defaultdict

from ..core import counts
from ..core.store import Store
from ..core.times import parse_iso

COLUMNS = ("requests", "offers", "matched", "fulfilled")


def _blank() -> dict:
    return dict.fromkeys(COLUMNS, 0)


class PostCounts:
    """Per month of posting, and per month and category: needs and offers posted, matched,
    fulfilled; and the days each post waited for its first reply."""

    def __init__(self):
        self.by_month: dict = defaultdict(_blank)
        self.by_category: dict = defaultdict(_blank)
        self.waits: dict = defaultdict(list)

    def add(self, p: dict) -> None:
        month = p["created"][:7]
        for row in (self.by_month[month], self.by_category[(month, p["category"])]):
            row["requests" if p["kind"] == "request" else "offers"] += 1
            if p.get("matched") or p["status"] == "matched":
                row["matched"] += 1
            if p["status"] == "fulfilled":
                row["fulfilled"] += 1
        replies = [r["created"] for r in p.get("replies") or () if r.get("created")]
        if replies:
            first = parse_iso(min(replies)) - parse_iso(p["created"])
            self.waits[month].append(max(first.total_seconds(), 0) / 86400)

    def median_days(self, month: str) -> float | None:
        # A median of one or two replies would tell when one person answered: not shown.
        waits = self.waits.get(month) or ()
        return None if counts.too_small(len(waits)) or not waits else round(statistics.median(waits), 1)

    def summary_rows(self) -> list[list]:
        return [[month, category, *(c[k] for k in COLUMNS)] for (month, category), c in sorted(self.by_category.items())]


def count_posts(store: Store) -> PostCounts:
    """Every post, live and archived, read a month at a time."""
    found = PostCounts()
    for batch in store.post_batches():
        for p in batch:
            found.add(p)
    return found
