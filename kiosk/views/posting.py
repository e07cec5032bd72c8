"""Posting a need or an offer, and the ticket shown once afterwards."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from markupsafe import Markup

from .. import codes, posts, qr
from ..services import now, services

bp = Blueprint("posting", __name__)

DUPLICATE_WAIT_SECONDS = 30


def _form(kind: str, values: dict, errors: dict, contact: dict, form_key: str, status: int = 200):
    page = render_template(
        "new.html", kind=kind, values=values, errors=errors, contact=contact, form_key=form_key
    )
    return page, status


def _to_ticket(post_id: str):
    return redirect(url_for("posting.ticket", post_id=post_id), code=303)


@bp.route("/new/<kind>", methods=["GET", "POST"])
def new(kind: str):
    if kind not in posts.KINDS:
        abort(404)
    if request.method == "GET":
        # A key per filled-in form: it lets a double tap on "Post" create one post, not two.
        form_key = secrets.token_urlsafe(16)
        session["form_key"] = form_key
        return _form(kind, {}, {}, {}, form_key)

    form_key = request.form.get("form_key", "")
    ours = bool(form_key) and secrets.compare_digest(form_key, str(session.get("form_key", "")))
    once = services().once
    first, submission = once.begin(form_key) if ours else (True, None)
    if not first:
        # The same form arrived twice: wait for the first to finish and show its ticket.
        if submission.done.wait(DUPLICATE_WAIT_SECONDS) and submission.result:
            return _to_ticket(submission.result)
        first, submission = once.begin(form_key)

    try:
        checked = posts.check_form(request.form, now().date())
    except posts.Invalid as bad:
        if submission:
            once.cancel(form_key, submission)
        return _form(kind, bad.values, bad.errors, {}, form_key, 422)
    if checked.contact and request.form.get("contact_ok") != "yes":
        # Nothing is stored: the person sees what looks like contact details and may remove it.
        if submission:
            once.cancel(form_key, submission)
        return _form(kind, checked.values, {}, checked.contact, form_key)
    try:
        post, code = posts.create_post(
            services().store,
            kind,
            checked.values,
            lang=str(get_locale()),
            source=current_app.config["NAME"],
            scrypt_n=current_app.config["SCRYPT_N"],
            now=now(),
        )
    except BaseException:
        if submission:
            once.cancel(form_key, submission)
        raise
    # The code waits in memory for this browser only; the cookie carries a random key. With a
    # form key, that key is already in the session from the form page, so even if the browser
    # drops this response for a repeat's, the ticket page still finds the code.
    key = form_key if ours else secrets.token_urlsafe(16)
    services().handoff.leave(key, post["id"], code)
    if submission:
        once.finish(form_key, submission, post["id"])
    session["ticket"] = {"id": post["id"], "key": key}
    return _to_ticket(post["id"])


@bp.get("/ticket/<post_id>")
def ticket(post_id: str):
    normalized = codes.normalize_post_id(post_id)
    post = services().store.get_post(normalized) if normalized else None
    if post is None:
        abort(404)
    code = None
    pending = session.get("ticket")
    keys = [pending.get("key")] if isinstance(pending, dict) else []
    keys.append(session.get("form_key"))
    for key in keys:
        if key and code is None:
            code = services().handoff.take(str(key), post["id"])
    if code:
        session.pop("ticket", None)
        session.pop("form_key", None)
        if current_app.config["PRINTER"]:
            from .screen import leave_for_printing

            leave_for_printing(post["id"], code)
    public_url = current_app.config["PUBLIC_URL"]
    code_qr = None
    if code:
        # Only the code's text, never a URL: a URL would sit in the phone's history.
        # Drawn inline and never cached: the code must not linger anywhere after this page.
        code_qr = Markup(qr.inline_svg(code, cache=False))
    return render_template(
        "ticket.html",
        post=posts.public_view(post),
        code=code,
        code_qr=code_qr,
        post_url=qr.post_url(public_url, post["id"]),
    )
