"""`kiosk doctor`: plain-words checks a volunteer can run when something seems wrong."""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

from ..core import checkup, staging, usb
from ..core.errors import DataDamaged, StoreError
from ..core.files import LOCK_FILE
from ..core.journal import JournalDamaged, read_live
from ..core.store import LIVE_FILE, Store
from ..core.times import parse_iso

OK, WARN, PROBLEM = "ok", "warning", "problem"

SERVICE = "mutual-aid-kiosk.service"
# Below this much free space a save can fail (each save writes a whole new copy of a file);
# below the second, a volunteer should make room before it gets there.
MB = 1024 * 1024
FREE_PROBLEM = 50 * MB
FREE_WARNING = 500 * MB
ROOM = ("To make room: sudo apt-get clean; sudo journalctl --vacuum-size=50M; delete old files in "
        "/home; or copy everything to a larger card (deploy/README.md, Backup and restore).")


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


def _run(command: list[str], timeout: float = 10) -> tuple[int, str] | None:
    """A command's exit status and output, or None when it is missing or hangs."""
    if not shutil.which(command[0]):
        return None
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.returncode, (done.stdout + done.stderr).strip()


def _try_writing(folder: Path) -> OSError | None:
    """Write, sync and remove a small file the way the store saves: the only sure test.
    (os.access says yes to root on a folder without write permission.)"""
    for stale in folder.glob(".doctor-*"):  # left by a power cut during an earlier check
        try:
            stale.unlink()
        except OSError:
            pass
    try:
        fd, name = tempfile.mkstemp(prefix=".doctor-", dir=folder)
    except OSError as exc:
        return exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(b"\0" * 65536)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        return exc
    finally:
        try:
            os.unlink(name)
        except OSError:
            pass
    return None


def _data_folder(folder: Path, found: list) -> None:
    try:
        os.listdir(folder)
    except PermissionError:
        found.append((PROBLEM, f"This user may not open the data folder {folder}: run the check as the "
                               "kiosk's user: sudo -u kiosk /opt/mutual-aid-kiosk/venv/bin/kiosk doctor"))
        return
    except OSError:
        pass
    if not folder.is_dir():
        found.append((PROBLEM, f"The data folder {folder} does not exist (the kiosk makes it on first start)."))
        return
    failure = _try_writing(folder)
    if failure is None:
        found.append((OK, f"The data folder {folder} is writable."))
    elif failure.errno == errno.EROFS:
        found.append((PROBLEM, f"The data folder {folder} is on a disk that is read-only now: posts cannot be "
                               "saved. The system does this after disk errors, so the SD card may be failing: "
                               "restart the Pi; if it happens again, back up to a USB stick and replace the card."))
    elif failure.errno == errno.ENOSPC:
        found.append((PROBLEM, f"The disk holding the data folder {folder} is full: posts cannot be saved. "
                               f"{ROOM}"))
    elif failure.errno in (errno.EACCES, errno.EPERM):
        found.append((PROBLEM, f"The data folder {folder} is not writable by this user: posts cannot be saved. "
                               "Run the check as the kiosk's user (sudo -u kiosk ...), or give the folder back "
                               "to it: sudo chown -R kiosk:kiosk " + str(folder)))
    else:
        found.append((PROBLEM, f"The data folder {folder} cannot be written: {failure.strerror or failure}."))
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = None
    disk_full = failure is not None and failure.errno == errno.ENOSPC
    if free is not None and not disk_full:
        if free < FREE_PROBLEM:
            found.append((PROBLEM, f"Only {free // MB} MB free on the disk holding the data folder: saves will "
                                   f"soon fail. {ROOM}"))
        elif free < FREE_WARNING:
            found.append((WARN, f"{free // MB} MB free on the disk holding the data folder. {ROOM}"))
        else:
            found.append((OK, f"{free // MB:,} MB free on the disk holding the data folder."))
    _files_and_lock(folder, found)


