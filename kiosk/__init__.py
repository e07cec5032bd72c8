"""Mutual Aid Kiosk: a privacy-first board of needs and offers on the local network."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from flask import Flask, render_template, request, session
from flask_babel import Babel
from flask_wtf.csrf import CSRFError, CSRFProtect

from . import config as config_module
from . import posts, replies, security, settings
from .clock import GuardedClock
from .handoff import TicketHandoff
from .pagecache import CachingMiddleware
from .services import Services, services
from .store import Store
from .throttle import GuessThrottle, RateLimit

__version__ = "0.1.0"

log = logging.getLogger("kiosk")
csrf = CSRFProtect()
babel = Babel()

UPKEEP_EVERY_SECONDS = 600


def _asset_folder(name: str) -> str:
    """templates/ and static/ sit beside the package in the source tree and inside it once
    installed from a wheel (pyproject.toml copies them in)."""
    here = Path(__file__).resolve().parent
    inside = here / name
    return str(inside if inside.is_dir() else here.parent / name)


def select_locale() -> str:
    languages = current_languages()
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def current_languages() -> list[str]:
    from flask import current_app

    return current_app.config["LANGUAGES"]


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=_asset_folder("templates"),
        static_folder=_asset_folder("static"),
    )
    app.config.update(config_module.FLASK_SETTINGS)
    app.config.update(config_module.DEFAULTS)
    config_module.load_env(app.config, os.environ)
    if test_config:
        app.config.update(test_config)
    config_module.check(app.config)

    store = Store(app.config["DATA_DIR"])
    app.config["SECRET_KEY"] = store.secret_key()
    settings.apply(app.config, store)
    app.extensions["kiosk"] = Services(
        store=store,
        throttle=GuessThrottle(
            app.config["GUESS_LIMIT"],
            app.config["GUESS_WINDOW_SECONDS"],
            app.config["GUESS_GLOBAL_LIMIT"],
        ),
        handoff=TicketHandoff(),
        clock=GuardedClock(store),
        reply_limit=RateLimit(app.config["REPLY_LIMIT_PER_HOUR"]),
        message_limit=RateLimit(app.config["MESSAGE_LIMIT_PER_HOUR"]),
        report_limit=RateLimit(app.config["REPORT_LIMIT_PER_HOUR"]),
        # Coordinators: 5 wrong passphrases per handle in 5 minutes, then doubling waits.
        coord_throttle=GuessThrottle(5, 300, 30, max_lock=900),
    )

    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    security.init_app(app)

    from .views import answers, coordinate, events, library, mine, posting, public, screen, survey

    app.register_blueprint(public.bp)
    app.register_blueprint(posting.bp)
    app.register_blueprint(mine.bp)
    app.register_blueprint(screen.bp)
    app.register_blueprint(answers.bp)
    app.register_blueprint(coordinate.bp)
    app.register_blueprint(library.bp)
    app.register_blueprint(events.bp)
    app.register_blueprint(survey.bp)

    app.jinja_env.globals.update(
        WHEN_CHOICES=posts.WHEN_CHOICES,
        STATUSES=posts.STATUSES,
        REPORT_REASONS=replies.REPORT_REASONS,
        REPLY_LIMITS=replies.LIMITS,
        LIMITS=posts.LIMITS,
        kiosk_version=__version__,
    )
    _register_errors(app)
    _register_template_helpers(app)

    @app.before_request
    def upkeep():
        svc = services()
        if svc.upkeep_is_due(UPKEEP_EVERY_SECONDS):
            try:
                run_upkeep(app)
            except OSError as exc:  # a full or read-only disk must not fail a reader's page
                log.error("upkeep could not write: %s", exc)
            finally:
                svc.upkeep_lock.release()

    # Readers' pages (board, posts) are served from a cache until the next write.
    app.wsgi_app = CachingMiddleware(app.wsgi_app, app, app.extensions["kiosk"].pages)

    with app.app_context():
        run_upkeep(app, max_months=1)  # bounded, so a big archive never slows the start
    app.extensions["kiosk"].upkeep_due = time.monotonic() + UPKEEP_EVERY_SECONDS
    return app


def run_upkeep(app: Flask, max_months: int = 3) -> None:
    """Expire old open posts and erase the text of long-closed ones (DESIGN promise 7)."""
    svc = app.extensions["kiosk"]
    now = svc.clock.now()
    svc.clock.save()
    if svc.clock.suspect:
        log.warning("the wall clock looks wrong (off by %ds); using the kiosk's own time", svc.clock.offset_seconds())
    expired = posts.expire_due(svc.store, now, app.config["EXPIRE_DAYS"])
    erased = posts.erase_old_text(svc.store, now, app.config["RETAIN_DAYS"], max_months)
    svc.store.trim()
    if expired or erased:
        log.info("upkeep: %d posts expired, %d closed posts erased", expired, erased)


RTL_LANGUAGES = {"ar", "fa", "he", "ur"}


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import format_date, format_number, format_timedelta, get_locale, gettext

    @app.context_processor
    def language():
        lang = str(get_locale())
        return {
            "current_lang": lang,
            "text_dir": "rtl" if lang in RTL_LANGUAGES else "ltr",
            "language_names": {code: config_module.KNOWN_LANGUAGES[code] for code in app.config["LANGUAGES"]},
            "all_language_names": config_module.KNOWN_LANGUAGES,
            # Categories follow the settings: offered ones, and every name for display.
            "CATEGORIES": settings.categories(app.config),
            "CATEGORY_LABELS": settings.categories(app.config, include_retired=True),
        }

    @app.template_filter("number")
    def number(value) -> str:
        return format_number(value)

    @app.template_filter("day")
    def day(value: str) -> str:
        import datetime as dt

        try:
            moment = dt.date.fromisoformat(value[:10])
        except (TypeError, ValueError):
            return value or ""
        return format_date(moment, "medium")

    @app.template_filter("moment")
    def moment(value) -> str:
        from flask_babel import format_datetime

        return format_datetime(value, "medium") if value else ""

    @app.template_filter("ago")
    def ago(value: str) -> str:
        try:
            delta = posts.parse_iso(value) - services().clock.now()
        except (TypeError, ValueError):
            return ""
        # A clock that jumped backwards must not say "in 3 days" about the past.
        if delta.total_seconds() > -60:
            return gettext("just now")
        return format_timedelta(delta, granularity="minute", add_direction=True)


def _register_errors(app: Flask) -> None:
    def page(status: int, title: str, message: str):
        return render_template("error.html", title=title, message=message), status

    from flask_babel import gettext as _

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return page(
            400,
            _("This form has expired"),
            _("Nothing was saved. Go back, reload the page and try again."),
        )

    @app.errorhandler(400)
    def bad_request(exc):
        return page(400, _("Something in that request was wrong"), _("Nothing was saved. Go back and try again."))

    @app.errorhandler(404)
    def not_found(exc):
        return page(404, _("Page not found"), _("Check the address, or start again from the start page."))

    @app.errorhandler(405)
    def not_allowed(exc):
        return page(405, _("That does not work here"), _("Use the buttons on the page instead."))

    @app.errorhandler(413)
    def too_large(exc):
        return page(
            413,
            _("That was too much text"),
            _("Nothing was saved. Shorten what you wrote and try again."),
        )

    @app.errorhandler(OSError)
    def disk_trouble(exc):
        # A full, read-only or failing disk: the write was refused and nothing on disk changed
        # (the store rolls its memory back), so say so plainly and keep serving reads.
        log.error("could not write to the data folder: %s", exc)
        return page(
            503,
            _("Sorry, this could not be saved"),
            _("The kiosk could not write to its storage. Nothing that was saved before is lost. Please tell a coordinator."),
        )

    @app.errorhandler(500)
    def server_error(exc):
        return page(500, _("Something went wrong"), _("Please try again in a moment. If it keeps happening, tell a coordinator."))
