"""This machine's Syncthing, made safe and the kiosk's own: plain functions that the
coordinators' page and the network loop (loop.py) call. Each pass re-applies the whole wanted
state and writes only what differs (Syncthing saves its config on every change, on an SD card),
so a Syncthing whose config was reset is repaired by the next pass.

Folders (SPEC: the fixed layout): this kiosk's records go out from <data>/network/outbox as the
send-only folder "kiosk-<kiosk id>"; a paired kiosk's folder arrives receive-only in
<data>/network/peers/<its kiosk id>. Every folder is shared with every paired kiosk, so a kiosk
paired with one member of a network receives the whole network's records (a mesh grows without
each pair of coordinators meeting): the records are signed, so who relays them does not matter."""

from __future__ import annotations

from pathlib import Path

from ..core.store import Store
from . import peers as peer_list
from .syncthing import Client, folder_id, kiosk_of_folder, normalize_device_id

OUTBOX = Path("network") / "outbox"
PEERS_DIR = Path("network") / "peers"


def wanted_options(config) -> dict:
    """Nothing leaves the network: no global discovery, relays, NAT traversal, usage or crash
    reports, upgrades; LAN broadcast discovery as configured; listening where configured."""
    local = bool(config.get("SYNC_LOCAL_DISCOVERY", True))
    listen = [a for a in str(config.get("SYNC_LISTEN") or "tcp://0.0.0.0:22000").split(",") if a]
    return {
        "globalAnnounceEnabled": False,
        "relaysEnabled": False,
        "natEnabled": False,
        "urAccepted": -1,
        "crashReportingEnabled": False,
        "autoUpgradeIntervalH": 0,
        "startBrowser": False,
        "localAnnounceEnabled": local,
        "announceLANAddresses": local,
        "listenAddresses": listen,
    }


def outbox(store: Store) -> Path:
    return store.data_dir / OUTBOX


def peer_folder(store: Store, kiosk_id: str) -> Path:
    return store.data_dir / PEERS_DIR / kiosk_id


def configure(store: Store, client: Client, config, name: str = "") -> dict:
    """One pass: options, the GUI kept on this machine, the paired devices, this kiosk's
    folder, folders offered by paired kiosks accepted, every folder shared with every peer.
    Raises SyncthingError when Syncthing does not answer or refuses."""
    own = client.my_id()
    _options(client, config)
    _gui(client)
    listed = peer_list.peers(store)
    _devices(client, listed, own)
    folders = {f["id"]: f for f in client.folders()}
    devices = [own, *(p["device"] for p in listed)]
    _own_folder(client, store, folders, devices, own, name)
    accepted = _accept_offers(client, store, folders, devices)
    _share_everything(client, store, folders, devices)
    return {"device": own, "accepted": accepted}


def _options(client: Client, config) -> None:
    current = client.options()
    changes = {k: v for k, v in wanted_options(config).items() if current.get(k) != v}
    if changes:
        client.patch_options(changes)


def _gui(client: Client) -> None:
    gui = client.gui()
    changes = {}
    if gui.get("insecureAdminAccess"):
        changes["insecureAdminAccess"] = False
    host = str(gui.get("address", "")).rsplit(":", 1)[0].strip("[]")
    if not (host.startswith("127.") or host in ("localhost", "::1")):
        # Reachable from the network: back onto this machine (the kiosk talks to it there).
        changes["address"] = client.url.split("://", 1)[1]
    if changes:
        client.patch_gui(changes)


def _devices(client: Client, listed: list[dict], own: str) -> None:
    current = {d["deviceID"]: d for d in client.devices()}
    for peer in listed:
        wanted = {"deviceID": peer["device"], "name": peer["name"],
                  "addresses": [peer["address"]] if peer.get("address") else ["dynamic"],
                  "introducer": False, "autoAcceptFolders": False, "paused": False}
        found = current.get(peer["device"])
        if found is None or any(found.get(k) != v for k, v in wanted.items()):
            client.put_device({**(found or {}), **wanted})
    keep = {own, *(p["device"] for p in listed)}
    for device in current:
        if device not in keep:  # unpaired on the page, or added by hand: Syncthing is the kiosk's
            remove_device(client, device)


def remove_device(client: Client, device: str) -> None:
    """Unshare every folder with ``device``, then forget it (records already applied stay)."""
    for folder in client.folders():
        kept = [d for d in folder.get("devices", []) if d.get("deviceID") != device]
        if len(kept) != len(folder.get("devices", [])):
            client.put_folder({**folder, "devices": kept})
    client.delete_device(device)


