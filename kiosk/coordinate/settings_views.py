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


def _settings_page(errors=None, values=None, status=200):
    store = services().store
    shown = values or {key: settings.setting(key) for key in settings.EDITABLE}
    return render_template(
        "coordinate/settings.html", values=shown, errors=errors or {},
        every_category=settings.categories(store, include_retired=True), retired=settings.retired(store),
        known_languages=config_module.KNOWN_LANGUAGES,
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
    action = request.form.get("action", "")
    try:
        slug = settings.change_category(services().store, action, request.form.get("slug", ""),
                                        request.form.get("label", ""))
    except Invalid as bad:
        return _settings_page(bad.errors, None, 422)
    audit("category", slug, action)
    return done(_("The categories are saved."), "coordinate.settings_page")
