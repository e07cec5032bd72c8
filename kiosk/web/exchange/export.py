"""Writing an export folder: every feature's files, the full backup (encrypted: agefile.py), the
manifest."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
from pathlib import Path
from typing import Callable

from ...core.files import fsync_dir, write_atomic
from ...core.store import Store
from ...core.times import iso
from ..feature import default_registry
from .lines import SCHEMA, backup_lines, encode

MANIFEST = "manifest.json"

Progress = Callable[[str, int, int], None]


class ExchangeError(Exception):
    """A clear, translated-on-screen reason why an export or import cannot go on."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def fat32_name(kiosk_name: str, moment: dt.datetime) -> str:
    """A folder name valid on FAT32: no colons or other reserved characters."""
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", kiosk_name).strip("-_") or "kiosk"
    return f"{base[:40]}-{moment.strftime('%Y-%m-%d_%H%M%S')}"


class _HashingFile:
    """A file being written that keeps its SHA-256 as it goes, and is fsynced on close."""

    def __init__(self, path: Path, opener):
        self.path = path
        self.fh = opener(path)
        self.sha = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.sha.update(data)
        self.fh.write(data)

    def close(self) -> str:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        return self.sha.hexdigest()


def _open_for_export(path: Path):
    # Only the owner may read them, whatever the umask: a stick formatted ext4 keeps file modes,
    # and the spreadsheets are for the meeting, not for whoever finds the stick.
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def write_backup(out, store: Store, registry, kiosk_name: str, now: dt.datetime) -> None:
    """The full backup's lines (lines.py) into ``out``, a month of the archive at a time."""
    from ... import __version__

    for line in backup_lines(store, registry, name=kiosk_name[:60], created=iso(now), version=__version__):
        out.write(encode(line))
    store.trim()


def _write_age(partial: Path, store: Store, registry, kiosk_name: str, now: dt.datetime, passphrase: str,
               step: Progress, opener) -> dict[str, str]:
    """backup.age: the backup's lines encrypted whole (pyrage has no streams), and its SHA-256."""
    from .agefile import AGE_BACKUP, MAX_AGE_BYTES, encrypt  # agefile raises this module's ExchangeError

    plain = io.BytesIO()
    write_backup(plain, store, registry, kiosk_name, now)
    step("encrypt", 0, 1)
    sealed = encrypt(plain.getvalue(), passphrase)
    del plain
    if len(sealed) > MAX_AGE_BYTES:  # a restore would refuse it: never written
        raise ExchangeError("backup-too-large", str(MAX_AGE_BYTES >> 20))
    out = _HashingFile(partial / AGE_BACKUP, opener)
    try:
        out.write(sealed)
    finally:
        digest = out.close()
    return {AGE_BACKUP: digest}


def _write_files(partial: Path, store: Store, registry, step: Progress, opener) -> dict[str, str]:
    """Every feature's files; a name may hold subfolders ("network/<kiosk>/kiosk.json"), made
    as needed and fsynced once their files are, so the finished folder holds them all."""
    digests: dict[str, str] = {}
    folders: set[Path] = set()
    for files in registry.exports:
        for name, pieces in files(store, step):
            parts = name.split("/")
            if any(not part or part.startswith(".") for part in parts):  # a feature's mistake, never a stick's
                raise ValueError(f"an export file name must be a plain relative path: {name!r}")
            path = partial.joinpath(*parts)
            if len(parts) > 1:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                folders.update(p for p in path.relative_to(partial).parents if p != Path("."))
            out = _HashingFile(path, opener)
            try:
                for piece in pieces:
                    out.write(piece)
            finally:
                digests[name] = out.close()
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        fsync_dir(partial / folder)
    return digests


def export(store: Store, target_dir, *, registry=None, kiosk_name: str, now: dt.datetime, full: bool = False,
           passphrase: str | None = None, progress: Progress | None = None, opener=_open_for_export) -> Path:
    """Write an export folder into ``target_dir``; returns the finished folder. The
    spreadsheets are written a month at a time; ``full`` adds backup.age, encrypted with
    ``passphrase`` (agefile.new_passphrase checks it first)."""
    if full and not passphrase:
        raise ValueError("a full backup is encrypted: it needs a passphrase")
    target = Path(target_dir)
    if not target.is_dir():
        raise ExchangeError("no-target", str(target))
    if not os.access(target, os.W_OK):
        raise ExchangeError("read-only", str(target))
    name = fat32_name(kiosk_name, now)
    final, partial = target / name, target / f".partial-{name}"
    if final.exists():
        raise ExchangeError("exists", final.name)
    step = progress or (lambda what, done, total: None)
    registry = registry or default_registry()
    try:
        partial.mkdir()
        digests = _write_files(partial, store, registry, step, opener)
        if full:
            step("backup", 0, 1)
            digests.update(_write_age(partial, store, registry, kiosk_name, now, passphrase, step, opener))
        manifest = {"schema": SCHEMA, "kind": "mutual-aid-kiosk-export", "kiosk": kiosk_name,
                    "kiosk_id": store.kiosk_id, "created": iso(now), "full": full, "files": digests}
        write_atomic(partial / MANIFEST, json.dumps(manifest, indent=2).encode("utf-8"), 0o644)
        fsync_dir(partial)
        os.replace(partial, final)
        fsync_dir(target)
    except BaseException as exc:
        # Never a half export on the stick, whatever went wrong.
        shutil.rmtree(partial, ignore_errors=True)
        if not isinstance(exc, OSError):
            raise
        if exc.errno == 28:
            raise ExchangeError("full", str(target)) from exc
        if exc.errno == 30:
            raise ExchangeError("read-only", str(target)) from exc
        raise ExchangeError("write-failed", f"{exc.strerror or exc}") from exc
    step("done", 1, 1)
    return final
