"""The shape of every stored record, declared once (msgspec) and checked in three places: a
backup before a restore or a merge touches anything, the store's files at start-up, and, in
tests, the live file after every request.

msgspec was chosen over hand checks and over pydantic: it validates while it decodes, in C,
straight from the file's bytes (50,000 archived posts in about a second here, a few times that
on a Pi), it is strict by default (no "1" for 1, no true for 1, unknown fields refused), and its
messages name the path of the bad value. Features declare their record types with the field
types below; ``DataSchema`` gathers them into the types of whole files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Optional, Union

import msgspec
from flask_babel import lazy_gettext as _l
from msgspec import Meta, Struct

from . import codes, keys

# -- field types ---------------------------------------------------------------------------------
# Dates are checked against the calendar by pattern (no 2026-02-30), from 1970 (a Pi without a
# battery clock can wake up there) to 2099, in the one format the kiosk writes: a date that
# parses differently elsewhere would sort wrongly or stop a page.
_YEAR = r"(?:19[7-9][0-9]|20[0-9][0-9])"
_LEAP = r"(?:19(?:7[26]|8[048]|9[26])|20(?:[02468][048]|[13579][26]))"
_MONTH_DAY = (r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
              r"|02-(?:0[1-9]|1[0-9]|2[0-8]))")
DAY_PATTERN = rf"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP}-02-29)"
_CLOCK = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]"
MONTH_PATTERN = rf"{_YEAR}-(?:0[1-9]|1[0-2])"

Iso = Annotated[str, Meta(pattern=rf"^{DAY_PATTERN}T{_CLOCK}:[0-5][0-9]Z$")]  # 2026-12-02T09:30:00Z
Day = Annotated[str, Meta(pattern=rf"^{DAY_PATTERN}$")]  # 2026-12-02
LocalMinute = Annotated[str, Meta(pattern=rf"^{DAY_PATTERN}T{_CLOCK}$")]  # 2026-12-02T18:30, the center's time
ClockTime = Annotated[str, Meta(pattern=rf"^{_CLOCK}$")]  # 18:30
Month = Annotated[str, Meta(pattern=rf"^{MONTH_PATTERN}$")]  # 2026-12
ShortId = Annotated[str, Meta(pattern=rf"^[{codes.ID_ALPHABET}]{{{codes.ID_LENGTH}}}$")]
KioskId = Annotated[str, Meta(pattern=codes.KIOSK_ID_PATTERN)]
Slug = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
Lang = Annotated[str, Meta(pattern=r"^[a-z]{2,3}$")]
Handle = Annotated[str, Meta(min_length=1, max_length=40)]
DocKey = Annotated[str, Meta(pattern=r"^[1-9][0-9]{0,15}$")]  # TinyDB's document ids, as text
Count = Annotated[int, Meta(ge=0, le=10_000_000)]


def Text(limit: int) -> Any:  # noqa: N802 - a type, read like one
    """Text of at most ``limit`` characters."""
    return Annotated[str, Meta(max_length=limit)]


def Hex(length: int) -> Any:  # noqa: N802
    return Annotated[str, Meta(pattern=rf"^[0-9a-f]{{{length}}}$")]


def Many(item: Any, limit: int) -> Any:  # noqa: N802
    """A list of at most ``limit`` items."""
    return Annotated[list[item], Meta(max_length=limit)]


class Record(Struct, forbid_unknown_fields=True, kw_only=True):
    """A stored record: every field known, nothing else accepted."""


Key = Annotated[str, Meta(pattern=keys.KEY_PATTERN)]  # a public key (keys.py)
Sealed = Annotated[str, Meta(max_length=keys.MAX_SEALED, pattern=keys.SEALED_PATTERN)]


class Claim(Record):
    """A salted scrypt check of a code or passphrase (keys.py; a loan's code keeps the older
    ``hash``), with a ticket's public key. The cost is bounded: a larger n would take more
    memory than hashlib allows and fail every check."""

    alg: Literal["scrypt"]
    n: Literal[tuple(2**k for k in range(1, codes.MAX_SCRYPT_LOG2 + 1))]  # type: ignore[valid-type]
    r: Literal[8]
    p: Literal[1]
    salt: Hex(32)
    hash: Optional[Hex(64)] = None
    check: Optional[Hex(64)] = None
    pub: Optional[Key] = None
    sign: Optional[Key] = None  # a ticket's verify key (Ed25519): its holder's changes at other kiosks


class AuditEntry(Record):
    at: Iso
    handle: Handle
    action: Annotated[str, Meta(pattern=r"^[a-z][a-z-]{0,39}$")]
    target: Text(500) = ""
    detail: Text(2000) = ""


class KioskIdentity(Record):
    """This kiosk's identity, made at its first start: records it makes carry ``id``."""

    id: KioskId
    since: Iso


