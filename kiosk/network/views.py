"""The coordinators' network page (/coordinate/network): this kiosk's device id to give to the
other kiosks (text and QR code), pairing with another kiosk, renaming and unpairing (after a
confirmation), each paired kiosk's state, and the records set aside. Works when Syncthing is
not running: it says so, and how to start it, and shows what it can."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from ..core.errors import Refused
from ..web import qr
from ..web.audit import audit
from ..web.gate import coordinator_required
from ..web.services import now, services
from ..web.settings import setting
from . import inbox, peers, setup, status
from .syncthing import START_HINT, SyncthingError, client_from_config, device_id_of_home, grouped

bp = Blueprint("network", __name__, url_prefix="/coordinate/network", template_folder="templates")


def _client():
    return client_from_config(current_app.config)


def _page(typed: dict | None = None, error: str | None = None, status_code: int = 200):
    store = services().store
    seen = status.overview(store, _client())
    device = seen["device"] or device_id_of_home(current_app.config.get("SYNCTHING_HOME") or "")
    return render_template(
        "network/network.html", seen=seen, device=device, groups=grouped(device) if device else [],
        device_qr=Markup(qr.inline_svg(device)) if device else None, this_kiosk=store.kiosk_id,
        syncthing_error=_with_command(seen["error"]) if seen["error"] else None,
        kiosk_name=setting("NAME"), set_aside=inbox.set_aside(store), typed=typed or {}, error=error,
    ), status_code


def _with_command(message) -> Markup:
    """The message with the command that starts Syncthing set apart: one line, left to right
    (inside an Arabic sentence, its words were reordered and broken across lines)."""
    command = Markup('<code class="command" dir="ltr">{}</code>').format(START_HINT)
    return Markup(str(escape(str(message))).replace(str(escape(START_HINT)), str(command)))


@bp.get("")
@coordinator_required
def page():
    return _page()


def _apply(store) -> None:
    """Tell Syncthing at once; when it does not answer, the loop does on its next pass."""
    try:
        setup.configure(store, _client(), current_app.config, setting("NAME"))
    except SyncthingError as exc:
        flash(_("Stored. Syncthing will be told when it runs again (%(why)s).", why=exc.message))


@bp.post("/add")
@coordinator_required
def add():
    store, client = services().store, _client()
    typed = {k: request.form.get(k, "")[:300] for k in ("device", "name", "address")}
    own = checked = None
    try:
        own = client.my_id()
        checked = client.check_device_id(typed["device"][:100])
    except SyncthingError:
        own = device_id_of_home(current_app.config.get("SYNCTHING_HOME") or "")
    try:
        peer = setup.add_peer(store, typed["device"], typed["name"], now(), typed["address"], own=own,
                              checked=checked)
    except Refused as refused:
        return _page(typed, str(refused.message), 422)
    audit("add-peer", peer["name"], peer["device"])
    _apply(store)
    flash(_("%(name)s is paired. Add this kiosk's device id on %(name)s's network page too.", name=peer["name"]))
    return redirect(url_for("network.page"), code=303)


@bp.post("/rename")
@coordinator_required
def rename():
    store = services().store
    device = request.form.get("device", "")[:100]
    try:
        before = peers.find(store, device)
        peer = peers.rename(store, device, request.form.get("name", "")[:300], request.form.get("address", "")[:300])
    except Refused as refused:
        flash(str(refused.message))
        return redirect(url_for("network.page"), code=303)
    audit("rename-peer", peer["name"], f"{device}, was {before['name'] if before else ''}")
    _apply(store)
    flash(_("Saved: %(name)s.", name=peer["name"]))
    return redirect(url_for("network.page"), code=303)


@bp.route("/remove", methods=["GET", "POST"])
@coordinator_required
def remove():
    store = services().store
    device = request.values.get("device", "")[:100]
    found = peers.find(store, device)
    if found is None:
        flash(_("That kiosk is not paired with this one (any more)."))
        return redirect(url_for("network.page"), code=303)
    if request.method == "GET" or request.form.get("confirm") != "yes":
        return render_template("network/remove.html", peer=found), (200 if request.method == "GET" else 422)
    client = _client()
    try:
        setup.remove_peer(store, client, device)
    except SyncthingError:
        pass  # out of the list; the loop's next pass removes it from Syncthing too
    audit("remove-peer", found["name"], device)
    flash(_("%(name)s is no longer paired. What it sent before stays on the board.", name=found["name"]))
    return redirect(url_for("network.page"), code=303)


@bp.post("/accept-key")
@coordinator_required
def accept_key():
    """A kiosk set up again signs with a new key: its records are refused until a coordinator
    here trusts it (nothing else could tell a new card from an impostor)."""
    kiosk = request.form.get("kiosk", "")[:20]
    if not inbox.accept_key(services().store, kiosk):
        flash(_("That kiosk shows no new key."))
        return redirect(url_for("network.page"), code=303)
    audit("accept-key", kiosk)
    flash(_("The new key is accepted: its records are read again."))
    return redirect(url_for("network.page"), code=303)
