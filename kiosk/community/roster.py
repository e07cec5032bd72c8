"""The roster: who is on duty each week, and the next coordinators' meeting (shown on the
start page, so everyone knows whom to ask). Kept in the settings under ``"roster"``."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

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


def next_meeting(store: Store, now: dt.datetime, tz: dt.tzinfo = dt.timezone.utc) -> dict | None:
    """The roster's meeting, in the center's time zone ``tz``, from today on."""
    meeting = roster(store).get("meeting") or {}
    when = meeting.get("when")
    if not when:
        return None
    try:
        moment = dt.datetime.fromisoformat(when).replace(tzinfo=tz)
    except ValueError:
        return None
    if moment.date() < now.astimezone(tz).date():
        return None
    return {"when": moment, "where": meeting.get("where", ""), "title": "", "link": None}


def earliest(meetings) -> dict | None:
    """The soonest of several meetings (None where a source has none)."""
    return min((m for m in meetings if m), key=lambda m: m["when"], default=None)


NAME_LIMIT = 30
NAME_PUNCTUATION = " .'\u2019-"  # a phone's keyboard types ’ for '
MAX_PEOPLE = 20


def is_name(name: str) -> bool:
    """A handle or a nickname: letters of any script with their marks (Arabic vowel marks,
    Devanagari vowel signs), digits, spaces, dots, apostrophes and hyphens; a letter or digit first."""
    return 0 < len(name) <= NAME_LIMIT and name[0].isalnum() and all(
        c.isalnum() or unicodedata.category(c)[0] == "M" or c in NAME_PUNCTUATION for c in name)


def people(store: Store, team: list[str]) -> list[str]:
    """Who shares duty: the coordinators' list, or the coordinators' handles until they make one."""
    return list(roster(store).get("people") or team)


def check_people(raw: str) -> list[str]:
    """One name a line (or separated by commas), each a handle or nickname, never twice."""
    names = [text.normalize(n) for n in re.split(r"[\n,\u060c]", raw or "")]  # and the Arabic comma
    names = list(dict.fromkeys(n for n in names if n))
    if len(names) > MAX_PEOPLE:
        raise Refused(_l("List at most %(n)d people.", n=MAX_PEOPLE))
    for name in names:
        if not is_name(name) or text.unsafe(name):
            raise Refused(_l("“%(name)s”: use a handle or nickname of at most 30 letters or digits, one a line.",
                             name=name[:40]))
    return names


def history(store: Store, before: str) -> dict[str, str]:
    """The saved weeks before ``before``: who was on duty."""
    return {week: name for week, name in roster(store).get("weeks", {}).items() if week < before}


def save_roster(store: Store, weeks: dict, meeting_when: str, meeting_where: str, known: list[str],
                away: dict | None = None, team: list[str] | None = None) -> None:
    """Store the chosen weeks (``known``: who may be chosen), who is away in which week, the
    meeting and, when given, the list of who shares duty (``team``)."""
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
    value = {**current, "weeks": {**kept, **clean_weeks}, "meeting": {"when": when, "where": where}}
    if away is not None:
        gone = {k: v for k, v in current.get("away", {}).items() if k not in weeks}
        gone.update({k: [n for n in names if n in known] for k, names in away.items() if k in weeks and names})
        value["away"] = gone
    if team is not None:
        value["people"] = team
    store.set_meta(META_KEY, value)
