"""Settings that coordinators change on screen, held in the store, read through ``setting``.

A stored value overrides the start-up configuration (environment variables, defaults) and
takes effect at once; the app's config itself never changes after start-up. Categories are
the built-in eight (translated) plus any a coordinator adds; a retired category is no longer
offered for new posts, but old posts keep showing its name.
"""

from __future__ import annotations

import re
from typing import Mapping

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..core import config as config_module
from ..core import fields, text
from ..core.errors import Invalid
from ..core.store import Store

META_KEY = "settings"
EDITABLE = ("NAME", "PUBLIC_URL", "WIFI_SSID", "WIFI_PASSWORD", "EXPIRE_DAYS", "RETAIN_DAYS", "LANGUAGES")
LIMITS = {**config_module.LENGTHS, "category": 40}
CATEGORIES = {
    "food": _l("Food"),
    "childcare": _l("Childcare"),
    "transportation": _l("Transportation"),
    "translation": _l("Translation"),
    "home-repairs": _l("Home repairs"),
    "companionship": _l("Companionship"),
    "tools-and-items": _l("Tools and items"),
    "other": _l("Other"),
}


def stored(store: Store) -> dict:
    saved = store.get_meta(META_KEY, {})
    return saved if isinstance(saved, dict) else {}


def setting_of(config, store: Store, name: str):
    """A setting as it applies now: the coordinators' value if they set one, else start-up's."""
    saved = stored(store) if name in EDITABLE else {}
    return saved[name] if name in saved else config[name]


def setting(name: str):
    """``setting_of`` for the app of this request."""
    return setting_of(current_app.config, current_app.extensions["kiosk"].store, name)


def categories(store: Store, include_retired: bool = False) -> dict:
    """slug -> label, built-ins first, in a stable order."""
    overrides: dict = stored(store).get("categories", {})
    result = {}
    for slug, label in CATEGORIES.items():
        entry = overrides.get(slug, {})
        if include_retired or not entry.get("retired"):
            result[slug] = entry.get("label") or label
    for slug, entry in overrides.items():
        if slug in CATEGORIES:
            continue
        if include_retired or not entry.get("retired"):
            result[slug] = entry.get("label") or slug
    return result


def retired(store: Store) -> set[str]:
    return {slug for slug, entry in stored(store).get("categories", {}).items() if entry.get("retired")}


def _text(form: Mapping, name: str, errors: dict, required: bool = False) -> str:
    value = fields.clean(form, name, LIMITS[name], errors)
    if required and name not in errors and not value:
        errors[name] = _l("This cannot be empty.")
    return value


def _days(form: Mapping, name: str, low: int, errors: dict) -> int:
    days = fields.whole_number(str(form.get(name, "")).strip(), 3650)
    if days is None or days < low:
        errors[name] = _l("Give a whole number of days from %(low)d to 3650.", low=low)
        return 0
    return days


def check_general(form: Mapping) -> dict:
    """The general settings form: returns the new values or raises Invalid."""
    errors: dict = {}
    values = {
        "NAME": _text(form, "NAME", errors, required=True),
        "PUBLIC_URL": _text(form, "PUBLIC_URL", errors, required=True).rstrip("/"),
        "WIFI_SSID": _text(form, "WIFI_SSID", errors),
        "WIFI_PASSWORD": _text(form, "WIFI_PASSWORD", errors),
        "EXPIRE_DAYS": _days(form, "EXPIRE_DAYS", 1, errors),
        "RETAIN_DAYS": _days(form, "RETAIN_DAYS", 1, errors),
    }
    if "PUBLIC_URL" not in errors and not _phone_reachable(values["PUBLIC_URL"]):
        errors["PUBLIC_URL"] = _l("Write the address phones use, like http://aid.lan (no path).")
    if values["WIFI_PASSWORD"] and not 8 <= len(values["WIFI_PASSWORD"]) <= 63:
        errors.setdefault("WIFI_PASSWORD", _l("A WPA2 password has 8 to 63 characters."))
    getlist = getattr(form, "getlist", None)
    languages = [lang for lang in (getlist("LANGUAGES") if getlist else []) if lang in config_module.KNOWN_LANGUAGES]
    if not languages:
        errors["LANGUAGES"] = _l("Offer at least one language.")
    values["LANGUAGES"] = list(dict.fromkeys(languages))
    if errors:
        raise Invalid(errors)
    return values


def _phone_reachable(url: str) -> bool:
    """An address a phone on the Wi-Fi could open: http(s), a real host name, a valid port,
    never this machine's own loopback name (printed codes would point nowhere)."""
    match = re.fullmatch(r"https?://([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::(\d{1,5}))?", url)
    if not match:
        return False
    host, port = match.group(1).lower(), match.group(2)
    if config_module.is_loopback_host(host):
        return False
    return port is None or 0 < int(port) <= 65535


def save_general(store: Store, values: dict) -> dict:
    """Store new general settings; returns what changed (for the audit trail)."""
    saved = stored(store)
    changed = {k: v for k, v in values.items() if saved.get(k) != v}
    saved.update(values)
    store.set_meta(META_KEY, saved)
    return {k: ("(hidden)" if k == "WIFI_PASSWORD" else v) for k, v in changed.items()}


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:30]


def change_category(store: Store, action: str, slug: str, label: str = "") -> str:
    """add (a new label), rename (a label), retire or restore (a slug). Returns the slug."""
    saved = stored(store)
    cats: dict = dict(saved.get("categories", {}))
    every = categories(store, include_retired=True)
    errors: dict = {}
    if action in ("add", "rename"):
        value = text.normalize(label)
        if not value or text.unsafe(value):
            errors["category"] = _l("Write a category name.")
        elif len(value) > LIMITS["category"]:
            errors["category"] = _l("Use at most %(limit)d characters; this has %(count)d.", limit=LIMITS["category"], count=len(value))
        if errors:
            raise Invalid(errors)
        if action == "add":
            if any(str(label).casefold() == value.casefold() for label in every.values()):
                raise Invalid({"category": _l("That category exists already.")})
            base = slugify(value) or "category"  # a name in Arabic script has no Latin slug
            slug, n = base, 2
            while slug in every:
                slug, n = f"{base}-{n}", n + 1
        elif slug not in every:
            raise Invalid({"category": _l("Choose one of the categories in the list.")})
        cats[slug] = {**cats.get(slug, {}), "label": value}
    elif action in ("retire", "restore"):
        if slug not in every:
            raise Invalid({"category": _l("Choose one of the categories in the list.")})
        if action == "retire" and len(categories(store)) <= 1:
            raise Invalid({"category": _l("Keep at least one category.")})
        cats[slug] = {**cats.get(slug, {}), "retired": action == "retire"}
    else:
        raise Invalid({"category": _l("Choose one of the categories in the list.")})
    saved["categories"] = cats
    store.set_meta(META_KEY, saved)
    return slug
