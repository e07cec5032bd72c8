"""The kiosk's own pieces, declared like a feature's: its pages (web/screen.py), the team of
coordinators, the on-screen settings and the clock, and the session keys every visit may hold."""

from __future__ import annotations

from . import gate, screen
from .feature import Feature, Setting, Table


def _check_settings(value) -> str | None:
    from ..core import config as config_module

    if value is None:
        return None
    if not isinstance(value, dict):
        return "settings"
    languages = value.get("LANGUAGES", ["en"])
    if not isinstance(languages, list) or not languages or any(l not in config_module.KNOWN_LANGUAGES for l in languages):
        return "settings: LANGUAGES"
    for key in ("EXPIRE_DAYS", "RETAIN_DAYS"):
        days = value.get(key, 1)
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650:
            return f"settings: {key}"
    for key in ("NAME", "PUBLIC_URL", "WIFI_SSID", "WIFI_PASSWORD"):
        if not isinstance(value.get(key, ""), str):
            return f"settings: {key}"
    if not isinstance(value.get("categories", {}), dict):
        return "settings: categories"
    return None


def _check_clock(value) -> str | None:
    from ..core.times import parse_iso

    if value is None:
        return None
    try:
        parse_iso(value)
    except (TypeError, ValueError):
        return "clock"
    return None


FEATURE = Feature(
    name="kiosk",
    blueprints=(screen.bp,),
    tables=(Table(gate.TABLE, gate.check_record),),
    settings=(Setting("settings", _check_settings), Setting("clock", _check_clock)),
    session_keys=("lang", "form_key", "coord", "_flashes"),
    private_endpoints=("screen.flyer",),
)
