"""Check-ins: "what is working, what should change", anonymous notes for the coordinators'
meetings. Only the two notes and the month are kept: nothing that could point at the writer,
and the notes sealed to the coordinators' key (core/keys.py), so that only an unlocked
coordinator reads them."""

from __future__ import annotations

import datetime as dt
from typing import Mapping

from flask_babel import lazy_gettext as _l

from ..core import counts, fields, keys, text
from ..core.errors import Invalid
from ..core.store import Store
from ..core.times import month_of, oldest_months
from ..web import gate

TABLE = "checkins"
LIMIT = 500
TALLIED = "checkins_tallied"  # a setting: {month: notes} of the months whose notes are deleted


def check_checkin(form: Mapping) -> dict:
    errors: dict = {}
    values = {name: fields.clean(form, name, LIMIT, errors, multiline=True) for name in ("working", "change")}
    if not errors and not (text.visible(values["working"]) or text.visible(values["change"])):
        errors["working"] = _l("Write at least one of the two.")
    if errors:
        raise Invalid(errors, values)
    return values


def add_checkin(store: Store, values: dict, now: dt.datetime) -> None:
    team = gate.team_public(store)
    if team is None:
        raise Invalid({"working": _l("No coordinator is set up on this kiosk yet, so nobody could read a note.")}, values)
    sealed = keys.seal({"working": values.get("working", ""), "change": values.get("change", "")}, team)
    store.add_record(TABLE, {"month": month_of(now), "working": "", "change": "", "sealed": sealed})


def _opened(note: dict, team) -> dict:
    found = keys.unseal(note.get("sealed"), team)
    if found is None:  # from before sealing, or a key this coordinator's passphrase does not open
        return {**note, "shut": bool(note.get("sealed"))}
    return {**note, "working": found.get("working", ""), "change": found.get("change", "")}


def checkins(store: Store, team=None) -> list[dict]:
    """The notes, newest month first, opened with ``team`` (the coordinators' private key)."""
    found = [_opened(note, team) for note in store.records(TABLE)]
    found.sort(key=lambda c: (c["month"], c["_id"]), reverse=True)
    return found


def seal_plain(store: Store, team: str | None) -> int:
    """Notes stored in plain before sealing: sealed to the team's key (blanked if none exists)."""
    plain = [n for n in store.records(TABLE) if n.get("working") or n.get("change")]
    for note in plain:
        fields_ = {"working": "", "change": ""}
        if team:
            fields_["sealed"] = keys.seal({"working": note.get("working", ""), "change": note.get("change", "")}, team)
        store.update_record(TABLE, note["_id"], fields_)
    return len(plain) if team else 0


def per_month(store: Store) -> dict[str, int]:
    tallied = store.get_meta(TALLIED) or {}
    return {**counts.per_month(note["month"] for note in store.records(TABLE) if note["month"] not in tallied),
            **tallied}


def delete_old(store: Store, now: dt.datetime, retain_days: int, max_months: int = 3) -> int:
    """Delete the notes of months that ended more than ``retain_days`` ago (promise 7), a few
    months a run; how many each month had stays for the open numbers. The count is written
    first, and a month counted before a power cut is not counted again."""
    before = month_of(now - dt.timedelta(days=retain_days))
    due = oldest_months(((note["month"], note["_id"]) for note in store.records(TABLE)), max_months, before)
    if not due:
        return 0
    tallied = dict(store.get_meta(TALLIED) or {})
    store.set_meta(TALLIED, {**{month: len(ids) for month, ids in due.items()}, **tallied})
    store.remove_records(TABLE, [record_id for ids in due.values() for record_id in ids])
    return sum(len(ids) for ids in due.values())


def upkeep(store: Store, now: dt.datetime, setting, max_months: int) -> None:
    import logging

    deleted = delete_old(store, now, setting("RETAIN_DAYS"), max_months)
    if deleted:
        logging.getLogger("kiosk").info("upkeep: %d check-in notes older than the retention period deleted", deleted)



def export_files(store: Store, progress):
    """checkins.csv: how many notes came each month. The notes themselves are sealed to the
    coordinators and read on screen: a stick is carried home and lost."""
    from ..web.csvfile import csv_bytes

    rows = [[month, count] for month, count in sorted(per_month(store).items())]
    yield "checkins.csv", [csv_bytes(rows, ["month", "notes"])]
