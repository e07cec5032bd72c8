"""/mine: a poster unlocks their own post with the ticket code and edits, fulfils or withdraws it.

After a right code the session remembers only the post id and when it was last used (never the
code), and forgets it after MINE_IDLE_SECONDS so the next person at the screen gets nothing.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from .. import posts
from ..services import now, services

bp = Blueprint("mine", __name__)

CLOSE_ACTIONS = {"fulfil": "fulfilled", "withdraw": "withdrawn"}


def _unlocked_post() -> dict | None:
    mine = session.get("mine")
    if not isinstance(mine, dict):
        return None
    key = str(mine.get("key"))
    post_id = services().unlocks.use(key, current_app.config["MINE_IDLE_SECONDS"])
    post = services().store.get_post(post_id) if post_id else None
    if post is None:
        session.pop("mine", None)
        return None
    return post


def _lock() -> None:
    mine = session.pop("mine", None)
    if isinstance(mine, dict):
        services().unlocks.lock(str(mine.get("key")))


@bp.route("/mine", methods=["GET", "POST"])
def enter():
    if request.method == "GET":
        post = _unlocked_post()
        if post is not None:
            return render_template("mine.html", post=posts.public_view(post))
        return render_template("mine_enter.html", code="", error=None)

    raw = request.form.get("code", "")
    if len(raw) > 200:
        raw = ""
    try:
        post = posts.claim(services().store, services().throttle, raw, current_app.config["SCRYPT_N"])
    except posts.TooManyTries as wait:
        minutes = max(1, -(-wait.wait_seconds // 60))
        error = _("Too many wrong codes. Please wait %(minutes)d minutes and try again.", minutes=minutes)
        return render_template("mine_enter.html", code="", error=error), 429
    except posts.BadCode:
        error = _("That code does not match a post. Check each word and try again.")
        return render_template("mine_enter.html", code="", error=error), 403
    session.pop("ticket", None)
    _lock()
    key = secrets.token_urlsafe(16)
    services().unlocks.unlock(key, post["id"])
    session["mine"] = {"id": post["id"], "key": key}
    return redirect(url_for("mine.enter"), code=303)


@bp.route("/mine/edit", methods=["GET", "POST"])
def edit():
    post = _unlocked_post()
    if post is None:
        return redirect(url_for("mine.enter"), code=303)
    if post["status"] != "open":
        flash(_("This post is closed and can no longer be changed."))
        return redirect(url_for("mine.enter"), code=303)
    if request.method == "GET":
        return render_template("new.html", kind=post["kind"], values=post, errors={}, contact={}, editing=True)
    try:
        checked = posts.check_form(request.form, now().date())
    except posts.Invalid as bad:
        return render_template(
            "new.html", kind=post["kind"], values=bad.values, errors=bad.errors, contact={}, editing=True
        ), 422
    if checked.contact and request.form.get("contact_ok") != "yes":
        return render_template(
            "new.html", kind=post["kind"], values=checked.values, errors={}, contact=checked.contact, editing=True
        )
    posts.edit(services().store, post["id"], checked.values, now())
    flash(_("Your changes are saved."))
    return redirect(url_for("mine.enter"), code=303)


@bp.route("/mine/<action>", methods=["GET", "POST"])
def close(action: str):
    if action == "done":
        abort(405)  # locking is a POST, from the button
    if action not in CLOSE_ACTIONS:
        abort(404)
    post = _unlocked_post()
    if post is None:
        return redirect(url_for("mine.enter"), code=303)
    if post["status"] != "open":
        flash(_("This post is already closed."))
        return redirect(url_for("mine.enter"), code=303)
    if request.method == "GET":
        return render_template("mine_confirm.html", post=posts.public_view(post), action=action)
    posts.close(services().store, post["id"], CLOSE_ACTIONS[action], now())
    flash(
        _("Thank you! Your post is marked as fulfilled.")
        if action == "fulfil"
        else _("Your post is withdrawn and has left the board.")
    )
    return redirect(url_for("mine.enter"), code=303)


@bp.post("/mine/done")
def done():
    _lock()
    return redirect(url_for("public.start"), code=303)
