"""The USB stick screens: export (in the background, with progress), restore and merge."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import abort, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _, ngettext

from ..core import usb
from ..core.errors import Refused
from ..web import exchange
from ..web.audit import log
from ..web.gate import MIN_PASSPHRASE
from ..web.services import now, services
from ..web.settings import setting
from .views import bp, done


IMPORT_KEY = "import_key"  # the confirmation the import screen showed last (see _confirmation)


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
        "too-large": _("This backup is larger than a kiosk's data can be (%(file)s). Nothing was read from it and nothing was changed.", file=exc.detail),
        "invalid": _invalid(exc.detail),
        "unreadable": _("The kiosk cannot read %(file)s on the stick (is it damaged, or was it pulled out?). Nothing was changed.", file=exc.detail),
        "no-full": _("This is an anonymized export, not a full backup: it cannot restore or merge."),
        "result": _("The restored or merged data would not pass the kiosk's own checks (%(file)s). Nothing was changed.", file=exc.detail),
        "staging": _("The new data could not be written on the kiosk (%(file)s). Nothing was changed. Is its disk full? The command kiosk doctor says.", file=exc.detail),
        "passphrase": _("This backup is encrypted: type the passphrase chosen when it was made."),
        "wrong-passphrase": _("That passphrase does not open this backup (or the backup was changed after it was made). Nothing was changed."),
        "damaged": _("This backup was changed or damaged after it was made: %(file)s does not decrypt. Nothing was changed.", file=exc.detail),
        "not-age": _("%(file)s is not a backup encrypted by a kiosk. Nothing was changed.", file=exc.detail),
        "forged": _("%(file)s is not encrypted, yet only a kiosk that encrypts every full backup writes what it holds: someone made or changed it. Nothing was changed.", file=exc.detail),
        "too-costly": _("Opening this backup needs %(mib)s MiB of memory (its passphrase was set up on a faster machine), more than this kiosk has free. Nothing was changed.", mib=exc.detail),
        "backup-too-large": _("The full backup would be larger than the %(mib)s MiB a kiosk can encrypt: nothing was left on the stick.", mib=exc.detail),
    }
    return messages.get(exc.code, exc.code)


def _invalid(problem) -> str:
    """Which record and field of a backup is wrong, in the coordinator's language."""
    where, field, what = (getattr(problem, name, "") for name in ("where", "field", "what"))
    if not where:
        where = str(problem)
    if field:
        return _("This backup holds data the kiosk cannot use: in %(where)s, the field %(field)s %(what)s. Nothing was changed.",
                 where=where, field=field, what=what)
    return _("This backup holds data the kiosk cannot use: %(where)s: %(what)s. Nothing was changed.", where=where, what=what)


def _sticks():
    return usb.find(current_app.config["USB_ROOTS"])


@bp.route("/export", methods=["GET", "POST"])
def export():
    if request.method == "GET":
        return _export_page()
    stick = next((s for s in _sticks() if s.path == request.form.get("stick", "")), None)
    if stick is None:
        abort(404)
    full, passphrase = request.form.get("full") == "yes", None
    if full:
        try:
            passphrase = exchange.new_passphrase(request.form.get("passphrase", ""), request.form.get("passphrase_again", ""))
        except Refused as refused:
            return _export_page(error=refused.message, full=True), 422
    svc, moment, handle = services(), now(), g.handle

    def logged(folder: str) -> None:
        log(svc.store, handle, "export", folder, moment, "full backup" if full else "anonymized")

    job_id = svc.jobs.start(svc.store, stick.path, registry=svc.registry, kiosk_name=setting("NAME"), now=moment,
                            full=full, passphrase=passphrase, label=stick.label, when_done=logged)
    return redirect(url_for("coordinate.export_status", job_id=job_id), code=303)


def _export_page(**shown):
    return render_template("coordinate/export.html", sticks=_sticks(), min_passphrase=MIN_PASSPHRASE,
                           parts=services().registry.stick_parts, **shown)


@bp.get("/export/<job_id>")
def export_status(job_id: str):
    job = services().jobs.get(job_id)
    if job is None:
        abort(404)
    error = exchange_message(job["error"]) if job.get("error") else None
    return render_template("coordinate/export_status.html", job=job, error=error, job_id=job_id)


def _confirmation(digest: str) -> str | None:
    """Why the confirmation cannot be acted on, or None: it must be for what was previewed
    (``digest``: a stick can change in between) and is acted on once (a second tap, a page sent
    again). The session is a cookie a repeat sends again, so "once" is kept on the server."""
    if not secrets.compare_digest(request.form.get("digest", "").encode("utf-8", "replace"), digest.encode()):
        return "changed"
    key = request.form.get("key", "")
    if not key or not secrets.compare_digest(key.encode("utf-8", "replace"),
                                             str(session.get(IMPORT_KEY, "")).encode("utf-8", "replace")):
        return "expired"
    if not services().once.begin(f"import:{key}")[0]:
        return "repeat"
    session.pop(IMPORT_KEY, None)
    return None


