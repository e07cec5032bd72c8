"""Checking the posting and editing form: category, title, details, area, when, and a ride's
date, time and landmarks. Bad input raises ``Invalid`` with what to fix, field by field."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Mapping

from flask_babel import lazy_gettext as _l

from ..core import fields, text
from ..core.errors import Invalid
from .posts import LIMITS, WHEN_CHOICES

MAX_DATE_AHEAD_DAYS = 366
RIDE_FIELDS = ("ride_date", "ride_time", "ride_from", "ride_to")
RIDE_PLACE_LIMIT = 60


@dataclass
class Checked:
    values: dict
    contact: dict = field(default_factory=dict)  # field -> kinds of contact detail found


def normalize_slug(raw: str) -> str:
    """A category or a "when" as typed or sent: lower case, words joined by dashes."""
    return "-".join(raw.strip().lower().replace("_", " ").split())


def check_form(form: Mapping, today: dt.date, categories: Mapping) -> Checked:
    """Validate a posting or editing form. Raises Invalid with a message per bad field.
    ``categories``: the slugs offered now (coordinators can add and retire them)."""
    errors: dict = {}
    raw = {name: fields.one(form, name, errors) for name in ("category", "when", "when_date")}
    values: dict = {}

    category = normalize_slug(raw["category"])
    if not category:
        errors.setdefault("category", _l("Choose a category."))
    elif category not in categories:
        errors.setdefault("category", _l("Choose one of the categories in the list."))
    values["category"] = category

    for name, multiline in (("title", False), ("details", True), ("area", False)):
        values[name] = fields.clean(form, name, LIMITS[name], errors, multiline)
    if not text.visible(values["title"]) and "title" not in errors:
        errors["title"] = _l("Write a short title, for example “Soup for two on Friday”.")

    values["when"] = _check_when(raw["when"], raw["when_date"], today, errors)
    values["ride"] = _check_ride(form, category, today, errors)

    if errors:
        # "On a date:" stays ticked when its date is missing or refused, so the date list shows
        # again beside the message instead of hiding behind an unticked choice.
        kept_when = values["when"] or ("date" if normalize_slug(raw["when"]) == "date" else "")
        raise Invalid(errors, {**values, "when": kept_when, "when_date": raw["when_date"].strip()[:10]})
    ride = values.get("ride") or {}
    contact = text.contact_in({"title": values["title"], "details": values["details"], "area": values["area"],
                               "ride_from": ride.get("from", ""), "ride_to": ride.get("to", "")})
    return Checked(values=values, contact=contact)


def _check_day(raw: str, today: dt.date, errors: dict, name: str) -> str:
    """A date from yesterday (a Pi without a clock may run a little behind) to a year ahead."""
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        errors[name] = _l("Write the date as year-month-day, for example 2026-12-24.")
        return ""
    if day < today - dt.timedelta(days=1):
        errors[name] = _l("That date has already passed.")
    elif day > today + dt.timedelta(days=MAX_DATE_AHEAD_DAYS):
        errors[name] = _l("Pick a date within the next year.")
    return day.isoformat()


def _check_ride(form: Mapping, category: str, today: dt.date, errors: dict) -> dict | None:
    """Transportation posts may say when and from where to where (for /rides)."""
    raw = {name: text.normalize(fields.one(form, name, errors)) for name in RIDE_FIELDS}
    if category != "transportation" or not any(raw.values()):
        return None
    ride: dict = {}
    if raw["ride_date"]:
        ride["date"] = _check_day(raw["ride_date"], today, errors, "ride_date")
    else:
        errors["ride_date"] = _l("A ride needs its date.")
    if raw["ride_time"]:
        try:
            ride["time"] = dt.time.fromisoformat(raw["ride_time"]).strftime("%H:%M")
        except ValueError:
            errors["ride_time"] = _l("Write the time like 14:30.")
    for name, key in (("ride_from", "from"), ("ride_to", "to")):
        message = fields.problem(raw[name], RIDE_PLACE_LIMIT)
        if message:
            errors[name] = message
        ride[key] = raw[name]
    return ride


def _check_when(raw_when: str, raw_date: str, today: dt.date, errors: dict) -> str:
    if "when" in errors:
        return ""
    choice = normalize_slug(raw_when)
    date_text = raw_date.strip()
    if choice in ("", "none", "any"):
        if not date_text:
            return ""
        choice = "date"  # a date was picked without ticking "On a date:" first
    if choice in WHEN_CHOICES:
        return choice
    if choice == "date" or _looks_like_date(choice):
        date_text = date_text if choice == "date" else choice
        if not date_text:
            errors["when"] = _l("Pick the date.")
            return ""
        day = _check_day(date_text, today, errors, "when")
        return "" if "when" in errors else day
    errors["when"] = _l("Choose today, this week, a date or flexible.")
    return ""


def _looks_like_date(value: str) -> bool:
    return len(value) >= 8 and value[:4].isdigit() and "-" in value
