"""Coordinator mode under /coordinate: unlock, the queue, the audit trail, roster, agreements,
settings and the team. Nothing here answers before unlocking; every action is audited."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from .. import config as config_module
from .. import coordinators, library, moderation, settings
from ..services import now, services

bp = Blueprint("coordinate", __name__, url_prefix="/coordinate")


def _idle_seconds() -> float:
    return current_app.config["COORDINATOR_IDLE_MINUTES"] * 60


def current_handle() -> str | None:
    key = session.get("coord")
    if not key:
        return None
    handle = services().coord_unlocks.use(str(key), _idle_seconds())
    if handle is not None and handle not in coordinators.handles(services().store):
        services().coord_unlocks.lock(str(key))  # removed (or restored away) since unlocking
        return None
    return handle


@bp.before_request
def require_unlock():
    g.handle = current_handle()
    if g.handle is None and request.endpoint != "coordinate.home":
        session.pop("coord", None)
        return redirect(url_for("coordinate.home"), code=303)
    return None


def audit(action: str, target: str = "", detail: str = "") -> None:
    coordinators.log(services().store, g.handle, action, target, now(), detail)


def _done(message: str, to: str = "coordinate.home"):
    flash(message)
    return redirect(url_for(to), code=303)


@bp.route("", methods=["GET", "POST"])
def home():
    if g.handle is None:
        return _unlock()
    queue = moderation.queue(services().store, now(), current_app.config["EXPIRE_DAYS"])
    return render_template("coordinate/queue.html", queue=queue, overdue=library.overdue(services().store, now()))


def _unlock():
    if request.method == "GET":
        return render_template("coordinate/unlock.html", error=None, handle="")
    handle = request.form.get("handle", "")[:60]
    passphrase = request.form.get("passphrase", "")[: coordinators.MAX_PASSPHRASE + 1]
    throttle = services().coord_throttle
    wait = throttle.attempt(handle.strip().casefold() or None)
    if wait:
        minutes = max(1, -(-wait // 60))
        error = _("Too many wrong tries. Please wait %(minutes)d minutes.", minutes=minutes)
        return render_template("coordinate/unlock.html", error=error, handle=handle), 429
    found = coordinators.verify(services().store, handle, passphrase, current_app.config["SCRYPT_N"])
    if found is None:
        error = _("That handle and passphrase do not match.")
        return render_template("coordinate/unlock.html", error=error, handle=handle), 403
    throttle.succeeded(handle.strip().casefold())
    # A new session: nothing a visitor left in this browser carries over.
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    key = secrets.token_urlsafe(24)
    services().coord_unlocks.unlock(key, found)
    session["coord"] = key
    g.handle = found
    audit("unlock")
    return redirect(url_for("coordinate.home"), code=303)


@bp.post("/lock")
def lock():
    audit("lock")
    services().coord_unlocks.lock(str(session.pop("coord", "")))
    flash(_("Coordinator mode is locked."))
    return redirect(url_for("public.start"), code=303)


# -- the queue ------------------------------------------------------------------------------


def _post_id(post_id: str) -> str:
    from .. import codes

    normalized = codes.normalize_post_id(post_id)
    if normalized is None:
        abort(404)
    return normalized


@bp.post("/posts/<post_id>/hide")
def hide(post_id: str):
    post_id = _post_id(post_id)
    store = services().store
    try:
        reason = moderation.check_reason(request.form.get("reason", ""))
        moderation.hide(store, post_id, reason, g.handle, now())
    except moderation.Refused as refused:
        return _done(str(refused.message))
    moderation.close_reports_for(store, post_id, g.handle, now())
    audit("hide", post_id, reason)
    return _done(_("The post is hidden."))


@bp.post("/posts/<post_id>/restore")
def restore(post_id: str):
    post_id = _post_id(post_id)
    try:
        moderation.restore(services().store, post_id)
    except moderation.Refused as refused:
        return _done(str(refused.message))
    audit("restore", post_id)
    return _done(_("The post is back."))


@bp.post("/reports/<int:record_id>/dismiss")
def dismiss(record_id: int):
    try:
        report = moderation.dismiss_report(services().store, record_id, g.handle, now())
    except moderation.Refused as refused:
        return _done(str(refused.message))
    audit("dismiss", f"report {record_id} ({report.get('kind')} {report.get('post')})")
    return _done(_("The report is dismissed."))


@bp.post("/thanks/<int:record_id>/<verdict>")
def judge_thanks(record_id: int, verdict: str):
    if verdict not in ("approve", "reject"):
        abort(404)
    try:
        line = moderation.judge_thanks(services().store, record_id, verdict == "approve", g.handle, now())
    except moderation.Refused as refused:
        return _done(str(refused.message))
    audit(verdict, f"thanks {record_id} ({line.get('post')})")
    return _done(_("Thank you line approved.") if verdict == "approve" else _("Thank you line declined."))


@bp.get("/check-ins")
def check_ins():
    from .. import community

    return render_template("coordinate/check_ins.html", notes=community.checkins(services().store))


@bp.route("/clock", methods=["GET", "POST"])
def clock():
    """The Pi has no real-time clock: a coordinator tells the kiosk what time it is."""
    import datetime as dt
    from zoneinfo import ZoneInfo

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
            audit("clock", moment.strftime("%Y-%m-%dT%H:%M:%SZ"), f"was {before.strftime('%Y-%m-%dT%H:%M:%SZ')}")
            return _done(_("The kiosk's clock is set."), "coordinate.clock")
    shown = svc.clock.now().astimezone(zone)
    return render_template("coordinate/clock.html", shown=shown, suspect=svc.clock.suspect, error=error,
                           value=shown.strftime("%Y-%m-%dT%H:%M")), (422 if error else 200)


# -- the audit trail --------------------------------------------------------------------------


@bp.get("/log")
def log():
    return render_template("coordinate/log.html", entries=coordinators.trail(services().store),
                           ACTIONS=coordinators.ACTIONS)


# -- roster, agreements -------------------------------------------------------------------------


@bp.route("/roster", methods=["GET", "POST"])
def roster():
    store = services().store
    weeks = coordinators.upcoming_weeks(now().date())
    team = coordinators.handles(store)
    if request.method == "POST":
        chosen = {week: request.form.get(f"week-{week}", "") for week in weeks}
        try:
            coordinators.save_roster(store, chosen, request.form.get("meeting_when", ""),
                                     request.form.get("meeting_where", ""), team)
        except coordinators.Refused as refused:
            flash(str(refused.message))
            return redirect(url_for("coordinate.roster"), code=303)
        audit("roster")
        return _done(_("The roster is saved."), "coordinate.roster")
    current = coordinators.roster(store)
    return render_template(
        "coordinate/roster.html", weeks=[(w, coordinators.week_start(w)) for w in weeks], team=team,
        chosen=current.get("weeks", {}), meeting=current.get("meeting", {}),
    )


@bp.route("/agreements", methods=["GET", "POST"])
def agreements():
    store = services().store
    if request.method == "POST":
        body = request.form.get("body", "")
        try:
            coordinators.save_agreements(store, body)
        except coordinators.Refused as refused:
            return render_template("coordinate/agreements.html", body=body, error=refused.message), 422
        audit("agreements")
        return _done(_("The community agreements are saved."), "public.how_it_works")
    body = coordinators.agreements(store) or default_agreements()
    return render_template("coordinate/agreements.html", body=body, error=None)


def default_agreements() -> str:
    """The text that ships with the kiosk, in the visitor's language."""
    from flask_babel import get_locale

    lang = str(get_locale())
    name = f"agreements/{lang}.txt" if lang in config_module.KNOWN_LANGUAGES else "agreements/en.txt"
    return render_template(name, kiosk=current_app.config["NAME"], expire=current_app.config["EXPIRE_DAYS"],
                           retain=current_app.config["RETAIN_DAYS"])


