"""Several kiosks, one board: each kiosk writes signed records of its changes into a folder of
its own that Syncthing sends (core/changelog.py), and applies the records it receives from the
others (inbox.py); a USB stick carries the same records to a kiosk with no link (stick.py).
Syncthing itself: syncthing.py (its REST API), setup.py (made safe and the kiosk's own),
loop.py (the pass `kiosk serve` runs in the background), status.py and doctor.py (what the
coordinators' page /coordinate/network, views.py, and `kiosk doctor` show).
Imports ``core`` and ``web`` only."""

from flask_babel import lazy_gettext as _l

from ..web.feature import Feature, Link, Setting, StickPart
from . import inbox, peers, schema, stick, views


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
        stick.AUDIT_ACTION: _l("applied the other kiosks' records from a USB stick"),
    },
    coordinator_links=(Link(85, "network.page", _l("Network"), current=("network.remove",)),),
    upkeep=upkeep,
    # Every export carries the records of every kiosk this one holds, so a stick is a link.
    exports=(stick.export_files,),
    stick_parts=(StickPart(name="network", label=stick.LABEL, hint=stick.HINT, found=stick.found,
                           preview=stick.preview, apply=stick.apply, carried=stick.CARRIED),),
)
