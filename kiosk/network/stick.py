"""The network's records on a USB stick, for a kiosk with no link (sneakernet): every export
carries them, and the import page (or ``kiosk network apply``) applies them through the inbox,
with exactly the checks and the memory of what was done that Syncthing's copies get.

On the stick, beside the spreadsheets (and backup.age)::

    network/<KIOSKID>/kiosk.json             as the kiosk wrote it
    network/<KIOSKID>/records/E-000001.jsonl ...  whole lines only

one folder for this kiosk's outbox and one for each peer folder it holds, so one stick carries
the whole network's records. They hold what every kiosk of the network holds anyway: public
post text, replies and messages sealed to their tickets, and the tickets' check data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path
from typing import Iterable, Iterator

from flask_babel import gettext as _, lazy_gettext as _l, ngettext

from ..core.changelog import ABOUT, NETWORK_DIR, OUTBOX, PEERS, RECORDS, network_dir
from ..core.errors import Refused
from ..core.files import write_atomic
from ..core.times import iso
from . import inbox
from .folders import about_of, is_segment

AUDIT_ACTION = "apply-records"


class StickError(Exception):
    """Why a stick's records cannot be applied: ``code`` ("gone", "broken", "empty"), ``detail``
    (the folder it is about)."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code, self.detail = code, detail


# -- onto the stick ------------------------------------------------------------------------------


def _sources(data_dir: Path) -> list[tuple[str, bytes, Path]]:
    """(kiosk id, its kiosk.json, its folder) for this kiosk's outbox and every peer folder here
    whose kiosk.json is whole (Syncthing may not have brought it yet): named by what kiosk.json
    says, so the stick's folder names match what the receiving kiosk checks."""
    root = network_dir(data_dir)
    peers = root / PEERS
    folders = [root / OUTBOX] + (sorted(p for p in peers.iterdir() if p.is_dir()) if peers.is_dir() else [])
    found: dict[str, tuple[str, bytes, Path]] = {}
    for folder in folders:
        if folder.name.startswith("."):
            continue
        about = about_of(folder)
        try:
            raw = (folder / ABOUT).read_bytes() if about is not None else b""
        except OSError:
            continue
        if not raw:
            continue
        found.setdefault(about.kiosk, (about.kiosk, raw, folder))  # the outbox first: ours wins
    return list(found.values())


def _whole_lines(path: Path) -> Iterator[bytes]:
    """A segment up to its last newline: a line still being written (by this kiosk, or by
    Syncthing into a peer folder) is left for the next export."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:  # gone since it was listed (a new epoch dropped it): nothing of it
        return
    yield raw[: raw.rfind(b"\n") + 1]


def record_files(data_dir: Path, progress=None) -> Iterator[tuple[str, Iterable[bytes]]]:
    """Every kiosk's records this kiosk holds, as (name under the export folder, pieces)."""
    step = progress or (lambda what, done, total: None)
    sources = _sources(data_dir)
    for done, (kiosk, about, folder) in enumerate(sources):
        step("network", done, len(sources))
        base = f"{NETWORK_DIR}/{kiosk}"
        yield f"{base}/{ABOUT}", (about,)
        records = folder / RECORDS
        for path in sorted(records.glob("*.jsonl")) if records.is_dir() else ():
            if is_segment(path.name):
                yield f"{base}/{RECORDS}/{path.name}", _whole_lines(path)
    step("network", len(sources), len(sources))


def export_files(store, progress):
    """The feature's part of every export (Feature.exports)."""
    yield from record_files(store.data_dir, progress)


def write_tree(data_dir: Path, target: Path) -> dict:
    """``kiosk network export``: the same files into ``target``/network/, each written whole;
    a kiosk's segments that are no longer in its folder here leave the copy too (a new epoch
    dropped them, with text that retention erased). Returns {"kiosks", "files"}."""
    written: dict[Path, set[str]] = {}
    for name, pieces in record_files(data_dir):
        path = Path(target).joinpath(*name.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(path, b"".join(pieces), mode=0o644)
        kiosk = Path(target) / NETWORK_DIR / name.split("/")[1]
        written.setdefault(kiosk, set()).add(path.name)
    for kiosk, names in written.items():
        for old in (kiosk / RECORDS).glob("*.jsonl") if (kiosk / RECORDS).is_dir() else ():
            if old.name not in names:
                old.unlink()
    return {"kiosks": len(written), "files": sum(len(n) for n in written.values())}


# -- from the stick ------------------------------------------------------------------------------


def found(folder) -> bool:
    """Whether an export folder carries network records (the import page's third choice)."""
    try:
        return os.path.isdir(Path(folder) / NETWORK_DIR)
    except OSError:
        return False


def _kiosk_folders(folder: Path) -> list[Path]:
    """An export's network/<kiosk>/ folders, or a kiosk's folder itself."""
    if (folder / ABOUT).is_file():
        return [folder]
    root = folder / NETWORK_DIR
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) if root.is_dir() else []


