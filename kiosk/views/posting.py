"""Posting a need or an offer, and the ticket shown once afterwards."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from markupsafe import Markup

from .. import codes, posts, qr, replies, settings
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


def new_form_key() -> str:
    """A key per filled-in form: it lets a double tap on "Post" create one thing, not two."""
    form_key = secrets.token_urlsafe(16)
    session["form_key"] = form_key
    return form_key


class Submission:
    """One POST of a form that issues a ticket, guarded against the same form arriving twice."""

    def __init__(self):
        self.form_key = request.form.get("form_key", "")
        self.ours = bool(self.form_key) and secrets.compare_digest(
            self.form_key.encode("utf-8", "replace"), str(session.get("form_key", "")).encode("utf-8", "replace")
        )
        self.once = services().once
        self.first, self.entry = self.once.begin(self.form_key) if self.ours else (True, None)

    def earlier_result(self) -> str | None:
        """For a repeat: the id the first request made (after waiting for it), else None."""
        if self.first:
            return None
        if self.entry.done.wait(DUPLICATE_WAIT_SECONDS) and self.entry.result:
            return self.entry.result
        self.first, self.entry = self.once.begin(self.form_key)
        return None

    def nothing_stored(self) -> None:
        if self.entry:
            self.once.cancel(self.form_key, self.entry)

    def hand_over(self, some_id: str, code: str):
        """Leave the new code for this browser's ticket page, and go there."""
        # With a form key, that key is already in the session from the form page, so even if
        # the browser drops this response for a repeat's, the ticket page finds the code.
        key = self.form_key if self.ours else secrets.token_urlsafe(16)
        services().handoff.leave(key, some_id, code)
        if self.entry:
            self.once.finish(self.form_key, self.entry, some_id)
        session["ticket"] = {"id": some_id, "key": key}
        return _to_ticket(some_id)


@bp.route("/new/<kind>", methods=["GET", "POST"])
def new(kind: str):
    if kind not in posts.KINDS:
        abort(404)
    if request.method == "GET":
        return _form(kind, {}, {}, {}, new_form_key())

    submission = Submission()
    earlier = submission.earlier_result()
    if earlier:
        return _to_ticket(earlier)
    form_key = submission.form_key
    try:
        checked = posts.check_form(request.form, now().date(), settings.categories(current_app.config))
    except posts.Invalid as bad:
        submission.nothing_stored()
        return _form(kind, bad.values, bad.errors, {}, form_key, 422)
    if checked.contact and request.form.get("contact_ok") != "yes":
        # Nothing is stored: the person sees what looks like contact details and may remove it.
        submission.nothing_stored()
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
        submission.nothing_stored()
        raise
    return submission.hand_over(post["id"], code)


@bp.get("/ticket/<post_id>")
def ticket(post_id: str):
    normalized = codes.normalize_post_id(post_id)
    store = services().store
    post = store.get_post(normalized) if normalized else None
    reply = None
    if post is None and normalized:
        # A replier's ticket: the id is the reply's.
        post = store.find_reply_post(normalized)
        reply = replies.find_reply(post, normalized) if post else None
    if post is None:
        abort(404)
    ticket_id = reply["id"] if reply else post["id"]
    code = None
    pending = session.get("ticket")
    keys = [pending.get("key")] if isinstance(pending, dict) else []
    keys.append(session.get("form_key"))
    for key in keys:
        if key and code is None:
            code = services().handoff.take(str(key), ticket_id)
    if code:
        session.pop("ticket", None)
        session.pop("form_key", None)
        if current_app.config["PRINTER"]:
            from .screen import leave_for_printing

            leave_for_printing(ticket_id, code)
    public_url = current_app.config["PUBLIC_URL"]
    code_qr = None
    if code:
        # Only the code's text, never a URL: a URL would sit in the phone's history.
        # Drawn inline and never cached: the code must not linger anywhere after this page.
        code_qr = Markup(qr.inline_svg(code, cache=False))
    suggested = []
    if code and not reply:
        suggested = replies.suggestions(store, post, now(), current_app.config["EXPIRE_DAYS"])
    return render_template(
        "ticket.html",
        post=posts.public_view(post),
        reply=reply,
        ticket_id=ticket_id,
        suggested=suggested,
        code=code,
        code_qr=code_qr,
        post_url=qr.post_url(public_url, post["id"]),
    )
