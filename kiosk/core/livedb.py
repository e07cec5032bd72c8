"""How TinyDB's tables reach the disk: the live file through its journal (journal.py), an
archive month as a whole file. TinyDB stays the query layer; only its storage and the step
that applies a change to a table are ours.

Stock TinyDB copies a whole table on every change and hands the storage the whole database,
so a write would cost the size of the live set however small it is. ``LiveTable`` applies a
change to the table in place through ``Changes``, which remembers the rows it touched (and
their old values, to undo a change the disk refused), and the storage journals only those.
"""

from __future__ import annotations

import threading
from collections.abc import MutableMapping
from pathlib import Path
from typing import Callable

import msgspec
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from .errors import StoreError
from .files import load_json, write_atomic
from .journal import Journal, encode, encode_line
from .records import _copy

_MISSING = object()
_decode = msgspec.json.decode


class LazyRows(dict):
    """A table whose rows stay as their JSON (msgspec.Raw) until one is read: the open posts,
    thousands of them on a network's board, take the size of their JSON in memory, not ~3x
    that as Python objects. Reading a row decodes a fresh dict (a change goes through
    ``Changes``, which writes it back); the encoder writes the rows as they are."""

    def __getitem__(self, key):
        return _decode(dict.__getitem__(self, key))

    def get(self, key, default=None):
        raw = dict.get(self, key)
        return default if raw is None else _decode(raw)

    def values(self):
        return (_decode(raw) for raw in dict.values(self))

    def items(self):
        return ((key, _decode(raw)) for key, raw in dict.items(self))

    def __setitem__(self, key, value) -> None:
        dict.__setitem__(self, key, value if isinstance(value, msgspec.Raw) else msgspec.Raw(encode(value)))

    def raw(self, key):
        return dict.get(self, key, _MISSING)

    def pop(self, key, *default):
        raw = dict.pop(self, key, *default)
        return _decode(raw) if isinstance(raw, msgspec.Raw) else raw

    def update(self, other=(), **more) -> None:
        for key, value in dict(other, **more).items():
            self[key] = value


class Changes(MutableMapping):
    """A table's rows as TinyDB's updaters see them (int keys), changed in place; remembers
    each touched row's old value so the change can be journaled, or undone. Over ``LazyRows``
    the old value is the row's JSON, and a row handed out to be changed in place is written
    back when the change is journaled."""

    def __init__(self, raw: dict):
        self.raw = raw
        self.lazy = isinstance(raw, LazyRows)
        self.old: dict[str, object] = {}
        self.handed: dict[str, dict] = {}
        self.cleared = False

    def _touch(self, key: str) -> None:
        if key not in self.old:
            if self.lazy:
                self.old[key] = self.raw.raw(key)
            else:
                value = self.raw.get(key, _MISSING)
                self.old[key] = value if value is _MISSING else _copy(value)

    def __getitem__(self, doc_id):
        key = str(doc_id)
        if key in self.handed:  # read again in the same change: the same row, with what was done to it
            return self.handed[key]
        value = self.raw[key]
        self._touch(key)  # the updater may change the row in place
        if self.lazy:
            self.handed[key] = value
        return value

    def __setitem__(self, doc_id, value) -> None:
        key = str(doc_id)
        self._touch(key)
        self.handed.pop(key, None)
        self.raw[key] = value

    def __delitem__(self, doc_id) -> None:
        key = str(doc_id)
        self._touch(key)
        self.handed.pop(key, None)
        del self.raw[key]

    def __contains__(self, doc_id) -> bool:
        return str(doc_id) in self.raw

    def __iter__(self):
        return (int(key) for key in list(self.raw.keys()))

    def __len__(self) -> int:
        return len(self.raw)

    def clear(self) -> None:
        for key in list(self.raw.keys()):
            self._touch(key)
        self.handed.clear()
        self.raw.clear()
        self.cleared = True

    def changed(self) -> tuple[dict, list, dict]:
        """(rows set, keys deleted, old values of both), leaving out rows read but not changed."""
        for key, value in self.handed.items():
            self.raw[key] = value  # the row changed in place, as JSON again
        self.handed.clear()
        now_of = self.raw.raw if self.lazy else (lambda key: self.raw.get(key, _MISSING))
        sets, dels, old = {}, [], {}
        for key, before in self.old.items():
            now = now_of(key)
            if now is _MISSING:
                if before is not _MISSING:
                    dels.append(key)
                    old[key] = before
            elif before is _MISSING or now != before:
                sets[key] = now
                old[key] = before
        return sets, dels, old

    def undo(self) -> None:
        self.handed.clear()
        for key, before in self.old.items():
            if before is _MISSING:
                self.raw.pop(key, None)
            else:
                self.raw[key] = before


class LiveTable(Table):
    def _update_table(self, updater: Callable[[dict], None]) -> None:
        tables = self._storage.read()
        created = self.name not in tables
        view = Changes(tables.setdefault(self.name, self._storage.new_rows(self.name)))
        try:
            updater(view)
            self._storage.record(self.name, view)
        except BaseException:
            view.undo()
            if created:
                tables.pop(self.name, None)
            raise
        self.clear_cache()


class LiveDB(TinyDB):
    table_class = LiveTable


