"""The needs survey: /survey (answer), /survey/results, /survey/edit (coordinators)."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from ..core import fields, text
from ..core.errors import Invalid
from ..web import charts, gate
from ..web.budget import budgeted
from ..web.audit import audit
from ..web.gate import coordinator_required, current_handle
from ..web.helpers import fewer_than, needs_contact_ok, right_to_left
from ..web.services import now, services
from . import rules as surveys

bp = Blueprint("survey", __name__, template_folder="templates")

SESSION_FLAG = "survey_done"  # holds the survey's key once this browser has answered


def _no_store(response):
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


# -- answering ------------------------------------------------------------------------------------


def _answer_page(survey, closed=False, errors=None, values=None, contact=None):
    return render_template("survey/answer.html", survey=survey, closed=closed, errors=errors or {},
                           values=values or {}, limits_free_text=surveys.MAX_FREE_TEXT, contact=contact or {})


@bp.route("/survey", methods=["GET", "POST"])
@budgeted("survey")
def answer():
    store = services().store
    survey = surveys.get(store)
    if survey is None or not survey.get("open"):
        status = 409 if request.method == "POST" else 200
        return _answer_page(survey, closed=True), status
    if session.get(SESSION_FLAG) == survey["key"]:
        status = 409 if request.method == "POST" else 200
        return render_template("survey/thanks.html", survey=survey, already=True), status
    if request.method == "GET":
        return _answer_page(survey)
    form = {k: request.form.getlist(k) for k in request.form if k not in ("csrf_token", "contact_ok")}
    try:
        given = surveys.check_answer(survey, form)
        # Promise 1: free text that looks like contact details gets a warning first.
        contact = text.contact_in(given)
        if needs_contact_ok(contact):
            values = {k: v for k, v in form.items() if k.startswith("q")}
            return _answer_page(survey, values=values, contact=contact)
        surveys.add_answer(store, survey, given, now())
    except Invalid as bad:
        values = {k: v for k, v in form.items() if k.startswith("q")}
        return _answer_page(survey, errors=bad.errors, values=values), 422
    session[SESSION_FLAG] = survey["key"]
    return redirect(url_for("survey.thanks"), code=303)


@bp.get("/survey/thanks")
def thanks():
    return render_template("survey/thanks.html", survey=surveys.get(services().store), already=False)


# -- results --------------------------------------------------------------------------------------


def _view_of(result: dict, exact: bool) -> list[dict]:
    """Per question: rows of (label, value or None, text) for the chart and the table."""
    fewer = fewer_than()
    out = []
    for q in result["questions"]:
        counts = [c for _label, c in q["options"]]
        shown = counts if exact else surveys.hide_small(counts)
        answered = q["answered"] if exact else surveys.public_count(q["answered"])
        rows = [charts.Bar(label, value, fewer if value is None else str(value))
                for (label, _c), value in zip(q["options"], shown)]
        answered_text = fewer if answered is None else str(answered)
        if not exact and surveys.total_reveals_a_cell(shown, q["kind"] == "single"):
            answered_text = _("not shown")
        item = {**q, "rows": rows, "answered_text": answered_text}
        if q["kind"] != "text":
            item["chart"] = Markup(charts.bar_chart(
                f"chart-q{q['number']}", q["text"], rows,
                _("Number of people who chose each option. The table below has the same numbers."), rtl=right_to_left()))
        out.append(item)
    return out


@bp.get("/survey/results")
def results():
    handle = current_handle()
    result = surveys.results(services().store, gate.team_key())
    questions = _view_of(result, exact=handle is not None) if result else []
    total = None
    if result:
        total = str(result["total"]) if handle or surveys.public_count(result["total"]) is not None else fewer_than()
    page = render_template("survey/results.html", result=result, questions=questions, total=total,
                           coordinator=handle is not None)
    return _no_store(page) if handle else page


# -- writing the survey (coordinators) ------------------------------------------------------------


def _posted_questions() -> list[dict]:
    numbers = set()
    for key in request.form:
        head = key.split("_", 1)[0]
        number = fields.whole_number(head[1:], 50) if head[:1] == "q" else None
        if number:
            numbers.add(number)
    return [
        {
            "text": request.form.get(f"q{n}_text", ""),
            "kind": request.form.get(f"q{n}_kind", ""),
            "options": request.form.get(f"q{n}_options", ""),
        }
        for n in range(1, max(numbers | {0}) + 1)
    ]


def _form_values(survey: dict | None) -> dict:
    if not survey:
        return {"title": "", "questions": []}
    return {
        "title": survey["title"],
        "questions": [{"text": q["text"], "kind": q["kind"], "options": "\n".join(q["options"])}
                      for q in survey["questions"]],
    }


@bp.route("/survey/edit", methods=["GET", "POST"])
@coordinator_required
def edit():
    store = services().store
    survey = surveys.get(store)
    locked = bool(survey and surveys.answers(store))

    def page(values, errors, status=200):
        return _no_store((render_template(
            "survey/edit.html", survey=survey, values=values, errors=errors, locked=locked,
            slots=surveys.MAX_QUESTIONS, kinds=surveys.kind_labels(), limits=surveys), status))

    if request.method == "GET":
        return page(_form_values(survey), {})
    action = request.form.get("action", "save")
    try:
        if action in ("open", "close"):
            surveys.set_open(store, action == "open")
            audit(f"survey-{action}", "survey")
            flash(_("The survey is open.") if action == "open" else _("The survey is closed."))
        elif action == "save":
            title = request.form.get("title", "")[: surveys.MAX_TITLE * 4]
            questions = _posted_questions()
            surveys.save(store, title, questions)
            audit("survey", "survey")
            flash(_("The survey is saved."))
        elif action == "new":
            if request.form.get("confirm") != "yes":
                raise Invalid({"questions": _("Tick the box to confirm.")})
            gone = surveys.start_over(store)
            audit("survey-new", "survey", f"{gone} answers deleted")
            flash(_("A new survey can be written now."))
        else:
            raise Invalid({"questions": _("Use the buttons on the page.")})
    except Invalid as bad:
        values = {"title": request.form.get("title", ""), "questions": _posted_questions()} if action == "save" else _form_values(survey)
        return page(values, bad.errors, 422)
    return redirect(url_for("survey.edit"), code=303)
