"""Reading the other kiosks' records (their folders, as Syncthing received them, or carried on a
stick): verifying each, applying it through the board's rules, setting aside what fails."""

from __future__ import annotations

from pathlib import Path


def apply_all(store, registry, now=None) -> dict:
    return {"applied": 0, "waiting": 0, "set_aside": 0}


def apply_folder(store, registry, folder: Path, now=None) -> dict:
    return {"applied": 0, "waiting": 0, "set_aside": 0}


def peer_status(store) -> list[dict]:
    return []


def set_aside(store) -> list[dict]:
    return []
