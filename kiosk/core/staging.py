"""Replacing the data folder's contents in one step that a pulled plug cannot split.

A restore or a merge builds the new ``live.json``, ``journal/``, ``archive/`` and ``audit/`` in a hidden
folder inside the data folder (``.staging/``): inside, not beside, because the service may
write only its data folder, and renames are atomic only within one file system. Files that do
not change are hard links, so staging costs what changes. When everything is written, fsynced
and checked (a Store opens on it), a ``COMMIT`` marker is written: that is the moment the new
data wins. Then each item is swapped by two renames (the old one into ``.previous/``, the new
one into place), and ``.previous/`` becomes the copy kept in ``backups/``.

At every start, before anything is read, ``recover`` finishes a commit that was cut short
(the marker is there) or throws away a staging that never committed (it is not): the kiosk
comes back on exactly the old or exactly the new data.
"""

from __future__ import annotations

import filecmp
import json
import os
import re
import shutil
from pathlib import Path

from .files import fsync_dir, write_atomic

STAGING = ".staging"
PREVIOUS = ".previous"
COMMIT = "COMMIT"
# What a restore or a merge replaces: the live file's journal too (the new data has none; one
# left from a server that was killed would otherwise be replayed over the restored file).
ITEMS = ("live.json", "journal", "archive", "audit")
BACKUPS = "backups"  # copies kept before each restore or merge
KEEP = 3  # how many such copies stay
# What a commit marker may name (see restore.py): a plain folder name, never a path.
KEPT_NAME = re.compile(r"(before|damaged)-(restore|merge|change)(-[0-9]{4}-[0-9]{2}-[0-9]{2}_[0-9]{6})?")
_KEPT_FOLDER = re.compile(KEPT_NAME.pattern + r"(-[0-9]{1,4})?")  # a second one the same second: "-2"


def staging_folder(data_dir: Path) -> Path:
    """A fresh, empty staging folder (whatever an earlier attempt left is thrown away)."""
    folder = Path(data_dir) / STAGING
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(mode=0o700)
    return folder


