"""The archive index: which month holds each archived post, and which post each archived reply.

It holds every archived post and reply (tens of thousands after a few years); as a dict that
costs ~150 bytes an entry, kept as two sorted arrays of 32-bit numbers it costs 8, so the kiosk
stays small on a Pi.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from functools import lru_cache
from pathlib import Path

from . import codes
from .errors import StoreError


class IdIndex:
    """A map from short ids to a small value that ``encode`` turns into a 32-bit number."""

    def __init__(self, encode, decode, items=()):
        self._encode, self._decode = encode, decode
        self._keys, self._vals = array("I"), array("I")
        ordered = True
        for k, v in items:  # the file is written in order, so usually no sort is needed
            number = codes.post_id_to_int(k)
            if self._keys and number <= self._keys[-1]:
                ordered = False
            self._keys.append(number)
            self._vals.append(encode(v))
        if not ordered:
            pairs = sorted(zip(self._keys, self._vals))
            self._keys = array("I", (k for k, _ in pairs))
            self._vals = array("I", (v for _, v in pairs))

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


def valid_month(month: str) -> bool:
    return (isinstance(month, str) and len(month) == 7 and month[4] == "-" and month[:4].isdigit()
            and month[5:].isdigit())


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


_INDEX_ENTRY = re.compile(rb'"([0-9A-Z]{5})"\s*:\s*"([0-9A-Z-]{5,7})"')


def read_index(path: Path) -> tuple[IdIndex, IdIndex]:
    """Read index.json without building a dict of every entry (a peak of many megabytes)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return posts_index(), replies_index()
    split = raw.find(b'"replies"')
    posts_part, replies_part = (raw[:split], raw[split:]) if split >= 0 else (raw, b"")
    posts = posts_index((m[1].decode(), m[2].decode()) for m in _INDEX_ENTRY.finditer(posts_part))
    replies = replies_index((m[1].decode(), m[2].decode()) for m in _INDEX_ENTRY.finditer(replies_part))
    if raw.strip() and not raw.strip().startswith(b"{"):
        raise StoreError(f"The data file {path} is damaged. Nothing was changed; restore it from a backup.")
    return posts, replies


def index_bytes(posts: IdIndex, replies: IdIndex) -> bytes:
    out = ['{"posts":{', ",".join(f'"{k}":"{v}"' for k, v in posts.items()), '},"replies":{',
           ",".join(f'"{k}":"{v}"' for k, v in replies.items()), "}}"]
    return "".join(out).encode("ascii")
