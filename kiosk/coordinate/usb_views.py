"""The USB stick screens: export (in the background, with progress), restore and merge."""

from __future__ import annotations

from flask import abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..core import usb
from ..web import exchange
from ..web.audit import audit, log
from ..web.services import now, services
from ..web.settings import setting
from .views import bp, done


def exchange_message(exc: exchange.ExchangeError) -> str:
    messages = {
        "no-target": _("That stick is no longer there. Plug it in again."),
        "read-only": _("The stick is read-only. Check its lock switch, or use another stick."),
        "full": _("The stick is full. Nothing was left on it: free some space or use another stick."),
        "write-failed": _("Writing to the stick failed (was it pulled out?). Nothing was left that a restore would take."),
        "exists": _("An export with that name is already there. Try again in a second."),
        "not-backup": _("This folder is not a kiosk export: it has no manifest.json."),
        "incomplete": _("This backup is incomplete: %(file)s is missing or cut short. Nothing was changed.", file=exc.detail),
        "checksum": _("This backup was changed after it was made: %(file)s does not match its checksum. Nothing was changed.", file=exc.detail),
        "version": _("This backup comes from another version of the kiosk. Nothing was changed."),
        "invalid": _("This backup holds data the kiosk cannot use (%(file)s). Nothing was changed.", file=exc.detail),
        "no-full": _("This is an anonymized export, not a full backup: it cannot restore or merge."),
    }
    return messages.get(exc.code, exc.code)


def _sticks():
    return usb.find(current_app.config["USB_ROOTS"])


@bp.route("/export", methods=["GET", "POST"])
def export():
    if request.method == "GET":
        return render_template("coordinate/export.html", sticks=_sticks())
    stick = next((s for s in _sticks() if s.path == request.form.get("stick", "")), None)
    if stick is None:
        abort(404)
    full = request.form.get("full") == "yes"
    svc, moment, handle = services(), now(), g.handle

    def logged(folder: str) -> None:
        log(svc.store, handle, "export", folder, moment, "full backup" if full else "anonymized")

    job_id = svc.jobs.start(svc.store, stick.path, registry=svc.registry, kiosk_name=setting("NAME"), now=moment,
                            full=full, label=stick.label, when_done=logged)
    return redirect(url_for("coordinate.export_status", job_id=job_id), code=303)


@bp.get("/export/<job_id>")
def export_status(job_id: str):
    job = services().jobs.get(job_id)
    if job is None:
        abort(404)
    error = exchange_message(job["error"]) if job.get("error") else None
    return render_template("coordinate/export_status.html", job=job, error=error, job_id=job_id)


@bp.route("/import", methods=["GET", "POST"])
def import_page():
    sticks = _sticks()
    folders = {s.path: usb.exports_on(s.path) for s in sticks}
    page = {"sticks": sticks, "folders": folders, "seen": None, "error": None}
    if request.method == "GET":
        return render_template("coordinate/import.html", **page)
    chosen = request.form.get("folder", "")
    if not any(str(f) == chosen for fs in folders.values() for f in fs):
        abort(404)
    mode = request.form.get("mode")
    if mode not in ("replace", "merge"):
        abort(400)
    svc = services()
    try:
        document = exchange.read_backup(chosen, svc.registry)
    except exchange.ExchangeError as exc:
        return render_template("coordinate/import.html", **{**page, "error": exchange_message(exc)}), 422
    if request.form.get("confirm") != "yes":
        return render_template("coordinate/import.html", **{**page, "seen": exchange.preview(svc.store, document)},
                               chosen=chosen, mode=mode)
    if mode == "replace":
        handle = g.handle
        copy = exchange.restore(svc.store, document, now(), setting("NAME"), svc.registry)
        log(svc.store, handle, "restore-backup", document.get("created", ""), now(), copy.name)
        return done(_("The backup is restored. The data from before is kept in the data folder (%(name)s).", name=copy.name))
    result = exchange.merge(svc.store, document, svc.registry)
    audit("merge", document.get("kiosk", ""), f"{result['added']} added, {result['updated']} updated")
    return done(_("Merged: %(added)d posts added, %(updated)d updated.", added=result["added"], updated=result["updated"]))
