"""What a check-in note, the roster and the agreements may hold, checked on every backup and
at start-up (core/schema.py)."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, field

from typing import Optional, Union

from ..core.schema import DAY_PATTERN, Handle, Month, Record, Sealed, Text
from ..core.config import KNOWN_LANGUAGES
from ..web.schema import Language
from .agreements import LIMIT as AGREEMENTS_LIMIT
from .checkins import LIMIT as CHECKIN_LIMIT

Week = Annotated[str, Meta(pattern=r"^(?:19[7-9][0-9]|20[0-9][0-9])-W(?:0[1-9]|[1-4][0-9]|5[0-3])$")]


class Checkin(Record):
    month: Month
    working: Text(CHECKIN_LIMIT) = ""
    change: Text(CHECKIN_LIMIT) = ""
    sealed: Optional[Sealed] = None  # both notes, for the coordinators (core/keys.py)


# Check-ins per month of the months whose notes were deleted (checkins.delete_old).
Tallied = Annotated[dict[Month, Annotated[int, Meta(ge=0)]], Meta(max_length=1200)]


class Meeting(Record):
    when: Annotated[str, Meta(pattern=rf"^(?:{DAY_PATTERN}T(?:[01][0-9]|2[0-3]):[0-5][0-9])?$")] = ""
    where: Text(80) = ""


class Roster(Record):
    weeks: Annotated[dict[Week, Handle], Meta(max_length=2_000)] = {}
    meeting: Meeting = field(default_factory=Meeting)
    people: Annotated[list[Handle], Meta(max_length=20)] = []  # who shares duty (rotation.py)
    away: Annotated[dict[Week, Annotated[list[Handle], Meta(max_length=20)]], Meta(max_length=2_000)] = {}


# A text per language ({"en": ..., "es": ...}); one text (a str) as versions before kept it.
Agreements = Union[Text(AGREEMENTS_LIMIT),
                   Annotated[dict[Language, Text(AGREEMENTS_LIMIT)], Meta(max_length=len(KNOWN_LANGUAGES))]]
