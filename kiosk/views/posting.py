"""Posting a need or an offer, and the ticket shown once afterwards."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from markupsafe import Markup

from .. import codes, posts, qr
from ..services import services

bp = Blueprint("posting", __name__)


@bp.route("/new/<kind>", methods=["GET", "POST"])
def new(kind: str):
    if kind not in posts.KINDS:
        abort(404)
    if request.method == "GET":
        return render_template("new.html", kind=kind, values={}, errors={}, contact={})
    today = posts.utcnow().date()
    try:
        checked = posts.check_form(request.form, today)
    except posts.Invalid as bad:
        return render_template("new.html", kind=kind, values=bad.values, errors=bad.errors, contact={}), 422
    if checked.contact and request.form.get("contact_ok") != "yes":
        # Nothing is stored: the person sees what looks like contact details and may remove it.
        return render_template(
            "new.html", kind=kind, values=checked.values, errors={}, contact=checked.contact
        )
    post, code = posts.create_post(
        services().store,
        kind,
        checked.values,
        lang=str(get_locale()),
        source=current_app.config["NAME"],
        scrypt_n=current_app.config["SCRYPT_N"],
    )
    # The code waits in memory for this browser only; the cookie carries a random key.
    nonce = secrets.token_urlsafe(16)
    services().handoff.leave(nonce, code)
    session["ticket"] = {"id": post["id"], "key": nonce}
    return redirect(url_for("posting.ticket", post_id=post["id"]), code=303)


@bp.get("/ticket/<post_id>")
def ticket(post_id: str):
    normalized = codes.normalize_post_id(post_id)
    post = services().store.get_post(normalized) if normalized else None
    if post is None:
        abort(404)
    code = None
    pending = session.get("ticket")
    if isinstance(pending, dict) and pending.get("id") == post["id"]:
        code = services().handoff.take(str(pending.get("key")))
        session.pop("ticket", None)
    public_url = current_app.config["PUBLIC_URL"]
    code_qr = None
    if code:
        # Drawn inline and never cached: the code must not linger anywhere after this page.
        code_qr = Markup(qr.inline_svg(f"{public_url}/mine?code={code}", cache=False))
    return render_template(
        "ticket.html",
        post=posts.public_view(post),
        code=code,
        code_qr=code_qr,
        post_url=qr.post_url(public_url, post["id"]),
    )
