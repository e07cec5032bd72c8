"""The tool library at /library: the public catalog and item pages with their QR labels,
coordinators' adding, editing, lending and returns, and a borrower's loan check by code."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from .. import coordinators, library, qr
from ..services import now, services
from .coordinate import current_handle
from .posting import Submission, new_form_key

bp = Blueprint("library", __name__)


def _coordinator() -> str | None:
    return current_handle()


def _to_unlock():
    session.pop("coord", None)
    return redirect(url_for("coordinate.home"), code=303)


def _audit(handle: str, action: str, target: str, detail: str = "") -> None:
    coordinators.log(services().store, handle, action, target, now(), detail)


def _item_or_404(item_id: int) -> dict:
    item = library.item_view(services().store, item_id)
    if item is None:
        abort(404)
    return item


def item_url(item_id: int) -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/library/{item_id}"


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
        is_coordinator=_coordinator() is not None,
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
        is_coordinator=_coordinator() is not None,
    )


@bp.route("/library/loan", methods=["GET", "POST"])
def loan():
    if request.method == "GET":
        return render_template("library/loan.html", error=None, loan=None, item=None)
    svc = services()
    try:
        found, item = library.find_loan(
            svc.store, svc.throttle, request.form.get("code", "")[:80], current_app.config["SCRYPT_N"]
        )
    except library.TooManyTries as wait:
        minutes = max(1, -(-wait.wait_seconds // 60))
        error = _("Too many wrong codes. Please wait %(minutes)d minutes and try again.", minutes=minutes)
        return render_template("library/loan.html", error=error, loan=None, item=None), 429
    except library.BadCode:
        error = _("That code does not match a loan. Check each word and try again.")
        return render_template("library/loan.html", error=error, loan=None, item=None), 403
    late = found["due"] < now().date().isoformat()
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
def new():
    handle = _coordinator()
    if handle is None:
        return _to_unlock()
    if request.method == "GET":
        return _item_form({"condition": "good"}, {})
    try:
        values = library.check_item(request.form)
    except library.Invalid as bad:
        return _item_form(bad.values, bad.errors, status=422)
    item_id = library.add_item(services().store, values, now())
    _audit(handle, "library-add", f"item {item_id}", values["name"])
    flash(_("The item is in the library."))
    return redirect(url_for("library.item", item_id=item_id), code=303)


@bp.route("/library/<int:item_id>/edit", methods=["GET", "POST"])
def edit(item_id: int):
    handle = _coordinator()
    if handle is None:
        return _to_unlock()
    found = _item_or_404(item_id)
    if request.method == "GET":
        return _item_form(found, {}, item_id)
    try:
        values = library.check_item(request.form)
    except library.Invalid as bad:
        return _item_form(bad.values, bad.errors, item_id, 422)
    library.edit_item(services().store, item_id, values, now())
    _audit(handle, "library-edit", f"item {item_id}", values["name"])
    flash(_("The item is saved."))
    return redirect(url_for("library.item", item_id=item_id), code=303)


def _lend_form(item: dict, values: dict, errors: dict, form_key: str, status: int = 200):
    page = render_template(
        "library/lend.html", item=item, values=values, errors=errors, form_key=form_key,
        max_days=library.MAX_LOAN_DAYS,
    )
    return page, status


@bp.route("/library/<int:item_id>/lend", methods=["GET", "POST"])
def lend(item_id: int):
    handle = _coordinator()
    if handle is None:
        return _to_unlock()
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
    except library.Invalid as bad:
        submission.nothing_stored()
        return _lend_form(found, bad.values, bad.errors, submission.form_key, 422)
    try:
        loan, code = library.lend(services().store, item_id, due, now(), current_app.config["SCRYPT_N"])
    except library.Refused as refused:
        submission.nothing_stored()
        return _lend_form(found, {"due": due}, {"due": refused.message}, submission.form_key, 422)
    except BaseException:
        submission.nothing_stored()
        raise
    _audit(handle, "lend", f"item {item_id}", f"loan {loan['id']}, due {due}")
    key = submission.form_key if submission.ours else secrets.token_urlsafe(16)
    services().handoff.leave(key, loan["id"], code)
    if submission.entry:
        submission.once.finish(submission.form_key, submission.entry, loan["id"])
    session["loan_ticket"] = {"id": loan["id"], "key": key}
    return redirect(url_for("library.lent", item_id=item_id), code=303)


@bp.get("/library/<int:item_id>/lent")
def lent(item_id: int):
    """The borrower's ticket, right after lending: the code is shown once, then never again."""
    if _coordinator() is None:
        return _to_unlock()
    found = _item_or_404(item_id)
    code = None
    loan = found["loan"]
    pending = session.get("loan_ticket")
    keys = [pending.get("key")] if isinstance(pending, dict) else []
    keys.append(session.get("form_key"))
    for key in keys:
        if key and loan and code is None:
            code = services().handoff.take(str(key), loan["id"])
    if code:
        session.pop("loan_ticket", None)
        session.pop("form_key", None)
    code_qr = Markup(qr.inline_svg(code, cache=False)) if code else None
    response = current_app.make_response(
        render_template("library/lent.html", item=found, loan=loan, code=code, code_qr=code_qr)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/library/<int:item_id>/return", methods=["GET", "POST"])
def give_back(item_id: int):
    handle = _coordinator()
    if handle is None:
        return _to_unlock()
    found = _item_or_404(item_id)
    if request.method == "GET" or request.form.get("confirm") != "yes":
        status = 200 if request.method == "GET" else 422
        return render_template("library/return.html", item=found), status
    try:
        loan = library.return_item(services().store, item_id, now())
    except library.Refused as refused:
        flash(str(refused.message))
        return redirect(url_for("library.item", item_id=item_id), code=303)
    _audit(handle, "return", f"item {item_id}", f"loan {loan['id']}")
    flash(_("The return is recorded. The item is available again."))
    return redirect(url_for("library.item", item_id=item_id), code=303)


@bp.route("/library/<int:item_id>/retire", methods=["GET", "POST"])
def retire(item_id: int):
    handle = _coordinator()
    if handle is None:
        return _to_unlock()
    found = _item_or_404(item_id)
    if request.method == "GET" or request.form.get("confirm") != "yes":
        return render_template("library/retire.html", item=found), (200 if request.method == "GET" else 422)
    try:
        library.retire_item(services().store, item_id, now())
    except library.Refused as refused:
        flash(str(refused.message))
        return redirect(url_for("library.item", item_id=item_id), code=303)
    _audit(handle, "library-retire", f"item {item_id}")
    flash(_("The item has left the catalog."))
    return redirect(url_for("library.catalog"), code=303)
