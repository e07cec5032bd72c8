"""Reading what people type into forms: one field's text, cleaned, and the message they see
when it cannot be kept. Every form in the kiosk checks its free text with these, so the rules
(and their translations) are the same everywhere."""

from __future__ import annotations

from typing import Mapping

from flask_babel import lazy_gettext as _l

from . import text


def one(form: Mapping, name: str, errors: dict) -> str:
    """One text value of a form field; several values or a non-text value is an error."""
    getlist = getattr(form, "getlist", None)
    values = getlist(name) if getlist else ([form[name]] if name in form else [])
    if len(values) > 1:
        errors[name] = _l("Send this field only once.")
        return ""
    value = values[0] if values else ""
    if not isinstance(value, str):
        errors[name] = _l("This field takes text.")
        return ""
    return value


def whole_number(raw, most: int) -> int | None:
    """A whole number typed or sent as text, from 0 to ``most``; None for anything else. The
    length is checked before converting: Python refuses to turn thousands of digits into a
    number, and nobody types them."""
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit() or len(raw) > len(str(most)):
        return None
    value = int(raw)
    return value if value <= most else None


def problem(value: str, limit: int, multiline: bool = False):
    """The message for a cleaned text that cannot be kept as it is, or None."""
    if not multiline and "\n" in value:
        return _l("Keep this to one line.")
    if text.unsafe(value, multiline):
        return _l("Remove the invisible control characters from this text.")
    if len(value) > limit:
        return _l("Use at most %(limit)d characters; this has %(count)d.", limit=limit, count=len(value))
    return None


def clean(form: Mapping, name: str, limit: int, errors: dict, multiline: bool = False) -> str:
    """The field's text, normalized; a message in errors[name] if it cannot be kept."""
    value = text.normalize(one(form, name, errors), multiline=multiline)
    if name not in errors:
        message = problem(value, limit, multiline)
        if message:
            errors[name] = message
    return value