# -- limits ----------------------------------------------------------------------------------------
# Far above what a neighborhood produces in years of honest use, far below what would exhaust a Pi.
MAX_LIVE_POSTS = 20_000
MAX_MONTH_POSTS = 50_000
MAX_POSTS = 1_000_000
MAX_ROWS = 50_000
MAX_AUDIT_MONTH = 20_000


@dataclass(frozen=True)
class TableSchema:
    row: Any
    max_rows: int = MAX_ROWS


class AnyReply(Struct):
    """Without features' declarations (tools, tests): only what the store itself relies on."""

    id: ShortId
    aka: list[ShortId] = []


class AnyPost(Struct):
    id: ShortId
    replies: list[AnyReply] = []
    aka: list[ShortId] = []


@dataclass
class DataSchema:
    """Every record type of one kiosk, gathered from its features' declarations: ``post`` (the
    board's), ``tables`` (name -> TableSchema) and ``settings`` (key -> type of its value).
    ``strict`` (a kiosk's own): nothing undeclared is accepted; without it (a Store opened by a
    tool that knows no features) only the numbers the store works with are checked."""

    post: Any = None
    tables: dict[str, TableSchema] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    strict: bool = False

    def __post_init__(self):
        self.settings = {"kiosk": KioskIdentity, **self.settings}
        self._types: dict[str, Any] = {}

    def _cached(self, name: str, make) -> Any:
        if name not in self._types:
            self._types[name] = make()
        return self._types[name]

    @property
    def post_type(self) -> Any:
        return self.post if self.post is not None else AnyPost

    def meta_row(self) -> Any:
        """A row of the settings table: ``{"key": ..., "value": ...}``, the value's type by key."""
        if not self.strict:
            return msgspec.defstruct("AnyMeta", [("key", str), ("value", Any, None)])

        def make():
            rows = [msgspec.defstruct(f"Meta_{re.sub(r'[^A-Za-z0-9]', '_', key)}", [("value", Optional[kind], None)],
                                      tag_field="key", tag=key, forbid_unknown_fields=True)
                    for key, kind in self.settings.items()]
            return Union[tuple(rows)] if len(rows) > 1 else rows[0]
        return self._cached("meta", make)

    def known_tables(self) -> set[str]:
        return {"posts", "meta", *self.tables}

    def live_file(self) -> Any:
        """live.json, in TinyDB's layout: {table: {doc id: row}}."""
        def make():
            fields = [("posts", Annotated[dict[DocKey, self.post_type], Meta(max_length=MAX_LIVE_POSTS)], {}),
                      ("meta", dict[DocKey, self.meta_row()], {})]
            fields += [(name, Annotated[dict[DocKey, table.row], Meta(max_length=table.max_rows)], {})
                       for name, table in self.tables.items()]
            # A table no feature declares (from a newer version, or a feature taken out) is kept
            # as it is, not refused: a kiosk can go back a version. Declared ones are strict.
            return msgspec.defstruct("LiveFile", fields)
        return self._cached("live", make)

    def month_file(self) -> Any:
        def make():
            return msgspec.defstruct("MonthFile", [("posts", Annotated[dict[DocKey, self.post_type],
                                                                       Meta(max_length=MAX_MONTH_POSTS)], {})],
                                     forbid_unknown_fields=True)
        return self._cached("month", make)

    def audit_file(self) -> Any:
        def make():
            return msgspec.defstruct("AuditFile", [("audit", Annotated[dict[DocKey, AuditEntry],
                                                                       Meta(max_length=MAX_AUDIT_MONTH)], {})],
                                     forbid_unknown_fields=True)
        return self._cached("audit", make)

    def decoder(self, kind: str) -> msgspec.json.Decoder:
        return self._cached(f"decoder-{kind}", lambda: msgspec.json.Decoder(getattr(self, f"{kind}_file")()))


