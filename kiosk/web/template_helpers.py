"""What every template may use: the language and its direction, settings, categories, the
menus and panels features declare, and filters for numbers, dates and "3 days ago"."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask_babel import format_date, format_datetime, format_number, format_timedelta, get_locale, gettext
from markupsafe import Markup, escape

from .. import __version__
from ..core import config as config_module
from ..core import counts
from ..core.times import parse_iso
from .helpers import fewer_than
from .services import services
from .settings import categories, category_names, setting

RTL_LANGUAGES = {"ar", "fa", "he", "ur"}


def text_direction(lang: str | None) -> str:
    return "rtl" if lang in RTL_LANGUAGES else "ltr"


def _panels(registry, attribute: str, **context) -> list[tuple[str, dict]]:
    """The panels features declare, each with its data, for ``{% include %}``."""
    return [(panel.template, panel.data(**context)) for panel in registry.ordered(attribute)]


def _category_namer(store, lang: str):
    """``category_name(slug)``: the category's name for the page, as markup; a name shown in
    another language than the page's (nobody gave it one in this language) carries its
    ``lang`` and ``dir``, so a screen reader reads it right."""
    names = category_names(store, lang, include_retired=True)

    def category_name(slug: str) -> Markup:
        name, other = names.get(slug, (slug, None))
        if other is None:
            return escape(name)
        return Markup('<span lang="{0}" dir="{1}">{2}</span>').format(other, text_direction(other), name)

    return category_name


def register_template_helpers(app: Flask, registry) -> None:
    app.jinja_env.globals.update(
        kiosk_version=__version__,
        setting=setting,
        shown=counts.shown,
        text_direction=text_direction,
        fewer_than=fewer_than,
        start_panels=lambda: _panels(registry, "start_panels"),
        queue_panels=lambda: _panels(registry, "queue_panels"),
        stats_panels=lambda **context: _panels(registry, "stats_panels", **context),
        home=registry.home,
        coordinator_lock=registry.lock,
        header_links=lambda: registry.ordered("header_links"),
        footer_links=lambda: registry.ordered("footer_links"),
        programs=lambda: registry.ordered("programs"),
        coordinator_links=lambda: registry.ordered("coordinator_links"),
    )

    @app.context_processor
    def language():
        lang = str(get_locale())
        store = services().store
        return {
            "current_lang": lang,
            "text_dir": text_direction(lang),
            "language_names": {code: config_module.KNOWN_LANGUAGES[code] for code in setting("LANGUAGES")},
            "all_language_names": config_module.KNOWN_LANGUAGES,
            # Categories follow the settings: offered ones, and every name for display.
            "CATEGORIES": categories(store, lang=lang),
            "CATEGORY_LABELS": categories(store, include_retired=True, lang=lang),
            "category_name": _category_namer(store, lang),
        }

    @app.template_filter("number")
    def number(value) -> str:
        return format_number(value)

    @app.template_filter("day")
    def day(value: str) -> str:
        try:
            moment = dt.date.fromisoformat(value[:10])
        except (TypeError, ValueError):
            return value or ""
        return format_date(moment, "medium")

    @app.template_filter("moment")
    def moment(value) -> str:
        return format_datetime(value, "medium") if value else ""

    @app.template_filter("ago")
    def ago(value: str) -> str:
        try:
            delta = parse_iso(value) - services().clock.now()
        except (TypeError, ValueError):
            return ""
        # A clock that jumped backwards must not say "in 3 days" about the past.
        if delta.total_seconds() > -60:
            return gettext("just now")
        return format_timedelta(delta, granularity="minute", add_direction=True)
