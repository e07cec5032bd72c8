"""What the network keeps in the settings, and what a record from another kiosk must look like
before anything of it is used (msgspec, as every stored record: core/schema.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from msgspec import Meta, Struct

from ..core import codes
from ..core.changelog import SEGMENT_PATTERN
from ..core.schema import Count, Hex, Iso, KioskId, Many, Record, ShortId, Text

Epoch = Hex(8)
Seq = Annotated[int, Meta(ge=1, le=10**12)]
Signature = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{86}==$")]  # 64 bytes, urlsafe base64
VerifyKey = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{43}=$")]
Origin = Annotated[list[str], Meta(min_length=2, max_length=2)]
FileName = Annotated[str, Meta(pattern=SEGMENT_PATTERN)]  # a record file's name, as changelog.py makes it
MAX_PEERS = 64
MAX_REFUSED = 200  # the newest records set aside; older ones drop off (their count stays)


class About(Struct, forbid_unknown_fields=False):
    """A kiosk's kiosk.json, as its folder brings it."""

    kiosk: KioskId
    key: VerifyKey
    epoch: Epoch
    name: Text(60) = ""


class Envelope(Struct, forbid_unknown_fields=True):
    v: Literal[1]
    kiosk: KioskId
    epoch: Epoch
    seq: Seq
    at: Iso
    kind: Literal["post", "edit", "state", "reply", "message", "hide"]
    post: Origin
    actor: Literal["kiosk", "poster", "replier"]
    body: dict[str, Any]
    sig: Signature
    reply: Optional[Origin] = None
    ticket: Optional[Signature] = None


class Done(Record):
    """Records of one epoch applied or set aside: every number up to ``upto``, and those after it."""

    upto: Annotated[int, Meta(ge=0, le=10**12)] = 0
    extra: Many(Seq, 100_000) = []


class PeerState(Record, kw_only=True):
    kiosk: KioskId
    key: VerifyKey
    name: Text(60) = ""
    epochs: dict[Epoch, Done] = {}
    files: dict[FileName, Many(Annotated[int, Meta(ge=0)], 3)] = {}  # name -> [bytes done, size, mtime_ns]
    applied: Count = 0
    set_aside: Count = 0
    waiting: Count = 0
    last_record: Optional[Iso] = None
    last_pass: Optional[Iso] = None
    changed_key: Optional[VerifyKey] = None  # a key its folder now shows, refused until a coordinator accepts it


class Refusal(Record, kw_only=True):
    kiosk: KioskId
    name: Text(60) = ""
    file: Text(80)
    seq: Optional[Annotated[int, Meta(ge=0)]] = None
    why: Text(300)
    detail: Text(300) = ""
    at: Iso
    excerpt: Text(300) = ""


Inbox = Annotated[dict[KioskId, PeerState], Meta(max_length=MAX_PEERS)]
Refusals = Many(Refusal, MAX_REFUSED)

__all__ = ["About", "Envelope", "Inbox", "PeerState", "Refusal", "Refusals", "ShortId", "codes"]