def _folder(store: Store, ident: str, path: Path, kind: str, devices: list[str], label: str) -> dict:
    path.mkdir(parents=True, exist_ok=True)
    return {"id": ident, "label": label, "path": str(path), "type": kind,
            "devices": [{"deviceID": d} for d in devices],
            # Records should travel within seconds; the rescan catches what the watcher missed
            # (a Pi's inotify limits).
            "fsWatcherEnabled": True, "fsWatcherDelayS": 1, "rescanIntervalS": 60, "paused": False}


def _put_if_changed(client: Client, current: dict | None, wanted: dict) -> dict:
    def differs(key):
        if key == "devices":
            return {d["deviceID"] for d in (current or {}).get("devices", [])} != {d["deviceID"] for d in wanted[key]}
        return (current or {}).get(key) != wanted[key]

    if current is None or any(differs(k) for k in wanted):
        keep = {d["deviceID"]: d for d in (current or {}).get("devices", [])}
        wanted = {**wanted, "devices": [keep.get(d["deviceID"], d) for d in wanted["devices"]]}
        client.put_folder({**(current or {}), **wanted})
        return wanted
    return current


def _own_folder(client, store, folders, devices, own, name) -> None:
    ident = folder_id(store.kiosk_id)
    # The label carries this kiosk's device id, so that every kiosk can tell which device a
    # kiosk id belongs to (it travels with the folder's offer).
    wanted = _folder(store, ident, outbox(store), "sendonly", devices, own)
    folders[ident] = _put_if_changed(client, folders.get(ident), wanted)
    # A restore that brought another kiosk's identity leaves the old identity's folder on the
    # same outbox: it would send this kiosk's records under a name that is no longer its own.
    for other, folder in list(folders.items()):
        if other != ident and folder.get("type") == "sendonly" and kiosk_of_folder(other) is not None:
            client.delete_folder(other)
            folders.pop(other)


def _accept_offers(client, store, folders, devices) -> list[str]:
    """Folders that paired kiosks offer, named kiosk-<id>, not this kiosk's own: received
    read-only into <data>/network/peers/<id>. Anything else offered is ignored."""
    accepted = []
    paired = set(devices[1:])
    for ident, offer in sorted(client.pending_folders().items()):
        kiosk = kiosk_of_folder(ident)
        offered_by = {d: info for d, info in (offer.get("offeredBy") or {}).items() if d in paired}
        if kiosk is None or kiosk == store.kiosk_id or not offered_by or ident in folders:
            continue
        labels = [normalize_device_id(info.get("label", "")) for info in offered_by.values()]
        label = next((found for found in labels if found), "")
        wanted = _folder(store, ident, peer_folder(store, kiosk), "receiveonly", devices, label)
        folders[ident] = _put_if_changed(client, None, wanted)
        accepted.append(kiosk)
    return accepted


def _share_everything(client, store, folders, devices) -> None:
    for ident, current in list(folders.items()):
        kiosk = kiosk_of_folder(ident)
        if kiosk is None or kiosk == store.kiosk_id:
            continue  # not the kiosk's: left as it is
        wanted = _folder(store, ident, peer_folder(store, kiosk), "receiveonly", devices, current.get("label", ""))
        folders[ident] = _put_if_changed(client, current, wanted)


def add_peer(store: Store, raw_device: str, name: str, now, address: str = "", own: str | None = None,
             checked: str | None = None) -> dict:
    """Pair with another kiosk: stored; the next configure() applies it. ``own``: this kiosk's
    device id, ``checked``: Syncthing's reading of the typed id, both None when it is down."""
    device = peer_list.check_device(raw_device, own, store, checked)
    return peer_list.add(store, device, name, now, address)


def remove_peer(store: Store, client: Client | None, device: str) -> dict:
    """Unpair: out of the list, and out of Syncthing when it answers (else the next pass
    removes it). Received folders and the records applied from them stay."""
    removed = peer_list.remove(store, device)
    if client is not None:
        remove_device(client, device)
    return removed


def devices_kiosks(folders: list[dict]) -> dict[str, str]:
    """device id -> kiosk id, read from the folders' labels (see _own_folder)."""
    found = {}
    for folder in folders:
        kiosk = kiosk_of_folder(folder.get("id", ""))
        device = normalize_device_id(folder.get("label", ""))
        if kiosk and device:
            found[device] = kiosk
    return found
