"""Pages of the kiosk itself, whatever features it has: the language switch, the idle reset,
the flyer, the health check for the deploy scripts and the captive-portal answers."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_babel import force_locale, gettext as _
from flask_wtf.csrf import CSRFError, validate_csrf
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from wtforms import ValidationError

from . import qr
from .pagecache import from_touchscreen
from .services import services
from .settings import setting

bp = Blueprint("screen", __name__)


def kiosk_mode() -> bool:
    return from_touchscreen(current_app.config, request.remote_addr)


@bp.app_context_processor
def screen_context():
    return {
        "kiosk_mode": kiosk_mode(),
        "can_print_direct": bool(current_app.config["PRINTER"]),
        # Anything of a visitor's that the idle reset must clear (each feature declares its keys).
        "visit_in_session": any(key in session for key in services().registry.session_keys),
        "return_address": return_address,
    }


@bp.after_app_request
def no_store_on_the_touchscreen(response):
    # The next person must not bring back the last one's page with the back gesture.
    if kiosk_mode() and response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response


def return_address() -> str:
    """This page, for the language switch to come back to, written as _safe_next accepts it
    (a path may hold letters beyond ASCII; a query only where the page declares it keeps one)."""
    here = quote(request.path)
    if request.endpoint in services().registry.keeps_query and request.query_string:
        here += "?" + quote(request.query_string.decode("latin-1"), safe="=&%+")
    return here


def _safe_next(target: str | None) -> str:
    """Only a page of this kiosk, written plainly: never an absolute URL (no open redirect),
    never a character a browser drops or a header cannot hold (browsers drop a tab, which turns
    "/<tab>/host" into "//host", another host). Our own forms never send such a thing, so it is
    refused (400); a page that cannot be opened again (a form's answer, an address too long to
    keep) leads to the start."""
    home = url_for(services().registry.home)
    if not target or len(target) > 2000:  # a page's own address can be long (a long 404 path)
        return home
    if not target.startswith("/") or target.startswith("//"):
        abort(400)
    if any(not "!" <= ch <= "~" or ch == "\\" for ch in target):
        abort(400)
    try:
        current_app.url_map.bind("kiosk").match(urlsplit(target).path, method="GET")
    except HTTPException:  # no such page (or not one to open)
        return home
    return target


def from_another_site() -> bool:
    """Whether this request may have been sent by a page of another origin. Browsers send Origin
    with every POST: our own pages send this kiosk's (Referrer-Policy same-origin, security.py),
    while a page elsewhere sends its own or "null" (what a no-referrer page sends). Sec-Fetch-Site
    comes only to localhost and HTTPS. A request with neither (old browsers, scripts) passes."""
    if request.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site"):
        return True
    origin = request.headers.get("Origin")
    return origin is not None and origin.lower() != f"{request.scheme}://{request.host}".lower()


@bp.post("/lang")
def choose_language():
    # Exempt from the factory's CSRF check, so that people who only read choose a language
    # without a cookie first (promise 3: the cookie appears once they pick one). Instead: a
    # request from another site changes nothing and starts no session (its page cannot end
    # coordinator mode by replacing the cookie a SameSite browser kept from it), and one that
    # carries a session needs that session's token, as every other form does (_lang.html).
    if from_another_site():
        abort(403)
    if session:
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError as refused:
            raise CSRFError(refused.args[0]) from None
    lang = request.form.get("lang", "")
    target = _safe_next(request.form.get("next"))  # first: nothing is kept from a refused request
    if lang in setting("LANGUAGES"):
        session["lang"] = lang
    return redirect(target, code=303)


@bp.post("/reset")
def reset():
    """The idle reset: forget everything this browser's session knew, back to the start.
    Whatever a session value names (a handed-over code, an unlocked ticket or coordinator)
    is forgotten on the server too."""
    svc = services()
    for value in session.values():
        key = value.get("key") if isinstance(value, dict) else value
        if isinstance(key, str) and key:
            svc.handoff.forget(key)
            svc.unlocks.lock(key)
            svc.coord_unlocks.lock(key)
    session.clear()
    return redirect(url_for(services().registry.home), code=303)


@bp.get("/flyer")
def flyer():
    offered = setting("LANGUAGES")
    wanted = [lang for lang in request.args.get("lang", "").split(",") if lang in offered]
    langs = wanted or offered
    public_url, ssid = setting("PUBLIC_URL"), setting("WIFI_SSID")
    blocks = []
    for lang in langs:
        with force_locale(lang):
            blocks.append(
                {
                    "lang": lang,
                    "dir": "rtl" if lang == "ar" else "ltr",
                    "headline": _("Need something? Can offer something?"),
                    "steps": [
                        _("1. Join the Wi-Fi “%(ssid)s” (scan the code on the right).", ssid=ssid)
                        if ssid
                        else _("1. Join the community center's Wi-Fi."),
                        _("2. Scan the board's code, or open %(url)s.", url=public_url + "/board"),
                        _("3. Post a need or an offer: no name, no phone number. Keep your ticket."),
                    ],
                    "labels": (_("The board"), _("The Wi-Fi")),
                }
            )
    wifi_qr = Markup(qr.inline_svg(qr.wifi_payload(ssid, setting("WIFI_PASSWORD")), cache=False)) if ssid else None
    return render_template("flyer.html", blocks=blocks, board_qr=Markup(qr.inline_svg(public_url + "/board")),
                           board_url=public_url + "/board", wifi_qr=wifi_qr, ssid=ssid, chosen=langs)


@bp.get("/healthz")
def healthz():
    from .. import __version__

    store = services().store
    return jsonify(
        status="degraded" if store.damaged or store.frozen else "ok",
        version=__version__,
        kiosk=store.kiosk_id,
        live_posts=store.count_live(),
        archived_posts=store.count_archived(),
        unreadable_months=sorted(store.damaged),
        clock="suspect" if services().clock.suspect else "ok",
    )


# Phones that join the kiosk's Wi-Fi ask these addresses whether they are online; answering
# with a redirect makes them open the kiosk's start page, as a hotel Wi-Fi would (DNS on the
# Pi sends every name here; see deploy/network).
CAPTIVE_CHECKS = ("/generate_204", "/gen_204", "/hotspot-detect.html", "/library/test/success.html",
                  "/connecttest.txt", "/ncsi.txt", "/redirect", "/success.txt", "/canonical.html")


def captive_portal():
    return redirect(setting("PUBLIC_URL") + "/", code=302)


for _path in CAPTIVE_CHECKS:
    bp.add_url_rule(_path, f"captive_{_path.strip('/').replace('/', '_').replace('.', '_')}", captive_portal)
