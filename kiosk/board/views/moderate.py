"""Coordinators' actions on posts, under /coordinate: hide, restore, dismiss a report, judge a
thank-you line; and what the board shows in the coordinators' queue and on /stats."""

from __future__ import annotations

from flask import Blueprint, abort, g, request
from flask_babel import format_decimal, gettext as _
from markupsafe import Markup

from ...core.errors import Refused
from ...web import charts
from ...web.audit import audit
from ...web.gate import coordinator_required
from ...web.helpers import flash_and_go, post_id_or_404
from ...web.services import now, services
from ...web.settings import categories, setting
from .. import moderation, numbers
from . import TEMPLATES

bp = Blueprint("moderate", __name__, url_prefix="/coordinate", template_folder=TEMPLATES)


def _done(message: str):
    return flash_and_go(message, "coordinate.home")


@bp.post("/posts/<post_id>/hide")
@coordinator_required
def hide(post_id: str):
    post_id = post_id_or_404(post_id)
    store = services().store
    try:
        reason = moderation.check_reason(request.form.get("reason", ""))
        moderation.hide(store, post_id, reason, g.handle, now())
    except Refused as refused:
        return _done(str(refused.message))
    moderation.close_reports_for(store, post_id, g.handle, now())
    audit("hide", post_id, reason)
    return _done(_("The post is hidden."))


@bp.post("/posts/<post_id>/restore")
@coordinator_required
def restore(post_id: str):
    post_id = post_id_or_404(post_id)
    try:
        moderation.restore(services().store, post_id)
    except Refused as refused:
        return _done(str(refused.message))
    audit("restore", post_id)
    return _done(_("The post is back."))


@bp.post("/reports/<int:record_id>/dismiss")
@coordinator_required
def dismiss(record_id: int):
    try:
        report = moderation.dismiss_report(services().store, record_id, g.handle, now())
    except Refused as refused:
        return _done(str(refused.message))
    audit("dismiss", f"report {record_id} ({report.get('kind')} {report.get('post')})")
    return _done(_("The report is dismissed."))


@bp.post("/thanks/<int:record_id>/<verdict>")
@coordinator_required
def judge_thanks(record_id: int, verdict: str):
    if verdict not in ("approve", "reject"):
        abort(404)
    try:
        line = moderation.judge_thanks(services().store, record_id, verdict == "approve", g.handle, now())
    except Refused as refused:
        return _done(str(refused.message))
    audit(verdict, f"thanks {record_id} ({line.get('post')})")
    return _done(_("Thank you line approved.") if verdict == "approve" else _("Thank you line declined."))


# -- panels on other features' pages --------------------------------------------------------------


def reports_panel(**context) -> dict:
    return {"queue": moderation.queue_reports(services().store, now(), setting("EXPIRE_DAYS"))}


def thanks_panel(**context) -> dict:
    return {"queue": moderation.queue_thanks(services().store)}


def _post_counts() -> numbers.PostCounts:
    store = services().store
    return services().remember("post-counts", None, lambda: numbers.count_posts(store))


def monthly(column: str):
    """A /stats series: one column of the post counts, per month."""
    return lambda store: {month: row[column] for month, row in _post_counts().by_month.items()}


def stats_panel(months: list[str], **context) -> dict:
    """The median days to a first reply, as a chart and a table, and the counts by category."""
    counted = _post_counts()
    median = {m: counted.median_days(m) for m in months}
    bars = [charts.Bar(m, None if median[m] is None else int(round(median[m] * 10)),
                       "—" if median[m] is None else format_decimal(median[m])) for m in months]
    return {
        "months": months,
        "median_days": median,
        "median_chart": Markup(charts.bar_chart("chart-wait", _("Median days to a first reply"), bars)),
        "by_category": {k: v for k, v in counted.by_category.items() if k[0] in months},
        "CATEGORY_LABELS_ALL": categories(services().store, include_retired=True),
    }