def _files_and_lock(folder: Path, found: list) -> None:
    """Every data file passes the check a start makes (read-only, so it works beside a running
    kiosk), what start-up mended lately, and whether a server holds the folder now."""
    from ..web.feature import default_registry

    if (folder / LIVE_FILE).is_file():
        try:
            store = Store(folder, read_only=True, schema=default_registry().schema, check_all=True)
        except DataDamaged as exc:
            found.append((PROBLEM, str(exc)))
        except StoreError as exc:
            found.append((PROBLEM, str(exc)))
        except OSError as exc:
            found.append((PROBLEM, f"The data files cannot be read: {exc.strerror or exc}. "
                                   "Run the check as the kiosk's user: sudo -u kiosk ..."))
        else:
            found.append((OK, f"Every data file passes its check ({store.count_live()} open posts, "
                              f"{store.count_archived()} archived, kiosk {store.kiosk_id})."))
            if store.index_was_stale:
                found.append((WARN, "archive/index.json does not match the archive months: the kiosk rebuilds it "
                                    "at its next start (sudo systemctl restart mutual-aid-kiosk)."))
            store.close()
    if (folder / staging.STAGING).exists():
        found.append((WARN, "A restore or merge was interrupted (a .staging folder is there): the kiosk's next "
                            "start finishes it if it was complete, or throws it away."))
    recent = checkup.repairs(folder)[-5:]
    for line in recent:
        found.append((WARN, f"Start-up mended the data: {line}. Nothing to do, unless this keeps happening "
                            "(then the SD card may be failing: back up to a USB stick)."))
    _kept_copies(folder, found)
    lock = folder / LOCK_FILE
    if lock.exists():
        try:
            fd = os.open(lock, os.O_RDONLY)
        except OSError:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
            found.append((WARN, "No kiosk server is running on this data folder."))
        except BlockingIOError:
            found.append((OK, "A kiosk server is running on this data folder."))
        finally:
            os.close(fd)


def _kept_copies(folder: Path, found: list) -> None:
    """The copies kept before restores and merges: the newest that passes the start's checks is
    the one to name (a copy may be damaged too, and a restore from it would be refused)."""
    from ..web.feature import default_registry
    from . import plain

    kept = staging.kept_copies(folder)
    for copy in kept:
        try:
            Store(copy, read_only=True, schema=default_registry().schema, check_all=True).close()
        except (StoreError, OSError) as exc:  # DataDamaged is a StoreError
            found.append((WARN, f"The copy kept in {plain(copy)} does not pass the checks, so it is no copy to "
                                f"restore from ({plain(getattr(exc, 'strerror', None) or exc)})."))
            continue
        found.append((OK, f"{len(kept)} copy(ies) of the data kept before a restore or merge; the newest good one: "
                          f"{plain(copy)} (restore it with: kiosk import --from {plain(copy)} --replace)."))
        return


def _clock(folder: Path, wall: dt.datetime, found: list) -> None:
    """The clock (no battery clock, no internet on a Pi)."""
    saved = None
    try:
        if (folder / LIVE_FILE).is_file():
            meta = read_live(folder).get("meta") or {}  # with its journal: beside a running server too
            saved = next((m["value"] for m in meta.values() if m.get("key") == "clock"), None)
            parse_iso(saved) if saved else None
    except (StoreError, JournalDamaged, OSError, AttributeError, TypeError, ValueError, RecursionError):
        saved = None  # unreadable or damaged: the data-folder check says why
    if wall.year < 2025:
        found.append((PROBLEM, f"The clock says {wall:%Y-%m-%d}: that cannot be right. Set it (coordinator screen: Clock)."))
    elif saved:
        kiosk_time = parse_iso(saved)
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


def _names(config, found: list) -> None:
    """Names on the LAN: what printed QR codes point at."""
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