def link_or_copy(source: Path, target: Path) -> None:
    """``target`` holds ``source``'s bytes: a hard link where the file system allows it.
    Safe because the store never writes a file in place (files.write_atomic renames)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def commit(data_dir: Path, kept_as: str) -> Path | None:
    """Put the staged items in place; the replaced ones are kept as ``backups/<kept_as>``,
    which is returned (None if there was nothing to keep)."""
    data_dir = Path(data_dir)
    staging = data_dir / STAGING
    previous = data_dir / PREVIOUS
    if previous.exists():
        shutil.rmtree(previous)
    for path in staging.rglob("*"):  # the new files are already fsynced; their folders too
        if path.is_dir():
            fsync_dir(path)
    fsync_dir(staging)
    write_atomic(staging / COMMIT, kept_as.encode("utf-8"))
    return _roll_forward(data_dir)


def recover(data_dir: Path) -> str | None:
    """At start: finish or undo what a power cut interrupted. Returns what was done, in words,
    or None when there was nothing to do."""
    data_dir = Path(data_dir)
    staging, previous = data_dir / STAGING, data_dir / PREVIOUS
    done = None
    if (staging / COMMIT).is_file():
        kept = _roll_forward(data_dir) or data_dir / BACKUPS
        done = f"finished a restore or merge that a power cut interrupted (the data from before is in {kept})"
    elif staging.exists():
        shutil.rmtree(staging)
        done = "threw away a restore or merge that a power cut interrupted before it was complete"
    if previous.exists():  # a commit cut after its new data was in place: keep what it replaced
        _keep(data_dir, previous, "before-change")
    return done


def _roll_forward(data_dir: Path) -> Path | None:
    """Each step is a rename, and a step already done is skipped, so running this again after
    another cut ends in the same place."""
    staging, previous = data_dir / STAGING, data_dir / PREVIOUS
    previous.mkdir(exist_ok=True, mode=0o700)
    for name in ITEMS:
        new, current, old = staging / name, data_dir / name, previous / name
        if not new.exists():
            continue  # moved in already (or not part of this change)
        if current.exists() and not old.exists():
            os.replace(current, old)
            fsync_dir(previous)
        elif current.exists():  # never happens in order; keep it rather than lose anything
            os.replace(current, previous / f"{name}.unexpected")
        os.replace(new, current)
        fsync_dir(data_dir)
    kept_as = (staging / COMMIT).read_bytes().decode("ascii", "replace").strip()
    if not KEPT_NAME.fullmatch(kept_as):  # a marker damaged or written by hand: the data still wins
        kept_as = "before-change"
    kept = _keep(data_dir, previous, kept_as)  # before the marker goes: a cut here repeats this
    shutil.rmtree(staging)
    fsync_dir(data_dir)
    return kept


def _keep(data_dir: Path, previous: Path, name: str) -> Path | None:
    if not previous.exists():  # kept already, by a run this one repeats
        return kept_copies(data_dir)[0] if kept_copies(data_dir) else None
    if not any(previous.iterdir()):
        previous.rmdir()
        return None
    copies = kept_copies(data_dir)
    if copies and _same_data(previous, copies[0]) and _audit_kept(previous, data_dir):
        # The same data as the copy kept last (a restore done twice): keeping it again would
        # push an older, different copy out of the three kept.
        shutil.rmtree(previous)
        return copies[0]
    backups = data_dir / BACKUPS
    backups.mkdir(exist_ok=True, mode=0o700)
    target = backups / name
    n = 2
    while target.exists():
        target, n = backups / f"{name}-{n}", n + 1
    os.replace(previous, target)
    fsync_dir(backups)
    for old in kept_copies(data_dir)[KEEP:]:
        shutil.rmtree(old, ignore_errors=True)
    return target


def _same_data(one: Path, other: Path) -> bool:
    """Whether two copies hold the same posts, archive and tables. The archive's index is left
    out (it is derived, and names each month file's inode and time); the audit trail too (see
    _audit_kept)."""
    def same_file(a: Path, b: Path) -> bool:
        return a.is_file() and b.is_file() and (os.path.samefile(a, b) or filecmp.cmp(a, b, shallow=False))

    def months(folder: Path) -> list[str]:
        return sorted(p.name for p in folder.iterdir() if p.name != "index.json") if folder.is_dir() else []

    if not same_file(one / "live.json", other / "live.json"):
        return False
    logs = [sorted(p.name for p in (copy / "journal").glob("*.log")) for copy in (one, other)]
    if logs[0] != logs[1] or not all(same_file(one / "journal" / n, other / "journal" / n) for n in logs[0]):
        return False
    ours, theirs = one / "archive", other / "archive"
    names = months(ours)
    return names == months(theirs) and all(same_file(ours / name, theirs / name) for name in names)


def _audit_kept(previous: Path, data_dir: Path) -> bool:
    """Whether every audit entry of the replaced data is in the new data (a restore joins them;
    a month it could not read is left out and stays only in the copy, which must then be kept)."""
    def entries(path: Path) -> list:
        rows = json.loads(path.read_bytes())["audit"]
        return [json.dumps(row, sort_keys=True) for row in rows.values()]

    for old in sorted((previous / "audit").glob("*.json")) if (previous / "audit").is_dir() else ():
        try:
            new = set(entries(data_dir / "audit" / old.name))
            if not all(entry in new for entry in entries(old)):
                return False
        except (OSError, ValueError, KeyError, TypeError, AttributeError):  # unreadable: keep the copy
            return False
    return True


def prune_kept(data_dir: Path, now_timestamp: float, retain_days: int) -> int:
    """Copies kept before restores and merges hold old text too: they go once they are older
    than the retention period, like the text in the archive (promise 7). Returns how many went."""
    gone = 0
    for copy in kept_copies(data_dir):
        if now_timestamp - copy.stat().st_mtime > retain_days * 86400:
            shutil.rmtree(copy, ignore_errors=True)
            gone += 1
    return gone


def kept_copies(data_dir: Path) -> list[Path]:
    """The copies kept before restores and merges, newest first."""
    backups = Path(data_dir) / BACKUPS
    if not backups.is_dir():
        return []
    found = [p for p in backups.iterdir()
             if _KEPT_FOLDER.fullmatch(p.name) and p.is_dir() and not p.is_symlink() and (p / "live.json").is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime_ns, reverse=True)
