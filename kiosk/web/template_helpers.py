"""What every template may use: the language and its direction, settings, categories, the
menus and panels features declare, and filters for numbers, dates and "3 days ago"."""

from __future__ import annotations

import datetime as dt
import re

from flask import Flask
from flask_babel import format_date, format_datetime, format_number, format_time, format_timedelta, get_locale, gettext
from markupsafe import Markup, escape

from .. import __version__
from ..core import aliases, counts
from ..core import config as config_module
from ..core.times import parse_iso
from .helpers import fewer_than
from .services import services
from .settings import category_names, retired, setting

RTL_LANGUAGES = {"ar", "fa", "he", "ur"}
DATE = re.compile(r"(\d{4}-\d{2}(?:-\d{2})?)")


def text_direction(lang: str | None) -> str:
    return "rtl" if lang in RTL_LANGUAGES else "ltr"


def _panels(registry, attribute: str, **context) -> list[tuple[str, dict]]:
    """The panels features declare, each with its data, for ``{% include %}``."""
    return [(panel.template, panel.data(**context)) for panel in registry.ordered(attribute)]


def alias(item) -> str:
    """A post's or a reply's pseudonym in the page's language (core/aliases.py)."""
    return aliases.alias_text(item, str(get_locale()))


def code_dir(code: str) -> str:
    """A ticket code's direction: right-to-left for Arabic words, so that a reader meets the
    number first and then the words in the order they are typed."""
    return "rtl" if any("\u0600" <= c <= "\u06ff" for c in code or "") else "ltr"


def _category_namer(names: dict):
    """``category_name(slug)``: the category's name for the page, as markup; a name shown in
    another language than the page's (nobody gave it one in this language) carries its
    ``lang`` and ``dir``, so a screen reader reads it right."""

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
        names = category_names(store, lang, include_retired=True)  # once a page, for all three below
        gone = retired(store)
        return {
            "current_lang": lang,
            "text_dir": text_direction(lang),
            "language_names": {code: config_module.KNOWN_LANGUAGES[code] for code in setting("LANGUAGES")},
            "all_language_names": config_module.KNOWN_LANGUAGES,
            # Categories follow the settings: offered ones, and every name for display.
            "CATEGORIES": {slug: name for slug, (name, _) in names.items() if slug not in gone},
            "CATEGORY_LABELS": {slug: name for slug, (name, _) in names.items()},
            "category_name": _category_namer(names),
            "this_kiosk": store.kiosk_id,  # posts from another kiosk of the network show their home's name
        }

    app.add_template_filter(alias)
    app.add_template_filter(code_dir)

    @app.template_filter("number")
    def number(value) -> str:
        return format_number(value)

    app.add_template_filter(day, "day")
    @app.template_filter("moment")
    def moment(value) -> str:
        # Worded as the gatherings are ("Saturday, December 12, 2026, 10:00"): no seconds, one
        # style for the meeting line and the gatherings listed under it.
        if not value:
            return ""
        return f"{format_date(value, 'full')}, {format_time(value, 'short')}"

    app.add_template_filter(ago, "ago")
    app.add_template_filter(whole_dates, "whole_dates")


def day(value: str) -> str:
    try:
        moment = dt.date.fromisoformat(value[:10])
    except (TypeError, ValueError):
        return value or ""
    return format_date(moment, "medium")


def ago(value: str) -> Markup:
    """"3 days ago" in a <time> whose tooltip is the full date and time: the one wording of
    a post's age, on the board, the post's page and the replies alike."""
    try:
        when = parse_iso(value)
        delta = when - services().clock.now()
    except (TypeError, ValueError):
        return Markup("")
    # A clock that jumped backwards must not say "in 3 days" about the past.
    if delta.total_seconds() > -60:
        text = gettext("just now")
    else:
        text = format_timedelta(delta, granularity="minute", add_direction=True)
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        when.isoformat(), format_datetime(when, "medium"), text)


def whole_dates(value: str) -> Markup:
    """Text whose dates (2026-12-21) never break at their hyphens at a line's end."""
    parts = DATE.split(str(value))
    return Markup("").join(Markup('<span class="nowrap">{}</span>').format(p) if i % 2 else p
                           for i, p in enumerate(parts))
