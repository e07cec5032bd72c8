"""`kiosk doctor`'s network section: whether Syncthing answers and is set up safely, which
paired kiosks were last seen when, and what is waiting (records, and files Syncthing still has
to bring). (level, message) pairs with the levels of cli/doctor.py."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import StoreError
from ..core.store import Store
from . import peers as peer_list
from . import status
from .setup import wanted_options
from .syncthing import START_HINT, Client, SyncthingError, client_from_config

OK, WARN, PROBLEM = "ok", "warning", "problem"


def check(config, folder: Path) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    try:
        if not (folder / "live.json").is_file():
            return found
        from ..web.feature import default_registry

        store = Store(folder, read_only=True, schema=default_registry().schema)
    except (StoreError, OSError):
        return found  # the data-folder check says why
    try:
        _check(config, store, found)
    finally:
        store.close()
    return found


def _check(config, store: Store, found: list) -> None:
    listed = peer_list.peers(store)
    client = client_from_config(config)
    seen = status.overview(store, client)
    if seen["error"]:
        level = WARN if not listed else PROBLEM
        found.append((level, f"Syncthing: {seen['error']}" if START_HINT in str(seen["error"])
                      else f"Syncthing does not work for the kiosk: {seen['error']}"))
    else:
        found.append((OK, f"Syncthing answers; this kiosk's device id is {seen['device']}."))
        _safety(client, config, found)
    if not listed:
        found.append((OK, "This kiosk is paired with no other kiosk (Coordinate → Network to pair)."))
    for peer in seen["peers"]:
        found.append(_peer_line(peer, bool(seen["error"])))
    for other in seen["others"]:
        found.append((OK, f"Records from kiosk {other['kiosk']} ({other.get('name') or '?'}): {_counts(other)}."))


def _safety(client: Client, config, found: list) -> None:
    try:
        options = client.options()
    except SyncthingError:
        return
    wanted = wanted_options(config)
    wrong = [k for k in ("globalAnnounceEnabled", "relaysEnabled", "natEnabled", "urAccepted",
                         "crashReportingEnabled", "autoUpgradeIntervalH") if options.get(k) != wanted[k]]
    if wrong:
        found.append((WARN, f"Syncthing still has {', '.join(wrong)} set to reach beyond the network; the running "
                            "kiosk turns them off within seconds (is it running? sudo systemctl start mutual-aid-kiosk)."))
    else:
        found.append((OK, "Syncthing keeps to the network: no global discovery, relays or usage reports."))


def _counts(row: dict) -> str:
    text = f"{row.get('applied', 0)} applied, {row.get('waiting', 0)} waiting, {row.get('set_aside', 0)} set aside"
    return text + (f", {row['need_files']} file(s) still coming" if row.get("need_files") else "")


def _peer_line(peer: dict, down: bool) -> tuple[str, str]:
    name = f"{peer['name']} ({peer['device'][:7]})"
    records = f"; records {_counts({**(peer.get('records') or {}), 'need_files': peer.get('need_files')})}"
    if down:
        return WARN, f"Paired kiosk {name}: not known while Syncthing is down{records}."
    if peer.get("connected"):
        return OK, f"Paired kiosk {name}: connected now{records}."
    if peer.get("last_seen"):
        return WARN, f"Paired kiosk {name}: not connected, last seen {peer['last_seen']}{records}."
    return WARN, (f"Paired kiosk {name}: never seen. Has it added this kiosk's device id too? Is the link up "
                  f"(same LAN, bridge or tunnel)?{records}")
