"""Small helpers that views of every feature share: waits in minutes, lookups that answer 404,
the contact-details warning."""

from __future__ import annotations

import math

from flask import abort, flash, redirect, request, url_for

from flask_babel import gettext

from ..core import codes, counts
from .services import services



def minutes(wait_seconds: float) -> int:
    """A wait as whole minutes for "try again in N minutes": never 0, always rounded up."""
    return max(1, math.ceil(wait_seconds / 60))


def flash_and_go(message, endpoint: str, **values):
    """Say what happened, then show ``endpoint`` (a 303, so reloading repeats nothing)."""
    flash(message)
    return redirect(url_for(endpoint, **values), code=303)


def right_to_left() -> bool:
    """Whether the page is in a right-to-left language (charts are drawn mirrored there)."""
    from flask_babel import get_locale

    from .template_helpers import RTL_LANGUAGES

    return str(get_locale()) in RTL_LANGUAGES


def fewer_than() -> str:
    """What a public number too small to show says instead (core/counts.py)."""
    return gettext("fewer than %(n)d", n=counts.SMALL)


def found_or_404(value):
    if value is None:
        abort(404)
    return value


def post_or_404(raw_id: str) -> dict:
    """The live or archived post with this id (typed in any case), or a 404 page."""
    normalized = codes.normalize_post_id(raw_id)
    return found_or_404(services().store.get_post(normalized) if normalized else None)


def post_id_or_404(raw_id: str) -> str:
    return found_or_404(codes.normalize_post_id(raw_id))


def needs_contact_ok(contact: dict) -> bool:
    """Text that looks like contact details is shown back with a warning until the person
    ticks that they mean it (promise 1); nothing is stored before."""
    return bool(contact) and request.form.get("contact_ok") != "yes"

