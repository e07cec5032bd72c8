"""Posts: the rules for needs and offers, as plain functions over the store.

A post is a dict:
    id, kind (request|offer), category, title, details, area, when, lang, pseudonym,
    status (open|fulfilled|withdrawn|expired), created, updated, closed (ISO UTC or None),
    claim (salted scrypt hash of the ticket's secret words), source (the kiosk's name)
Open posts live in the store's live file; closed ones move to its archive.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Mapping

from flask_babel import lazy_gettext as _l

from . import codes, fields, text
from .store import Store

KINDS = ("request", "offer")
CATEGORIES = {
    "food": _l("Food"),
    "childcare": _l("Childcare"),
    "transportation": _l("Transportation"),
    "translation": _l("Translation"),
    "home-repairs": _l("Home repairs"),
    "companionship": _l("Companionship"),
    "tools-and-items": _l("Tools and items"),
    "other": _l("Other"),
}
WHEN_CHOICES = {
    "today": _l("Today"),
    "this-week": _l("This week"),
    "flexible": _l("Flexible"),
}
STATUSES = {
    "open": _l("Open"),
    "matched": _l("Matched"),
    "fulfilled": _l("Fulfilled"),
    "withdrawn": _l("Withdrawn"),
    "expired": _l("Expired"),
}
LIMITS = {"title": 80, "details": 1000, "area": 60}
FIELDS = ("category", "title", "details", "area", "when")
MAX_DATE_AHEAD_DAYS = 366


class Invalid(Exception):
    """Form values that cannot be stored; ``errors`` maps each field to what to fix."""

    def __init__(self, errors: dict, values: dict):
        super().__init__(errors)
        self.errors = errors
        self.values = values


@dataclass
class Checked:
    values: dict
    contact: dict = field(default_factory=dict)  # field -> kinds of contact detail found


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)



def normalize_category(raw: str) -> str:
    return "-".join(raw.strip().lower().replace("_", " ").split())


def normalize_when(raw: str) -> str:
    return "-".join(raw.strip().lower().replace("_", " ").split())


def check_form(form: Mapping, today: dt.date, categories=None) -> Checked:
    """Validate a posting or editing form. Raises Invalid with a message per bad field.
    ``categories``: the slugs offered now (coordinators can add and retire them)."""
    offered = CATEGORIES if categories is None else categories
    errors: dict = {}
    raw = {name: fields.one(form, name, errors) for name in ("category", "when", "when_date")}
    values: dict = {}

    category = normalize_category(raw["category"])
    if not category:
        errors.setdefault("category", _l("Choose a category."))
    elif category not in offered:
        errors.setdefault("category", _l("Choose one of the categories in the list."))
    values["category"] = category

    for name, multiline in (("title", False), ("details", True), ("area", False)):
        values[name] = fields.clean(form, name, LIMITS[name], errors, multiline)
    if not text.visible(values["title"]) and "title" not in errors:
        errors["title"] = _l("Write a short title, for example “Soup for two on Friday”.")

    values["when"] = _check_when(raw["when"], raw["when_date"], today, errors)
    values["ride"] = _check_ride(form, category, today, errors)

    if errors:
        raise Invalid(errors, {**values, "when_date": raw["when_date"].strip()[:10]})
    contact = {}
    ride = values.get("ride") or {}
    for name, value in (("title", values["title"]), ("details", values["details"]), ("area", values["area"]),
                        ("ride_from", ride.get("from", "")), ("ride_to", ride.get("to", ""))):
        kinds = text.contact_kinds(value)
        if kinds:
            contact[name] = kinds
    return Checked(values=values, contact=contact)


RIDE_FIELDS = ("ride_date", "ride_time", "ride_from", "ride_to")


def _check_ride(form: Mapping, category: str, today: dt.date, errors: dict) -> dict | None:
    """Transportation posts may say when and from where to where (for /rides)."""
    raw = {name: text.normalize(fields.one(form, name, errors)) for name in RIDE_FIELDS}
    if category != "transportation" or not any(raw.values()):
        return None
    ride: dict = {}
    if raw["ride_date"]:
        try:
            day = dt.date.fromisoformat(raw["ride_date"])
        except ValueError:
            errors["ride_date"] = _l("Write the date as year-month-day, for example 2026-12-24.")
        else:
            if day < today - dt.timedelta(days=1):
                errors["ride_date"] = _l("That date has already passed.")
            elif day > today + dt.timedelta(days=MAX_DATE_AHEAD_DAYS):
                errors["ride_date"] = _l("Pick a date within the next year.")
            ride["date"] = day.isoformat()
    else:
        errors["ride_date"] = _l("A ride needs its date.")
    if raw["ride_time"]:
        try:
            ride["time"] = dt.time.fromisoformat(raw["ride_time"]).strftime("%H:%M")
        except ValueError:
            errors["ride_time"] = _l("Write the time like 14:30.")
    for name, key in (("ride_from", "from"), ("ride_to", "to")):
        value = raw[name]
        if text.unsafe(value):
            errors[name] = _l("Remove the invisible control characters from this text.")
        elif len(value) > 60:
            errors[name] = _l("Use at most %(limit)d characters; this has %(count)d.", limit=60, count=len(value))
        ride[key] = value
    return ride


def rides(store: Store, now: dt.datetime, expire_days: int) -> list[dict]:
    """Open transportation posts with a ride date, soonest first (past rides left out)."""
    today = now.date().isoformat()
    found = [p for p in board(store, now, expire_days, category="transportation")
             if p.get("ride") and p["ride"].get("date", "") >= today]
    found.sort(key=lambda p: (p["ride"]["date"], p["ride"].get("time") or "99:99"))
    return [public_view(p) for p in found]


def _check_when(raw_when: str, raw_date: str, today: dt.date, errors: dict) -> str:
    if "when" in errors:
        return ""
    choice = normalize_when(raw_when)
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
        try:
            day = dt.date.fromisoformat(date_text)
        except ValueError:
            errors["when"] = _l("Write the date as year-month-day, for example 2026-12-24.")
            return ""
        # A Pi without a clock may run a little behind: allow yesterday.
        if day < today - dt.timedelta(days=1):
            errors["when"] = _l("That date has already passed.")
            return ""
        if day > today + dt.timedelta(days=MAX_DATE_AHEAD_DAYS):
            errors["when"] = _l("Pick a date within the next year.")
            return ""
        return day.isoformat()
    errors["when"] = _l("Choose today, this week, a date or flexible.")
    return ""


def _looks_like_date(value: str) -> bool:
    return len(value) >= 8 and value[:4].isdigit() and "-" in value


def create_post(
    store: Store,
    kind: str,
    values: dict,
    *,
    lang: str,
    source: str,
    scrypt_n: int,
    now: dt.datetime | None = None,
) -> tuple[dict, str]:
    """Store a new open post; returns it with its ticket code (shown once, never stored)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    now = now or utcnow()
    secret = codes.new_secret_words()
    for _ in range(100):
        post_id = codes.new_post_id()
        if store.id_taken(post_id):
            continue
        post = {
            "id": post_id,
            "kind": kind,
            **{name: values.get(name, "") for name in FIELDS},
            "ride": values.get("ride"),
            "lang": lang,
            "pseudonym": codes.new_pseudonym(),
            "status": "open",
            "created": iso(now),
            "updated": iso(now),
            "closed": None,
            "claim": codes.hash_secret(secret, n=scrypt_n),
            "source": source,
        }
        try:
            store.insert_post(post)
        except KeyError:  # another thread took the id in the meantime
            continue
        return post, codes.make_ticket_code(post_id, secret)
    raise RuntimeError("could not find a free post id")


