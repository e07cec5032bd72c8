"""Rules for free text typed by people: cleaning, and spotting personal contact details."""

from __future__ import annotations

import re
import unicodedata

# Bidirectional overrides and isolates can make text display differently from what it is.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def normalize(value: str, multiline: bool = False) -> str:
    """NFC-normalize, unify line ends and trim; does not judge the content."""
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    if multiline:
        value = "\n".join(line.rstrip() for line in value.split("\n"))
        value = re.sub(r"\n{3,}", "\n\n", value)
    return value.strip()


def has_control_chars(value: str, multiline: bool = False) -> bool:
    for ch in value:
        if ch in _BIDI_CONTROLS:
            return True
        if unicodedata.category(ch) == "Cc" and not (multiline and ch in "\n\t"):
            return True
    return False


def unsafe(value: str, multiline: bool = False) -> bool:
    """Whether the text holds characters a form must refuse: control characters (line breaks
    too, unless multiline), bidirectional controls, or invisible format characters."""
    return has_control_chars(value, multiline) or has_invisible_chars(value, multiline)


# Joiners are needed inside words of several scripts (Arabic, Persian, Indic, emoji).
_ALLOWED_FORMAT = {"\u200c", "\u200d"}


def has_invisible_chars(value: str, multiline: bool = False) -> bool:
    """Format characters (zero-width spaces, direction marks, BOM, soft hyphens) and line or
    paragraph separators hide what a text really says; only joiners are kept."""
    for ch in value:
        category = unicodedata.category(ch)
        if category == "Cf" and ch not in _ALLOWED_FORMAT:
            return True
        if category in ("Zl", "Zp"):
            return True
    return False


def visible(value: str) -> bool:
    """Whether the text shows at least one character that is not space or invisible."""
    return any(not ch.isspace() and unicodedata.category(ch)[0] not in "CZ" for ch in value)


_EMAIL = re.compile(r"[\w.+-]+\s*(@|\(at\)|\[at\])\s*[\w-]+(\s*(\.|\(dot\)|\[dot\])\s*[\w-]+)+", re.I)
# Dates and times contain long digit runs that are not phone numbers.
_DATES = re.compile(r"\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b")
_PHONE = re.compile(r"\+?\(?\d(?:[\s().-]{0,3}\d){6,}")
# A house number next to a street word; a warning only, so rare false alarms are tolerable.
_ADDRESS = re.compile(
    r"\b\d{1,5}[a-z]?\s+(?:[\w'.-]+\s+){0,3}"
    r"(?:(?:street|avenue|road|lane|drive|boulevard|blvd)\b|(?:st|rd|ave|dr)\.)"
    r"|\b(?:calle|avenida|carrera|rue)\s+(?:[\w'.-]+\s+){0,3}\d{1,5}\b",
    re.I,
)


def contact_kinds(value: str) -> set[str]:
    """Which kinds of personal contact detail the text seems to hold: phone, email, address."""
    found = set()
    if _EMAIL.search(value):
        found.add("email")
    if _PHONE.search(_DATES.sub(" ", value)):
        found.add("phone")
    if _ADDRESS.search(value):
        found.add("address")
    return found


def contact_in(values) -> dict[str, set[str]]:
    """For each named text that seems to hold contact details, which kinds (promise 1)."""
    return {name: kinds for name, value in values.items() if isinstance(value, str) and (kinds := contact_kinds(value))}