def _service(found: list) -> None:
    """Whether systemd starts the kiosk at boot and runs it now."""
    enabled = _run(["systemctl", "is-enabled", SERVICE])
    state = enabled[1].splitlines()[-1].strip() if enabled and enabled[1] else ""
    if enabled is None or state not in ("enabled", "disabled", "masked", "static", "linked"):
        found.append((WARN, "The kiosk is not installed as a service here, so it does not start at boot "
                            "(fine on a laptop; on the Pi run: sudo bash deploy/install.sh)."))
        return
    if state == "masked":
        found.append((PROBLEM, "The kiosk service is masked: it cannot start at all. "
                               "Fix: sudo systemctl unmask mutual-aid-kiosk; sudo systemctl enable --now mutual-aid-kiosk"))
    elif state != "enabled":
        found.append((PROBLEM, f"The kiosk service is {state}: it will not start at boot. "
                               "Fix: sudo systemctl enable --now mutual-aid-kiosk"))
    active = _run(["systemctl", "is-active", SERVICE])
    running = active is not None and active[0] == 0
    if running and state == "enabled":
        found.append((OK, "The kiosk service starts at boot and is running."))
    elif not running:
        found.append((PROBLEM, "The kiosk service is not running. Fix: sudo systemctl restart mutual-aid-kiosk; "
                               "if it stops again, its reason is in: journalctl -u mutual-aid-kiosk -n 30"))


def _usb(config, found: list) -> None:
    sticks = usb.find(str(config.get("USB_ROOTS") or ""))
    if not sticks:
        found.append((WARN, "No USB stick is plugged in: plug one in to take a backup (coordinator screen: Export)."))
        return
    for stick in sticks:
        if stick.writable:
            found.append((OK, f"USB stick {stick.label} found, {stick.free // MB:,} MB free."))
        else:
            found.append((WARN, f"USB stick {stick.label} is read-only: backups cannot be written to it "
                                "(a lock switch on its side, or plug it in again)."))


def _printer(config, found: list) -> None:
    printer = config.get("PRINTER")
    if not printer:
        return
    if not shutil.which("lp"):
        found.append((PROBLEM, "KIOSK_PRINTER is set but lp is missing: sudo apt-get install cups-client."))
        return
    status = _run(["lpstat", "-p", printer])
    if status is None:
        found.append((WARN, f"Tickets print on {printer} with lp, but lpstat is missing or did not answer, "
                            "so whether the printer is ready was not checked."))
    elif status[0] != 0:
        found.append((PROBLEM, f"The printer {printer} is not known to the print service ({status[1] or 'no answer'}). "
                               "Check the name in KIOSK_PRINTER against: lpstat -p"))
    elif "disabled" in status[1]:
        found.append((PROBLEM, f"The printer {printer} is stopped ({status[1]}). "
                               f"Check its paper and cable, then: sudo cupsenable {printer}"))
    else:
        found.append((OK, f"The printer {printer} is ready ({status[1]})."))


def _translations(config, found: list) -> None:
    missing = [lang for lang in config["LANGUAGES"] if lang != "en"
               and not (Path(__file__).parent.parent / "translations" / lang / "LC_MESSAGES" / "messages.mo").exists()]
    if missing:
        found.append((PROBLEM, f"No compiled translations for {', '.join(missing)}: reinstall with pip install ."))
    else:
        found.append((OK, "Translations are compiled for every offered language."))


def check(config, data_dir: str | os.PathLike, wall: dt.datetime | None = None) -> list[tuple[str, str]]:
    """Every check, in the order a volunteer should fix things: (level, plain-words message)."""
    found: list[tuple[str, str]] = []
    folder = Path(data_dir).resolve()
    _data_folder(folder, found)
    _clock(folder, wall or dt.datetime.now(dt.timezone.utc), found)
    _names(config, found)
    _service(found)
    _usb(config, found)
    _printer(config, found)
    _translations(config, found)
    from ..network import doctor as network_doctor

    found.extend(network_doctor.check(config, folder))
    return found