def get(store: Store, post_id: str) -> dict | None:
    normalized = codes.normalize_post_id(post_id)
    return store.get_post(normalized) if normalized else None


def is_expired(post: dict, now: dt.datetime, expire_days: int) -> bool:
    # An open post ages from when it went on the board; a matched one from its last message.
    start = post["updated"] if post["status"] == "matched" else post["created"]
    age = now - parse_iso(start)
    # A clock that jumped backwards gives a negative age: the post simply stays.
    return age > dt.timedelta(days=expire_days)


def board(
    store: Store,
    now: dt.datetime,
    expire_days: int,
    kind: str | None = None,
    category: str | None = None,
    status: str = "open",
) -> list[dict]:
    """Posts of one status (open by default), newest first; requests and offers side by side."""
    if status == "fulfilled":
        return _recently_fulfilled(store, now, kind, category)
    # The store keeps insertion order, which breaks ties between posts of the same second.
    found = [
        (p["created"], order, p)
        for order, p in enumerate(store.live_posts())
        if p["status"] == status
        and not p.get("hidden")
        and not is_expired(p, now, expire_days)
        and (kind is None or p["kind"] == kind)
        and (category is None or p["category"] == category)
    ]
    found.sort(key=lambda item: item[:2], reverse=True)
    return [p for _, _, p in found]


