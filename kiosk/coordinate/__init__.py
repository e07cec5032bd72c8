"""Coordinator mode: unlock and lock, the queue (built from the panels features declare), the
audit trail, the settings, the team, the clock, and the USB stick (export, restore, merge).

Views in views.py, settings_views.py and usb_views.py, on one blueprint; templates in
``templates/coordinate/``. Imports ``core`` and ``web`` only."""

from flask_babel import lazy_gettext as _l

from ..web.feature import Feature, Link
from . import settings_views, usb_views, views  # noqa: F401  (both add their pages to views.bp)

FEATURE = Feature(
    name="coordinate",
    blueprints=(views.bp,),
    private_endpoints=("coordinate.*",),
    session_keys=(usb_views.IMPORT_KEY,),
    audit_actions={
        "unlock": _l("unlocked coordinator mode"),
        "lock": _l("locked coordinator mode"),
        "settings": _l("changed the settings"),
        "category": _l("changed a category"),
        "add-coordinator": _l("added a coordinator"),
        "remove-coordinator": _l("removed a coordinator"),
        "export": _l("exported the data"),
        "restore-backup": _l("restored a backup"),
        "merge": _l("merged another kiosk's posts"),
        "clock": _l("set the kiosk's clock"),
    },
    unlock="coordinate.home",
    lock="coordinate.lock",
    footer_links=(Link(30, "coordinate.home", _l("Coordinators")),),
    coordinator_links=(
        Link(10, "coordinate.home", _l("Queue")),
        Link(55, "coordinate.log", _l("Log")),
        Link(80, "coordinate.settings_page", _l("Settings")),
        Link(90, "coordinate.export", _l("USB stick"), current=("coordinate.import_page", "coordinate.export_status")),
        Link(100, "coordinate.clock", _l("Clock")),
        Link(110, "coordinate.team", _l("Team")),
    ),
)
