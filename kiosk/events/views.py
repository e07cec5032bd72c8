"""Gatherings at /events: the list of the next weeks, one event's page with its printable
notice and QR code, the anonymous "I'll come" counter, and the coordinators' forms.

Readers get no cookie here: a page only carries an "I'll come" form (which needs a CSRF token,
so a session) when the browser already has a session; otherwise the button is a link to a
small confirmation page with that form.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import format_date, format_time
from flask_babel import gettext as _

from ..core.errors import Invalid, Refused
from ..web import qr
from ..web.budget import budgeted
from ..web.audit import audit
from ..web.gate import coordinator_required, current_handle
from ..web.helpers import found_or_404
from ..web.services import now, services
from ..web.settings import setting
from . import rules as domain

bp = Blueprint("events", __name__, template_folder="templates")

SESSION_KEY = "came"
REMEMBERED = 100  # occurrences one browser remembers having counted (keeps the cookie small)


def _tz() -> dt.tzinfo:
    try:
        return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")
    except (ValueError, KeyError, OSError):
        return dt.timezone.utc


def _has_session() -> bool:
    return bool(request.cookies.get(current_app.config["SESSION_COOKIE_NAME"]))


def _counted() -> set[str]:
    came = session.get(SESSION_KEY)
    return set(came) if isinstance(came, list) else set()


def _event_or_404(event_id: int) -> dict:
    return found_or_404(domain.get(services().store, event_id))


def _public_url(event_id: int) -> str:
    return f"{setting('PUBLIC_URL').rstrip('/')}/events/{event_id}"


@bp.app_template_filter("event_day")
def event_day(value) -> str:
    return format_date(value, "full") if value else ""


@bp.app_template_filter("event_time")
def event_time(value) -> str:
    return format_time(value, "short") if value else ""


@bp.app_context_processor
def gatherings_helper():
    return {"EVENT_KINDS": domain.KINDS}


def next_meeting(store, moment: dt.datetime) -> dict | None:
    """The next gathering of the kind "meeting", for the roster's line on the start page."""
    found = domain.upcoming(store, moment, tz=_tz(), kinds=("meeting",), limit=1)
    if not found:
        return None
    occ = found[0]
    return {"when": occ["start"], "where": occ["event"].get("place", ""), "title": occ["event"].get("title", ""),
            "link": ("events.show", {"event_id": occ["id"]})}


def start_panel(**context) -> dict:
    """The next two gatherings, for the start page."""
    return {"gatherings": domain.upcoming(services().store, now(), 2, tz=_tz())}


# -- for everyone -------------------------------------------------------------------------------


@bp.get("/events")
def index():
    occurrences = domain.upcoming(services().store, now(), tz=_tz())
    return render_template("events/list.html", occurrences=occurrences, counted=_counted(),
                           direct=_has_session(), handle=current_handle())


@bp.get("/events/<int:event_id>")
def show(event_id: int):
    event = _event_or_404(event_id)
    occurrences = domain.event_occurrences(event, now(), days=366, limit=6, tz=_tz())
    return render_template("events/event.html", event=event, occurrences=occurrences, counted=_counted(),
                           direct=_has_session(), handle=current_handle(), public_url=_public_url(event_id),
                           repeat=domain.describe_repeat(event))


@bp.get("/events/<int:event_id>/qr.svg")
def event_qr(event_id: int):
    _event_or_404(event_id)
    return Response(qr.svg(_public_url(event_id)), mimetype="image/svg+xml")


@bp.route("/events/<int:event_id>/come/<day>", methods=["GET", "POST"])
@budgeted("come")
def come(event_id: int, day: str):
    event = _event_or_404(event_id)
    occurrence = next((o for o in domain.event_occurrences(event, now(), days=366, tz=_tz()) if o["date"] == day), None)
    if occurrence is None:
        if request.method == "GET":
            abort(404)
        flash(_("This gathering is not on that date, or it is over."))
        return redirect(url_for("events.show", event_id=event_id), code=303)
    back = url_for("events.index") if request.form.get("back") == "list" else url_for("events.show", event_id=event_id)
    counted = _counted()
    if request.method == "GET":
        return render_template("events/come.html", occ=occurrence, already=occurrence["key"] in counted)
    if occurrence["key"] in counted:
        flash(_("This browser already counted you for that date. Thank you!"))
        return redirect(back, code=303)
    try:
        domain.come(services().store, event_id, day, now(), _tz())
    except Refused as refused:
        flash(str(refused.message))
        return redirect(back, code=303)
    remembered = [key for key in (session.get(SESSION_KEY) or []) if isinstance(key, str)]
    session[SESSION_KEY] = (remembered + [occurrence["key"]])[-REMEMBERED:]
    flash(_("Thank you! You are counted for %(day)s.", day=event_day(occurrence["start"])))
    return redirect(back, code=303)


# -- for coordinators ---------------------------------------------------------------------------


def _form_page(template_values: dict, errors: dict, event: dict | None, status: int = 200):
    return render_template("events/form.html", values=template_values, errors=errors, event=event,
                           KINDS=domain.KINDS, REPEATS=domain.REPEATS, NTH=domain.NTH,
                           DURATIONS=domain.DURATIONS, EVENT_LIMITS=domain.LIMITS), status


@bp.route("/events/new", methods=["GET", "POST"])
@coordinator_required
def new():
    if request.method == "GET":
        return _form_page({"repeat": "none", "duration": "120", "kind": "food-share"}, {}, None)
    try:
        clean = domain.check(request.form)
    except Invalid as bad:
        return _form_page(request.form, bad.errors, None, 422)
    event_id = domain.create(services().store, clean, now())
    audit("event-new", str(event_id), clean["title"])
    flash(_("The gathering is on the list."))
    return redirect(url_for("events.show", event_id=event_id), code=303)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@coordinator_required
def edit(event_id: int):
    event = _event_or_404(event_id)
    if event.get("cancelled"):
        flash(_("This gathering was cancelled and can no longer be changed."))
        return redirect(url_for("events.show", event_id=event_id), code=303)
    if request.method == "GET":
        return _form_page(domain.form_values(event), {}, event)
    try:
        clean = domain.check(request.form)
    except Invalid as bad:
        return _form_page(request.form, bad.errors, event, 422)
    domain.update(services().store, event_id, clean, now())
    audit("event-edit", str(event_id), clean["title"])
    flash(_("The gathering is changed."))
    return redirect(url_for("events.show", event_id=event_id), code=303)


@bp.route("/events/<int:event_id>/cancel", methods=["GET", "POST"])
@coordinator_required
def cancel(event_id: int):
    event = _event_or_404(event_id)
    if event.get("cancelled"):
        flash(_("This gathering is already cancelled."))
        return redirect(url_for("events.show", event_id=event_id), code=303)
    if request.method == "GET" or request.form.get("confirm") != "yes":
        # Asks first: only the confirmation page's button sends confirm=yes.
        return render_template("events/cancel.html", event=event, repeat=domain.describe_repeat(event))
    domain.cancel(services().store, event_id, now())
    audit("event-cancel", str(event_id), event["title"])
    flash(_("The gathering is cancelled."))
    return redirect(url_for("events.index"), code=303)
