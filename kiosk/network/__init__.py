"""Several kiosks, one board: each kiosk writes signed records of its changes into a folder of
its own that Syncthing sends (core/changelog.py), and applies the records it receives from the
others (inbox.py). Syncthing itself: syncthing.py (its REST API), setup.py (made safe and the
kiosk's own), loop.py (the pass `kiosk serve` runs in the background), status.py and doctor.py
(what the coordinators' page /coordinate/network, views.py, and `kiosk doctor` show).
Imports ``core`` and ``web`` only."""

from flask_babel import lazy_gettext as _l

from ..web.feature import Feature, Link, Setting
from . import inbox, peers, schema, views


def upkeep(store, now, setting, max_months: int) -> None:
    """The kiosk's name as the other kiosks show it follows the setting."""
    if store.changes is not None:
        store.changes.rename(setting("NAME"))


FEATURE = Feature(
    name="network",
    blueprints=(views.bp,),
    settings=(Setting(peers.PEERS, peers.Peers), Setting(inbox.INBOX, schema.Inbox),
              Setting(inbox.REFUSED, schema.Refusals)),
    private_endpoints=("network.*",),
    audit_actions={
        "add-peer": _l("paired with another kiosk"),
        "rename-peer": _l("renamed a paired kiosk"),
        "remove-peer": _l("unpaired another kiosk"),
        "accept-key": _l("accepted another kiosk's new key"),
    },
    coordinator_links=(Link(85, "network.page", _l("Network"), current=("network.remove",)),),
    upkeep=upkeep,
)
