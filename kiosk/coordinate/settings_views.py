"""The settings screen: the kiosk's name, address, Wi-Fi, periods, languages and categories,
held in the store (web/settings.py) and in force at once."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _

from ..core import config as config_module
from ..core.errors import Invalid
from ..web import settings
from ..web.audit import audit
from ..web.services import services
from .views import bp, done


def _settings_page(errors=None, values=None, status=200, typed=None):
    """``typed``: a category form sent back with its mistakes (its slug, "" for a new one, and
    the names as typed), shown open with what was typed."""
    store = services().store
    shown = values or {key: settings.setting(key) for key in settings.EDITABLE}
    languages = settings.offered_languages(store)
    names = settings.label_fields(store, languages)
    if typed:
        names[typed[0]] = {**names.get(typed[0], {}), **typed[1]}
    return render_template(
        "coordinate/settings.html", values=shown, errors=errors or {},
        every_category=settings.categories(store, include_retired=True), retired=settings.retired(store),
        known_languages=config_module.KNOWN_LANGUAGES, category_languages=languages, label_values=names,
        open_category=typed[0] if typed else None,
    ), status


@bp.route("/settings", methods=["GET", "POST"])
def settings_page():
    if request.method == "GET":
        return _settings_page()
    try:
        values = settings.check_general(request.form)
    except Invalid as bad:
        shown = {key: request.form.get(key, "") for key in settings.EDITABLE}
        shown["LANGUAGES"] = request.form.getlist("LANGUAGES")
        return _settings_page(bad.errors, shown, 422)
    changed = settings.save_general(services().store, values)
    if changed:
        audit("settings", ", ".join(sorted(changed)), "; ".join(f"{k}={v}" for k, v in sorted(changed.items())))
    return done(_("The settings are saved."), "coordinate.settings_page")


@bp.post("/settings/category")
def category():
    action, slug = request.form.get("action", ""), request.form.get("slug", "")
    try:
        slug = settings.change_category(services().store, action, slug, request.form)
    except Invalid as bad:
        typed = ("" if action == "add" else slug, bad.values) if action in ("add", "rename") else None
        return _settings_page(bad.errors, None, 422, typed)
    audit("category", slug, action)
    return done(_("The categories are saved."), "coordinate.settings_page")
