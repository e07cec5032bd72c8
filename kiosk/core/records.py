"""Small record tables in the live file (reports, events, library items, ...): the part of
the store that works on them, through TinyDB's tables (store.py opens them)."""

from __future__ import annotations

from typing import Callable

from .errors import StoreError


class RecordTables:
    """Mixed into Store, which provides ``_lock``, ``_table``, ``_live``, ``schema`` and
    ``_rewrite_live``."""

    def _room_in(self, table: str) -> None:
        """A table never grows past what its schema (and so the next start) accepts."""
        declared = self.schema.tables.get(table)
        if declared is not None and len(self._table(table)) >= declared.max_rows:
            raise StoreError(f"the table {table} holds as many records as it can")

    def add_record(self, table: str, doc: dict) -> int:
        with self._lock:
            self._room_in(table)
            return self._table(table).insert(doc)

    def add_record_at(self, table: str, doc: dict, pick_id: Callable[[], int]) -> int:
        """Store a record under an id the caller picks (``pick_id`` is asked again while the
        id is taken), with the table kept in id order, so its place in the file says no more
        than its id does."""
        with self._lock:
            self._room_in(table)
            data = dict(self._live.storage.read() or {})
            rows = dict(data.get(table) or {})
            key = pick_id()
            while str(key) in rows:
                key = pick_id()
            rows[str(key)] = doc
            data[table] = dict(sorted(rows.items(), key=lambda item: int(item[0])))
            self._rewrite_live(data)
            return key

    def records(self, table: str) -> list[dict]:
        with self._lock:
            return [{**_copy(doc), "_id": doc.doc_id} for doc in self._table(table).all()]

    def update_record(self, table: str, record_id: int, fields: dict) -> None:
        with self._lock:
            self._table(table).update(fields, doc_ids=[record_id])

    def clear_records(self, table: str) -> None:
        with self._lock:
            self._table(table).truncate()

    def remove_record(self, table: str, record_id: int) -> None:
        with self._lock:
            self._table(table).remove(doc_ids=[record_id])

    def change_records(self, table: str, record_ids, change: Callable[[dict], None]) -> None:
        """Run ``change`` on each of these records in place, in one write (retention sweeps)."""
        ids = list(record_ids)
        if ids:
            with self._lock:
                self._table(table).update(change, doc_ids=ids)

    def remove_records(self, table: str, record_ids) -> None:
        ids = list(record_ids)
        if ids:
            with self._lock:
                self._table(table).remove(doc_ids=ids)


def _copy(value):
    # Hand out deep copies so callers can never change the in-memory database by accident.
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value

