"""Several kiosks, one board: each kiosk writes signed records of its changes into a folder of
its own that Syncthing sends (core/changelog.py), and applies the records it receives from the
others (inbox.py); a USB stick carries the same records to a kiosk with no link (stick.py).
Imports ``core`` and ``web`` only."""

from flask_babel import lazy_gettext as _l

from ..web.feature import Feature, Setting, StickPart
from . import inbox, schema, stick

def upkeep(store, now, setting, max_months: int) -> None:
    """The kiosk's name as the other kiosks show it follows the setting."""
    if store.changes is not None:
        store.changes.rename(setting("NAME"))


FEATURE = Feature(
    name="network",
    upkeep=upkeep,
    settings=(Setting(inbox.INBOX, schema.Inbox), Setting(inbox.REFUSED, schema.Refusals)),
    # Every export carries the records of every kiosk this one holds, so a stick is a link.
    exports=(stick.export_files,),
    stick_parts=(StickPart(name="network", label=stick.LABEL, hint=stick.HINT, found=stick.found,
                           preview=stick.preview, apply=stick.apply, carried=stick.CARRIED),),
    audit_actions={stick.AUDIT_ACTION: _l("applied the other kiosks' records from a USB stick")},
)
