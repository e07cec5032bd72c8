"""The audit trail's files: append-only, one per month (``audit/YYYY-MM.json``), in TinyDB's
layout (``{"audit": {"1": entry, ...}}``) so that older kiosks' files read the same."""

from __future__ import annotations

import json

from .errors import StoreError
from .files import dump_json, load_json, write_atomic
from .idindex import valid_month
from .schema import MAX_AUDIT_MONTH

AUDIT_DIR = "audit"


def joined(rows: dict, entries: list[dict]) -> dict:
    """A month's rows (number -> entry) with ``entries`` added after them, leaving out those it
    holds already: restoring one backup twice never doubles the trail."""
    have = {json.dumps(e, sort_keys=True) for e in rows.values()}
    out, number = dict(rows), max((int(k) for k in rows), default=0)
    for entry in entries:
        key = json.dumps(entry, sort_keys=True)
        if key not in have:
            number += 1
            out[str(number)] = entry
            have.add(key)
    return out


class AuditTrail:
    """Mixed into Store, which provides ``_lock`` and ``data_dir``."""

    def append_audit(self, entry: dict) -> None:
        month = entry["at"][:7]
        if not valid_month(month):
            raise StoreError(f"bad audit time {entry['at']!r}")
        with self._lock:
            folder = self.data_dir / AUDIT_DIR
            folder.mkdir(exist_ok=True, mode=0o700)
            path = folder / f"{month}.json"
            rows = dict((load_json(path) or {}).get("audit") or {})
            if len(rows) >= MAX_AUDIT_MONTH:  # what the next start (and a restore) would refuse
                raise StoreError("this month's audit trail holds as many entries as it can")
            rows[str(max((int(k) for k in rows), default=0) + 1)] = entry
            write_atomic(path, dump_json({"audit": rows}))

    def audit_months(self) -> list[str]:
        with self._lock:
            folder = self.data_dir / AUDIT_DIR
            return sorted(p.stem for p in folder.glob("*.json") if valid_month(p.stem)) if folder.is_dir() else []

    def audit_entries(self, month: str) -> list[dict]:
        if not valid_month(month):
            return []
        with self._lock:
            data = load_json(self.data_dir / AUDIT_DIR / f"{month}.json") or {}
            return [dict(doc) for doc in (data.get("audit") or {}).values()]
