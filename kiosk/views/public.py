"""Pages for everyone: start, board, a post, its QR code, health."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, url_for

from .. import __version__, codes, coordinators, posts, qr, replies, settings
from ..services import now, services

bp = Blueprint("public", __name__)

PAGE_SIZE = 30
BOARD_STATUSES = ("open", "matched", "fulfilled")


@bp.get("/")
def start():
    store = services().store
    today = now()
    return render_template(
        "start.html",
        on_duty=coordinators.on_duty(store, today.date()),
        meeting=coordinators.next_meeting(store, today),
    )


@bp.get("/how-it-works")
def how_it_works():
    from .coordinate import default_agreements

    body = coordinators.agreements(services().store) or default_agreements()
    return render_template("how_it_works.html", body=coordinators.render(body))


@bp.get("/transparency")
def transparency():
    return render_template("transparency.html", months=coordinators.monthly_counts(services().store),
                           ACTIONS=coordinators.ACTIONS, MODERATION=coordinators.MODERATION)


@bp.get("/board")
def board():
    notices = []
    kind = request.args.get("kind") or None
    category = request.args.get("category") or None
    if kind is not None and kind not in posts.KINDS:
        notices.append("kind")
        kind = None
    if category is not None:
        category = posts.normalize_category(category)
        if category not in settings.categories(current_app.config, include_retired=True):
            notices.append("category")
            category = None
    status = request.args.get("status") or "open"
    if status not in BOARD_STATUSES:
        notices.append("status")
        status = "open"
    page = request.args.get("page", "1")
    page = int(page) if page.isascii() and page.isdigit() and 0 < int(page) < 10_000 else 1

    found = posts.board(
        services().store,
        now(),
        current_app.config["EXPIRE_DAYS"],
        kind=kind,
        category=category,
        status=status,
    )
    pages = max(1, -(-len(found) // PAGE_SIZE))
    page = min(page, pages)
    shown = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return render_template(
        "board.html",
        posts=[posts.public_view(p) for p in shown],
        total=len(found),
        kind=kind,
        category=category,
        status=status,
        page=page,
        pages=pages,
        notices=notices,
    )


def _find(post_id: str) -> dict:
    normalized = codes.normalize_post_id(post_id)
    if normalized is None:
        abort(404)
    post = services().store.get_post(normalized)
    if post is None:
        abort(404)
    return post


@bp.get("/p/<post_id>")
def post(post_id: str):
    found = _find(post_id)
    if found["id"] != post_id:  # typed in lower case, say: one canonical address
        return redirect(url_for("public.post", post_id=found["id"]), code=301)
    if found.get("hidden"):
        # Its page stays (printed codes point here) but says only that it was hidden.
        return render_template("post_hidden.html", post_id=found["id"]), 410
    expired = found["status"] == "open" and posts.is_expired(
        found, now(), current_app.config["EXPIRE_DAYS"]
    )
    suggested = []
    if found["status"] == "open" and not expired:
        suggested = replies.suggestions(services().store, found, now(), current_app.config["EXPIRE_DAYS"])
    return render_template(
        "post.html",
        post=posts.public_view(found),
        expired=expired,
        suggested=suggested,
        post_url=qr.post_url(current_app.config["PUBLIC_URL"], found["id"]),
    )


@bp.get("/p/<post_id>/qr.svg")
def post_qr(post_id: str):
    found = _find(post_id)
    body = qr.svg(qr.post_url(current_app.config["PUBLIC_URL"], found["id"]))
    response = Response(body, mimetype="image/svg+xml")
    # Revalidated each time: a changed public URL must show in the next printed code.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/healthz")
def healthz():
    store = services().store
    return jsonify(
        status="ok",
        version=__version__,
        live_posts=store.count_live(),
        archived_posts=store.count_archived(),
        clock="suspect" if services().clock.suspect else "ok",
    )