# -- settings and team ----------------------------------------------------------------------------


def _settings_page(errors=None, values=None, status=200):
    config = current_app.config
    shown = values or {key: config[key] for key in settings.EDITABLE}
    return render_template(
        "coordinate/settings.html", values=shown, errors=errors or {},
        every_category=settings.categories(config, include_retired=True), retired=settings.retired(config),
        known_languages=config_module.KNOWN_LANGUAGES,
    ), status


@bp.route("/settings", methods=["GET", "POST"])
def settings_page():
    if request.method == "GET":
        return _settings_page()
    store = services().store
    try:
        values = settings.check_general(request.form, current_app.config)
    except settings.Invalid as bad:
        shown = {key: request.form.get(key, "") for key in settings.EDITABLE}
        shown["LANGUAGES"] = request.form.getlist("LANGUAGES")
        return _settings_page(bad.errors, shown, 422)
    changed = settings.save_general(store, values)
    settings.apply(current_app.config, store)
    if changed:
        audit("settings", ", ".join(sorted(changed)), "; ".join(f"{k}={v}" for k, v in sorted(changed.items())))
    return _done(_("The settings are saved."), "coordinate.settings_page")


@bp.post("/settings/category")
def category():
    store = services().store
    action = request.form.get("action", "")
    try:
        slug = settings.change_category(store, current_app.config, action, request.form.get("slug", ""),
                                        request.form.get("label", ""))
    except settings.Invalid as bad:
        return _settings_page(bad.errors, None, 422)
    settings.apply(current_app.config, store)
    audit("category", slug, action)
    return _done(_("The categories are saved."), "coordinate.settings_page")


