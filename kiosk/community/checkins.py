"""Check-ins: "what is working, what should change", anonymous notes for the coordinators'
meetings. Only the two notes and the month are kept: nothing that could point at the writer."""

from __future__ import annotations

import datetime as dt
from typing import Mapping

from flask_babel import lazy_gettext as _l

from ..core import counts, fields, text
from ..core.errors import Invalid
from ..core.store import Store
from ..core.times import month_of

TABLE = "checkins"
LIMIT = 500


def check_checkin(form: Mapping) -> dict:
    errors: dict = {}
    values = {name: fields.clean(form, name, LIMIT, errors, multiline=True) for name in ("working", "change")}
    if not errors and not (text.visible(values["working"]) or text.visible(values["change"])):
        errors["working"] = _l("Write at least one of the two.")
    if errors:
        raise Invalid(errors, values)
    return values


def add_checkin(store: Store, values: dict, now: dt.datetime) -> None:
    store.add_record(TABLE, {"month": month_of(now), **values})


def checkins(store: Store) -> list[dict]:
    found = store.records(TABLE)
    found.sort(key=lambda c: (c["month"], c["_id"]), reverse=True)
    return found


def per_month(store: Store) -> dict[str, int]:
    return counts.per_month(note["month"] for note in store.records(TABLE))



def export_files(store: Store, progress):
    """checkins.csv: the notes are anonymous and meant for the meetings, so they travel."""
    from ..web.csvfile import csv_bytes

    notes = [[n.get("month", ""), n.get("working", ""), n.get("change", "")] for n in store.records(TABLE)]
    yield "checkins.csv", [csv_bytes(notes, ["month", "working", "change"])]