class JournaledStorage(Storage):
    """The live file's content in memory; each change to it journaled (``record``); the whole
    of it written as a new snapshot now and then (``snapshot``), or when TinyDB hands over the
    whole database (``write``: a table dropped, the file rewritten)."""

    def __init__(self, path, read_only: bool = False, data=None, journal: Journal | None = None,
                 max_bytes: int | None = None, on_change=None, size: int = 0, wait=None, lazy=()):
        self.path = Path(path)
        self.lazy = set(lazy)  # tables kept as their rows' JSON (LazyRows): the posts
        self.read_only = read_only
        self.journal = journal
        self.max_bytes = max_bytes
        self.on_change = on_change  # (table, {key: (old, new)}) after each change
        self.wait = wait  # hands the journal's ticket to the store's lock (group commit)
        self.size = size  # of the snapshot plus what the journal changed, roughly: kept under max_bytes
        self._data = {} if data is None else data
        self._file_lock = threading.Lock()
        self._written_generation = 0
        self._generation = 0
        self.closed = False  # once its store closed or reopened: a late snapshot writes nothing

    def read(self):
        return self._data

    def new_rows(self, table: str) -> dict:
        """The rows of a table made by its first change (a new kiosk's first post)."""
        return LazyRows() if table in self.lazy else {}

    def record(self, table: str, view: Changes) -> None:
        if self.read_only:
            raise StoreError("this data folder was opened read-only")
        sets, dels, old = view.changed()
        if not sets and not dels and not view.cleared:
            return
        change = {"t": table, "set": sets, "del": dels, **({"clear": True} if view.cleared else {})}
        line = encode_line(change)
        grown = len(line) - sum(len(encode_line(v)) for v in old.values() if v is not _MISSING)
        if self.max_bytes and grown > 0 and self.size + grown > self.max_bytes:
            raise StoreError(f"{self.path.name} would grow past {self.max_bytes >> 20} MiB")
        self.wait(self.journal.append(line))
        self.size += grown
        if self.on_change:
            self.on_change(table, {key: (_row(before), self._data[table].get(key)) for key, before in old.items()})

    def write(self, data) -> None:
        """The whole database: written as a snapshot at once (rare: a rewrite, a dropped table)."""
        if self.read_only:
            raise StoreError("this data folder was opened read-only")
        payload = _snapshot_bytes(data, self.max_bytes, self.path)
        covered = self.journal.rotate()
        self.save_snapshot(self.next_generation(), payload, covered)
        self._data = data
        if self.on_change:
            self.on_change(None, {})

    def next_generation(self) -> int:
        self._generation += 1
        return self._generation

    def snapshot(self) -> tuple[int, bytes, int]:
        """(generation, bytes, covered segment) of the content now; the caller holds the store's
        lock, and may write the bytes after releasing it (``save_snapshot``)."""
        payload = _snapshot_bytes(self._data, None, self.path)
        self.size = len(payload)
        return self.next_generation(), payload, self.journal.rotate()

    def save_snapshot(self, generation: int, payload: bytes, covered: int) -> None:
        """Write a snapshot, unless a newer one was written meanwhile; then drop what it covers."""
        with self._file_lock:
            if generation <= self._written_generation or self.closed:
                return
            write_atomic(self.path, payload)
            self._written_generation = generation
            self.journal.drop(covered)
        self.size = max(self.size, len(payload))

    def close(self) -> None:
        """Waits for a snapshot being written (never for the store's lock), then refuses more."""
        with self._file_lock:
            self.closed = True


def _row(value):
    if value is _MISSING:
        return None
    return _decode(value) if isinstance(value, msgspec.Raw) else value


def _snapshot_bytes(data: dict, max_bytes: int | None, path: Path) -> bytes:
    payload = encode(data)
    if max_bytes and len(payload) > max_bytes:
        raise StoreError(f"{path.name} would grow past {max_bytes >> 20} MiB")
    return payload


class DurableJSONStorage(Storage):
    """An archive month: kept parsed in memory, written whole, atomically and durably (a month
    changes when a post moves into it, not at each visitor's write)."""

    def __init__(self, path, read_only: bool = False, on_write=None, data=None):
        self.path = Path(path)
        self.read_only = read_only
        self.on_write = on_write
        self._data = load_json(self.path) if data is None else data

    def read(self):
        return self._data

    def write(self, data) -> None:
        if self.read_only:
            raise StoreError("this data folder was opened read-only")
        try:
            write_atomic(self.path, encode(data))
        except BaseException:
            # TinyDB changed the dict we handed out before calling write(); the file still
            # holds the last good version, so go back to it.
            self._data = load_json(self.path)
            raise
        self._data = data
        if self.on_write:
            self.on_write()

    def close(self) -> None:
        pass


class WriteLock:
    """The store's lock (reentrant). A write made under it is waited for (made durable) only
    once the outermost holder lets go, so readers and other writers go on during the disk sync,
    and writers that arrive together share one sync (journal.py)."""

    def __init__(self):
        self._lock = threading.RLock()
        self._local = threading.local()
        self.journal: Journal | None = None

    def __enter__(self):
        self._lock.acquire()
        self._local.depth = getattr(self._local, "depth", 0) + 1
        return self

    def __exit__(self, kind, exc, tb) -> None:
        self._local.depth -= 1
        ticket = None
        if self._local.depth == 0:
            ticket, self._local.ticket = getattr(self._local, "ticket", None), None
        journal = self.journal
        self._lock.release()
        if ticket and journal is not None:
            try:
                journal.wait(ticket)
            except StoreError:
                if kind is None:
                    raise

    def pending(self, ticket: int) -> None:
        """A change was journaled under this lock: wait for it at the outermost release."""
        self._local.ticket = max(ticket, getattr(self._local, "ticket", None) or 0)
