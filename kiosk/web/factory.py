"""The application factory: settings, the store and the long-lived services, then every
feature's declared pieces (web/feature.py), error pages and template helpers."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from flask import Flask, render_template, request, session
from flask_babel import Babel
from flask_wtf.csrf import CSRFError, CSRFProtect

from ..core import config as config_module
from ..core import staging
from ..core.clock import GuardedClock
from ..core.errors import DataDamaged, StoreError
from ..core.store import Store
from . import security
from .budget import OverBudget, make_budgets, over_budget_page
from .feature import Registry, discover
from .pagecache import CachingMiddleware
from .screen import choose_language
from .services import Services, services
from .sealing import seal_plain
from .settings import setting
from .template_helpers import register_template_helpers
from .throttle import GuessLimits, GuessThrottle, RateLimit

log = logging.getLogger("kiosk")
csrf = CSRFProtect()
babel = Babel()

UPKEEP_EVERY_SECONDS = 600
COORDINATOR_GUESSES = GuessLimits(burst=3, per_client=10, overall=60)  # passphrases, per minute/hour/hour
HERE = Path(__file__).resolve().parent


def select_locale() -> str:
    languages = setting("LANGUAGES")
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def _services(app: Flask, store: Store, registry: Registry) -> Services:
    config = app.config
    return Services(
        store=store,
        registry=registry,
        throttle=GuessThrottle(GuessLimits(config["GUESS_PER_MINUTE"], config["GUESS_PER_HOUR"],
                                           config["GUESS_OVERALL_PER_HOUR"])),
        # Passphrases: the same shape, tighter (a team is a handful of people who rarely mistype
        # twice); a flood from the Wi-Fi still leaves the touchscreen to unlock at.
        coord_throttle=GuessThrottle(COORDINATOR_GUESSES),
        clock=GuardedClock(store),
        limits={name: RateLimit(config[key]) for name, key in registry.limits.items()},
        budgets=make_budgets(config["WRITE_BUDGET_SCALE"]),
    )


def create_app(test_config: dict | None = None, features=None) -> Flask:
    """``features``: the declarations to build from (default: every feature package)."""
    app = Flask("kiosk", template_folder=str(HERE / "templates"), static_folder=str(HERE / "static"),
                root_path=str(HERE))
    app.config.update(config_module.FLASK_SETTINGS)
    app.config.update(config_module.DEFAULTS)
    config_module.load_env(app.config, os.environ)
    if test_config:
        app.config.update(test_config)
    config_module.check(app.config)

    registry = Registry(discover() if features is None else features)
    store = Store(app.config["DATA_DIR"], schema=registry.schema)
    app.config["SECRET_KEY"] = store.secret_key()
    try:
        _build(app, store, registry)
    except BaseException:
        store.close()  # a start that fails must not keep the data folder locked
        raise

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
    if app.config["PAGE_CACHE"]:
        app.wsgi_app = CachingMiddleware(app.wsgi_app, app, app.extensions["kiosk"].pages)

    # Months whose files had not changed were trusted at start (a quick start); check them now.
    threading.Thread(target=store.check_trusted_months, name="check-months", daemon=True).start()
    with app.app_context():
        run_upkeep(app, max_months=1)  # bounded, so a big archive never slows the start
    app.extensions["kiosk"].upkeep_due = time.monotonic() + UPKEEP_EVERY_SECONDS
    return app


def _build(app: Flask, store: Store, registry: Registry) -> None:
    """Services, extensions, every feature's blueprints and the checks of their declarations."""
    app.extensions["kiosk"] = _services(app, store, registry)

    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(HERE.parent / "translations"))
    security.init_app(app, registry, lambda: setting("PUBLIC_URL"))
    for feature in registry.features:
        for blueprint in feature.blueprints:
            app.register_blueprint(blueprint)
    csrf.exempt(choose_language)
    registry.check_endpoints(app.view_functions)
    if app.config.get("TESTING"):
        _check_declared(app, registry, store)
    register_errors(app)
    app.register_error_handler(OverBudget, over_budget_page)
    register_template_helpers(app, registry)
    # Text an older version stored in plain is sealed before anyone is served (promise 8); a
    # failure here, like any failed start, leaves the data folder unlocked.
    app.extensions["kiosk"].sealed_at_start = seal_plain(store, registry)



def _check_declared(app: Flask, registry: Registry, store: Store) -> None:
    """Under test, every request checks that the session and the live file hold only what
    features declare: an undeclared session key would escape the idle reset's notice, and an
    undeclared table would be left out of backups."""
    quiet = {"csrf_token", "_permanent"}  # Flask-WTF's and Flask's own

    @app.after_request
    def declared_only(response):
        keys = set(session) - quiet - set(registry.session_keys)
        tables = store.table_names() - {"posts", "meta"} - set(registry.tables)
        if keys or tables:
            raise RuntimeError(f"undeclared session keys {sorted(keys)} or tables {sorted(tables)}: "
                               "declare them in the feature's FEATURE")
        return response


def run_upkeep(app: Flask, max_months: int = 3) -> None:
    """Save the kiosk's time, then each feature's upkeep (expiry, erasing old text: promise 7)."""
    svc = app.extensions["kiosk"]
    now = svc.clock.now()
    svc.clock.save()
    if svc.clock.suspect:
        log.warning("the wall clock looks wrong (off by %ds); using the kiosk's own time", svc.clock.offset_seconds())
    with app.app_context():
        for upkeep in svc.registry.upkeep:
            upkeep(svc.store, now, setting, max_months)
        if staging.prune_kept(svc.store.data_dir, now.timestamp(), setting("RETAIN_DAYS")):
            log.info("upkeep: copies kept before a restore or merge, older than the retention period, removed")
    svc.store.trim()


def register_errors(app: Flask) -> None:
    def page(status: int, title: str, message: str):
        return render_template("error.html", title=title, message=message), status

    from flask_babel import gettext as _

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return page(400, _("This form has expired"), _("Nothing was saved. Go back, reload the page and try again."))

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
        return page(413, _("That was too much text"), _("Nothing was saved. Shorten what you wrote and try again."))

    @app.errorhandler(OSError)
    def disk_trouble(exc):
        # A full, read-only or failing disk: the write was refused and nothing on disk changed
        # (the store rolls its memory back), so say so plainly and keep serving reads.
        log.error("could not write to the data folder: %s", exc)
        return page(503, _("Sorry, this could not be saved"),
                    _("The kiosk could not write to its storage. Nothing that was saved before is lost. Please tell a coordinator."))

    @app.errorhandler(StoreError)
    def not_stored(exc):
        # The store refused the write (frozen after a restore that could not finish, a table
        # full): nothing was saved.
        log.error("%s", exc)
        return page(503, _("Sorry, this could not be saved"),
                    _("The kiosk could not write to its storage. Nothing that was saved before is lost. Please tell a coordinator."))

    @app.errorhandler(DataDamaged)
    def damaged_data(exc):
        # A data file went bad while the kiosk ran: /healthz and kiosk doctor name it.
        log.error("%s", exc)
        return page(503, _("Part of the kiosk's records cannot be read"),
                    _("Nothing was changed. Please tell a coordinator: the command kiosk doctor says how to mend it."))

    @app.errorhandler(500)
    def server_error(exc):
        return page(500, _("Something went wrong"), _("Please try again in a moment. If it keeps happening, tell a coordinator."))