@bp.route("/team", methods=["GET", "POST"])
def team():
    store = services().store
    error = None
    if request.method == "POST":
        handle = request.form.get("handle", "")
        passphrase = request.form.get("passphrase", "")
        if passphrase != request.form.get("passphrase_again", ""):
            error = _("The two passphrases are not the same.")
        else:
            try:
                added = coordinators.add(store, handle, passphrase, by=g.handle, now=now(),
                                         scrypt_n=current_app.config["SCRYPT_N"])
            except coordinators.Refused as refused:
                error = refused.message
            else:
                audit("add-coordinator", added)
                return _done(_("%(handle)s can now unlock coordinator mode.", handle=added), "coordinate.team")
    return render_template("coordinate/team.html", team=coordinators.handles(store), error=error), (422 if error else 200)


@bp.post("/team/remove")
def remove_member():
    handle = request.form.get("handle", "")
    if request.form.get("confirm") != "yes":
        return _done(_("Tick the box to confirm the removal."), "coordinate.team")
    try:
        coordinators.remove(services().store, handle)
    except coordinators.Refused as refused:
        return _done(str(refused.message), "coordinate.team")
    audit("remove-coordinator", handle)
    return _done(_("%(handle)s was removed.", handle=handle), "coordinate.team")


# -- USB: export, restore, merge ------------------------------------------------------------------

import threading  # noqa: E402  (kept with the code that uses it)
import uuid  # noqa: E402

from .. import exchange, usb  # noqa: E402


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


def _chosen_stick(path: str):
    stick = next((s for s in _sticks() if s.path == path), None)
    if stick is None:
        abort(404)
    return stick


@bp.route("/export", methods=["GET", "POST"])
def export():
    if request.method == "GET":
        return render_template("coordinate/export.html", sticks=_sticks())
    stick = _chosen_stick(request.form.get("stick", ""))
    full = request.form.get("full") == "yes"
    job_id = uuid.uuid4().hex
    jobs = services().jobs
    jobs[job_id] = {"state": "running", "what": "posts", "done": 0, "total": 1, "full": full, "stick": stick.label}
    store, name, moment, handle = services().store, current_app.config["NAME"], now(), g.handle

    def progress(what: str, done: int, total: int) -> None:
        jobs[job_id].update(what=what, done=done, total=max(total, 1))

    def run() -> None:
        try:
            made = exchange.export(store, stick.path, kiosk_name=name, now=moment, full=full, progress=progress)
        except exchange.ExchangeError as exc:
            jobs[job_id].update(state="failed", error=exc)
            return
        except Exception as exc:  # noqa: BLE001 - reported on screen, never lost silently
            jobs[job_id].update(state="failed", error=exchange.ExchangeError("write-failed", str(exc)))
            return
        coordinators.log(store, handle, "export", made.name, moment, "full backup" if full else "anonymized")
        jobs[job_id].update(state="done", folder=made.name)

    threading.Thread(target=run, name=f"export-{job_id[:6]}", daemon=True).start()
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
    if request.method == "GET":
        return render_template("coordinate/import.html", sticks=sticks, folders=folders, seen=None, error=None)
    chosen = request.form.get("folder", "")
    if not any(str(f) == chosen for fs in folders.values() for f in fs):
        abort(404)
    mode = request.form.get("mode")
    if mode not in ("replace", "merge"):
        abort(400)
    try:
        document = exchange.read_backup(chosen)
    except exchange.ExchangeError as exc:
        return render_template("coordinate/import.html", sticks=sticks, folders=folders, seen=None,
                               error=exchange_message(exc)), 422
    store = services().store
    if request.form.get("confirm") != "yes":
        return render_template("coordinate/import.html", sticks=sticks, folders=folders, error=None,
                               seen=exchange.preview(store, document), chosen=chosen, mode=mode)
    if mode == "replace":
        kept = store.data_dir / "backups"
        kept.mkdir(exist_ok=True, mode=0o700)
        handle = g.handle
        copy = exchange.restore(store, document, kept, now(), current_app.config["NAME"])
        settings.apply(current_app.config, store)
        coordinators.log(store, handle, "restore-backup", document.get("created", ""), now(), copy.name)
        return _done(_("The backup is restored. The data from before is kept in the data folder (%(name)s).", name=copy.name))
    result = exchange.merge(store, document)
    audit("merge", document.get("kiosk", ""), f"{result['added']} added, {result['updated']} updated")
    return _done(_("Merged: %(added)d posts added, %(updated)d updated.", added=result["added"], updated=result["updated"]))
