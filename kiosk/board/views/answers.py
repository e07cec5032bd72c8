"""Answering a post: replying ("I can help" / "I'd like this") and reporting it."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _

from ...core import text
from ...core.errors import Invalid, Refused
from ...web.budget import budgeted
from ...web.forms import Submission, new_form_key
from ...web.helpers import minutes, needs_contact_ok, post_or_404
from ...web.services import limit, now, services
from ...web.settings import setting
from .. import posts, replies
from . import TEMPLATES
from .posting import to_ticket

bp = Blueprint("answers", __name__, template_folder=TEMPLATES)


def _closed(post: dict):
    flash(_("This post is no longer open for replies."))
    return redirect(url_for("public.post", post_id=post["id"]), code=303)


def _reply_form(post, values, errors, contact, form_key, status=200):
    return render_template("board/reply.html", post=posts.public_view(post), values=values, errors=errors,
                           contact=contact, form_key=form_key), status


@bp.route("/p/<post_id>/reply", methods=["GET", "POST"])
@budgeted("reply")
def reply(post_id: str):
    post = post_or_404(post_id)
    expire_days = setting("EXPIRE_DAYS")
    if request.method == "GET":
        if not replies.is_open_for_replies(post, now(), expire_days):
            return _closed(post)
        return _reply_form(post, {}, {}, {}, new_form_key())
    submission = Submission()
    earlier = submission.earlier_result()
    if earlier:
        return to_ticket(earlier)
    try:
        checked = replies.check_reply_form(request.form)
    except Invalid as bad:
        submission.nothing_stored()
        return _reply_form(post, bad.values, bad.errors, {}, submission.form_key, 422)
    if needs_contact_ok(checked.contact):
        submission.nothing_stored()
        return _reply_form(post, checked.values, {}, checked.contact, submission.form_key)
    wait = limit("reply").hit(post["id"])
    if wait:
        submission.nothing_stored()
        error = {"message": _("This post got many replies in the last hour. Please try again in %(minutes)d minutes.",
                              minutes=minutes(wait))}
        return _reply_form(post, checked.values, error, {}, submission.form_key, 429)
    try:
        reply_id, code = replies.add_reply(services().store, post["id"], checked.values, lang=str(get_locale()),
                                           scrypt_n=current_app.config["SCRYPT_N"], now=now(), expire_days=expire_days)
    except Refused:
        submission.nothing_stored()
        return _closed(post)
    except BaseException:
        submission.nothing_stored()
        raise
    return submission.hand_over(reply_id, code, "ticket", url_for("posting.ticket", post_id=reply_id))


@bp.route("/p/<post_id>/report", methods=["GET", "POST"])
@budgeted("report")
def report(post_id: str):
    post = post_or_404(post_id)
    action = url_for("answers.report", post_id=post["id"])
    if request.method == "GET":
        return render_template("board/report.html", post=posts.public_view(post), values={}, errors={}, action=action)
    try:
        reason, note = replies.check_report_form(request.form)
    except Invalid as bad:
        return render_template("board/report.html", post=posts.public_view(post), values=bad.values,
                               errors=bad.errors, action=action), 422
    contact = text.contact_in({"note": note})
    if needs_contact_ok(contact):  # shown back with the warning; nothing is stored yet
        return render_template("board/report.html", post=posts.public_view(post), values={"reason": reason, "note": note},
                               errors={}, action=action, contact=contact)
    if limit("report").hit(f"post:{post['id']}"):
        flash(_("This post was already reported several times. The coordinators will look at it."))
        return redirect(url_for("public.post", post_id=post["id"]), code=303)
    try:
        replies.report(services().store, {"kind": "post", "post": post["id"]}, reason, note, now())
    except Refused as refused:
        flash(str(refused.message))
        return redirect(url_for("public.post", post_id=post["id"]), code=303)
    flash(_("Thank you. A coordinator will look at it."))
    return redirect(url_for("public.post", post_id=post["id"]), code=303)
