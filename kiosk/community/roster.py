"""The roster: who is on duty each week, and the next coordinators' meeting (shown on the
start page, so everyone knows whom to ask). Kept in the settings under ``"roster"``."""

from __future__ import annotations

import datetime as dt
import re

from flask_babel import lazy_gettext as _l

from ..core import text
from ..core.errors import Refused
from ..core.store import Store

META_KEY = "roster"


def week_key(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(key: str) -> dt.date:
    year, week = key.split("-W")
    return dt.date.fromisocalendar(int(year), int(week), 1)


def upcoming_weeks(today: dt.date, count: int = 8) -> list[str]:
    return [week_key(today + dt.timedelta(weeks=i)) for i in range(count)]


def roster(store: Store) -> dict:
    return store.get_meta(META_KEY, {}) or {}


def on_duty(store: Store, today: dt.date) -> str | None:
    return roster(store).get("weeks", {}).get(week_key(today)) or None


def next_meeting(store: Store, now: dt.datetime) -> dict | None:
    meeting = roster(store).get("meeting") or {}
    when = meeting.get("when")
    if not when:
        return None
    try:
        moment = dt.datetime.fromisoformat(when)
    except ValueError:
        return None
    if moment.date() < now.date():
        return None
    return {"when": moment, "where": meeting.get("where", "")}


def save_roster(store: Store, weeks: dict, meeting_when: str, meeting_where: str, known: list[str]) -> None:
    errors = {}
    clean_weeks = {}
    for key, handle in weeks.items():
        if not re.fullmatch(r"\d{4}-W\d{2}", key):
            continue
        if handle and handle not in known:
            errors[key] = _l("Choose a coordinator from the list.")
        elif handle:
            clean_weeks[key] = handle
    when = (meeting_when or "").strip()
    if when:
        try:
            when = dt.datetime.fromisoformat(when).strftime("%Y-%m-%dT%H:%M")
        except ValueError:
            errors["meeting_when"] = _l("Write the date and time like 2026-12-03 18:30.")
    where = text.normalize(meeting_where or "")
    if len(where) > 80 or text.unsafe(where):
        errors["meeting_where"] = _l("Use one line of at most 80 characters.")
    if errors:
        raise Refused(next(iter(errors.values())))
    current = roster(store)
    kept = {k: v for k, v in current.get("weeks", {}).items() if k not in weeks}
    store.set_meta(META_KEY, {"weeks": {**kept, **clean_weeks}, "meeting": {"when": when, "where": where}})
