"""The small-cell rule for every public number: a count of 1 or 2 could point at one person,
so it is shown as "fewer than 3". Zeros are shown, unless ``strict`` (a cell beside a total,
where a zero would help work out the others by subtraction)."""

from __future__ import annotations

from collections import Counter
from typing import Iterable

SMALL = 3


def per_month(months: Iterable[str]) -> dict[str, int]:
    """How many times each month (YYYY-MM) occurs: the open numbers' usual series."""
    return dict(Counter(months))


def too_small(count: int, strict: bool = False) -> bool:
    return count < SMALL and (strict or count != 0)


def shown(count: int | None, strict: bool = False):
    """What a table cell shows: None for no number, "<3" for a count too small to show, else
    the count."""
    if count is None:
        return None
    return f"<{SMALL}" if too_small(count, strict) else count