def look(store, folder) -> dict:
    """What a stick's folder holds for this kiosk, changing nothing: {"kiosks": [inbox.dry_run
    of each other kiosk's folder], "own": this kiosk's own records are there (left alone),
    "folders": the folders to apply, "files": {file: (size, mtime)}, "digest"}. Raises
    StickError: "gone" (not there, or unreadable), "broken" (a folder without a readable
    kiosk.json, or named for another kiosk than it shows), "empty" (no other kiosk's records)."""
    folder = Path(folder)
    seen: dict = {"kiosks": [], "own": False, "folders": [], "files": {}}
    try:
        if not os.path.isdir(folder):
            raise StickError("gone", folder.name)
        for kiosk_folder in _kiosk_folders(folder):
            dry = inbox.dry_run(store, kiosk_folder)
            if dry is None or (kiosk_folder != folder and kiosk_folder.name != dry["kiosk"]):
                raise StickError("broken", str(kiosk_folder.relative_to(folder.parent)))
            if dry["kiosk"] == store.kiosk_id:
                seen["own"] = True
                continue
            seen["kiosks"].append(dry)
            seen["folders"].append(kiosk_folder)
            for path in [kiosk_folder / ABOUT, *sorted((kiosk_folder / RECORDS).glob("*.jsonl"))]:
                stat = path.stat()
                seen["files"][str(path)] = (stat.st_size, stat.st_mtime_ns)
    except OSError:
        raise StickError("gone", folder.name) from None
    if not seen["kiosks"]:
        raise StickError("empty", folder.name)
    seen["digest"] = hashlib.sha256(repr(sorted(seen["files"].items())).encode()).hexdigest()
    return seen


def carry_in(store, registry, folder, now: dt.datetime, handle: str) -> dict:
    """Apply a stick's records of the other kiosks (inbox.apply_folders), and log it. Returns
    {"applied", "waiting", "set_aside", "names", "new" (what the look found new), "cut" (the
    stick went while it was read: what was read is applied, each record whole)}. Nothing new
    writes nothing at all."""
    seen = look(store, folder)
    names = [k["name"] or k["kiosk"] for k in seen["kiosks"]]
    result = {"applied": 0, "waiting": 0, "set_aside": 0, "names": names,
              "new": sum(k["new"] for k in seen["kiosks"]), "cut": False}
    # A new key is read once, so that it is noted for a coordinator to accept (Network page).
    if not result["new"] and all(k["noted"] or not k["changed_key"] for k in seen["kiosks"]):
        return result
    result.update(inbox.apply_folders(store, registry, seen["folders"], now))
    result["cut"] = not _still_there(seen["files"])
    if result["applied"] or result["set_aside"]:
        store.append_audit({"at": iso(now), "handle": handle, "action": AUDIT_ACTION, "target": ", ".join(names)[:500],
                            "detail": f"{result['applied']} applied, {result['waiting']} waiting, "
                                      f"{result['set_aside']} set aside" + (" (the stick was taken out)" if result["cut"] else "")})
    return result


def _still_there(files: dict) -> bool:
    """Whether every file the look found is still readable (read errors on the way are taken as
    "not yet there" by the inbox, which is right for Syncthing and wrong for a pulled stick)."""
    try:
        for path in files:
            os.stat(path)
    except OSError:
        return False
    return True


# -- the import page's words (Feature.stick_parts) -----------------------------------------------


LABEL = _l("Apply the network records")
CARRIED = _l("Every export also carries the network records (the folder network/), so a kiosk with no link can "
             "apply them: the posts as the board shows them, replies and messages still sealed, and what checks a "
             "ticket.")
HINT = _l("Adds the posts and changes made at the other kiosks of the network. It never removes anything here, "
          "and it is safe to repeat.")


def _refused(exc: StickError) -> Refused:
    messages = {
        "gone": _("That stick is no longer there. Plug it in again."),
        "broken": _("The folder %(folder)s on the stick has no readable kiosk.json, or it names another kiosk "
                    "(was the copy cut short?). Nothing was applied: make the export again.", folder=exc.detail),
        "empty": _("This export carries no records of other kiosks: there is nothing to apply."),
    }
    return Refused(messages.get(exc.code, exc.code))


def preview(store, registry, folder) -> dict:
    try:
        seen = look(store, folder)
    except StickError as exc:
        raise _refused(exc) from None
    lines = []
    for kiosk in seen["kiosks"]:
        name = kiosk["name"] or kiosk["kiosk"]
        if kiosk["changed_key"]:
            lines.append(_("%(name)s: its key is not the one this kiosk knows for it, so nothing from it is applied "
                           "until a coordinator accepts the new key (see Network).", name=name))
        else:
            lines.append(ngettext("%(name)s: %(num)d record, %(new)d new here.",
                                  "%(name)s: %(num)d records, %(new)d new here.", kiosk["records"],
                                  name=name, new=kiosk["new"]))
    if seen["own"]:
        lines.append(_("This kiosk's own records are on the stick too: they are left as they are."))
    if not any(k["new"] for k in seen["kiosks"]):
        lines.append(_("Nothing on this stick is new here: applying it would change nothing."))
    return {"lines": lines, "ready": True, "digest": seen["digest"]}


def apply(store, registry, folder, now: dt.datetime, handle: str) -> dict:
    try:
        done = carry_in(store, registry, folder, now, handle)
    except StickError as exc:
        raise _refused(exc) from None
    if not done["new"]:
        return {"message": _("Nothing new was applied: every record on the stick was here already, or waits for "
                             "a coordinator to accept a kiosk's new key.")}
    message = ngettext("%(num)d record applied, %(waiting)d waiting for a post not yet here, %(set_aside)d set "
                       "aside (see Network).",
                       "%(num)d records applied, %(waiting)d waiting for a post not yet here, %(set_aside)d set "
                       "aside (see Network).", done["applied"], waiting=done["waiting"], set_aside=done["set_aside"])
    if done["cut"]:
        message += " " + _("The stick was taken out while its records were read: what was read is applied (each "
                           "record whole and checked). Plug it in again and apply again to finish.")
    return {"message": message}
