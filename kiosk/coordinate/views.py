"""Coordinator mode under /coordinate: unlock and lock, the queue (panels other features
declare), the audit trail, the clock and the team. Nothing here answers before unlocking;
every action is audited. Settings and the USB stick have modules of their own."""

from __future__ import annotations

import datetime as dt
import secrets
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from ..core.errors import Refused
from ..core.times import iso
from ..web import gate
from ..web.audit import audit, trail
from ..web.helpers import flash_and_go, minutes
from ..web.services import now, services
from ..web.throttle import guesses

bp = Blueprint("coordinate", __name__, url_prefix="/coordinate", template_folder="templates")


@bp.before_request
def require_unlock():
    away = gate.require()
    return None if request.endpoint == "coordinate.home" else away  # home shows the unlock form


def done(message: str, to: str = "coordinate.home"):
    return flash_and_go(message, to)


@bp.route("", methods=["GET", "POST"])
def home():
    if g.handle is None:
        return _unlock()
    return render_template("coordinate/queue.html")


def _unlock():
    if request.method == "GET":
        return render_template("coordinate/unlock.html", error=None, handle="")
    handle = request.form.get("handle", "")[:60]
    passphrase = request.form.get("passphrase", "")[: gate.MAX_PASSPHRASE + 1]
    throttle = guesses(services().coord_throttle)  # this client's: no handle is ever locked
    wait = throttle.attempt()
    if wait:
        error = _("Too many wrong tries. Please wait %(minutes)d minutes.", minutes=minutes(wait))
        return render_template("coordinate/unlock.html", error=error, handle=handle), 429
    found = gate.verify(services().store, handle, passphrase, current_app.config["SCRYPT_N"])
    if found is None:
        error = _("That handle and passphrase do not match.")
        return render_template("coordinate/unlock.html", error=error, handle=handle), 403
    throttle.succeeded()
    # A new session: nothing a visitor left in this browser carries over.
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    key = secrets.token_urlsafe(24)
    # The handle and the team's key, in memory only, forgotten when idle.
    services().coord_unlocks.unlock(key, found, current_app.config["COORDINATOR_IDLE_MINUTES"] * 60)
    session["coord"] = key
    g.handle = found.handle
    audit("unlock")
    return redirect(url_for("coordinate.home"), code=303)


@bp.post("/lock")
def lock():
    audit("lock")
    services().coord_unlocks.lock(str(session.pop("coord", "")))
    services().jobs.passphrases.clear()  # a previewed backup's passphrase goes with the mode
    flash(_("Coordinator mode is locked."))
    return redirect(url_for(services().registry.home), code=303)


@bp.get("/log")
def log():
    return render_template("coordinate/log.html", entries=trail(services().store),
                           ACTIONS=services().registry.audit_actions)


@bp.route("/clock", methods=["GET", "POST"])
def clock():
    """The Pi has no real-time clock: a coordinator tells the kiosk what time it is."""
    svc = services()
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    error = None
    if request.method == "POST":
        raw = request.form.get("moment", "").strip()
        try:
            local = dt.datetime.fromisoformat(raw)
            if local.tzinfo is not None or not 2020 <= local.year <= 2100:
                raise ValueError(raw)
        except ValueError:
            error = _("Write the date and time like 2026-12-03 18:30.")
        else:
            moment = local.replace(tzinfo=zone).astimezone(dt.timezone.utc).replace(microsecond=0)
            before = svc.clock.now()
            svc.clock.set(moment)
            audit("clock", iso(moment), f"was {iso(before)}")
            return done(_("The kiosk's clock is set."), "coordinate.clock")
    shown = svc.clock.now().astimezone(zone)
    return render_template("coordinate/clock.html", shown=shown, suspect=svc.clock.suspect, error=error,
                           value=shown.strftime("%Y-%m-%dT%H:%M")), (422 if error else 200)


@bp.route("/team", methods=["GET", "POST"])
def team():
    store = services().store
    error = None
    if request.method == "POST":
        passphrase = request.form.get("passphrase", "")
        if passphrase != request.form.get("passphrase_again", ""):
            error = _("The two passphrases are not the same.")
        else:
            try:
                added = gate.add(store, request.form.get("handle", ""), passphrase, by=g.handle, now=now(),
                                 scrypt_n=current_app.config["SCRYPT_N"], team=gate.team_key())
            except Refused as refused:
                error = refused.message
            else:
                audit("add-coordinator", added)
                return done(_("%(handle)s can now unlock coordinator mode.", handle=added), "coordinate.team")
    return render_template("coordinate/team.html", team=gate.handles(store), error=error), (422 if error else 200)


@bp.post("/team/remove")
def remove_member():
    handle = request.form.get("handle", "")
    if request.form.get("confirm") != "yes":
        return done(_("Tick the box to confirm the removal."), "coordinate.team")
    try:
        gate.remove(services().store, handle)
    except Refused as refused:
        return done(str(refused.message), "coordinate.team")
    # Their open sessions end now, not at their next page: the handle may be given again.
    services().coord_unlocks.drop_where(lambda found: found.handle.casefold() == handle.strip().casefold())
    audit("remove-coordinator", handle)
    return done(_("%(handle)s was removed.", handle=handle), "coordinate.team")
