"""Coordinators' actions on posts, under /coordinate: hide, restore, dismiss a report, judge a
thank-you line."""

from __future__ import annotations

from flask import Blueprint, abort, g, request
from flask_babel import gettext as _

from ...core.errors import Refused
from ...web.audit import audit
from ...web.gate import coordinator_required
from ...web.helpers import flash_and_go, post_id_or_404
from ...web.services import now, services
from .. import moderation
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
