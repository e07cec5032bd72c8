"""Start-up knows its files: each data file is checked against its schema before the kiosk
uses it. Damaged primary data (the live file, an archive month, an audit month) stops the start
with a message that names the file, says what is wrong and which copy to restore; nothing is
written. Derived data (the archive index) is rebuilt from its source (store.py)."""

from __future__ import annotations

import datetime as dt
import logging
import re
import zlib
from pathlib import Path
from typing import Any

import msgspec

from . import codes, journal, staging
from .errors import DataDamaged, StoreError
from .files import write_atomic
from .livedb import LazyRows
from .schema import DataSchema, Problem, decode

log = logging.getLogger("kiosk")
REPAIRS_FILE = "repairs.log"  # what start-up mended, for kiosk doctor (the last lines only)
REPAIRS_KEPT = 50


def meta_id(key: str) -> int:
    """The settings table addresses each key by a stable small number."""
    return zlib.crc32(key.encode()) + 1


def field_of(record: Any, name: str, default: Any = None) -> Any:
    """A field of a decoded record (a schema Struct, or a plain dict without a schema)."""
    if isinstance(record, dict):
        return record.get(name, default)
    return getattr(record, name, default)


def last_good_copy(data_dir: Path) -> str:
    """Where the last good copy of the data is, and the command that restores it."""
    kept = [copy for copy in staging.kept_copies(data_dir) if not copy.name.startswith("damaged")]
    stick = ("the newest full backup from your USB stick (kiosk import --from /media/<stick>/<backup folder> "
             f"--replace --data {data_dir})")
    if kept:
        made = dt.datetime.fromtimestamp(kept[0].stat().st_mtime).strftime("%Y-%m-%d %H:%M")
        return (f"Restore the copy kept on this kiosk on {made}, before a restore or merge: stop the kiosk and run "
                f"kiosk import --from {kept[0]} --replace --data {data_dir}; or {stick}.")
    return f"Restore {stick}, with the kiosk stopped."


def damaged(data_dir: Path, path: Path, problem: str | Problem, hint: str = "") -> DataDamaged:
    what = problem.english() if isinstance(problem, Problem) else problem
    return DataDamaged(f"The data file {path} is damaged ({what}). The kiosk changed nothing. "
                       f"{last_good_copy(data_dir)}{' ' + hint if hint else ''}", path, f"{Path(path).name}: {what}")


def unusable(data_dir: Path, exc: OSError) -> StoreError:
    """A file or folder in the data folder that this user cannot use as it is: what to do."""
    if isinstance(exc, PermissionError):
        fix = ("Its files must belong to the kiosk's user; if a command ran as root, give them back: "
               f"sudo chown -R kiosk:kiosk {data_dir} (then restart the kiosk).")
    elif isinstance(exc, (IsADirectoryError, NotADirectoryError, FileExistsError)):
        fix = "Something else sits where the kiosk keeps a file or a folder: move it out of the data folder."
    else:
        fix = "The disk may be failing: kiosk doctor says more."
    return StoreError(f"The data folder {data_dir} cannot be used ({exc.filename or data_dir}: "
                      f"{exc.strerror or exc}). The kiosk changed nothing. {fix}")


