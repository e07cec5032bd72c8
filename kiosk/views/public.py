"""Pages for everyone: start, board, a post, its QR code, health."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import format_decimal, gettext as _

from .. import __version__, codes, community, coordinators, posts, qr, replies, settings
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
        needs_met=community.needs_met(store, today),
    )


@bp.get("/rides")
def rides():
    found = posts.rides(services().store, now(), current_app.config["EXPIRE_DAYS"])
    days: dict = {}
    for ride in found:
        days.setdefault(ride["ride"]["date"], []).append(ride)
    return render_template("rides.html", days=days)


@bp.get("/thanks")
def thanks():
    store = services().store
    return render_template("thanks.html", lines=community.thanks_wall(store), met=community.needs_met(store, now()))


@bp.route("/check-in", methods=["GET", "POST"])
def check_in():
    if request.method == "GET":
        return render_template("check_in.html", values={}, errors={})
    try:
        values = community.check_checkin(request.form)
    except posts.Invalid as bad:
        return render_template("check_in.html", values=bad.values, errors=bad.errors), 422
    from .. import text

    contact = {name: kinds for name, value in values.items() if (kinds := text.contact_kinds(value))}
    if contact and request.form.get("contact_ok") != "yes":
        return render_template("check_in.html", values=values, errors={}, contact=contact)
    community.add_checkin(services().store, values, now())
    flash(_("Thank you. The coordinators read every note at their meetings."))
    return redirect(url_for("public.start"), code=303)


@bp.get("/stats")
def stats_page():
    from markupsafe import Markup

    from .. import charts, stats

    svc, today = services(), now()
    key = (svc.store.version, today.strftime("%Y-%m-%d"))
    numbers = svc.stats_cache.get(key)
    if numbers is None:  # reading the whole archive: once per change, not once per visitor
        numbers = stats.compute(svc.store, today)
        svc.stats_cache.clear()
        svc.stats_cache[key] = numbers
    months = numbers["months"]

    def chart(chart_id: str, title: str, values: dict) -> Markup:
        bars = []
        for month in months:
            value = values.get(month)
            shown = stats.shown(value)
            bars.append(charts.Bar(month, value if isinstance(shown, int) else None,
                                   "—" if shown is None else (_("fewer than 3") if isinstance(shown, str) else str(shown))))
        return Markup(charts.bar_chart(chart_id, title, bars))

    series = [
        ("needs", _("Needs posted"), {m: numbers["by_month"][m]["requests"] for m in months}),
        ("offers", _("Offers posted"), {m: numbers["by_month"][m]["offers"] for m in months}),
        ("matched", _("Matched"), {m: numbers["by_month"][m]["matched"] for m in months}),
        ("fulfilled", _("Fulfilled"), {m: numbers["by_month"][m]["fulfilled"] for m in months}),
        ("lent", _("Tools lent"), numbers["lent"]),
        ("people", _("People at gatherings (“I'll come”)"), numbers["people"]),
        ("checkins", _("Check-in notes"), numbers["checkins"]),
    ]
    median_bars = [
        charts.Bar(m, None if numbers["median_days"][m] is None else int(round(numbers["median_days"][m] * 10)),
                   "—" if numbers["median_days"][m] is None else format_decimal(numbers["median_days"][m]))
        for m in months
    ]
    return render_template(
        "stats.html", numbers=numbers, months=months, shown=stats.shown,
        median_chart=Markup(charts.bar_chart("chart-wait", _("Median days to a first reply"), median_bars)),
        charts=[(key, title, chart(f"chart-{key}", title, values), values) for key, title, values in series],
        CATEGORY_LABELS_ALL=settings.categories(current_app.config, include_retired=True),
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


# Phones that join the kiosk's Wi-Fi ask these addresses whether they are online; answering
# with a redirect makes them open the kiosk's start page, as a hotel Wi-Fi would (DNS on the
# Pi sends every name here; see deploy/network).
CAPTIVE_CHECKS = ("/generate_204", "/gen_204", "/hotspot-detect.html", "/library/test/success.html",
                  "/connecttest.txt", "/ncsi.txt", "/redirect", "/success.txt", "/canonical.html")


def captive_portal():
    return redirect(current_app.config["PUBLIC_URL"] + "/", code=302)


for _path in CAPTIVE_CHECKS:
    bp.add_url_rule(_path, f"captive_{_path.strip('/').replace('/', '_').replace('.', '_')}", captive_portal)


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
