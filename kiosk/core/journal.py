"""The live file's journal: each change appended and fsynced, instead of the whole file rewritten.

``live.json`` is a snapshot; ``journal/NNNNNNNN.log`` segments hold the changes made since,
one line each: ``<crc32, 8 hex digits> <json>``, the JSON ``{"t": table, "set": {doc id: row},
"del": [doc id], "clear": true}``. A change always sets whole rows (or empties a table), so
replaying changes the snapshot already holds changes nothing. That is why the snapshot and the
segments need no shared marker: a newer snapshot is written while new changes go to a new
segment, and only once it is in place are the segments it covers deleted, oldest first, so a
power cut anywhere leaves the snapshot plus a run of segments whose replay is right.

Group commit: ``append`` only writes (under the store's lock); ``wait`` makes a write durable
with one fsync shared by every writer that arrived meanwhile, so sixteen people posting at once
cost one disk sync, not sixteen in a row, and nobody holds the store's lock during a sync.

A line cut short by a power cut was never acknowledged (its fsync had not returned): it is
dropped at start. A bad line followed by good ones is damage, and stops the start.
"""

from __future__ import annotations

import os
import re
import threading
import zlib
from pathlib import Path

import msgspec

from .errors import StoreError
from .files import fsync_dir
from .idindex import stat_of

JOURNAL_DIR = "journal"
SEGMENT = re.compile(r"[0-9]{8}\.log")
encode = msgspec.json.Encoder().encode


class JournalDamaged(Exception):
    def __init__(self, path: Path, problem: str):
        super().__init__(problem)
        self.path, self.problem = path, problem


