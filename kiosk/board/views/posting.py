"""Posting a need or an offer, the ticket shown once afterwards, and printing it directly."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale, gettext as _
from markupsafe import Markup

from ...core import aliases, codes, printing
from ...core.errors import Invalid
from ...web import qr
from ...web.budget import budgeted
from ...web.forms import Submission, new_form_key, take_code
from ...web.helpers import found_or_404, needs_contact_ok
from ...web.services import now, services
from ...web.settings import categories, setting
from .. import days, forms, posts, replies
from . import TEMPLATES

bp = Blueprint("posting", __name__, template_folder=TEMPLATES)


@bp.app_template_global("posting_days")
def posting_days(keep: str = ""):
    """The posting form's days, named in the page's language (also for /mine/edit)."""
    return days.day_groups(now().date(), days.horizon(setting("EXPIRE_DAYS")), keep)


@bp.app_template_global("posting_soon")
def posting_soon():
    return days.soon(now().date())


bp.add_app_template_global(days.time_choices, "posting_times")


def _form(kind: str, values: dict, errors: dict, contact: dict, form_key: str, status: int = 200):
    page = render_template("board/new.html", kind=kind, values=values, errors=errors, contact=contact,
                           form_key=form_key)
    return page, status


def to_ticket(some_id: str):
    return redirect(url_for("posting.ticket", post_id=some_id), code=303)


@bp.route("/new/<kind>", methods=["GET", "POST"])
@budgeted("post")
def new(kind: str):
    if kind not in posts.KINDS:
        abort(404)
    if request.method == "GET":
        return _form(kind, {}, {}, {}, new_form_key())
    submission = Submission()
    earlier = submission.earlier_result()
    if earlier:
        return to_ticket(earlier)
    try:
        checked = forms.check_form(request.form, now().date(), categories(services().store))
    except Invalid as bad:
        submission.nothing_stored()
        return _form(kind, bad.values, bad.errors, {}, submission.form_key, 422)
    if needs_contact_ok(checked.contact):
        # Nothing is stored: the person sees what looks like contact details and may remove it.
        submission.nothing_stored()
        return _form(kind, checked.values, {}, checked.contact, submission.form_key)
    try:
        post, code = posts.create_post(services().store, kind, checked.values, lang=str(get_locale()),
                                       source=setting("NAME"), scrypt_n=current_app.config["SCRYPT_N"], now=now())
    except BaseException:
        submission.nothing_stored()
        raise
    return submission.hand_over(post["id"], code, "ticket", url_for("posting.ticket", post_id=post["id"]))


def _ticket_holder(raw_id: str) -> tuple[dict, dict | None]:
    """(post, None) for a post's ticket id, (post, reply) for a replier's; else 404."""
    normalized = codes.normalize_post_id(raw_id)
    store = services().store
    post = store.get_post(normalized) if normalized else None
    if post is not None or not normalized:
        return found_or_404(post), None
    post = found_or_404(store.find_reply_post(normalized))
    return post, replies.find_reply(post, normalized)


@bp.get("/ticket/<post_id>")
def ticket(post_id: str):
    post, reply = _ticket_holder(post_id)
    ticket_id = reply["id"] if reply else post["id"]
    code = take_code("ticket", ticket_id)
    if code and current_app.config["PRINTER"]:
        _leave_for_printing(ticket_id, code)
    public_url = setting("PUBLIC_URL")
    home = qr.code_home(public_url, current_app.config["PUBLIC_URL"])
    # My ticket with the code only in the URL's fragment, which no browser sends to a server.
    # Drawn inline and never cached: the code must not linger anywhere after this page.
    phone_qr = Markup(qr.inline_svg(qr.mine_url(home, code), cache=False)) if code else None
    suggested = posts.suggestions(services().store, post, now(), setting("EXPIRE_DAYS")) if code and not reply else []
    return render_template("board/ticket.html", post=posts.public_view(post), reply=reply, ticket_id=ticket_id,
                           suggested=suggested, code=code,
                           code_fit=code_fit(code or ""), phone_qr=phone_qr, mine_address=qr.mine_address(home),
                           wifi=setting("WIFI_SSID"), post_url=qr.post_url(public_url, post["id"]))


FIT_LENGTHS = (16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 44, 48, 56, 64)


def code_fit(code: str) -> str:
    """The length class that sizes the code to fit one line of its ticket: CSS cannot count letters."""
    return next((str(n) for n in FIT_LENGTHS if len(code) <= n), "long")


def _leave_for_printing(ticket_id: str, code: str) -> None:
    """Keep a just-shown code a little longer so the print button can send it, once."""
    key = secrets.token_urlsafe(16)
    services().handoff.leave(key, ticket_id, code, ttl=120)
    session["print"] = {"id": ticket_id, "key": key}


@bp.post("/ticket/<post_id>/print")
def print_ticket(post_id: str):
    printer = current_app.config["PRINTER"]
    if not printer:
        abort(404)
    post, reply = _ticket_holder(post_id)
    ticket_id = reply["id"] if reply else post["id"]
    code = take_code("print", ticket_id)
    session.pop("print", None)
    if code is None:
        flash(_("The code can be printed only right after posting. Take a photo of it instead."))
        return redirect(url_for("public.post", post_id=post["id"]), code=303)
    try:
        printing.send(printer, _paper_ticket(post, reply, ticket_id, code), title=f"ticket {ticket_id}")
    except printing.PrintError as exc:
        current_app.logger.warning("printing failed: %s", exc)
        flash(_("The printer did not answer. Take a photo of your code instead."))
        return render_template("board/printed.html", post=post, reply=reply, ok=False), 503
    return render_template("board/printed.html", post=post, reply=reply, ok=True)


def _paper_ticket(post: dict, reply: dict | None, ticket_id: str, code: str) -> str:
    """The receipt's text: the code on a line of its own, and where to use it."""
    public_url, wifi = setting("PUBLIC_URL"), setting("WIFI_SSID")
    lines = [
        (_("You appear as"), aliases.alias_text(reply or post, str(get_locale()))),
        (_("Ticket number"), ticket_id),
        (_("Your ticket code"), code),
        (_("My ticket"), qr.mine_address(qr.code_home(public_url, current_app.config["PUBLIC_URL"]))),
    ]
    if wifi:
        lines.append((_("Wi-Fi"), wifi))
    lines.append((_("See the post") if reply else _("Your post"), qr.post_url(public_url, post["id"])))
    return printing.ticket_text(
        kiosk_name=setting("NAME"),
        heading=_("Your ticket"),
        lines=lines,
        footer=_("Keep this ticket: with the code you read the answer and talk at “My ticket”.") if reply
        else _("Keep this ticket: with the code you can change, close or withdraw your post at “My ticket”."),
    )
