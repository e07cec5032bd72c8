"""Gatherings: the food share, meetings, repair cafés, one-off or repeating.

An event is one record in the ``events`` table. Its start is the center's wall-clock time
(``YYYY-MM-DDTHH:MM``, no zone); it repeats never, weekly, or monthly on the nth weekday of
the start date ("2nd Tuesday", "last Friday"), optionally until a date. Months without that
weekday (a 5th Tuesday) are skipped. The anonymous "I'll come" counts live inside the event,
one number per occurrence date, with nothing about who counted.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import threading
from collections import Counter
from typing import Any, Mapping

from flask_babel import lazy_gettext as _l

from ..core import fields, text
from ..core.errors import Invalid, Refused
from ..core.times import iso

TABLE = "events"
HORIZON_DAYS = 56  # /events lists the next 8 weeks
LIMITS = {"title": 80, "place": 60}
RAW_LIMIT = 200  # anything longer than this in a date, time or choice field is refused unread

KINDS = {
    "food-share": _l("Food share"),
    "meeting": _l("Meeting"),
    "repair-cafe": _l("Repair café"),
    "other": _l("Other"),
}
REPEATS = {
    "none": _l("Only once"),
    "weekly": _l("Every week"),
    "monthly": _l("Every month, on the same weekday"),
}
NTH = {
    "1": _l("1st"),
    "2": _l("2nd"),
    "3": _l("3rd"),
    "4": _l("4th"),
    "5": _l("5th"),
    "last": _l("last"),
}
DURATIONS = {
    30: _l("30 minutes"),
    60: _l("1 hour"),
    90: _l("1½ hours"),
    120: _l("2 hours"),
    180: _l("3 hours"),
    240: _l("4 hours"),
    360: _l("6 hours"),
    480: _l("8 hours"),
}
WEEKDAYS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"), _l("Sunday"))

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{2}:\d{2}")
# Read-modify-write of a count must not lose a click when two phones press at once.
_count_lock = threading.Lock()


# -- dates ------------------------------------------------------------------------------------


def parse_day(value: str) -> dt.date | None:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return day if 2000 <= day.year <= 2100 else None


def nth_weekday(year: int, month: int, weekday: int, nth: str) -> dt.date | None:
    """The nth (1-5 or "last") ``weekday`` (0 = Monday) of a month, or None if it has none."""
    if nth == "last":
        last = dt.date(year, month, calendar.monthrange(year, month)[1])
        return last - dt.timedelta(days=(last.weekday() - weekday) % 7)
    first = dt.date(year, month, 1)
    day = first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (int(nth) - 1))
    return day if day.month == month else None


def nth_of(day: dt.date) -> str:
    """Which weekday of its month ``day`` is: "1" to "5"."""
    return str((day.day - 1) // 7 + 1)


def is_last(day: dt.date) -> bool:
    return (day + dt.timedelta(days=7)).month != day.month


def start_of(event: Mapping) -> dt.datetime:
    return dt.datetime.strptime(event["start"], "%Y-%m-%dT%H:%M")


def occurrence_days(event: Mapping, lo: dt.date, hi: dt.date) -> list[dt.date]:
    """The event's dates d with lo <= d < hi (and d <= its "until"), in order."""
    first = start_of(event).date()
    until = parse_day(event.get("until") or "")
    if until is not None:
        hi = min(hi, until + dt.timedelta(days=1))
    lo = max(lo, first)
    if lo >= hi:
        return []
    repeat = event.get("repeat", "none")
    if repeat == "weekly":
        skip = -(-(lo - first).days // 7)  # whole weeks from the first date to lo, rounded up
        day = first + dt.timedelta(weeks=skip)
        out = []
        while day < hi:
            out.append(day)
            day += dt.timedelta(weeks=1)
        return out
    if repeat == "monthly":
        nth, weekday = event.get("nth") or nth_of(first), first.weekday()
        out = []
        year, month = lo.year, lo.month
        while dt.date(year, month, 1) < hi:
            day = nth_weekday(year, month, weekday, nth)
            if day is not None and lo <= day < hi:
                out.append(day)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out
    return [first] if lo <= first < hi else []


def local_now(now: dt.datetime, tz: dt.tzinfo | None = None) -> dt.datetime:
    """``now`` (aware) as the center's wall-clock time, without zone, to compare with starts."""
    if now.tzinfo is None:
        return now
    return now.astimezone(tz or dt.timezone.utc).replace(tzinfo=None)


def _occurrence(event: Mapping, day: dt.date, tz: dt.tzinfo | None) -> dict:
    begins = dt.datetime.combine(day, start_of(event).time())
    ends = begins + dt.timedelta(minutes=int(event.get("duration", 60)))
    zone = tz or dt.timezone.utc
    key = day.isoformat()
    return {
        "event": dict(event),
        "id": event["_id"],
        "date": key,
        "key": f"{event['_id']}:{key}",
        "start": begins.replace(tzinfo=zone),
        "end": ends.replace(tzinfo=zone),
        "count": int((event.get("counts") or {}).get(key, 0)),
    }


def event_occurrences(event: Mapping, now: dt.datetime, *, days: int = HORIZON_DAYS, limit: int | None = None,
                      tz: dt.tzinfo | None = None) -> list[dict]:
    """One event's occurrences that have not ended by ``now`` and start within ``days``."""
    if event.get("cancelled"):
        return []
    local = local_now(now, tz)
    horizon = local + dt.timedelta(days=days)
    # An occurrence that began yesterday evening may still be going on.
    days_found = occurrence_days(event, local.date() - dt.timedelta(days=1), horizon.date() + dt.timedelta(days=1))
    out = []
    for day in days_found:
        occ = _occurrence(event, day, tz)
        begins, ends = occ["start"].replace(tzinfo=None), occ["end"].replace(tzinfo=None)
        if ends > local and begins < horizon:
            out.append(occ)
            if limit is not None and len(out) >= limit:
                break
    return out


def upcoming(store, now: dt.datetime, limit: int | None = None, *, days: int = HORIZON_DAYS,
             tz: dt.tzinfo | None = None, kinds: tuple[str, ...] | None = None) -> list[dict]:
    """Occurrences of every live event (of ``kinds``, if given), soonest first, that have not
    ended by ``now`` and start within ``days`` days; at most ``limit`` of them."""
    found = []
    for event in store.records(TABLE):
        if kinds is not None and event.get("kind") not in kinds:
            continue
        found.extend(event_occurrences(event, now, days=days, limit=limit, tz=tz))
    found.sort(key=lambda occ: (occ["start"], occ["event"].get("title", ""), occ["id"]))
    return found if limit is None else found[:limit]


# -- checking a form ---------------------------------------------------------------------------


def _one_line(value: str, limit: int, errors: dict, name: str, required: bool = True) -> str:
    value = text.normalize(value or "")
    if not value:
        if required:
            errors[name] = _l("Please fill this in.")
    elif len(value) > limit:
        errors[name] = _l("Use at most %(n)d characters (now %(count)d).", n=limit, count=len(value))
    elif text.unsafe(value):
        errors[name] = _l("Use one line of plain text.")
    return value


def check(form: Mapping[str, Any]) -> dict:
    """The clean fields of an event form; raises Invalid with a message per bad field."""
    def raw(name: str) -> str:
        value = form.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    errors: dict = {}
    title = _one_line(raw("title"), LIMITS["title"], errors, "title")
    place = _one_line(raw("place"), LIMITS["place"], errors, "place")
    kind = raw("kind")
    if kind not in KINDS:
        errors["kind"] = _l("Choose what kind of gathering it is.")
    day = parse_day(raw("date")[:RAW_LIMIT])
    if day is None:
        errors["date"] = _l("Choose a date, like 2026-12-03.")
    clock = raw("time")[:RAW_LIMIT]
    begins = None
    if not _TIME.fullmatch(clock):
        errors["time"] = _l("Choose a time, like 18:30.")
    else:
        try:
            begins = dt.time.fromisoformat(clock)
        except ValueError:
            errors["time"] = _l("Choose a time, like 18:30.")
    duration = raw("duration")[:RAW_LIMIT]
    if fields.whole_number(duration, max(DURATIONS)) not in DURATIONS:
        errors["duration"] = _l("Choose how long it lasts from the list.")
    repeat = raw("repeat") or "none"
    if repeat not in REPEATS:
        errors["repeat"] = _l("Choose how often it happens from the list.")
    nth = ""
    if repeat == "monthly":
        nth = raw("nth")
        if nth not in NTH:
            errors["nth"] = _l("Choose which weekday of the month: 1st to 5th, or last.")
        elif day is not None and not (nth == "last" and is_last(day) or nth == nth_of(day)):
            errors["nth"] = _l("%(date)s is not the %(nth)s %(weekday)s of its month: change the date or this choice.",
                               date=day.isoformat(), nth=NTH[nth], weekday=WEEKDAYS[day.weekday()])
    until = ""
    if repeat in ("weekly", "monthly") and raw("until"):
        end = parse_day(raw("until")[:RAW_LIMIT])
        if end is None:
            errors["until"] = _l("Choose a date, like 2026-12-03, or leave it empty.")
        elif day is not None and end < day:
            errors["until"] = _l("The last date cannot be before the first one.")
        else:
            until = end.isoformat()
    if errors:
        raise Invalid(errors, dict(form))
    return {
        "title": title,
        "kind": kind,
        "place": place,
        "start": f"{day.isoformat()}T{begins.strftime('%H:%M')}",
        "duration": int(duration),
        "repeat": repeat,
        "nth": nth,
        "until": until,
    }


def form_values(event: Mapping) -> dict:
    """An event as the values of its edit form."""
    begins = start_of(event)
    return {
        "title": event["title"], "kind": event["kind"], "place": event["place"],
        "date": begins.date().isoformat(), "time": begins.strftime("%H:%M"),
        "duration": str(event["duration"]), "repeat": event["repeat"], "nth": event.get("nth", ""),
        "until": event.get("until", ""),
    }


def describe_repeat(event: Mapping):
    """How often, in words: "Every week on Tuesday", "Every month on the 2nd Tuesday"."""
    weekday = WEEKDAYS[start_of(event).weekday()]
    if event.get("repeat") == "weekly":
        return _l("Every week on %(weekday)s", weekday=weekday)
    if event.get("repeat") == "monthly":
        return _l("Every month on the %(nth)s %(weekday)s", nth=NTH.get(event.get("nth"), ""), weekday=weekday)
    return _l("Only once")


# -- state changes -------------------------------------------------------------------------------


def get(store, event_id: int) -> dict | None:
    for event in store.records(TABLE):
        if event["_id"] == event_id:
            return event
    return None


def create(store, clean: dict, now: dt.datetime) -> int:
    return store.add_record(TABLE, {**clean, "counts": {}, "cancelled": False, "created": iso(now)})


def update(store, event_id: int, clean: dict, now: dt.datetime) -> None:
    event = get(store, event_id)
    if event is None or event.get("cancelled"):
        raise Refused(_l("This gathering was cancelled and can no longer be changed."))
    store.update_record(TABLE, event_id, {**clean, "changed": iso(now)})


def cancel(store, event_id: int, now: dt.datetime) -> None:
    event = get(store, event_id)
    if event is None or event.get("cancelled"):
        raise Refused(_l("This gathering is already cancelled."))
    # Kept, not removed: printed notices still open a page that says so, and the counts of
    # past dates stay for the statistics.
    store.update_record(TABLE, event_id, {"cancelled": True, "cancelled_at": iso(now)})


def come(store, event_id: int, day: str, now: dt.datetime, tz: dt.tzinfo | None = None) -> int:
    """Add one to the "I'll come" count of an occurrence that has not ended; the new count."""
    with _count_lock:
        event = get(store, event_id)
        date = parse_day(day)
        if event is None or date is None or event.get("cancelled"):
            raise Refused(_l("This gathering is not on that date."))
        if not any(occ["date"] == date.isoformat() for occ in event_occurrences(event, now, days=366, tz=tz)):
            raise Refused(_l("This gathering is not on that date, or it is over."))
        counts = dict(event.get("counts") or {})
        counts[date.isoformat()] = int(counts.get(date.isoformat(), 0)) + 1
        store.update_record(TABLE, event_id, {"counts": counts})
        return counts[date.isoformat()]



def attendance_by_month(store) -> dict[str, int]:
    """{"YYYY-MM": total "I'll come" count} over every event's dates, oldest month first. Dates
    of a cancelled event from its cancellation on did not take place and are left out."""
    totals: Counter = Counter()
    for event in store.records(TABLE):
        cancelled_from = (event.get("cancelled_at") or "")[:10] if event.get("cancelled") else ""
        for day, count in (event.get("counts") or {}).items():
            if cancelled_from and day >= cancelled_from:
                continue
            totals[day[:7]] += int(count)
    return {month: totals[month] for month in sorted(totals) if totals[month]}
