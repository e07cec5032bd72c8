"""The archive: closed posts in one file per month (``archive/YYYY-MM.json``), and the index of
which month holds each post, which post each reply, and which record each number printed at
another kiosk leads to (``archive/index.json``, idindex.py). The part of the store that works on
them; store.py mixes it in."""

from __future__ import annotations

import logging
import os
import re
from collections import OrderedDict
from pathlib import Path
from typing import Iterable, Optional

import msgspec

from . import codes
from .checkup import check_month, damaged, field_of, note_repair, read_file
from .errors import DataDamaged, StoreError
from .files import ARCHIVE_DIR, write_atomic
from .idindex import (MonthEntry, chunks, index_bytes, posts_index, read_index, replies_index, stat_of,
                      valid_month)
from .records import _copy

log = logging.getLogger("kiosk")
INDEX_FILE = "index.json"
POSTS = "posts"
_MONTH_FILE = re.compile(r"^(\d{4}-\d\d)\.json$")


def record_ids(post) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """(post id, reply ids, (printed number, record) pairs) of a post, decoded or plain."""
    post_id = field_of(post, "id")
    replies = list(field_of(post, "replies") or ())
    aka = [(printed, post_id) for printed in field_of(post, "aka") or ()]
    for reply in replies:
        aka += [(printed, field_of(reply, "id")) for printed in field_of(reply, "aka") or ()]
    return [post_id], [field_of(r, "id") for r in replies], aka


def month_entry(path: Path, posts: Iterable) -> MonthEntry:
    """The index's entry for a month file holding ``posts`` (decoded or plain)."""
    return entry_of(path, (record_ids(post) for post in posts))


def entry_of(path: Path, numbers: Iterable) -> MonthEntry:
    """The index's entry for a month file whose posts have these ``record_ids``."""
    post_ids, reply_pairs, aka_pairs = [], [], []
    for ids, reply_ids, aka in numbers:
        post_ids += ids
        reply_pairs += [r + ids[0] for r in reply_ids]
        aka_pairs += [a + b for a, b in aka]
    size, mtime_ns, ino = stat_of(path)
    return MonthEntry(size=size, mtime_ns=mtime_ns, ino=ino, posts="".join(post_ids),
                      replies="".join(reply_pairs), aka="".join(aka_pairs))


class _Closing(msgspec.Struct):
    id: str
    erased: bool = False
    closed: Optional[str] = None


class _Closings(msgspec.Struct):
    posts: dict[str, _Closing] = {}


