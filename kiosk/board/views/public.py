"""Pages for everyone: start, board, a post and its QR code, rides, the thanks wall."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for

from ...core.fields import whole_number
from ...web import qr
from ...web.helpers import post_id_or_404
from ...web.services import now, services
from ...web.settings import categories, setting
from .. import moderation, posts
from ..forms import normalize_slug
from . import TEMPLATES

bp = Blueprint("public", __name__, template_folder=TEMPLATES)

BOARD_STATUSES = ("open", "matched", "fulfilled")


@bp.record_once
def board_words(state) -> None:
    """The board's choices and limits, as template globals (macros see them without context)."""
    from .. import replies

    state.app.jinja_env.globals.update(WHEN_CHOICES=posts.WHEN_CHOICES, STATUSES=posts.STATUSES, LIMITS=posts.LIMITS,
                                       REPORT_REASONS=replies.REPORT_REASONS, REPLY_LIMITS=replies.LIMITS)


@bp.get("/")
def start():
    return render_template("board/start.html", needs_met=moderation.needs_met(services().store, now()))


@bp.get("/rides")
def rides():
    days: dict = {}
    for ride in posts.rides(services().store, now(), setting("EXPIRE_DAYS")):
        days.setdefault(ride["ride"]["date"], []).append(ride)
    return render_template("board/rides.html", days=days)


@bp.get("/thanks")
def thanks():
    store = services().store
    return render_template("board/thanks.html", lines=moderation.thanks_wall(store),
                           met=moderation.needs_met(store, now()))


def _filters() -> tuple[str | None, str | None, str, list[str]]:
    """kind, category and status from the address; what was not understood is named in notices."""
    notices = []
    kind = request.args.get("kind") or None
    category = request.args.get("category") or None
    if kind is not None and kind not in posts.KINDS:
        notices.append("kind")
        kind = None
    if category is not None:
        category = normalize_slug(category)
        if category not in categories(services().store, include_retired=True):
            notices.append("category")
            category = None
    status = request.args.get("status") or "open"
    if status not in BOARD_STATUSES:
        notices.append("status")
        status = "open"
    return kind, category, status, notices


@bp.get("/board")
def board():
    kind, category, status, notices = _filters()
    page = whole_number(request.args.get("page", "1"), 9_999)
    if not page:  # no link of ours makes this: say so, and show the first page
        notices.append("page")
    shown, total, page, pages = posts.board_page(services().store, now(), setting("EXPIRE_DAYS"), page or 1,
                                                 kind=kind, category=category, status=status)
    return render_template("board/board.html", posts=[posts.public_view(p) for p in shown], total=total,
                           kind=kind, category=category, status=status, page=page, pages=pages,
                           notices=notices), 400 if "page" in notices else 200


def _meant(raw_id: str) -> tuple[dict | None, list[dict]]:
    """The post with this number here, and the posts from other kiosks that were printed under
    it (core/origin.py); 404 when there is none."""
    number = post_id_or_404(raw_id)
    store = services().store
    found, others = None, []
    for post_id, reply_id in store.holders(number):
        if reply_id is None:
            post = store.get_post(post_id)
            if post is not None and post_id == number:
                found = post
            elif post is not None:
                others.append(post)
    if found is None and not others:
        abort(404)
    return found, others


@bp.get("/p/<post_id>")
def post(post_id: str):
    found, others = _meant(post_id)
    if others and (found is not None or len(others) > 1):
        # Two kiosks printed this number: the reader says which post they mean.
        choices = [posts.hidden_view(p) if p.get("hidden") else posts.public_view(p)
                   for p in ([found] if found else []) + others]
        return render_template("board/choose.html", number=post_id.upper(), choices=choices)
    found = found or others[0]
    if found["id"] != post_id:  # typed in lower case, or printed elsewhere: one canonical address
        return redirect(url_for("public.post", post_id=found["id"]), code=301 if found["id"] == post_id.upper() else 302)
    if found.get("hidden"):
        # Its page stays (printed codes point here) but says only that it was hidden.
        return render_template("board/post_hidden.html", post_id=found["id"]), 410
    expire_days = setting("EXPIRE_DAYS")
    expired = found["status"] == "open" and posts.is_expired(found, now(), expire_days)
    suggested = []
    if found["status"] == "open" and not expired:
        suggested = posts.suggestions(services().store, found, now(), expire_days)
    return render_template("board/post.html", post=posts.public_view(found), expired=expired, suggested=suggested,
                           post_url=qr.post_url(setting("PUBLIC_URL"), found["id"]))


@bp.get("/p/<post_id>/qr.svg")
def post_qr(post_id: str):
    found, others = _meant(post_id)
    if found is None and len(others) != 1:
        abort(404)  # which one is meant is asked on the post's page, not in a picture
    found = found or others[0]
    response = Response(qr.svg(qr.post_url(setting("PUBLIC_URL"), found["id"])), mimetype="image/svg+xml")
    # Revalidated each time: a changed public URL must show in the next printed code.
    response.headers["Cache-Control"] = "no-cache"
    return response
