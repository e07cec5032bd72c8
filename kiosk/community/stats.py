"""Open numbers for /stats: the monthly series every feature declares, the last twelve months
of them, never anything that could point at one person (a count under 3 shows as "fewer than 3")."""

from __future__ import annotations

MONTHS_SHOWN = 12


def compute(store, series) -> dict:
    """{"months": [...], "values": {series key: {month: count}}}, for the months that have any."""
    values = {s.key: s.counts(store) for s in series}
    months = sorted({m for counts in values.values() for m in counts})[-MONTHS_SHOWN:]
    return {"months": months, "values": {key: {m: v.get(m, 0) for m in months} for key, v in values.items()}}
