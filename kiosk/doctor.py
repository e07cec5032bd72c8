"""`kiosk doctor`: plain-words checks a volunteer can run when something seems wrong."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

from .store import LIVE_FILE, LOCK_FILE, load_json, iter_json_files, StoreError

OK, WARN, PROBLEM = "ok", "warning", "problem"


def _resolves(host: str, timeout: float = 3.0) -> bool | None:
    """Whether the name resolves on this machine; None if the lookup did not answer in time."""
    result: list = []

    def look() -> None:
        try:
            socket.getaddrinfo(host, None)
            result.append(True)
        except OSError:
            result.append(False)

    worker = threading.Thread(target=look, daemon=True)
    worker.start()
    worker.join(timeout)
    return result[0] if result else None


def check(config, data_dir: str | os.PathLike, wall: dt.datetime | None = None) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    folder = Path(data_dir).resolve()
    wall = wall or dt.datetime.now(dt.timezone.utc)

    # The data folder.
    if not folder.is_dir():
        found.append((PROBLEM, f"The data folder {folder} does not exist (the kiosk makes it on first start)."))
    else:
        if not os.access(folder, os.W_OK):
            found.append((PROBLEM, f"The data folder {folder} is not writable: posts cannot be saved."))
        else:
            found.append((OK, f"The data folder {folder} is writable."))
        try:
            for path in iter_json_files(folder):
                load_json(path)
            found.append((OK, "Every data file reads back whole."))
        except StoreError as exc:
            found.append((PROBLEM, str(exc)))
        lock = folder / LOCK_FILE
        if lock.exists():
            fd = os.open(lock, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
                found.append((WARN, "No kiosk server is running on this data folder."))
            except BlockingIOError:
                found.append((OK, "A kiosk server is running on this data folder."))
            finally:
                os.close(fd)

    # The clock (no battery clock, no internet on a Pi).
    saved = None
    if (folder / LIVE_FILE).is_file():
        try:
            meta = (load_json(folder / LIVE_FILE) or {}).get("meta") or {}
            saved = next((m["value"] for m in meta.values() if m.get("key") == "clock"), None)
        except StoreError:
            saved = None
    if wall.year < 2025:
        found.append((PROBLEM, f"The clock says {wall:%Y-%m-%d}: that cannot be right. Set it (coordinator screen: Clock)."))
    elif saved:
        kiosk_time = dt.datetime.strptime(saved, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
        gap = wall - kiosk_time
        if gap < -dt.timedelta(hours=1):
            found.append((WARN, f"The clock is behind the kiosk's last known time ({saved}): was the power off? "
                                "Set the time on the coordinator screen (Clock)."))
        elif gap > dt.timedelta(days=7):
            found.append((WARN, f"The clock jumped ahead of the kiosk's last known time ({saved}) by {gap.days} days. "
                                "If that is wrong, set the time on the coordinator screen (Clock)."))
        else:
            found.append((OK, f"The clock looks right ({wall:%Y-%m-%d %H:%M} UTC)."))
    else:
        found.append((OK, f"The clock says {wall:%Y-%m-%d %H:%M} UTC."))

    # Names on the LAN: what printed QR codes point at.
    host = urlsplit(str(config["PUBLIC_URL"])).hostname or ""
    answer = _resolves(host)
    if answer is True:
        found.append((OK, f"{host} resolves on this machine."))
    elif answer is False:
        found.append((PROBLEM, f"{host} does not resolve here: phones will not open the QR codes. "
                               "Check the DNS settings in deploy/network (or KIOSK_PUBLIC_URL)."))
    else:
        found.append((WARN, f"Looking up {host} did not answer in time."))
    if host.endswith(".local"):
        found.append((WARN, f"{host} is an mDNS name: Android before version 12 cannot open it; prefer aid.lan."))
    if "." in socket.gethostname():
        found.append((WARN, f"This machine's hostname {socket.gethostname()!r} has a dot: mDNS names break. "
                            "Use a plain name like aidkiosk."))

    # Printing and translations.
    if config.get("PRINTER"):
        if shutil.which("lp"):
            found.append((OK, f"Tickets print on {config['PRINTER']} with lp."))
        else:
            found.append((PROBLEM, "KIOSK_PRINTER is set but lp is missing: apt-get install cups-client."))
    missing = [lang for lang in config["LANGUAGES"] if lang != "en"
               and not (Path(__file__).parent / "translations" / lang / "LC_MESSAGES" / "messages.mo").exists()]
    if missing:
        found.append((PROBLEM, f"No compiled translations for {', '.join(missing)}: reinstall with pip install ."))
    else:
        found.append((OK, "Translations are compiled for every offered language."))
    return found
