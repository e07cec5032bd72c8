"""The archive index: which month holds each archived post, and which post each archived reply.

It holds every archived post and reply (tens of thousands after a few years); as a dict that
costs ~150 bytes an entry, kept as two sorted arrays of 32-bit numbers it costs 8, so the kiosk
stays small on a Pi.
"""

from __future__ import annotations

import hashlib
import re
from array import array
from bisect import bisect_left
from functools import lru_cache
from pathlib import Path

import msgspec

from . import codes
from .schema import MONTH_PATTERN


class IdIndex:
    """A map from short ids to a small value that ``encode`` turns into a 32-bit number."""

    def __init__(self, encode, decode, items=()):
        self._encode, self._decode = encode, decode
        # Key and value packed in one 64-bit number and sorted as such: no Python object per
        # entry while building (a list of pairs would briefly cost ~100 bytes an entry).
        packed = array("Q", (codes.post_id_to_int(k) << 32 | encode(v) for k, v in items))
        if any(packed[i] >= packed[i + 1] for i in range(len(packed) - 1)):
            packed = array("Q", sorted(packed))
        self._keys = array("I", (x >> 32 for x in packed))
        self._vals = array("I", (x & 0xFFFFFFFF for x in packed))

    def duplicate(self) -> str | None:
        """A key held twice, if any."""
        keys = self._keys
        for i in range(len(keys) - 1):
            if keys[i] == keys[i + 1]:
                return codes.int_to_post_id(keys[i])
        return None

    def shared_with(self, other: "IdIndex") -> str | None:
        """A key both indexes hold, if any (both are sorted: one walk)."""
        mine, theirs, i, j = self._keys, other._keys, 0, 0
        while i < len(mine) and j < len(theirs):
            if mine[i] == theirs[j]:
                return codes.int_to_post_id(mine[i])
            if mine[i] < theirs[j]:
                i += 1
            else:
                j += 1
        return None

    def _find(self, key: str) -> tuple[int, int, bool]:
        number = codes.post_id_to_int(key) if codes.normalize_post_id(key) == key else -1
        i = bisect_left(self._keys, number) if number >= 0 else 0
        return number, i, number >= 0 and i < len(self._keys) and self._keys[i] == number

    def __contains__(self, key) -> bool:
        return isinstance(key, str) and self._find(key)[2]

    def get(self, key, default=None):
        if not isinstance(key, str):
            return default
        _, i, found = self._find(key)
        return self._decode(self._vals[i]) if found else default

    def __getitem__(self, key):
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value) -> None:
        number, i, found = self._find(key)
        if found:
            self._vals[i] = self._encode(value)
        else:
            self._keys.insert(i, number)
            self._vals.insert(i, self._encode(value))

    def pop(self, key, default=None):
        _, i, found = self._find(key)
        if not found:
            return default
        value = self._decode(self._vals[i])
        del self._keys[i]
        del self._vals[i]
        return value

    def __len__(self) -> int:
        return len(self._keys)

    def items(self):
        for number, value in zip(self._keys, self._vals):
            yield codes.int_to_post_id(number), self._decode(value)

    def distinct_values(self) -> set:
        return {self._decode(v) for v in set(self._vals)}


MONTH = re.compile(MONTH_PATTERN)


def valid_month(month) -> bool:
    """A month the archive can hold: YYYY-MM from 1970 to 2099 (core/schema.py)."""
    return isinstance(month, str) and MONTH.fullmatch(month) is not None


@lru_cache(maxsize=None)
def _month_code(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def _month_text(number: int) -> str:
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def posts_index(items=()) -> IdIndex:
    """post id -> archive month (YYYY-MM)."""
    return IdIndex(_month_code, _month_text, items)


def replies_index(items=()) -> IdIndex:
    """reply id -> the id of the post that holds it."""
    return IdIndex(codes.post_id_to_int, codes.int_to_post_id, items)


# -- the file ------------------------------------------------------------------------------------
# archive/index.json is derived data: it can always be rebuilt from the month files, and start-up
# does so whenever it does not match them. Per month it keeps the ids in that file (five
# characters each, run together: a few bytes an entry and no object per id while reading) and
# the file's size, modification time and inode as they were when the month was last read or
# written, so start-up checks only the months that changed since.

INDEX_VERSION = 2


class MonthEntry(msgspec.Struct, forbid_unknown_fields=True):
    size: int
    mtime_ns: int
    ino: int
    posts: str = ""  # post ids
    replies: str = ""  # reply id + post id, ten characters a reply
    aka: str = ""  # printed number + the post or reply id it now leads to


class IndexFile(msgspec.Struct, forbid_unknown_fields=True):
    version: int
    months: dict[str, MonthEntry]
    digest: str = ""  # SHA-256 of the months as written: an edited or rotten index is rebuilt


def stat_of(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns, st.st_ino


def chunks(text: str, size: int) -> list[str]:
    if len(text) % size:
        raise ValueError("cut short")
    return [text[i:i + size] for i in range(0, len(text), size)]


def _digest(months: dict[str, MonthEntry]) -> str:
    return hashlib.sha256(msgspec.json.encode(dict(sorted(months.items())))).hexdigest()


def read_index(path: Path) -> tuple[IndexFile | None, str]:
    """The index as written and "", or None and why not: "missing", "older" (a version before
    this one) or "damaged". The caller then rebuilds it from the month files."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, "missing"
    except OSError:
        return None, "damaged"
    try:
        index = msgspec.json.decode(raw, type=IndexFile)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None, "older" if raw.startswith(b'{"posts":') else "damaged"
    if index.version != INDEX_VERSION:
        return None, "older"
    if not all(valid_month(m) for m in index.months) or index.digest != _digest(index.months):
        return None, "damaged"
    return index, ""


def index_bytes(months: dict[str, MonthEntry]) -> bytes:
    ordered = dict(sorted(months.items()))
    return msgspec.json.encode(IndexFile(version=INDEX_VERSION, months=ordered, digest=_digest(ordered)))
