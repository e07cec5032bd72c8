"""The live file's part of the store: opening it with its journal, writing snapshots in the
background, and the numbers of the live posts kept up to date change by change (so a page that
looks a number up, or a new post that needs a free one, costs no scan of the board)."""

from __future__ import annotations

import logging
import os
import threading

from .archive import POSTS, record_ids
from .checkup import check_live
from .files import LIVE_FILE, write_atomic
from .journal import JOURNAL_DIR, Journal, encode
from .livedb import JournaledStorage, LiveDB

log = logging.getLogger("kiosk")
# live.json is parsed whole at start and a snapshot is written whole: it never grows past this
# (honest use stays far below; a backup that would pass it is refused, lines.py).
MAX_LIVE_FILE = 32 * 1024 * 1024
# A new snapshot is written once the journal holds this much, or as much as the snapshot itself
# (whichever is more): writing costs O(change) on average, and a start replays little.
# (KIOSK_TEST_COMPACT_AT: tests that SIGKILL a server while it writes snapshots want one every
# so many bytes, whatever the snapshot's size.)
_TEST_EVERY = os.environ.get("KIOSK_TEST_COMPACT_AT")
COMPACT_AT = int(_TEST_EVERY or 1 << 20)
COMPACT_RATIO = 0 if _TEST_EVERY else 1


class LiveFile:
    """Mixed into Store, which provides ``_lock`` (livedb.WriteLock), ``data_dir``,
    ``read_only``, ``schema`` and ``_bump``."""

    _journal: Journal | None = None
    _compactor: threading.Thread | None = None

    def _open_live(self) -> None:
        path = self.data_dir / LIVE_FILE
        data, size = check_live(self.data_dir, path, self.schema, repair=not self.read_only)
        if data is None:
            data = {}
            if not self.read_only:  # the live file exists from the first start on
                write_atomic(path, encode(data))
        self._journal = None if self.read_only else Journal(self.data_dir / JOURNAL_DIR)
        self._lock.journal = self._journal
        self._live = LiveDB(path, storage=JournaledStorage, read_only=self.read_only, data=data,
                            journal=self._journal, max_bytes=MAX_LIVE_FILE, on_change=self._live_changed,
                            size=size, wait=self._lock.pending, lazy=(POSTS,))
        self._index_live()

    def _index_live(self) -> None:
        self._owners: dict[str, str] = {}  # reply id -> post id, live posts
        self._live_aka: dict[str, set[str]] = {}  # printed number -> records here
        for doc in (self._live.storage.read().get(POSTS) or {}).values():
            self._number(doc, +1)

    def _number(self, doc: dict | None, sign: int) -> None:
        if not doc:
            return
        ids, reply_ids, pairs = record_ids(doc)
        for reply_id in reply_ids:
            if sign > 0:
                self._owners[reply_id] = ids[0]
            elif self._owners.get(reply_id) == ids[0]:
                del self._owners[reply_id]
        for number, local in pairs:
            if sign > 0:
                self._live_aka.setdefault(number, set()).add(local)
            else:
                held = self._live_aka.get(number, set())
                held.discard(local)
                if not held:
                    self._live_aka.pop(number, None)

    def _live_changed(self, table: str | None, rows: dict) -> None:
        if table is None:  # the whole file was replaced
            self._index_live()
        elif table == POSTS:
            for old, new in rows.values():
                self._number(old, -1)
                self._number(new, +1)
        self._bump()
        journal = self._journal
        storage = self._live.storage
        if journal is not None and journal.bytes > max(COMPACT_AT, COMPACT_RATIO * storage.size) and self._compactor is None:
            self._compactor = threading.Thread(target=self._compact, name="kiosk-snapshot", daemon=True)
            self._compactor.start()

    def _compact(self) -> None:
        """A new snapshot, written while writers go on into a new journal segment."""
        try:
            with self._lock:
                # A store closed or reopened meanwhile (a restore) has nothing for this thread.
                if self._live is None or self.read_only or self._compactor is not threading.current_thread():
                    return
                storage = self._live.storage
                generation, payload, covered = storage.snapshot()
            storage.save_snapshot(generation, payload, covered)
        except Exception:  # the journal still holds everything: the next write tries again
            log.exception("could not write a snapshot of the live file")
        finally:
            with self._lock:
                if self._compactor is threading.current_thread():
                    self._compactor = None

    def checkpoint(self) -> None:
        """Fold the journal into live.json now (before a restore or merge reads the files, and
        at a clean stop), so the files alone hold everything. A snapshot being written in the
        background meanwhile is older, and is not written over this one (livedb.py)."""
        with self._lock:
            if self._live is None or self.read_only or self._journal is None:
                return
            storage = self._live.storage
            if self._journal.bytes or any((self.data_dir / JOURNAL_DIR).glob("*.log")):
                storage.save_snapshot(*storage.snapshot())

    def _close_live(self, checkpoint: bool) -> None:
        """``checkpoint``: write the live file first (a clean stop); not when the files were
        just replaced under us (a restore: memory holds the old data). A snapshot thread still
        running is never waited for (it may be waiting for the lock a restore holds): it finds
        the store closed, and its storage refuses to write (livedb.py)."""
        with self._lock:
            if checkpoint and self._live is not None and not self.read_only:
                try:
                    self.checkpoint()
                except Exception:  # the journal keeps every change; the next start replays it
                    log.exception("could not write the live file at stop")
            self._compactor = None
            if self._live is not None:
                self._live.storage.close()
            if self._journal is not None:
                self._journal.close()
                self._journal = None
                self._lock.journal = None
            if self._live is not None:
                self._live.close()
                self._live = None