@bp.route("/import", methods=["GET", "POST"])
def import_page():
    sticks = _sticks()
    folders = {s.path: usb.exports_on(s.path) for s in sticks}
    svc = services()
    # What else each folder carries that a feature can apply (the network's records).
    parts = {str(f): [p for p in svc.registry.stick_parts if p.found(f)] for fs in folders.values() for f in fs}
    page = {"sticks": sticks, "folders": folders, "parts": parts, "seen": None, "error": None}
    if request.method == "GET":
        return render_template("coordinate/import.html", **page)
    chosen = request.form.get("folder", "")
    mode = request.form.get("mode")
    part = next((p for p in svc.registry.stick_parts if p.name == mode), None)
    if part is not None:
        return _stick_part(page, chosen, part)
    if not any(str(f) == chosen for fs in folders.values() for f in fs):
        abort(404)
    if mode not in ("replace", "merge"):
        abort(400)
    if svc.jobs.running():
        return render_template("coordinate/import.html", **{**page, "error": _(
            "An export to a USB stick is being written. Wait until it says it is safe to unplug, then try again.")}), 409
    page.update(chosen=chosen, mode=mode)
    confirming, key = request.form.get("confirm") == "yes", request.form.get("key", "")
    # An encrypted backup's passphrase comes from the form once, then waits on the server.
    passphrase = svc.jobs.passphrases.get(key) if confirming else request.form.get("passphrase") or None
    try:
        backup = exchange.read_backup(chosen, svc.registry, passphrase)
        why = _confirmation(backup.digest) if confirming else "preview"
        if why == "repeat":
            return _confirmed_already(page)
        if why:
            return _preview(page, backup, passphrase, why)
        svc.jobs.passphrases.drop(key)
        if mode == "replace":
            kept = exchange.restore(svc.store.data_dir, backup, svc.registry, now=now(), handle=g.handle, store=svc.store)
            # Keys unlocked before belong to the data from before (another team key, other
            # tickets under the same numbers): everyone unlocks again on the restored data.
            svc.unlocks.clear()
            svc.coord_unlocks.clear()
            svc.jobs.passphrases.clear()
            return done(_("The backup is restored. The data from before is kept in the data folder (%(name)s).",
                          name=kept.name if kept else "-") + " "
                        + _("Every ticket and coordinator mode was locked: unlock again with a passphrase of the restored data."))
        result = exchange.merge(svc.store, backup, svc.registry, now=now(), handle=g.handle)
    except exchange.ExchangeError as exc:
        if exc.code == "passphrase" and confirming and _done_already(key):
            return _confirmed_already(page)
        if exc.code in ("passphrase", "wrong-passphrase"):
            asked = confirming or "passphrase" in request.form  # sent empty, or no longer held
            error = exchange_message(exc) if exc.code != "passphrase" or asked else None
            return render_template("coordinate/import.html", **{**page, "ask": True, "error": error}), (
                200 if error is None else 409 if confirming else 422)
        return render_template("coordinate/import.html", **{**page, "error": exchange_message(exc)}), 422
    message = _("Merged: %(added)d posts added (%(renumbered)d under new numbers, as theirs were taken here), %(updated)d updated.",
                added=result["added"], renumbered=result["renumbered"], updated=result["updated"])
    if result["not_kept"]:
        message += " " + not_kept_message(result["not_kept"])
    return done(message)


def _stick_part(page: dict, chosen: str, part):
    """Something else the export carries (Feature.stick_parts): what it would do, then, once
    confirmed, done; a folder no longer on a stick is not touched."""
    if chosen not in page["parts"]:
        return render_template("coordinate/import.html", **{**page, "error": _(
            "That stick is no longer there. Plug it in again.")}), 409
    svc, confirming = services(), request.form.get("confirm") == "yes"
    try:
        seen = part.preview(svc.store, svc.registry, Path(chosen))
        why = _confirmation(seen["digest"]) if confirming else "preview"
        if why == "repeat":
            return _confirmed_already(page)
        if why is None:
            return done(part.apply(svc.store, svc.registry, Path(chosen), now(), g.handle)["message"])
    except Refused as refused:
        return render_template("coordinate/import.html", **{**page, "error": refused.message}), 422
    svc.jobs.passphrases.drop(session.get(IMPORT_KEY))
    key = session[IMPORT_KEY] = secrets.token_urlsafe(16)
    refusals = {"changed": _("The records on the stick are not the ones you looked at: they changed since. Check what "
                             "would be applied now, below."),
                "expired": _("Check what would be applied, below, and confirm again.")}
    return render_template("coordinate/import.html", **{**page, "error": refusals.get(why)}, part=part, part_seen=seen,
                           chosen=chosen, mode=part.name, digest=seen["digest"], key=key), 409 if why in refusals else 200


def _preview(page: dict, backup, passphrase: str | None, why: str):
    """What the backup would change, with a new one-time key for the confirmation (the
    passphrase, if any, kept on the server under it)."""
    svc = services()
    svc.jobs.passphrases.drop(session.get(IMPORT_KEY))
    key = session[IMPORT_KEY] = secrets.token_urlsafe(16)
    if passphrase is not None and backup.kind == "age":
        svc.jobs.passphrases.keep(key, passphrase)
    seen = exchange.preview(svc.store, backup, page["mode"], svc.registry)
    refusals = {"changed": _("The backup on the stick is not the one you looked at: it changed since. Check what it would change now, below."),
                "expired": _("Check what it would change, below, and confirm again.")}
    return render_template("coordinate/import.html", **{**page, "error": refusals.get(why), "seen": seen},
                           digest=backup.digest, key=key), 409 if why in refusals else 200


def _confirmed_already(page: dict):
    return render_template("coordinate/import.html", **{**page, "error": _(
        "This was confirmed already (a second tap, or the page sent again): it was done once. The log says when.")}), 409


def _done_already(key: str) -> bool:
    """Whether a confirmation was acted on already (its backup's passphrase is forgotten then)."""
    once = services().once
    first, submission = once.begin(f"import:{key}") if key else (True, None)
    if first and submission is not None:
        once.cancel(f"import:{key}", submission)
    return not first


def not_kept_message(count: int) -> str:
    return ngettext("%(num)d reply or message of theirs did not fit (a post or a conversation here was full): this kiosk's stay, and theirs stays on the other kiosk.",
                    "%(num)d replies or messages of theirs did not fit (a post or a conversation here was full): this kiosk's stay, and theirs stay on the other kiosk.",
                    count)
