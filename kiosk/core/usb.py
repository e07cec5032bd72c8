"""Finding USB sticks: mounted removable drives under /media and /run/media (where the desktop
or udisks mounts them) and any folder listed in KIOSK_USB_ROOTS. The boot and root devices are
never offered."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

MOUNT_ROOTS = ("/media", "/run/media")
NEVER = {"/", "/boot", "/boot/firmware", "/home", "/var", "/usr"}


@dataclass
class Stick:
    path: str
    label: str
    free: int
    total: int
    writable: bool


def _mounts() -> list[str]:
    try:
        with open("/proc/mounts", encoding="utf-8") as fh:
            return [line.split()[1].replace("\\040", " ") for line in fh if len(line.split()) > 2]
    except OSError:
        return []


def _stick(path: Path) -> Stick | None:
    try:
        usage = shutil.disk_usage(path)
    except OSError:
        return None
    return Stick(str(path), path.name, usage.free, usage.total, os.access(path, os.W_OK))


def find(extra_roots: str = "") -> list[Stick]:
    """Every stick that is mounted now, each once."""
    found: dict[str, Stick] = {}
    for mount in _mounts():
        if mount in NEVER or not any(mount.startswith(root + "/") for root in MOUNT_ROOTS):
            continue
        stick = _stick(Path(mount))
        if stick:
            found[stick.path] = stick
    for root in [r for r in (extra_roots or "").split(os.pathsep) if r.strip()]:
        folder = Path(root).expanduser()
        try:
            listed = sorted(folder.iterdir()) if os.path.isdir(folder) else None
        except OSError:  # not readable by the kiosk: no stick it can use
            listed = None
        if listed is None:
            continue
        # A folder of mount points (like /media/kiosk), or a stick mounted right there. An empty
        # folder that is no mount point is not a stick: it is /media/kiosk with nothing plugged in.
        children = [c for c in listed if os.path.isdir(c) and not c.name.startswith(".")]
        for candidate in children or ([folder] if os.path.ismount(folder) else []):
            if str(candidate) in NEVER:
                continue
            stick = _stick(candidate)
            if stick:
                found[stick.path] = stick
    return sorted(found.values(), key=lambda s: s.label.casefold())


def exports_on(stick_path: str) -> list[Path]:
    """Export folders on a stick (those with a manifest), newest name first."""
    root = Path(stick_path)
    try:  # os.path's checks, unlike Path's, answer False for a folder this user may not read
        entries = list(root.iterdir()) if os.path.isdir(root) else []
    except OSError:
        return []
    return sorted((p for p in entries if not p.name.startswith(".") and os.path.isfile(p / "manifest.json")),
                  key=lambda p: p.name, reverse=True)