# -- what went wrong, in words ----------------------------------------------------------------------

class Problem(Exception):
    """A record that does not fit its schema: ``where`` names the record (a file, a line, a post
    id), ``field`` the path inside it, ``what`` says what is wrong (lazily translated)."""

    def __init__(self, where: str, field: str = "", what: Any = ""):
        self.where, self.field, self.what = where, field, what
        super().__init__(self.english())

    def english(self) -> str:
        spot = f"{self.where}, field {self.field}" if self.field else self.where
        return f"{spot}: {self.what}" if self.what else spot


_MESSAGES = (
    (re.compile(r"Expected `str` of length <= (\d+)"), lambda m: _l("is longer than %(n)s characters", n=m[1])),
    (re.compile(r"Expected `(?:str|array|object)` of length >= (\d+)"), lambda m: _l("is empty")),
    (re.compile(r"Expected `(?:array|object)` of length <= (\d+)"), lambda m: _l("has more than %(n)s entries", n=m[1])),
    (re.compile(r"Expected `int` [<>]= (-?\d+)"), lambda m: _l("is out of range")),
    (re.compile(r"Expected `str` matching regex"), lambda m: _l("is not in the expected form")),
    (re.compile(r"Invalid enum value"), lambda m: _l("is not one of the values the kiosk knows")),
    (re.compile(r"Invalid value"), lambda m: _l("is not one of the values the kiosk knows")),
    (re.compile(r"Object missing required field `([^`]+)`"), lambda m: _l("misses the field %(name)s", name=m[1])),
    (re.compile(r"Object contains unknown field `([^`]+)`"), lambda m: _l("has a field the kiosk does not know: %(name)s", name=m[1])),
    (re.compile(r"Expected `([^`]+)`, got `([^`]+)`"), lambda m: _l("has the wrong type (%(want)s expected, %(got)s found)", want=m[1], got=m[2])),
    (re.compile(r"^Expected `([^`]+)`$"), lambda m: _l("has the wrong type (%(want)s expected)", want=m[1])),
    (re.compile(r"(?:JSON is malformed|Input data was truncated)"), lambda m: _l("is not valid JSON (cut short or damaged)")),
)


def problem_from(exc: Exception, where: str) -> Problem:
    """A msgspec error as a Problem: the path it names, and what is wrong in plain words."""
    message = str(exc)
    path = ""
    if " - at `" in message:
        message, _, path = message.partition(" - at `")
        path = path.rstrip("`").removeprefix("$").lstrip(".")
        path = re.sub(r"^key` in `\$", "(a key)", path)
    for pattern, words in _MESSAGES:
        match = pattern.search(message)
        if match:
            return Problem(where, path, words(match))
    return Problem(where, path, message)


def decode(raw: bytes, decoder: msgspec.json.Decoder, where: str) -> Any:
    try:
        return decoder.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise problem_from(exc, where) from None
    except RecursionError:
        raise Problem(where, "", _l("is nested too deeply")) from None
