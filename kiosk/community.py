"""The network's rhythm, public side: the thanks wall, the "needs met" counter, check-ins.
Plain functions over the store."""

from __future__ import annotations

import datetime as dt
from typing import Mapping

from flask_babel import lazy_gettext as _l

from . import fields, posts, text
from .store import Store

CHECKIN_LIMIT = 500


def thanks_wall(store: Store, limit: int = 100) -> list[dict]:
    """Approved thank-you lines, newest first: only the line and its month."""
    approved = [t for t in store.records("thanks") if t.get("status") == "approved"]
    approved.sort(key=lambda t: (t.get("judged") or t["created"], t["_id"]), reverse=True)
    return [{"text": t["text"], "month": t["created"][:7]} for t in approved[:limit]]


def needs_met(store: Store, now: dt.datetime) -> int:
    """Requests fulfilled this month (they sit in this month's archive file)."""
    month = now.strftime("%Y-%m")
    count = sum(1 for p in store.archived_posts(month) if p["kind"] == "request" and p["status"] == "fulfilled")
    # The same small-cell rule as /stats: one or two would point at the people involved.
    return count if count >= 3 else 0


def check_checkin(form: Mapping) -> dict:
    errors: dict = {}
    values = {}
    for name in ("working", "change"):
        values[name] = fields.clean(form, name, CHECKIN_LIMIT, errors, multiline=True)
    if not errors and not (text.visible(values["working"]) or text.visible(values["change"])):
        errors["working"] = _l("Write at least one of the two.")
    if errors:
        raise posts.Invalid(errors, values)
    return values


def add_checkin(store: Store, values: dict, now: dt.datetime) -> None:
    # Only the two notes and the month: nothing that could point back at the writer.
    store.add_record("checkins", {"month": now.strftime("%Y-%m"), **values})


def checkins(store: Store) -> list[dict]:
    found = store.records("checkins")
    found.sort(key=lambda c: (c["month"], c["_id"]), reverse=True)
    return found
