"""What the coordinators' page and `kiosk doctor` show of the network: this kiosk's device id,
each paired kiosk (last seen, connected, its records applied, waiting, set aside, files
Syncthing still has to bring), and the kiosks reached through them. Whatever Syncthing cannot
say (not running) is left out, with the reason; the records' counts come from inbox.py."""

from __future__ import annotations

import datetime as dt
import re

from ..core.store import Store
from ..core.times import iso
from . import inbox
from . import peers as peer_list
from .setup import devices_kiosks
from .syncthing import Client, SyncthingError, folder_id

NEVER = "1970-01-01"  # Syncthing's lastSeen for a device never seen


def _seen(value: str | None) -> str | None:
    """Syncthing's lastSeen as the kiosk's ISO time, None for never."""
    if not value or value.startswith(NEVER) or value.startswith("0001-"):
        return None
    # Go writes nanoseconds (2026-12-07T05:44:42.123456789+01:00): Python reads up to micro.
    cleaned = re.sub(r"(\.\d{6})\d+", r"\1", value.replace("Z", "+00:00"))
    try:
        return iso(dt.datetime.fromisoformat(cleaned))
    except ValueError:
        return None


def overview(store: Store, client: Client | None) -> dict:
    """{"error": message or None, "device": own id or None, "peers": [...], "others": [...]}."""
    result = {"error": None, "device": None, "peers": [], "others": []}
    live: dict = {}
    if client is not None:
        try:
            live = _ask(client)
            result["device"] = live["device"]
        except SyncthingError as exc:
            result["error"] = exc.message
    counts = {row["kiosk"]: row for row in inbox.peer_status(store)}
    kiosks = live.get("kiosks", {})
    for peer in peer_list.peers(store):
        device = peer["device"]
        kiosk = kiosks.get(device)
        result["peers"].append({
            **peer,
            "kiosk": kiosk,
            "last_seen": _seen(live.get("stats", {}).get(device, {}).get("lastSeen")),
            "connected": live.get("connections", {}).get(device, {}).get("connected") if live else None,
            "records": counts.pop(kiosk, None) if kiosk else None,
            "need_files": live.get("need", {}).get(kiosk) if kiosk else None,
        })
    for kiosk, row in sorted(counts.items()):  # reached through a paired kiosk, or from a stick
        result["others"].append({**row, "need_files": live.get("need", {}).get(kiosk)})
    return result


def _ask(client: Client) -> dict:
    device = client.my_id()
    folders = client.folders()
    need = {}
    for folder in folders:
        ident = folder.get("id", "")
        if ident.startswith("kiosk-") and folder.get("type") == "receiveonly":
            try:
                need[ident[len("kiosk-"):]] = client.folder_status(ident).get("needFiles")
            except SyncthingError:
                need[ident[len("kiosk-"):]] = None
    return {"device": device, "kiosks": devices_kiosks(folders), "stats": client.device_stats(),
            "connections": client.connections(), "need": need}


def own_folder_status(store: Store, client: Client) -> dict | None:
    try:
        return client.folder_status(folder_id(store.kiosk_id))
    except SyncthingError:
        return None