def read_file(data_dir: Path, path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise unusable(data_dir, exc) from None


def check_live(data_dir: Path, path: Path, schema: DataSchema, repair: bool = True) -> tuple[dict | None, int]:
    """live.json with its journal replayed (journal.py), as plain data, after checking it whole,
    and the snapshot's size; (None, 0) when there is none yet. ``repair``: cut off a journal
    line a power cut left unfinished (saying so), not when reading beside a running server."""
    folder = Path(data_dir) / journal.JOURNAL_DIR
    try:
        raw, replayed, count, cut = journal.read_snapshot_and_journal(data_dir, lambda p: read_file(data_dir, p))
        if repair and cut:
            journal.replay(folder, {}, repair=True)  # the same cut, made in the file this time
            for words in cut:
                note_repair(data_dir, words, read_only=False)
    except journal.JournalDamaged as exc:
        raise damaged(data_dir, exc.path, exc.problem, _cut_hint(exc)) from None
    except OSError as exc:
        raise unusable(data_dir, exc) from None
    if raw is None or not raw.strip():
        if folder.exists() or (Path(data_dir) / "secret_key").exists() or \
                any(any((Path(data_dir) / f).glob("[0-9]*.json")) for f in ("archive", "audit")):
            # A folder a kiosk has run in (it made its journal and its key at its first start)
            # without its live file is not a new kiosk: the file was lost.
            raise damaged(data_dir, path, "it is empty or missing, while the journal, archive or audit trail are there")
        return None, 0
    size = len(raw)
    snapshot = raw
    if replayed is not None:
        raw = journal.encode(replayed)  # checked as a whole, as if it were the file
        del replayed
    # Checked typed first, then parsed plain: the two are never in memory at once.
    typed = _typed_live(data_dir, path, raw, schema, snapshot if raw is not snapshot else None)
    filed_by_number(data_dir, path, typed.posts)
    for key, row in typed.meta.items():
        if meta_id(getattr(row, "key", None) or type(row).__struct_config__.tag) != int(key):
            raise damaged(data_dir, path, f"setting number {key} is filed under the wrong number")
    ids_unique(data_dir, path, typed.posts.values())
    del typed, snapshot
    # Posts stay as their JSON until read (livedb.LazyRows): 5,000 take 6 MB, not ~20 as
    # Python objects. The small tables are parsed.
    tables = msgspec.json.decode(raw, type=dict[str, dict[str, msgspec.Raw]])
    data = {name: LazyRows(rows) if name == "posts" else {key: msgspec.json.decode(row) for key, row in rows.items()}
            for name, rows in tables.items()}
    del tables
    unknown = sorted(set(data) - schema.known_tables()) if schema.strict else []
    if unknown:
        log.warning("live.json holds tables no feature of this version declares (%s): kept as they are",
                    ", ".join(unknown))
    return data, size


def _typed_live(data_dir: Path, path: Path, raw: bytes, schema: DataSchema, snapshot: bytes | None):
    """The live data decoded against the schema; a refusal names the journal when the snapshot
    alone passes (the change that breaks it is in the journal)."""
    try:
        return decode(raw, schema.decoder("live"), "live.json")
    except Problem as problem:
        if snapshot is not None:
            try:
                decode(snapshot, schema.decoder("live"), "live.json")
            except Problem:
                pass
            else:
                folder = Path(data_dir) / journal.JOURNAL_DIR
                raise damaged(data_dir, folder, f"a change in it: {problem.english()}",
                              "Or, to start without the journal's changes (those since the last snapshot), "
                              f"move the folder {folder} out of the data folder.") from None
        raise damaged(data_dir, path, problem) from None
    except RecursionError:
        raise damaged(data_dir, path, "it is nested too deeply") from None


def _cut_hint(exc) -> str:
    at = re.search(r"at byte ([0-9]+)", exc.problem)
    if not at:
        return ""
    return (f"Or, to start with the changes before that one (the rest of that file is lost), cut the file "
            f"there: truncate -s {at[1]} {exc.path}")


def filed_by_number(data_dir: Path, path: Path, posts: dict) -> None:
    """Each post is filed under the number of its id (TinyDB's document id): lookups go by it."""
    for key, post in posts.items():
        if codes.post_id_to_int(field_of(post, "id")) != int(key):
            raise damaged(data_dir, path, f"post {field_of(post, 'id')} is filed under the wrong number {key}")


def ids_unique(data_dir: Path, path: Path, posts) -> None:
    """Post and reply numbers are one space: a reply's number never equals another record's."""
    seen: set[str] = set()
    for post in posts:
        for some_id in (field_of(post, "id"), *(field_of(r, "id") for r in field_of(post, "replies") or ())):
            if some_id in seen:
                raise damaged(data_dir, path, f"the number {some_id} is used twice")
            seen.add(some_id)


def check_month(data_dir: Path, path: Path, schema: DataSchema):
    """An archive month, checked whole: its posts, decoded (the caller indexes them)."""
    raw = read_file(data_dir, path)
    if raw is None:
        raise damaged(data_dir, path, "the file is missing although the archive index lists it",
                      "Or, to start without that month's posts, run kiosk doctor and follow what it says.")
    try:
        typed = decode(raw, schema.decoder("month"), f"archive/{path.name}")
    except Problem as problem:
        raise damaged(data_dir, path, problem,
                      "Or, to start without that month's posts until you can restore them, move the file "
                      "out of the data folder and delete archive/index.json (the kiosk rebuilds it).") from None
    filed_by_number(data_dir, path, typed.posts)
    return list(typed.posts.values())


def check_audit(data_dir: Path, path: Path, schema: DataSchema) -> None:
    raw = read_file(data_dir, path)
    if raw is None or not raw.strip():
        return
    try:
        decode(raw, schema.decoder("audit"), f"audit/{path.name}")
    except Problem as problem:
        raise damaged(data_dir, path, problem) from None


def note_repair(data_dir: Path, message: str, read_only: bool, now: dt.datetime | None = None) -> None:
    """Say what start-up mended: in the log, and in repairs.log for kiosk doctor."""
    log.warning("start-up: %s", message)
    if read_only:
        return
    path = Path(data_dir) / REPAIRS_FILE
    stamp = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    try:
        lines = path.read_text("utf-8").splitlines()[-(REPAIRS_KEPT - 1):]
    except (OSError, UnicodeDecodeError):
        lines = []
    write_atomic(path, ("\n".join([*lines, f"{stamp}  {message}"]) + "\n").encode("utf-8"))


def repairs(data_dir: Path) -> list[str]:
    try:
        return (Path(data_dir) / REPAIRS_FILE).read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
