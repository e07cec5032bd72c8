"""Building the data a restore or a merge leads to, in the staging folder (core/staging.py):
new files are written whole and fsynced, unchanged ones are hard links, and the result is
opened as a Store and checked whole before anything is committed."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Iterable, Iterator

import msgspec
from flask_babel import lazy_gettext as _l

from ...core import codes, staging
from ...core.archive import INDEX_FILE, entry_of, record_ids
from ...core.audit_log import AUDIT_DIR, joined
from ...core.checkup import check_audit, meta_id
from ...core.errors import DataDamaged
from ...core.files import ARCHIVE_DIR, LIVE_FILE, dump_json, load_json, write_atomic, write_atomic_pieces
from ...core.idindex import MonthEntry, index_bytes
from ...core.journal import JOURNAL_DIR
from ...core.schema import MAX_AUDIT_MONTH, MAX_MONTH_POSTS, Problem
from ...core.store import MAX_LIVE_FILE, Store
from .export import ExchangeError

log = logging.getLogger("kiosk")


class Spool:
    """Records waiting to be written, filed by where they go ("live" or a month), on disk so
    that memory holds one file's worth at a time."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(mode=0o700)
        self._files: dict[str, object] = {}
        self._counts: dict[str, int] = {}

    def add(self, key: str, record: dict) -> None:
        fh = self._files.get(key)
        if fh is None:
            fh = self._files[key] = open(self.folder / f"{key}.jsonl", "ab")
        fh.write(msgspec.json.encode(record) + b"\n")
        self._counts[key] = self._counts.get(key, 0) + 1

    def count(self, key: str) -> int:
        return self._counts.get(key, 0)

    def keys(self) -> list[str]:
        return sorted(self._files)

    def read(self, key: str) -> Iterator[dict]:
        fh = self._files.get(key)
        if fh is None:
            return
        fh.flush()
        with open(self.folder / f"{key}.jsonl", "rb") as lines:
            for line in lines:
                yield msgspec.json.decode(line)

    def close(self) -> None:
        for fh in self._files.values():
            try:
                fh.close()
            except OSError:  # a full disk: the spool is thrown away anyway
                pass
        self._files.clear()
        shutil.rmtree(self.folder, ignore_errors=True)


class Staged:
    """The new live.json, archive/ and audit/ being built in the staging folder."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.folder = staging.staging_folder(self.data_dir)
        (self.folder / ARCHIVE_DIR).mkdir(mode=0o700)
        (self.folder / AUDIT_DIR).mkdir(mode=0o700)
        (self.folder / JOURNAL_DIR).mkdir(mode=0o700)  # empty: the new live.json holds everything
        self.spool = Spool(self.folder / ".spool")
        self.months: dict[str, MonthEntry] = {}

    def write_live(self, posts: Iterable[dict], tables: dict[str, dict], meta: dict, kept: dict | None = None) -> None:
        """live.json in TinyDB's layout; ``tables`` maps each table to {row number: row};
        ``kept``: tables no feature declares, carried over as they are."""
        data = {**(kept or {}), "posts": {str(codes.post_id_to_int(p["id"])): p for p in posts},
                "meta": {str(meta_id(key)): {"key": key, "value": value} for key, value in meta.items()
                         if value is not None}}
        for name, rows in tables.items():
            data[name] = {str(number): row for number, row in sorted(rows.items())}
        payload = dump_json(data)
        if len(payload) > MAX_LIVE_FILE:
            raise ExchangeError("invalid", Problem(LIVE_FILE, "", _l("the open posts and records would be larger than "
                                                                      "a kiosk keeps (%(n)s MiB)", n=MAX_LIVE_FILE >> 20)))
        write_atomic(self.folder / LIVE_FILE, payload)

    def link_live(self) -> None:
        staging.link_or_copy(self.data_dir / LIVE_FILE, self.folder / LIVE_FILE)

    def write_month(self, month: str, posts: Iterable[dict]) -> None:
        """A month file written a post at a time (a month is the largest thing a restore holds
        otherwise); a month left with no posts has no file."""
        path = self.folder / ARCHIVE_DIR / f"{month}.json"
        numbers: list = []

        def pieces() -> Iterator[bytes]:
            yield b'{"posts":{'
            for post in posts:
                if len(numbers) >= MAX_MONTH_POSTS:
                    raise ExchangeError("invalid", Problem(month, "", _l("more posts than a month holds")))
                yield (b"," if numbers else b"") + dump_json(str(codes.post_id_to_int(post["id"]))) + b":" + dump_json(post)
                numbers.append(record_ids(post))
            yield b"}}"

        write_atomic_pieces(path, pieces())
        if numbers:
            self.months[month] = entry_of(path, numbers)
        else:
            path.unlink()

    def link_month(self, month: str, source: Path, entry: MonthEntry) -> None:
        """An unchanged month: the same file, and the same index entry (a link keeps its inode)."""
        staging.link_or_copy(source, self.folder / ARCHIVE_DIR / f"{month}.json")
        self.months[month] = entry

    def write_index(self) -> None:
        write_atomic(self.folder / ARCHIVE_DIR / INDEX_FILE, index_bytes(self.months))

    def audit(self, added: dict[str, Iterable[dict]], schema) -> None:
        """The audit trail here, with ``added`` entries (by month) joining it. A month file here
        that does not pass its check is left out (it stays in the copy of the data from before)."""
        current = self.data_dir / AUDIT_DIR
        target = self.folder / AUDIT_DIR
        good: dict[str, Path] = {}
        for path in sorted(current.glob("*.json")) if current.is_dir() else ():
            try:
                check_audit(self.data_dir, path, schema)
                good[path.stem] = path
            except DataDamaged as exc:
                log.warning("left out of the new data, kept with the data from before: %s", exc.path)
        for month, path in good.items():
            if month not in added:
                staging.link_or_copy(path, target / path.name)
        for month, entries in added.items():
            rows = joined((load_json(good[month]) or {}).get("audit") or {} if month in good else {}, list(entries))
            if len(rows) > MAX_AUDIT_MONTH:
                raise ExchangeError("invalid", Problem(str(_l("audit trail of %(month)s", month=month)), "", _l("more entries than a month holds")))
            write_atomic(target / f"{month}.json", dump_json({"audit": rows}))

    def verify(self, schema) -> None:
        """Open the new data as the kiosk will, checking every file whole: a staging that
        would not start is never committed."""
        self.spool.close()
        Store(self.folder, read_only=True, schema=schema, check_all=True).close()

    def discard(self) -> None:
        """Throw the staging away, unless it was committed: then the next start finishes it."""
        self.spool.close()
        if not (self.folder / staging.COMMIT).exists():
            shutil.rmtree(self.folder, ignore_errors=True)
