"""The audit trail's files: append-only, one per month (``audit/YYYY-MM.json``), in TinyDB's
layout (``{"audit": {"1": entry, ...}}``) so that older kiosks' files read the same."""

from __future__ import annotations

import json

from .errors import StoreError
from .files import dump_json, load_json, write_atomic
from .idindex import valid_month

AUDIT_DIR = "audit"


class AuditTrail:
    """Mixed into Store, which provides ``_lock`` and ``data_dir``."""

    def append_audit(self, entry: dict) -> None:
        month = entry["at"][:7]
        if not valid_month(month):
            raise StoreError(f"bad audit time {entry['at']!r}")
        with self._lock:
            self._append_audit(month, [entry], skip_known=False)

    def _append_audit(self, month: str, entries: list[dict], skip_known: bool = True) -> None:
        """Add entries to a month's file; ``skip_known`` (a restore) leaves out entries the
        file holds already, so restoring a backup twice never doubles the trail."""
        if not entries:
            return
        folder = self.data_dir / AUDIT_DIR
        folder.mkdir(exist_ok=True, mode=0o700)
        path = folder / f"{month}.json"
        rows = dict((load_json(path) or {}).get("audit") or {})
        have = {json.dumps(e, sort_keys=True) for e in rows.values()}
        next_id = max((int(k) for k in rows), default=0) + 1
        added = False
        for entry in entries:
            if not skip_known or json.dumps(entry, sort_keys=True) not in have:
                rows[str(next_id)] = entry
                next_id += 1
                added = True
        if added:
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
