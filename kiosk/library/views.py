"""The tool library at /library: the public catalog and item pages with their QR labels,
coordinators' adding, editing, lending and returns, and a borrower's loan check by code."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from ..core.errors import BadCode, Invalid, Refused, TooManyTries
from ..web import qr
from ..web.audit import audit
from ..web.forms import Submission, new_form_key, take_code
from ..web.gate import coordinator_required, current_handle
from ..web.helpers import found_or_404, minutes
from ..web.services import now, services
from ..web.throttle import guesses
from ..web.settings import setting
from . import rules as library

bp = Blueprint("library", __name__, template_folder="templates")

LOAN_TICKET = "loan_ticket"  # the session key that carries a new loan's code to its page


def _item_or_404(item_id: int) -> dict:
    return found_or_404(library.item_view(services().store, item_id))


def item_url(item_id: int) -> str:
    return f"{setting('PUBLIC_URL').rstrip('/')}/library/{item_id}"


# -- public -----------------------------------------------------------------------------------


@bp.get("/library")
def catalog():
    category = request.args.get("category", "")
    if category not in library.CATEGORIES:
        category = ""
    items = library.catalog(services().store, category or None)
    return render_template(
        "library/catalog.html",
        items=items,
        category=category,
        categories=library.CATEGORIES,
        conditions=library.CONDITIONS,
        is_coordinator=current_handle() is not None,
    )


@bp.get("/library/<int:item_id>")
def item(item_id: int):
    found = _item_or_404(item_id)
    url = item_url(item_id)
    return render_template(
        "library/item.html",
        item=found,
        label_qr=Markup(qr.inline_svg(url)),
        label_url=url,
        categories=library.CATEGORIES,
        conditions=library.CONDITIONS,
        is_coordinator=current_handle() is not None,
    )


@bp.route("/library/loan", methods=["GET", "POST"])
def loan():
    if request.method == "GET":
        return render_template("library/loan.html", error=None, loan=None, item=None)
    svc = services()
    try:
        found, item = library.find_loan(
            svc.store, guesses(svc.throttle), request.form.get("code", "")[:80], current_app.config["SCRYPT_N"]
        )
    except TooManyTries as wait:
        error = _("Too many wrong codes. Please wait %(minutes)d minutes and try again.",
                  minutes=minutes(wait.wait_seconds))
        return render_template("library/loan.html", error=error, loan=None, item=None), 429
    except BadCode:
        error = _("That code does not match a loan. Check each word and try again.")
        return render_template("library/loan.html", error=error, loan=None, item=None), 403
    late = library.is_overdue(found, now())
    return render_template("library/loan.html", error=None, loan=found, item=item, late=late)


# -- coordinators -----------------------------------------------------------------------------


def _item_form(values: dict, errors: dict, item_id: int | None = None, status: int = 200):
    page = render_template(
        "library/edit.html",
        values=values,
        errors=errors,
        item_id=item_id,
        categories=library.CATEGORIES,
        conditions=library.CONDITIONS,
        limits=library.LIMITS,
    )
    return page, status


@bp.route("/library/new", methods=["GET", "POST"])
@coordinator_required
def new():
    if request.method == "GET":
        return _item_form({"condition": "good"}, {})
    try:
        values = library.check_item(request.form)
    except Invalid as bad:
        return _item_form(bad.values, bad.errors, status=422)
    item_id = library.add_item(services().store, values, now())
    audit("library-add", f"item {item_id}", values["name"])
    flash(_("The item is in the library."))
    return redirect(url_for("library.item", item_id=item_id), code=303)


@bp.route("/library/<int:item_id>/edit", methods=["GET", "POST"])
@coordinator_required
def edit(item_id: int):
    found = _item_or_404(item_id)
    if request.method == "GET":
        return _item_form(found, {}, item_id)
    try:
        values = library.check_item(request.form)
    except Invalid as bad:
        return _item_form(bad.values, bad.errors, item_id, 422)
    library.edit_item(services().store, item_id, values, now())
    audit("library-edit", f"item {item_id}", values["name"])
    flash(_("The item is saved."))
    return redirect(url_for("library.item", item_id=item_id), code=303)


def _lend_form(item: dict, values: dict, errors: dict, form_key: str, status: int = 200):
    page = render_template(
        "library/lend.html", item=item, values=values, errors=errors, form_key=form_key,
        max_days=library.MAX_LOAN_DAYS,
    )
    return page, status


@bp.route("/library/<int:item_id>/lend", methods=["GET", "POST"])
@coordinator_required
def lend(item_id: int):
    found = _item_or_404(item_id)
    today = now().date()
    if request.method == "GET":
        return _lend_form(found, {"due": library.default_due(today)}, {}, new_form_key())
    # A double tap on "Lend" must not leave a loan whose code nobody saw: the repeat waits
    # for the first request and is sent to the same ticket page.
    submission = Submission()
    if submission.earlier_result():
        return redirect(url_for("library.lent", item_id=item_id), code=303)
    try:
        due = library.check_due(request.form, today)
    except Invalid as bad:
        submission.nothing_stored()
        return _lend_form(found, bad.values, bad.errors, submission.form_key, 422)
    try:
        loan, code = library.lend(services().store, item_id, due, now(), current_app.config["SCRYPT_N"],
                                  lang=str(get_locale()))
    except Refused as refused:
        submission.nothing_stored()
        return _lend_form(found, {"due": due}, {"due": refused.message}, submission.form_key, 422)
    except BaseException:
        submission.nothing_stored()
        raise
    audit("lend", f"item {item_id}", f"loan {loan['id']}, due {due}")
    return submission.hand_over(loan["id"], code, LOAN_TICKET, url_for("library.lent", item_id=item_id))


@bp.get("/library/<int:item_id>/lent")
@coordinator_required
def lent(item_id: int):
    """The borrower's ticket, right after lending: the code is shown once, then never again."""
    found = _item_or_404(item_id)
    loan = found["loan"]
    code = take_code(LOAN_TICKET, loan["id"]) if loan else None
    code_qr = Markup(qr.inline_svg(code, cache=False)) if code else None
    return render_template("library/lent.html", item=found, loan=loan, code=code, code_qr=code_qr)


