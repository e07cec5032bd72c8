"""The community's pages: check-ins, open numbers, the agreements, transparency; and for
coordinators the check-in notes, the roster and editing the agreements."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from markupsafe import Markup

from ..core import config as config_module
from ..core import counts, text
from ..core.errors import Invalid, Refused
from ..web import charts, gate
from ..web.budget import budgeted
from ..web.audit import audit, monthly_counts
from ..web.gate import coordinator_required, handles
from ..web.helpers import fewer_than, needs_contact_ok, right_to_left
from ..web.services import now, services
from ..web.settings import setting
from ..web.template_helpers import text_direction
from . import agreements as agreed
from . import checkins, roster as rosters, rotation, stats

bp = Blueprint("community", __name__, template_folder="templates")


@bp.route("/check-in", methods=["GET", "POST"])
@budgeted("checkin")
def check_in():
    if request.method == "GET":
        return render_template("community/check_in.html", values={}, errors={})
    try:
        values = checkins.check_checkin(request.form)
    except Invalid as bad:
        return render_template("community/check_in.html", values=bad.values, errors=bad.errors), 422
    contact = text.contact_in(values)
    if needs_contact_ok(contact):
        return render_template("community/check_in.html", values=values, errors={}, contact=contact)
    try:
        checkins.add_checkin(services().store, values, now())
    except Invalid as bad:
        return render_template("community/check_in.html", values=bad.values, errors=bad.errors), 409
    flash(_("Thank you. The coordinators read every note at their meetings."))
    return redirect(url_for(services().registry.home), code=303)


def _chart(chart_id: str, title: str, months: list[str], values: dict) -> Markup:
    bars = []
    for month in months:
        value = values.get(month)
        shown = counts.shown(value)
        text = "—" if shown is None else (fewer_than() if isinstance(shown, str) else str(shown))
        bars.append(charts.Bar(month, value if isinstance(shown, int) else None, text))
    return Markup(charts.bar_chart(chart_id, title, bars, rtl=right_to_left()))


@bp.get("/stats")
def stats_page():
    svc, today = services(), now()
    series = svc.registry.ordered("monthly")
    # Reading the whole archive: once per change (and day), not once per visitor.
    numbers = svc.remember("stats", today.strftime("%Y-%m-%d"), lambda: stats.compute(svc.store, series))
    months = numbers["months"]
    # str(): a lazy label would count as safe markup and skip escaping.
    shown = [(s.key, str(s.title), _chart(f"chart-{s.key}", str(s.title), months, numbers["values"][s.key]),
              numbers["values"][s.key]) for s in series]
    return render_template("community/stats.html", months=months, charts=shown)


def shipped_agreements(lang: str) -> str:
    """The text that ships with the kiosk, in ``lang`` (English for a language without one)."""
    name = lang if lang in config_module.KNOWN_LANGUAGES else "en"
    return render_template(f"community/agreements/{name}.txt", kiosk=setting("NAME"),
                           expire=setting("EXPIRE_DAYS"), retain=setting("RETAIN_DAYS"))


@bp.get("/how-it-works")
def how_it_works():
    languages, lang = setting("LANGUAGES"), str(get_locale())
    written = agreed.texts(services().store, languages[0])
    shown = agreed.choose(written, lang, languages)
    body = written[shown] if shown else shipped_agreements(lang)
    # The text keeps its own language and direction inside a page of another, for screen
    # readers and right-to-left layout; the note says so in the reader's language.
    return render_template("community/how_it_works.html", body=agreed.render(body), shown=shown or lang,
                           shown_dir=text_direction(shown or lang))


@bp.get("/transparency")
def transparency():
    registry = services().registry
    return render_template("community/transparency.html",
                           months=monthly_counts(services().store, registry.moderation),
                           ACTIONS=registry.audit_actions, MODERATION=registry.moderation)


# -- coordinators ---------------------------------------------------------------------------------


@bp.get("/coordinate/check-ins")
@coordinator_required
def check_ins():
    return render_template("community/check_ins.html", notes=checkins.checkins(services().store, gate.team_key()))


def _roster_form(weeks: list[str], names: list[str]) -> tuple[dict, dict]:
    """The weeks and away ticks as posted; only names on the list count as away."""
    chosen = {week: request.form.get(f"week-{week}", "") for week in weeks}
    away = {week: [n for n in request.form.getlist(f"away-{week}") if n in names] for week in weeks}
    return chosen, away


@bp.route("/coordinate/roster", methods=["GET", "POST"])
@coordinator_required
def roster():
    store, today = services().store, now().astimezone(_tz()).date()
    weeks = rosters.upcoming_weeks(today)
    current = rosters.roster(store)
    names = rosters.people(store, handles(store))
    chosen, away, meeting = current.get("weeks", {}), current.get("away", {}), current.get("meeting", {})
    proposed = False
    if request.method == "POST":
        listed = "people" in request.form
        try:
            names = rosters.check_people(request.form["people"]) if listed else names
        except Refused as refused:
            flash(str(refused.message))
            return redirect(url_for("community.roster"), code=303)
        chosen, away = _roster_form(weeks, names)
        meeting = {"when": request.form.get("meeting_when", ""), "where": request.form.get("meeting_where", "")}
        if request.form.get("action") == "propose":
            # Shown only: nothing is stored until "Save".
            this_week = {weeks[0]: chosen[weeks[0]]} if chosen.get(weeks[0]) in names else {}
            chosen = rotation.propose(names, weeks, rosters.history(store, weeks[0]), away, fixed=this_week)
            proposed = True
        else:
            try:
                rosters.save_roster(store, chosen, meeting["when"], meeting["where"], names, away=away,
                                    team=names if listed else None)
            except Refused as refused:
                flash(str(refused.message))
                return redirect(url_for("community.roster"), code=303)
            audit("roster")
            flash(_("The roster is saved."))
            return redirect(url_for("community.roster"), code=303)
    last = rotation.last_on_duty(current.get("weeks", {}), weeks[0])
    return render_template("community/roster.html", weeks=[(w, rosters.week_start(w)) for w in weeks], team=names,
                           chosen=chosen, away=away, meeting=meeting, proposed=proposed, last=last)


def _agreements_form(typed: dict, errors: dict, status: int = 200):
    """One box per offered language: what was typed, else the coordinators' text, else the
    shipped one to start from."""
    languages = setting("LANGUAGES")
    written = agreed.texts(services().store, languages[0])
    values = {lang: written.get(lang) or shipped_agreements(lang) for lang in languages} | typed
    return render_template("community/agreements_edit.html", languages=languages, values=values, errors=errors,
                           written=written, fallback={lang: agreed.choose(written, lang, languages) for lang in languages}), status


@bp.route("/coordinate/agreements", methods=["GET", "POST"])
@coordinator_required
def agreements():
    store, languages = services().store, setting("LANGUAGES")
    if request.method == "GET":
        return _agreements_form({}, {})
    try:
        submitted = agreed.check(request.form, languages)
    except Invalid as bad:
        return _agreements_form(bad.values, bad.errors, 422)
    shipped = {lang: text.normalize(shipped_agreements(lang), multiline=True) for lang in languages}
    keep = set(request.form.getlist("keep")) & set(languages)
    changed = agreed.save(store, submitted, languages[0], shipped, keep)
    audit("agreements", ", ".join(changed))
    flash(_("The community agreements are saved."))
    return redirect(url_for("community.how_it_works"), code=303)


def _tz() -> dt.tzinfo:
    try:
        return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")
    except (ValueError, KeyError, OSError):
        return dt.timezone.utc


def start_panel(**context) -> dict:
    """Who is on duty this week, and the next meeting: the roster's, or a gathering of the kind
    "meeting" (from whichever feature declares one), whichever comes first."""
    svc, today, tz = services(), now(), _tz()
    found = [rosters.next_meeting(svc.store, today, tz)] + [m(svc.store, today) for m in svc.registry.meetings]
    meeting = rosters.earliest(found)
    link = url_for(meeting["link"][0], **meeting["link"][1]) if meeting and meeting.get("link") else None
    return {"on_duty": rosters.on_duty(svc.store, today.astimezone(tz).date()), "meeting": meeting, "link": link}
