"""Dates and times offered by the posting form, named in the page's language.

A browser's own date and time fields follow the browser's locale (mm/dd/yyyy on a kiosk set up
in English), not the page's: so the form offers lists whose labels come from Babel, and whose
values are what the form's checks take (YYYY-MM-DD, HH:MM)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from babel.dates import format_skeleton, format_time
from flask_babel import get_locale, gettext

from .forms import MAX_DATE_AHEAD_DAYS

TIME_STEP_MINUTES = 15
MIN_HORIZON_DAYS = 62
SOON_DAYS = 5
Groups = tuple[tuple[str, tuple[tuple[str, str], ...]], ...]


def _parse(kind, raw: str):
    try:
        return kind.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@lru_cache(maxsize=16)
def _groups(lang: str, days: tuple[dt.date, ...]) -> Groups:
    # Naming a year of days takes Babel a tenth of a second: once a day and language is enough.
    groups: dict[tuple[int, int], list[tuple[str, str]]] = {}
    for day in days:
        label = format_skeleton("MMMMEEEEd", day, locale=lang)  # 'Wed, December 9', 'mié, 9 de diciembre'
        groups.setdefault((day.year, day.month), []).append((day.isoformat(), label))
    return tuple((format_skeleton("yMMMM", dt.date(year, month, 1), locale=lang), tuple(items))
                 for (year, month), items in groups.items())


def horizon(expire_days: int) -> int:
    """How many days ahead the lists go: a post leaves the board after ``expire_days``, so a
    few weeks past that is enough (and keeps the page light), never past what the checks take."""
    return min(MAX_DATE_AHEAD_DAYS, max(MIN_HORIZON_DAYS, expire_days + 14))


def day_groups(today: dt.date, ahead: int, keep: str = "") -> Groups:
    """The days from today to ``ahead`` days later, by month: ((month name, ((iso, label), ...)), ...).
    ``keep``: a date already chosen (when editing) that stays offered even outside the range."""
    days = [today + dt.timedelta(days=n) for n in range(ahead + 1)]
    kept = _parse(dt.date, keep)
    if kept and kept not in days:
        days = sorted([*days, kept])
    return _groups(str(get_locale()), tuple(days))


def soon(today: dt.date, count: int = SOON_DAYS) -> list[tuple[str, str]]:
    """The next few days as one-tap choices: 'Tomorrow', 'Wed, Dec 9', ..."""
    days = [today + dt.timedelta(days=n) for n in range(1, count + 1)]
    return [(day.isoformat(), gettext("Tomorrow") if n == 0 else format_skeleton("MMMEd", day, locale=str(get_locale())))
            for n, day in enumerate(days)]


def time_choices(keep: str = "") -> list[tuple[str, str]]:
    """Times of day every quarter hour as (HH:MM, label in the page's language)."""
    times = [dt.time(minutes // 60, minutes % 60) for minutes in range(0, 24 * 60, TIME_STEP_MINUTES)]
    kept = _parse(dt.time, keep)
    if kept and kept not in times:
        times = sorted([*times, kept])
    return [(t.strftime("%H:%M"), format_time(t, "short", locale=str(get_locale()))) for t in times]