def encode_line(change: dict) -> bytes:
    body = encode(change)
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def segments(folder: Path) -> list[Path]:
    """The journal's segments, oldest first (an empty list when there is no journal)."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return [folder / name for name in sorted(names) if SEGMENT.fullmatch(name)]


def read_segment(path: Path, last: bool = True) -> tuple[list[dict], int]:
    """The changes in one segment and the length of its good part. Only the newest segment can
    end in a change a power cut left unfinished (older ones were fsynced when they were closed),
    and only as a cut-off last line or zeroed blocks: that tail was never acknowledged and is
    left out. Anything else that does not read is damage."""
    raw = path.read_bytes()
    changes: list[dict] = []
    good = position = 0
    while position < len(raw):
        end = raw.find(b"\n", position)
        change = _parse(raw[position:end]) if end >= 0 else None
        if change is None:
            break
        changes.append(change)
        good = position = end + 1
    tail = raw[good:]
    if tail and not (last and _cut_off(tail)):
        raise JournalDamaged(path, f"a change that does not read, at byte {good}")
    return changes, good


def _cut_off(tail: bytes) -> bool:
    """Whether what follows the last whole line is what a power cut leaves: a line without its
    end, or blocks the file grew by before their data reached the disk (zeros first) holding no
    change that reads. A whole line that does not read, with no zeros before it, is damage."""
    if b"\n" not in tail:
        return True
    return tail.startswith(b"\0") and not any(_parse(part) for part in tail.lstrip(b"\0").split(b"\n"))


def _parse(line: bytes) -> dict | None:
    if len(line) < 10 or line[8:9] != b" ":
        return None
    body = line[9:]
    try:
        if int(line[:8], 16) != zlib.crc32(body):
            return None
        change = msgspec.json.decode(body)
    except (ValueError, msgspec.DecodeError):
        return None
    if not isinstance(change, dict) or not isinstance(change.get("t"), str):
        return None
    if not isinstance(change.get("set", {}), dict) or not isinstance(change.get("del", []), list):
        return None
    return change


def apply(data: dict, change: dict) -> None:
    table = data.setdefault(change["t"], {})
    if change.get("clear"):
        table.clear()
    for key in change.get("del", ()):
        table.pop(str(key), None)
    table.update(change.get("set", {}))


def replay(folder: Path, data: dict, repair: bool) -> tuple[int, list[str]]:
    """Apply every segment to ``data`` (the snapshot's content); returns how many changes, and
    what was cut off (in words). ``repair``: cut an unfinished tail off the file (not when
    reading beside a server, where the newest line may be being written)."""
    count, cut = 0, []
    found = segments(folder)
    for path in found:
        changes, good = read_segment(path, last=path == found[-1])
        for change in changes:
            if not isinstance(data.get(change["t"], {}), dict):
                raise JournalDamaged(path, f"a change to {change['t']}, which is not a table in live.json")
            apply(data, change)
        count += len(changes)
        size = path.stat().st_size
        if good < size:
            cut.append(f"journal/{path.name}: an unfinished change a power cut left ({size - good} bytes, "
                       "never acknowledged) was dropped")
            if repair:
                with open(path, "r+b") as fh:
                    fh.truncate(good)
                    os.fsync(fh.fileno())
    return count, cut


def read_snapshot_and_journal(data_dir: Path, read) -> tuple[bytes | None, dict | None, int, list[str]]:
    """live.json's bytes and, when there is a journal, the content with it replayed, read so
    that a snapshot written meanwhile (which deletes the segments it covers) is never mixed with
    segments it no longer has: read again until live.json is the same file before and after."""
    path, folder = Path(data_dir) / "live.json", Path(data_dir) / JOURNAL_DIR
    for _ in range(20):
        before = _identity(path)
        raw = read(path)
        try:
            if not segments(folder):
                if _identity(path) == before:
                    return raw, None, 0, []
                continue
            try:
                data = msgspec.json.decode(raw) if raw and raw.strip() else {}
            except msgspec.DecodeError:
                return raw, None, 0, []  # the snapshot's own check says what is wrong with it
            if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
                return raw, None, 0, []
            count, cut = replay(folder, data, repair=False)
        except FileNotFoundError:  # a segment went with a new snapshot: read again
            continue
        if _identity(path) == before:
            return raw, data, count, cut
    raise JournalDamaged(folder, "the live file kept changing while it was read")


def _identity(path: Path):
    try:
        return stat_of(path)
    except FileNotFoundError:
        return None


def read_live(data_dir: Path) -> dict:
    """The live file's content as the kiosk sees it (the snapshot with its journal replayed),
    read beside a running server: for tools and tests; nothing is checked or repaired."""
    raw, data, _, _ = read_snapshot_and_journal(Path(data_dir), _read_or_none)
    if data is not None:
        return data
    return msgspec.json.decode(raw) if raw and raw.strip() else {}


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


class Journal:
    """The segments of one data folder, appended to by one server."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._fd: int | None = None
        self._segment_size = 0
        found = segments(self.folder)
        self.bytes = sum(p.stat().st_size for p in found)  # in segments not yet covered by a snapshot
        self._next = int(found[-1].name[:8]) + 1 if found else 1
        self._cond = threading.Condition()
        self._written = self._durable = 0
        self._syncing = False
        self.failed: OSError | None = None

    def append(self, line: bytes) -> int:
        """Write one change (the caller holds the store's lock); returns the ticket ``wait``
        takes. A failed write leaves the segment as it was."""
        if self.failed is not None:
            raise StoreError(f"the disk failed to save a change earlier ({self.failed}); restart the kiosk")
        if self._fd is None:
            self._open_segment()
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(self._fd, view):]
        except OSError:
            try:
                os.ftruncate(self._fd, self._segment_size)
            except OSError as exc:  # the segment's end is unknown now: never write to it again
                self.failed = exc
            raise
        self._segment_size += len(line)
        self.bytes += len(line)
        with self._cond:
            self._written += 1
            return self._written

    def _open_segment(self) -> None:
        self.folder.mkdir(exist_ok=True, mode=0o700)
        path = self.folder / f"{self._next:08d}.log"
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._segment_size = os.fstat(self._fd).st_size
        self._next += 1
        fsync_dir(self.folder)  # the new file's name survives a cut as well as its content

    def wait(self, ticket: int) -> None:
        """Return once the change ``ticket`` is on the disk. One caller syncs for all who wait."""
        with self._cond:
            while self._durable < ticket:
                if self.failed is not None:
                    raise StoreError(f"the disk failed to save a change ({self.failed}); restart the kiosk")
                if self._syncing:
                    self._cond.wait()
                    continue
                self._sync_locked()

    def _sync_locked(self) -> None:
        """fsync what is written so far; called holding the condition, released during the sync."""
        self._syncing = True
        target, fd = self._written, self._fd
        self._cond.release()
        try:
            if fd is not None:
                os.fsync(fd)
        except OSError as exc:
            self.failed = exc
        finally:
            self._cond.acquire()
            self._syncing = False
            if self.failed is None:
                self._durable = max(self._durable, target)
            self._cond.notify_all()

    def rotate(self) -> int:
        """Close the current segment (made durable first) so later changes go to a new one;
        returns the number of the last segment a snapshot taken now covers. Under the store's lock."""
        with self._cond:
            while self._syncing:
                self._cond.wait()
            if self._fd is not None:
                self._sync_locked()
                if self.failed is not None:
                    raise StoreError(f"the disk failed to save a change ({self.failed}); restart the kiosk")
                os.close(self._fd)
                self._fd = None
            self._segment_size = 0
            covered = self._next - 1
            self.bytes = 0
            return covered

    def drop(self, covered: int) -> None:
        """Delete the segments up to ``covered``, oldest first (a snapshot holds them now)."""
        gone = False
        for path in segments(self.folder):
            if int(path.name[:8]) <= covered:
                path.unlink(missing_ok=True)
                gone = True
        if gone:
            fsync_dir(self.folder)

    def close(self) -> None:
        with self._cond:
            while self._syncing:
                self._cond.wait()
            if self._fd is not None:
                try:
                    os.fsync(self._fd)
                except OSError:
                    pass
                os.close(self._fd)
                self._fd = None
