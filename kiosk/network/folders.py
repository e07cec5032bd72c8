"""A peer kiosk's folder as the inbox reads it (inbox.py): its kiosk.json and its record files,
with the limits a crafted folder meets (a paired or relaying kiosk writes any bytes into it)."""

from __future__ import annotations

from pathlib import Path

import msgspec

from ..core.changelog import ABOUT, MAX_LINE, RECORDS, SEGMENT_BYTES
from . import schema

# What a kiosk writes, with room: anything larger is a crafted folder, never read into memory.
MAX_SEGMENT = SEGMENT_BYTES + MAX_LINE
MAX_SEGMENTS = 5_000  # files read in one folder (a board of 20,000 posts fills ~200)
MAX_ABOUT = 64 * 1024


def about_of(folder: Path) -> schema.About | None:
    try:
        with open(folder / ABOUT, "rb") as fh:
            raw = fh.read(MAX_ABOUT)
        return msgspec.json.decode(raw, type=schema.About)
    except (OSError, msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        return None


def segments(folder: Path, about: schema.About) -> list[Path]:
    """A folder's record files, its kiosk's current epoch first, at most MAX_SEGMENTS."""
    records = folder / RECORDS
    try:
        names = [p for p in records.glob("*.jsonl") if is_segment(p.name)] if records.is_dir() else []
    except OSError:
        return []
    return sorted(names, key=lambda p: (not p.name.startswith(about.epoch), p.name))[:MAX_SEGMENTS]


def mtime(stat) -> int:
    """A file's time as the settings keep it (never below 0: a peer sets its files' times)."""
    return max(stat.st_mtime_ns, 0)


def is_segment(name: str) -> bool:
    try:
        msgspec.convert(name, schema.FileName)
    except msgspec.ValidationError:
        return False
    return True