class ArchiveMonths:
    """Mixed into Store, which provides ``_lock``, ``data_dir``, ``read_only``, ``schema``,
    ``check_all``, ``_open_db``, ``_document``, ``_posts`` and ``_bump`` (TinyDB stays in
    store.py)."""

    ARCHIVE_CACHE = 1  # archive months kept parsed at once; bounded so memory stays small

    def _archive_folder(self) -> Path:
        return self.data_dir / ARCHIVE_DIR

    # -- start-up ------------------------------------------------------------------------------

    def _load_archive(self) -> None:
        """Read the index and check it against the month files: a month whose file changed since
        the index was written (or every month, when the index is missing, damaged or does not
        add up) is checked whole and indexed again, and the index rewritten. A month the index
        lists whose file is gone, or a month that fails its check, stops the start (checkup.py)."""
        self._archives: OrderedDict = OrderedDict()  # month -> its parsed TinyDB
        self.damaged: set[str] = set()
        folder = self._archive_folder()
        self._index_path = folder / INDEX_FILE
        saved, why = read_index(self._index_path)
        on_disk = self._month_files_on_disk(folder)
        for month in saved.months if saved else ():
            if month not in on_disk:
                raise damaged(self.data_dir, folder / f"{month}.json", "the file is missing although the archive "
                              "index lists it", "If it is lost for good, delete archive/index.json to start without it.")
        entries = dict(saved.months) if saved else {}
        changed = self._refresh(entries, on_disk)
        try:
            self._build_indexes(entries, trusted=False)
        except ValueError:  # the index does not add up, though its months look unchanged
            why, entries = "damaged", {}
            changed = self._refresh(entries, on_disk)
            self._build_indexes(entries, trusted=True)
        self._months = entries
        self.index_was_stale = bool(changed) and why != "older"
        if changed or saved is None:
            if why == "older":
                log.info("archive/index.json written in this version's form (%d months)", len(entries))
            elif changed:
                before = sum(len(e.posts) // 5 for e in (saved.months.values() if saved else ()))
                note_repair(self.data_dir, f"archive/index.json {'rebuilt' if saved is None else 'brought up to date'}"
                            f" ({why or 'out of date'}): it listed {before} archived posts, the month files hold "
                            f"{len(self._index)} ({len(changed)} month(s) checked again)", self.read_only)
        if (changed or saved is None or self._restat) and not self.read_only and on_disk:
            self._write_index()

    def _month_files_on_disk(self, folder: Path) -> dict[str, Path]:
        found = {}
        # Listed, not globbed: a folder this user may not read raises here instead of looking empty.
        for path in (folder / name for name in sorted(os.listdir(folder))) if folder.exists() else ():
            if not path.name.endswith(".json") or path.name.startswith("."):
                continue
            match = _MONTH_FILE.match(path.name)
            if match and valid_month(match[1]):
                found[match[1]] = path
            elif path.name != INDEX_FILE:
                log.warning("archive/%s is not an archive month; it was left alone", path.name)
        return found

    def _refresh(self, entries: dict[str, MonthEntry], on_disk: dict[str, Path]) -> list[str]:
        """Check and index again every month whose file is not as its entry says; returns the
        months whose ids changed (``self._restat``: whether any entry changed at all)."""
        changed, self._restat = [], False
        for month, path in sorted(on_disk.items()):
            entry = entries.get(month)
            if entry is None or self.check_all or (entry.size, entry.mtime_ns, entry.ino) != stat_of(path):
                fresh = month_entry(path, check_month(self.data_dir, path, self.schema))
                if entry is None or (fresh.posts, fresh.replies, fresh.aka) != (entry.posts, entry.replies, entry.aka):
                    changed.append(month)
                self._restat = self._restat or fresh != entry
                entries[month] = fresh
        return changed

    def check_trusted_months(self) -> list[str]:
        """Check, one at a time, the months start-up trusted because their files had not changed
        (bit rot keeps a file's size and date): run after the start, so the start stays quick.
        A month that fails is named in ``damaged`` (and so in /healthz). Returns those months."""
        failed = []
        for month, (path, entry) in self.month_files().items():
            try:
                if (entry.size, entry.mtime_ns, entry.ino) == stat_of(path):
                    check_month(self.data_dir, path, self.schema)
            except DataDamaged as exc:
                log.error("%s", exc)
                self.damaged.add(month)
                failed.append(month)
            except OSError:  # moved or replaced since: the next read checks it
                continue
        return failed

    def month_files(self) -> dict[str, tuple[Path, MonthEntry]]:
        """Each archive month's file and its index entry (for building a new archive beside it)."""
        with self._lock:
            return {month: (self._archive_folder() / f"{month}.json", entry) for month, entry in self._months.items()}

    def _build_indexes(self, entries: dict[str, MonthEntry], trusted: bool) -> None:
        """The in-memory indexes from the entries. Raises ValueError when the entries do not add
        up (cut short, a number twice, a character no id has): rebuilt from the files then, unless
        they came from the files (``trusted``), when a number twice is damage in the files."""
        archived_aka: dict[str, set[str]] = {}

        def posts():
            for month, entry in entries.items():
                yield from ((post_id, month) for post_id in chunks(entry.posts, 5))

        def replies():
            for entry in entries.values():
                yield from ((pair[:5], pair[5:]) for pair in chunks(entry.replies, 10))

        for entry in entries.values():
            for pair in chunks(entry.aka, 10):
                archived_aka.setdefault(pair[:5], set()).add(pair[5:])
        try:
            self._index, self._reply_index = posts_index(posts()), replies_index(replies())
        except KeyError as exc:
            raise ValueError(exc) from None
        twice = self._index.duplicate() or self._reply_index.duplicate() or self._index.shared_with(self._reply_index)
        if twice:
            if not trusted:
                raise ValueError(twice)
            month = self._index.get(twice) or self._index.get(self._reply_index.get(twice) or "")
            raise damaged(self.data_dir, self._archive_folder() / f"{month or 'index'}.json",
                          f"the number {twice} is used twice in the archive")
        self._archived_aka = archived_aka

    # -- reading -------------------------------------------------------------------------------

    def _archive(self, month: str):
        db = self._archives.get(month)
        if db is not None:
            self._archives.move_to_end(month)
            return db
        if not valid_month(month):
            raise StoreError(f"bad archive month {month!r}")
        path = self._archive_folder() / f"{month}.json"
        entry = self._months.get(month)
        try:
            if entry is not None and (entry.size, entry.mtime_ns, entry.ino) != stat_of(path):
                check_month(self.data_dir, path, self.schema)  # changed under the running kiosk
            db = self._open_db(path, on_write=lambda: self._month_written(month))
        except (StoreError, OSError) as exc:  # a file that went bad since start-up checked it
            self.damaged.add(month)
            raise exc if isinstance(exc, DataDamaged) else damaged(self.data_dir, path, str(exc)) from None
        self._archives[month] = db
        while len(self._archives) > self.ARCHIVE_CACHE:
            self._archives.popitem(last=False)[1].close()
        return db

    def _month_written(self, month: str) -> None:
        """After a month file was replaced: its entry follows (the ids are kept by the callers)."""
        self._bump()
        posts = self._archives[month].table(POSTS).all() if month in self._archives else []
        self._months[month] = month_entry(self._archive_folder() / f"{month}.json", posts)
        self._write_index()

    def _write_index(self) -> None:
        write_atomic(self._index_path, index_bytes(self._months))
        self._bump()

    def trim(self) -> None:
        """Let go of parsed archive months (after a sweep through them)."""
        with self._lock:
            for db in self._archives.values():
                db.close()
            self._archives.clear()

    def archived_months(self) -> list[str]:
        with self._lock:
            return sorted(self._index.distinct_values())

    def archived_posts(self, month: str) -> list[dict]:
        with self._lock:
            if month not in self._index.distinct_values():
                return []
            return [_copy(doc) for doc in self._archive(month).table(POSTS).all()]

    def closings(self, month: str) -> list[tuple[str, bool, str | None]]:
        """(id, erased, closed) of every post archived in ``month``, read from its file without
        parsing the posts whole (a month can hold thousands): what erasure needs to know."""
        with self._lock:
            if month not in self._index.distinct_values():
                return []
            if month in self._archives:
                docs = self._archives[month].storage.read().get(POSTS, {}).values()
                return [(d["id"], bool(d.get("erased")), d.get("closed")) for d in docs]
            raw = read_file(self.data_dir, self._archive_folder() / f"{month}.json") or b"{}"
        try:
            found = msgspec.json.decode(raw, type=_Closings).posts.values()
        except (msgspec.DecodeError, msgspec.ValidationError):
            found = ()  # a damaged month: its posts are read (and refused) the usual way
        return [(c.id, c.erased, c.closed) for c in found]

    def count_archived(self) -> int:
        with self._lock:
            return len(self._index)

    # -- writing -------------------------------------------------------------------------------

    def _index_posts(self, month: str, month_posts: Iterable[dict]) -> None:
        for p in month_posts:
            ids, reply_ids, aka = record_ids(p)
            self._index[ids[0]] = month
            for reply_id in reply_ids:
                self._reply_index[reply_id] = ids[0]
            for printed, local in aka:
                self._archived_aka.setdefault(printed, set()).add(local)

    def archive_post(self, post_id: str, fields: dict, month: str) -> dict | None:
        """Apply ``fields`` and move a live post into the archive file of ``month`` (YYYY-MM).

        Order matters for power cuts: archive file and index, then removal from the live file.
        A cut in between leaves the post in both places, which start-up repairs."""
        doc_id = codes.post_id_to_int(post_id)
        with self._lock:
            doc = self._posts.get(doc_id=doc_id)
            if doc is None:
                return None
            moved = {**doc, **fields}
            self._archive(month).table(POSTS).upsert(self._document(moved, doc_id))
            self._index_posts(month, [moved])  # after: a write that failed leaves it live, as it is
            self._posts.remove(doc_ids=[doc_id])
            return _copy(moved)

    def update_archived_month(self, month: str, fields_by_id: dict[str, dict]) -> None:
        """Change many posts of one archive month in one write (retention sweeps)."""
        if not fields_by_id:
            return
        with self._lock:
            table = self._archive(month).table(POSTS)
            keys = [k for k in (codes.post_id_to_int(i) for i in fields_by_id) if table.contains(doc_id=k)]
            if keys:
                table.update(lambda doc: doc.update(fields_by_id[doc["id"]]), doc_ids=keys)

    def _finish_interrupted_moves(self) -> None:
        leftovers = [doc.doc_id for doc in self._posts.all() if doc.get("id") in self._index]
        if leftovers:
            self._posts.remove(doc_ids=leftovers)
            note_repair(self.data_dir, f"{len(leftovers)} post(s) found both open and archived after a power cut: "
                        "kept in the archive", self.read_only)