def _recently_fulfilled(store: Store, now: dt.datetime, kind, category) -> list[dict]:
    """Fulfilled posts of this month and the last, from the archive (celebrating them)."""
    months = {now.strftime("%Y-%m"), (now.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")}
    found = [
        p
        for month in sorted(months)
        for p in store.archived_posts(month)
        if p["status"] == "fulfilled" and not p.get("erased") and not p.get("hidden")
        and (kind is None or p["kind"] == kind)
        and (category is None or p["category"] == category)
    ]
    found.sort(key=lambda p: p.get("closed") or "", reverse=True)
    return found


PRIVATE_FIELDS = {"claim", "replies", "thanks", "matched_reply", "hidden"}


def public_view(post: dict) -> dict:
    """What anyone may see of a post: no claim hash, no replies or threads, only their count."""
    view = {k: v for k, v in post.items() if k not in PRIVATE_FIELDS}
    view["reply_count"] = len(post.get("replies") or ())
    view["is_hidden"] = bool(post.get("hidden"))
    return view


# -- the poster's own actions, after the ticket code was checked ------------------------------


class BadCode(Exception):
    """The code is wrong, or refers to no post; one generic message for all cases."""


class TooManyTries(Exception):
    def __init__(self, wait_seconds: int):
        super().__init__(wait_seconds)
        self.wait_seconds = wait_seconds


def claim(store: Store, throttle, raw_code: str, scrypt_n: int) -> tuple[dict, str | None]:
    """Check a ticket code, a poster's or a replier's. Returns (post, None) for the poster,
    (post, reply id) for a replier; raises BadCode or TooManyTries."""
    parts = codes.split_ticket_code(raw_code)
    post_id = parts[0] if parts else None
    wait = throttle.attempt(post_id)  # counted as a failure until proven right
    if wait:
        raise TooManyTries(wait)
    post = store.get_post(post_id) if post_id else None
    reply_id = None
    stored = post.get("claim") if post else None
    if post is None and post_id:
        post = store.find_reply_post(post_id)
        if post is not None:
            reply_id = post_id
            stored = next(r for r in post["replies"] if r["id"] == reply_id).get("claim")
    if not stored:
        codes.burn_time(scrypt_n)  # same cost as a real check: the answer tells nothing
        raise BadCode()
    if not codes.verify_secret(parts[1], stored):
        raise BadCode()
    throttle.succeeded(post_id)
    return post, reply_id


def edit(store: Store, post_id: str, values: dict, now: dt.datetime | None = None) -> dict:
    post = store.get_post(post_id)
    if post is None or post["status"] != "open":
        raise PermissionError("only an open post can be edited")
    changes = {name: values.get(name, "") for name in FIELDS}
    changes["ride"] = values.get("ride")
    changes["updated"] = iso(now or utcnow())
    return store.update_post(post_id, changes)


def close(
    store: Store,
    post_id: str,
    status: str,
    now: dt.datetime | None = None,
    allowed: tuple[str, ...] = ("open", "matched"),
) -> dict:
    """Fulfil, withdraw or expire an open or matched post: it moves to the archive."""
    if status not in ("fulfilled", "withdrawn", "expired"):
        raise ValueError(status)
    post = store.get_post(post_id)
    if post is None or post["status"] not in allowed:
        raise PermissionError("only an open or matched post can be closed")
    now = now or utcnow()
    fields = {"status": status, "closed": iso(now), "updated": iso(now)}
    return store.archive_post(post_id, fields, month=now.strftime("%Y-%m"))


# -- upkeep -----------------------------------------------------------------------------------


def expire_due(store: Store, now: dt.datetime, expire_days: int) -> int:
    """Move open posts older than the expiry period to the archive as expired."""
    due = [
        p["id"]
        for p in store.live_posts()
        if p["status"] in ("open", "matched") and is_expired(p, now, expire_days)
    ]
    for post_id in due:
        close(store, post_id, "expired", now)
    return len(due)


ERASED = {"title": "", "details": "", "area": "", "ride": None, "erased": True}


def _erase_replies(replies: list[dict]) -> list[dict]:
    """Replies and their threads lose their text; how many there were stays for statistics."""
    return [
        {
            **reply,
            "message": "",
            "available": "",
            "thread": [{**m, "text": ""} for m in reply.get("thread") or ()],
        }
        for reply in replies
    ]


def erase_old_text(store: Store, now: dt.datetime, retain_days: int, max_months: int = 3) -> int:
    """Blank the text of posts closed more than ``retain_days`` ago; kind, category, status
    and dates stay for the statistics. Months already done are remembered and skipped, and a
    run looks at no more than ``max_months`` archive files, so a backlog never stalls a request."""
    cutoff = now - dt.timedelta(days=retain_days)
    done_through = store.get_meta("erased_through_month", "")
    erased = 0
    last_full_month = ""
    pending = [m for m in store.archived_months() if done_through < m <= cutoff.strftime("%Y-%m")]
    for month in pending[:max_months]:
        changes = {
            p["id"]: {**ERASED, "replies": _erase_replies(p.get("replies") or [])}
            for p in store.archived_posts(month)
            if not p.get("erased") and p.get("closed") and parse_iso(p["closed"]) <= cutoff
        }
        store.update_archived_month(month, changes)
        erased += len(changes)
        if month < cutoff.strftime("%Y-%m"):
            last_full_month = month
    if last_full_month > done_through:
        store.set_meta("erased_through_month", last_full_month)
    return erased
