"""The kiosks this one is paired with: a list in the store's settings, [{"device", "name",
"added", "address"}], which the network loop applies to Syncthing on every pass (setup.py).
Plain rules over the store: every bad input is refused with a message and stores nothing."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from msgspec import Meta

from ..core import text
from ..core.config import SYNC_ADDRESS
from ..core.errors import Refused
from ..core.schema import Iso, Record, Text
from ..core.store import Store
from ..core.times import iso
from . import syncthing

PEERS = "network_peers"  # the setting
MAX_PEERS = 50  # far more kiosks than one neighborhood runs, few enough for one page
NAME_LIMIT = 40
ADDRESS_LIMIT = 200
DEFAULT_PORT = 22000

DeviceId = Annotated[str, Meta(pattern=r"^[A-Z2-7]{7}(?:-[A-Z2-7]{7}){7}$")]


class Peer(Record):
    device: DeviceId
    name: Text(NAME_LIMIT)
    added: Iso
    # Where to reach it when broadcast cannot (a WireGuard tunnel, a routed link); "": found on the LAN.
    address: Text(ADDRESS_LIMIT) = ""


Peers = Annotated[list[Peer], Meta(max_length=MAX_PEERS)]


def peers(store: Store) -> list[dict]:
    found = store.get_meta(PEERS, [])
    return found if isinstance(found, list) else []


def find(store: Store, device: str) -> dict | None:
    return next((p for p in peers(store) if p["device"] == device), None)


def check_name(raw: str) -> str:
    name = text.normalize(raw or "")
    if not name or not text.visible(name):
        raise Refused(_l("Give the other kiosk a name, such as the name of its center."))
    if len(name) > NAME_LIMIT or text.unsafe(name):
        raise Refused(_l("A kiosk's name has at most %(n)d characters, on one line.", n=NAME_LIMIT))
    return name


def check_address(raw: str) -> str:
    """"" (found by broadcast on the LAN), or tcp://host:port; a bare host gets tcp:// and 22000."""
    address = text.normalize(raw or "")
    if not address:
        return ""
    if "://" not in address:
        address = "tcp://" + address
    try:
        parts = urlsplit(address)
        if parts.port is None:
            address = f"{address}:{DEFAULT_PORT}"
    except ValueError:  # a port that is no number
        address = ""
    if len(address) > ADDRESS_LIMIT or not SYNC_ADDRESS.match(address) or not urlsplit(address).hostname:
        raise Refused(_l("Write the other kiosk's address like 10.8.0.2 or tcp://10.8.0.2:22000, or leave it empty."))
    return address


def check_device(raw: str, own_device: str | None, store: Store, checked: str | None = None) -> str:
    """The device id, written as Syncthing writes it, or Refused with what is wrong.
    ``checked``: Syncthing's own reading when it answered (it has the last word)."""
    device = syncthing.normalize_device_id(raw)
    if device is None or (checked is not None and checked != device):
        raise Refused(_l("That is not a device id. Copy it from the other kiosk's network page: "
                         "8 groups of 7 letters and digits."))
    if own_device and device == own_device:
        raise Refused(_l("That is this kiosk's own device id: type the other kiosk's."))
    already = find(store, device)
    if already is not None:
        raise Refused(_l("That kiosk is already paired, as %(name)s.", name=already["name"]))
    return device


def add(store: Store, device: str, name: str, now: dt.datetime, address: str = "") -> dict:
    """``device`` as check_device returned it."""
    listed = peers(store)
    if len(listed) >= MAX_PEERS:
        raise Refused(_l("This kiosk is paired with %(n)d kiosks already, the most it takes.", n=MAX_PEERS))
    peer = {"device": device, "name": check_name(name), "added": iso(now), "address": check_address(address)}
    store.set_meta(PEERS, [*listed, peer])
    return peer


def rename(store: Store, device: str, name: str, address: str | None = None) -> dict:
    found = find(store, device)
    if found is None:
        raise Refused(_l("That kiosk is not paired with this one (any more)."))
    changed = {**found, "name": check_name(name)}
    if address is not None:
        changed["address"] = check_address(address)
    store.set_meta(PEERS, [changed if p["device"] == device else p for p in peers(store)])
    return changed


def remove(store: Store, device: str) -> dict:
    found = find(store, device)
    if found is None:
        raise Refused(_l("That kiosk is not paired with this one (any more)."))
    store.set_meta(PEERS, [p for p in peers(store) if p["device"] != device])
    return found
