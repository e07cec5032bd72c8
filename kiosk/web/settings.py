"""Settings that coordinators change on screen, held in the store, read through ``setting``.

A stored value overrides the start-up configuration (environment variables, defaults) and
takes effect at once; the app's config itself never changes after start-up. Categories are
the built-in eight (translated) plus any a coordinator adds, with a name per offered language
(a reader without one sees the default language's); a retired category is no longer offered
for new posts, but old posts keep showing its name.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Mapping

from flask import current_app, has_app_context, has_request_context
from flask_babel import force_locale, get_locale, lazy_gettext as _l

from ..core import config as config_module
from ..core import fields
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


def offered_languages(store: Store) -> list[str]:
    """The languages offered now, the default first (``setting("LANGUAGES")``, also outside a request)."""
    saved = stored(store).get("LANGUAGES")
    if saved:
        return list(saved)
    return list(current_app.config["LANGUAGES"]) if has_app_context() else ["en"]


def labels_of(entry: dict, default_lang: str) -> dict[str, str]:
    """lang -> the name coordinators gave a category. Versions before per-language names kept
    one ``label``: it counts as the default language's name (what it was typed in is unknown)."""
    labels = {lang: label for lang, label in (entry.get("labels") or {}).items() if label}
    if not labels and entry.get("label"):
        labels = {default_lang: entry["label"]}
    return labels


def category_names(store: Store, lang: str | None = None, include_retired: bool = False) -> dict:
    """slug -> (name, language of the name): the name in ``lang`` (the page's) if there is one,
    else in the default language (or the next offered one), whose code comes along so the page
    can mark it; None as the language means the name is in ``lang``. Built-ins never renamed
    keep their translations. Built-ins first, in a stable order."""
    languages = offered_languages(store)
    lang = lang or (str(get_locale()) if has_request_context() else languages[0])
    overrides: dict = stored(store).get("categories", {})
    result = {}
    for slug in [*CATEGORIES, *(slug for slug in overrides if slug not in CATEGORIES)]:
        entry = overrides.get(slug, {})
        if entry.get("retired") and not include_retired:
            continue
        labels = labels_of(entry, languages[0])
        shown = next((c for c in [lang, *languages, *sorted(labels)] if c in labels), None)
        if shown:
            result[slug] = (labels[shown], None if shown == lang else shown)
        else:
            result[slug] = (str(CATEGORIES[slug]) if slug in CATEGORIES else slug, None)
    return result


def categories(store: Store, include_retired: bool = False, lang: str | None = None) -> dict:
    """slug -> name in the page's language (see category_names), built-ins first."""
    return {slug: name for slug, (name, _) in category_names(store, lang, include_retired).items()}


def retired(store: Store) -> set[str]:
    return {slug for slug, entry in stored(store).get("categories", {}).items() if entry.get("retired")}


def label_fields(store: Store, languages: list[str]) -> dict:
    """slug -> lang -> what the rename form shows: the coordinators' name, or a built-in's
    translation while nobody renamed it; empty where a reader sees another language's name."""
    default = languages[0]
    result = {}
    for slug, entry in {**{slug: {} for slug in CATEGORIES}, **stored(store).get("categories", {})}.items():
        labels = labels_of(entry, default)
        if not labels and slug in CATEGORIES:
            labels = {lang: _builtin(slug, lang) for lang in languages}
        result[slug] = {lang: labels.get(lang, "") for lang in languages}
    return result


def _builtin(slug: str, lang: str) -> str:
    with force_locale(lang):
        return str(CATEGORIES[slug])


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


def label_field(lang: str) -> str:
    return f"label_{lang}"


def check_labels(form: Mapping, languages: list[str]) -> dict[str, str]:
    """A category's names from the form, one field per offered language (only those sent; the
    old form's single ``label`` is the default language's). Raises Invalid naming each field
    to fix."""
    errors: dict = {}
    found: dict[str, str] = {}
    for lang in languages:
        name = label_field(lang)
        source = name if name in form else ("label" if lang == languages[0] and "label" in form else None)
        if source is None:
            continue
        found[lang] = fields.clean(form, source, LIMITS["category"], errors)
        if source in errors:
            errors[name] = errors.pop(source)
    if errors:
        raise Invalid(errors, found)
    return found


def _look(name: str) -> str:
    """A name as it looks: full-width letters, case, joiners and spacing aside."""
    folded = unicodedata.normalize("NFKC", str(name)).casefold()
    return " ".join("".join(c for c in folded if unicodedata.category(c) != "Cf").split())


def _taken(store: Store, labels: dict[str, str], languages: list[str], slug: str) -> bool:
    """Whether another category already has a name that looks like one of these in the same
    language (two tiles alike would file posts under the wrong one)."""
    for lang, label in labels.items():
        with force_locale(lang):  # the built-ins' names in that language
            names = category_names(store, lang, include_retired=True)
        if any(other != slug and _look(name) == _look(label) for other, (name, _) in names.items()):
            return True
    return False


def _new_slug(labels: dict[str, str], languages: list[str], every) -> str:
    # The default language's name first; a name in Arabic script has no Latin slug.
    base = next((slugify(labels[lang]) for lang in languages if slugify(labels.get(lang, ""))), "") or "category"
    slug, n = base, 2
    while slug in every:
        slug, n = f"{base}-{n}", n + 1
    return slug


def change_category(store: Store, action: str, slug: str, labels: Mapping | str = "") -> str:
    """add (names per language) or rename (a slug's names), retire or restore (a slug). Returns
    the slug. ``labels``: a form, or one name (of the default language)."""
    languages = offered_languages(store)
    saved = stored(store)
    cats: dict = dict(saved.get("categories", {}))
    every = categories(store, include_retired=True)
    if action not in ("add", "rename", "retire", "restore") or (action != "add" and slug not in every):
        raise Invalid({"category": _l("Choose one of the categories in the list.")})
    if action in ("add", "rename"):
        form = {"label": labels} if isinstance(labels, str) else labels
        given = check_labels(form, languages)
        if action == "add":
            slug = _new_slug(given, languages, every)
        kept = labels_of(cats.get(slug, {}), languages[0])
        names = {lang: label for lang, label in {**kept, **given}.items() if label}
        if not names.get(languages[0]):  # the name every other language falls back to
            raise Invalid({label_field(languages[0]): _l("Write the category's name in %(language)s.",
                                                         language=config_module.KNOWN_LANGUAGES[languages[0]])}, given)
        if _taken(store, names, languages, slug):
            raise Invalid({label_field(languages[0]): _l("That category exists already.")}, given)
        if slug in CATEGORIES and names == {lang: _builtin(slug, lang) for lang in names}:
            names = {}  # back to the built-in translations, which may improve with a new version
        entry = {key: value for key, value in cats.get(slug, {}).items() if key not in ("label", "labels")}
        cats[slug] = {**entry, "labels": names} if names else entry
    else:
        if action == "retire" and len(categories(store)) <= 1:
            raise Invalid({"category": _l("Keep at least one category.")})
        cats[slug] = {**cats.get(slug, {}), "retired": action == "retire"}
    saved["categories"] = cats
    store.set_meta(META_KEY, saved)
    return slug
