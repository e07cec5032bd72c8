"""Files that survive a pulled plug: atomic, fsynced writes, JSON in and out, the folder lock."""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import threading
from pathlib import Path
from typing import Any, Iterable, Iterator

from .errors import DataFolderInUse, StoreError

LOCK_FILE = "kiosk.lock"
LIVE_FILE = "live.json"
ARCHIVE_DIR = "archive"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, payload: bytes, mode: int = 0o600) -> None:
    """Write ``payload`` so that ``path`` is always either the old or the new content."""
    write_atomic_pieces(path, (payload,), mode)


def write_atomic_pieces(path: Path, pieces: Iterable[bytes], mode: int = 0o600) -> int:
    """Write content made a piece at a time (never all in memory) so that ``path`` is always
    either the old or the new content: a temporary file, fsynced, renamed over it, the folder
    fsynced. Returns the size written."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    size, buffer = 0, bytearray()

    def flush() -> None:
        view = memoryview(buffer)
        while view:
            view = view[os.write(fd, view):]
        view.release()
        buffer.clear()

    try:
        for piece in pieces:  # gathered into writes of about a MiB, not one per small piece
            buffer += piece
            size += len(piece)
            if len(buffer) >= 1 << 20:
                flush()
        flush()
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)
    return size


def dump_json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def load_json(path: Path) -> Any:
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        return None
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise StoreError(
            f"The data file {path} is damaged ({exc}). Nothing was changed; "
            "restore it from a backup or move it aside."
        ) from exc


def sweep_temp_files(*folders: Path) -> None:
    """A power cut during a write can leave a temp file; the real file is intact."""
    for folder in folders:
        if folder.is_dir():
            for tmp in folder.glob(".*.tmp-*"):
                tmp.unlink(missing_ok=True)


def take_folder_lock(data_dir: Path) -> int:
    """One server owns one data folder: an exclusive flock, released when the process ends."""
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DataFolderInUse(
            f"Another kiosk server is already using the data folder {data_dir}. "
            "Stop it first, or start this one with a different --data folder."
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def release_folder_lock(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def secret_key(path: Path) -> bytes:
    """A random key kept in ``path``, made on first use."""
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        key = b""
    if len(key) < 32:
        key = secrets.token_hex(32).encode()
        write_atomic(path, key)
    return key


def iter_json_files(data_dir: Path) -> Iterator[Path]:
    """Every data file (the live file's journal too), for tests and tools that check the folder
    as a whole."""
    data_dir = Path(data_dir)
    yield from sorted(data_dir.glob("*.json"))
    yield from sorted((data_dir / ARCHIVE_DIR).glob("*.json"))
    yield from sorted((data_dir / "journal").glob("*.log"))


def all_post_ids(files: Iterable[Path]) -> set[str]:
    """Every post id any of these files holds (a journal segment: every post it saved)."""
    from .journal import read_segment

    ids: set[str] = set()
    for path in files:
        if path.suffix == ".log":
            tables = [change.get("set") or {} for change in read_segment(path)[0] if change["t"] == "posts"]
        else:
            tables = [(load_json(path) or {}).get("posts") or {}]
        ids.update(doc["id"] for table in tables for doc in table.values())
    return ids
