"""What a post, a reply, a message, a report and a thank-you line may hold: checked on every
backup before anything is written, and on the kiosk's own files at start-up (core/schema.py).
The limits are the forms' limits; the counts are far above honest use, and the board's rules
refuse a reply or a message beyond them, so the kiosk never writes what it would refuse."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

from msgspec import Meta, field

from ..core.schema import (DAY_PATTERN, MONTH_PATTERN, Claim, ClockTime, Day, Handle, Iso, KioskId, Lang, Many, Record,
                           Sealed, ShortId, Slug, Text)

MAX_REPLIES = 200  # replies to one post
MAX_THREAD = 500  # messages in one conversation
MAX_AKA = 16  # other numbers one post or reply is known by (printed at other kiosks)

Status = Literal["open", "matched", "fulfilled", "withdrawn", "expired"]
When = Annotated[str, Meta(pattern=rf"^(?:|today|this-week|flexible|{DAY_PATTERN})$")]
# A pseudonym's parts (core/aliases.py): two word keys; keys this kiosk does not know (a newer
# kiosk's) are kept, and the page shows the English ``pseudonym`` instead.
Alias = Annotated[list[Annotated[str, Meta(pattern=r"^[a-z]{1,20}$")]], Meta(min_length=2, max_length=2)]


class Origin(Record):
    """Where a record was made: ``home`` (the kiosk's id) and ``home_id`` (its number there),
    and ``aka``, the other numbers it is printed under. Records from before kiosk identities
    have none of these; core/origin.py works them out the same way on every kiosk."""

    home: Optional[KioskId] = None
    home_id: Optional[ShortId] = None
    aka: Many(ShortId, MAX_AKA) = []


class Message(Record):
    id: Annotated[int, Meta(ge=1, le=MAX_THREAD)]
    author: Literal["poster", "replier"]
    text: Text(500)
    created: Iso
    sealed: Optional[Sealed] = None  # the text, for the post's and the reply's tickets (keys.py)


class Reply(Origin, kw_only=True):
    id: ShortId
    created: Iso
    message: Text(500)
    pseudonym: Text(60)
    alias: Optional[Alias] = None
    status: Literal["new", "accepted", "declined", "withdrawn", "ended"]
    available: Text(80) = ""
    lang: Lang = "en"
    claim: Optional[Claim] = None
    thread: Many(Message, MAX_THREAD) = []
    sealed: Optional[Sealed] = None  # message and available, for the post's and the reply's tickets


class Ride(Record, rename={"from_": "from"}):
    date: Day
    from_: Text(60) = ""
    to: Text(60) = ""
    time: Optional[ClockTime] = None


class Hidden(Record):
    reason: Text(200)
    by: Handle
    at: Iso
    home: Optional[KioskId] = None  # hidden by the coordinators of the post's home kiosk, not here


class PostThanks(Record):
    text: Text(140)
    created: Iso
    status: Literal["waiting", "approved", "declined"]


class Post(Origin, kw_only=True):
    id: ShortId
    kind: Literal["request", "offer"]
    category: Slug
    status: Status
    created: Iso
    updated: Iso
    title: Text(80) = ""
    details: Text(1000) = ""
    area: Text(60) = ""
    when: When = ""
    ride: Optional[Ride] = None
    lang: Lang = "en"
    pseudonym: Text(60)
    alias: Optional[Alias] = None
    closed: Optional[Iso] = None
    claim: Optional[Claim] = None
    source: Text(60) = ""
    merged_from: Optional[Text(60)] = None
    replies: Many(Reply, MAX_REPLIES) = field(default_factory=list)
    hidden: Optional[Hidden] = None
    thanks: Optional[PostThanks] = None
    matched_reply: Optional[ShortId] = None
    matched: Optional[Iso] = None
    erased: bool = False


class Report(Record):
    kind: Literal["post", "reply", "message"]
    post: ShortId
    reason: Literal["spam", "offensive", "personal", "unsafe", "other"]
    created: Iso
    status: Literal["open", "dismissed", "acted"]
    note: Text(200) = ""
    sealed: Optional[Sealed] = None  # the note and the reported words, for the coordinators
    reply: Optional[ShortId] = None
    message: Optional[Annotated[int, Meta(ge=1, le=MAX_THREAD)]] = None
    closed: Optional[Iso] = None
    by: Optional[Handle] = None


class Thanks(Record):
    post: ShortId
    text: Text(140)
    created: Iso
    status: Literal["waiting", "approved", "declined"]
    judged: Optional[Iso] = None
    by: Optional[Handle] = None


ErasedThrough = Annotated[str, Meta(pattern=rf"^(?:{MONTH_PATTERN})?$")]
