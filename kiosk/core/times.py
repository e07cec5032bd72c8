"""Times as the kiosk stores them: ISO 8601 in UTC to the second (``2026-12-02T09:30:00Z``)."""

from __future__ import annotations

import datetime as dt

ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def iso(moment: dt.datetime) -> str:
    """An aware time as stored text; a naive one is taken to be UTC already."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime(ISO_FORMAT)


def parse_iso(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, ISO_FORMAT).replace(tzinfo=dt.timezone.utc)


def month_of(moment: dt.datetime) -> str:
    """``YYYY-MM``: the finest time that anonymous records keep."""
    return moment.strftime("%Y-%m")


def oldest_months(dated, max_months: int, before: str | None = None) -> dict[str, list]:
    """From (month, item) pairs, the items of the oldest ``max_months`` months (before the month
    ``before``, if given), by month: what one retention sweep takes on, so a backlog is worked
    off a few months at a time and never stalls a request."""
    found: dict[str, list] = {}
    for month, item in dated:
        if before is None or month < before:
            found.setdefault(month, []).append(item)
    return {month: found[month] for month in sorted(found)[:max_months]}
