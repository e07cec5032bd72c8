"""Several kiosks, one board: each kiosk writes signed records of its changes into a folder of
its own that Syncthing sends (core/changelog.py), and applies the records it receives from the
others (inbox.py). Imports ``core`` and ``web`` only."""

from ..web.feature import Feature, Setting
from . import inbox, schema

def upkeep(store, now, setting, max_months: int) -> None:
    """The kiosk's name as the other kiosks show it follows the setting."""
    if store.changes is not None:
        store.changes.rename(setting("NAME"))


FEATURE = Feature(
    name="network",
    upkeep=upkeep,
    settings=(Setting(inbox.INBOX, schema.Inbox), Setting(inbox.REFUSED, schema.Refusals)),
)
