"""The full backup, one record a line (``backup.jsonl``): a header naming the kiosk, every post
(with its replies and threads), every row of every declared table with its number, every
setting, every audit entry, and an end line with the counts. One line at a time is all a
reader ever holds, so a backup of any size is checked and restored in bounded memory, and a
line that is too long is refused after reading no more than the limit.

Each kind of line is a tagged msgspec type built from the features' declarations (their
``Table``, ``Setting`` and ``PostRules`` types): the same types the store checks at start-up.
"""

from __future__ import annotations

from typing import Annotated, Any, Iterator, Literal, Optional, Union

import msgspec
from msgspec import Meta

from ...core.schema import MAX_ROWS, AuditEntry, Count, Iso, KioskId, Record, Text
from ...core.store import MAX_LIVE_FILE, MAX_RECORD_BYTES

FORMAT = "mutual-aid-kiosk-backup"
SCHEMA = 2
BACKUP = "backup.jsonl"
OLD_BACKUP = "backup.json"  # schema 1: one JSON document (read, never written)

MAX_LINE = 16 * 1024 * 1024  # no line is longer (what is read before a line is refused)
MAX_POST_BYTES = MAX_RECORD_BYTES + 4096  # a post with its replies and threads, as the store keeps it
MAX_LIVE_BYTES = MAX_LIVE_FILE  # open posts (the store keeps live.json under this)
MAX_MONTH_BYTES = 32 * 1024 * 1024  # a month of the archive, parsed whole when it is read
MAX_BACKUP_BYTES = 2 * 1024**3
MAX_OLD_BACKUP_BYTES = 64 * 1024 * 1024  # schema 1 is read whole, so it is held to less
RowId = Annotated[int, Meta(ge=1, le=2**53)]  # a table row's number (survey answers use random ones)


class Header(Record, tag_field="t", tag="kiosk"):
    format: Literal["mutual-aid-kiosk-backup"]
    schema: Literal[2]
    id: KioskId
    name: Text(60)
    created: Iso
    since: Optional[Iso] = None
    version: Text(40) = ""


class AuditLine(Record, tag_field="t", tag="audit"):
    entry: AuditEntry


class End(Record, tag_field="t", tag="end"):
    lines: Count


class LineTypes:
    """The union of every line a backup of this kiosk may hold, and its decoder."""

    def __init__(self, schema):
        post = msgspec.defstruct("PostLine", [("post", schema.post_type)], tag_field="t", tag="post",
                                 forbid_unknown_fields=True)
        kinds: list[Any] = [Header, post, AuditLine, End]
        for name, table in schema.tables.items():
            kinds.append(msgspec.defstruct(f"Row_{name}", [("id", RowId), ("row", table.row)],
                                           tag_field="t", tag=f"table:{name}", forbid_unknown_fields=True))
        for key, value in schema.settings.items():
            kinds.append(msgspec.defstruct(f"Setting_{key}", [("value", Optional[value], None)], tag_field="t",
                                           tag=f"setting:{key}", forbid_unknown_fields=True))
        self.union = Union[tuple(kinds)]
        self.decoder = msgspec.json.Decoder(self.union)
        self.post = post


def tag_of(line: Any) -> str:
    return type(line).__struct_config__.tag


def encode(line: dict) -> bytes:
    return msgspec.json.encode(line) + b"\n"


def backup_lines(store, registry, *, name: str, created: str, version: str) -> Iterator[dict]:
    """Every line of a full backup of ``store``, a month of the archive at a time."""
    identity = store.get_meta("kiosk") or {}
    yield {"t": "kiosk", "format": FORMAT, "schema": SCHEMA, "id": store.kiosk_id, "name": name,
           "created": created, "since": identity.get("since"), "version": version}
    count = 1
    for batch in store.post_batches():
        for post in batch:
            yield {"t": "post", "post": post}
            count += 1
    for table in registry.tables:
        for row in store.records(table):
            number = row.pop("_id")
            yield {"t": f"table:{table}", "id": number, "row": row}
            count += 1
    for key in registry.settings:
        value = store.get_meta(key)
        if value is not None:
            yield {"t": f"setting:{key}", "value": value}
            count += 1
    for month in store.audit_months():
        for entry in store.audit_entries(month):
            yield {"t": "audit", "entry": entry}
            count += 1
    yield {"t": "end", "lines": count + 1}


__all__ = ["BACKUP", "FORMAT", "MAX_BACKUP_BYTES", "MAX_LINE", "MAX_OLD_BACKUP_BYTES", "MAX_ROWS", "OLD_BACKUP",
           "SCHEMA", "AuditLine", "End", "Header", "LineTypes", "backup_lines", "encode", "tag_of"]
