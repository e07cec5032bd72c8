"""What the kiosk's own records may hold: a coordinator, the on-screen settings and the saved
clock. Checked on every backup and at start-up (core/schema.py), within the limits that
start-up settings have (core/config.py)."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

from msgspec import Meta, field

from ..core import config
from ..core.schema import Claim, Handle, Iso, Key, Many, Record, Slug, Text  # noqa: F401  (Key: for base.py)

Days = Annotated[int, Meta(ge=1, le=3650)]
Language = Literal[tuple(config.KNOWN_LANGUAGES)]  # type: ignore[valid-type]
# The address phones use: http(s), a host name, maybe a port, no path (as the settings screen asks).
PublicUrl = Annotated[str, Meta(max_length=config.LENGTHS["PUBLIC_URL"],
                                pattern=r"^https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?$")]


class Coordinator(Record):
    handle: Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.-]{1,29}$")]
    hash: Claim
    added: Iso
    added_by: Handle
    wrapped: Optional[Annotated[str, Meta(max_length=200, pattern=r"^[A-Za-z0-9_-]+={0,2}$")]] = None  # keys.wrap_for


class Category(Record):
    label: Text(40) = ""  # one name, as versions before names per language kept it
    labels: Annotated[dict[Language, Text(40)], Meta(max_length=len(config.KNOWN_LANGUAGES))] = {}
    retired: bool = False


class Settings(Record):
    NAME: Annotated[str, Meta(min_length=1, max_length=config.LENGTHS["NAME"])] = "kiosk"
    PUBLIC_URL: PublicUrl = "http://aid.lan"
    WIFI_SSID: Text(config.LENGTHS["WIFI_SSID"]) = ""
    WIFI_PASSWORD: Text(config.LENGTHS["WIFI_PASSWORD"]) = ""
    EXPIRE_DAYS: Days = 30
    RETAIN_DAYS: Days = 30
    LANGUAGES: Annotated[Many(Language, len(config.KNOWN_LANGUAGES)), Meta(min_length=1)] = field(default_factory=lambda: ["en"])
    categories: Annotated[dict[Slug, Category], Meta(max_length=100)] = {}


Clock = Iso
