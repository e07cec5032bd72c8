"""The screen itself: language switch, idle reset, the flyer and direct ticket printing."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale, gettext as _
from markupsafe import Markup

from .. import codes, printing, qr, replies
from ..services import services
from .. import csrf

bp = Blueprint("screen", __name__)

VISIT_KEYS = ("lang", "mine", "ticket", "print", "form_key", "coord", "_flashes", "survey_done", "came", "loan_ticket")
LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}


def kiosk_mode() -> bool:
    """Touchscreen features for the kiosk's own browser only: a phone never gets them."""
    return bool(current_app.config["TOUCHSCREEN"]) and request.remote_addr in LOOPBACK


@bp.app_context_processor
def screen_context():
    return {
        "kiosk_mode": kiosk_mode(),
        "can_print_direct": bool(current_app.config["PRINTER"]),
        # Anything of a visitor's that the idle reset must clear.
        "visit_in_session": any(key in session for key in VISIT_KEYS),
    }


@bp.after_app_request
def no_store_on_the_touchscreen(response):
    # The next person must not bring back the last one's page with the back gesture.
    if kiosk_mode() and response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response


def _safe_next(target: str | None) -> str:
    # Only a path on this kiosk; never an absolute URL (no open redirect).
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("public.start")
    return target


# Choosing a language is harmless to forge, and exempting it means people who only read
# never need a CSRF cookie; the cookie appears only once they pick a language.
@bp.post("/lang")
@csrf.exempt
def choose_language():
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")), code=303)


@bp.post("/reset")
def reset():
    """The idle reset: forget everything this browser's session knew, back to the start."""
    for name in ("ticket", "print", "loan_ticket"):
        pending = session.get(name)
        if isinstance(pending, dict):
            services().handoff.forget(str(pending.get("key")))
    mine = session.get("mine")
    if isinstance(mine, dict):
        services().unlocks.lock(str(mine.get("key")))
    if session.get("coord"):
        services().coord_unlocks.lock(str(session["coord"]))
    if session.get("form_key"):
        services().handoff.forget(str(session["form_key"]))
    session.clear()
    return redirect(url_for("public.start"), code=303)


@bp.get("/flyer")
def flyer():
    offered = current_app.config["LANGUAGES"]
    wanted = [lang for lang in request.args.get("lang", "").split(",") if lang in offered]
    langs = wanted or offered
    public_url = current_app.config["PUBLIC_URL"]
    blocks = []
    for lang in langs:
        with force_locale(lang):
            blocks.append(
                {
                    "lang": lang,
                    "dir": "rtl" if lang == "ar" else "ltr",
                    "headline": _("Need something? Can offer something?"),
                    "steps": [
                        _("1. Join the Wi-Fi “%(ssid)s” (scan the code on the right).", ssid=current_app.config["WIFI_SSID"])
                        if current_app.config["WIFI_SSID"]
                        else _("1. Join the community center's Wi-Fi."),
                        _("2. Scan the board's code, or open %(url)s.", url=public_url + "/board"),
                        _("3. Post a need or an offer: no name, no phone number. Keep your ticket."),
                    ],
                    "labels": (_("The board"), _("The Wi-Fi")),
                }
            )
    ssid = current_app.config["WIFI_SSID"]
    wifi_qr = Markup(qr.inline_svg(qr.wifi_payload(ssid, current_app.config["WIFI_PASSWORD"]), cache=False)) if ssid else None
    return render_template(
        "flyer.html",
        blocks=blocks,
        board_qr=Markup(qr.inline_svg(public_url + "/board")),
        board_url=public_url + "/board",
        wifi_qr=wifi_qr,
        ssid=ssid,
        chosen=langs,
    )


@bp.post("/ticket/<post_id>/print")
def print_ticket(post_id: str):
    printer = current_app.config["PRINTER"]
    normalized = codes.normalize_post_id(post_id)
    store = services().store
    post = store.get_post(normalized) if normalized else None
    pseudonym = post["pseudonym"] if post else None
    if post is None and normalized:
        post = store.find_reply_post(normalized)  # a replier's ticket
        reply = replies.find_reply(post, normalized) if post else None
        pseudonym = reply["pseudonym"] if reply else None
    if not printer or post is None:
        abort(404)
    pending = session.get("print")
    code = None
    if isinstance(pending, dict) and pending.get("id") == normalized:
        code = services().handoff.take(str(pending.get("key")), normalized)
    session.pop("print", None)
    if code is None:
        flash(_("The code can be printed only right after posting. Take a photo of it instead."))
        return redirect(url_for("public.post", post_id=post["id"]), code=303)
    text = printing.ticket_text(
        kiosk_name=current_app.config["NAME"],
        heading=_("Your ticket"),
        lines=[
            (_("You appear as"), pseudonym),
            (_("Ticket number"), normalized),
            (_("Your ticket code"), code),
            (_("Your post"), qr.post_url(current_app.config["PUBLIC_URL"], post["id"])),
        ],
        footer=_("Keep this ticket: with the code you can change, close or withdraw your post at “My ticket”."),
    )
    try:
        printing.send(printer, text, title=f"ticket {normalized}")
    except printing.PrintError as exc:
        current_app.logger.warning("printing failed: %s", exc)
        flash(_("The printer did not answer. Take a photo of your code instead."))
        return render_template("printed.html", post=post, ok=False), 503
    return render_template("printed.html", post=post, ok=True)


def leave_for_printing(post_id: str, code: str) -> None:
    """Keep a just-shown code a little longer so the print button can send it, once."""
    key = secrets.token_urlsafe(16)
    services().handoff.leave(key, post_id, code, ttl=120)
    session["print"] = {"id": post_id, "key": key}
