"""What a gathering may hold, checked on every backup and at start-up (core/schema.py)."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

from msgspec import Meta

from ..core.schema import DAY_PATTERN, Count, Day, Iso, LocalMinute, Record, Text

MAX_DATES_COUNTED = 5_000  # "I'll come" counts kept per gathering: years of weekly dates


class Event(Record, kw_only=True):
    title: Text(80)
    kind: Literal["food-share", "meeting", "repair-cafe", "other"]
    place: Text(60)
    start: LocalMinute
    duration: Literal[30, 60, 90, 120, 180, 240, 360, 480]
    repeat: Literal["none", "weekly", "monthly"]
    nth: Literal["", "1", "2", "3", "4", "5", "last"] = ""
    until: Annotated[str, Meta(pattern=rf"^(?:{DAY_PATTERN})?$")] = ""
    counts: Annotated[dict[Day, Count], Meta(max_length=MAX_DATES_COUNTED)] = {}
    cancelled: bool = False
    created: Iso
    changed: Optional[Iso] = None
    cancelled_at: Optional[Iso] = None