@bp.route("/library/<int:item_id>/return", methods=["GET", "POST"])
@coordinator_required
def give_back(item_id: int):
    found = _item_or_404(item_id)
    if request.method == "GET" or request.form.get("confirm") != "yes":
        status = 200 if request.method == "GET" else 422
        return render_template("library/return.html", item=found), status
    try:
        loan = library.return_item(services().store, item_id, now())
    except Refused as refused:
        flash(str(refused.message))
        return redirect(url_for("library.item", item_id=item_id), code=303)
    audit("return", f"item {item_id}", f"loan {loan['id']}")
    flash(_("The return is recorded. The item is available again."))
    return redirect(url_for("library.item", item_id=item_id), code=303)


@bp.route("/library/<int:item_id>/retire", methods=["GET", "POST"])
@coordinator_required
def retire(item_id: int):
    found = _item_or_404(item_id)
    if request.method == "GET" or request.form.get("confirm") != "yes":
        return render_template("library/retire.html", item=found), (200 if request.method == "GET" else 422)
    try:
        library.retire_item(services().store, item_id, now())
    except Refused as refused:
        flash(str(refused.message))
        return redirect(url_for("library.item", item_id=item_id), code=303)
    audit("library-retire", f"item {item_id}")
    flash(_("The item has left the catalog."))
    return redirect(url_for("library.catalog"), code=303)


def queue_panel(**context) -> dict:
    """Overdue loans, for the coordinators' queue."""
    return {"overdue": library.overdue(services().store, now())}
