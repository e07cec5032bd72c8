"""Export, backup, restore and merge through a folder (usually on a USB stick).

An export is a folder named for the kiosk and the time (FAT32-safe), holding
- posts.csv: one row per post, anonymized (no code hashes, no threads, no report texts);
- summary.csv: counts per month and category;
- backup.json: everything a restore needs, with a schema version; only for a full backup;
- manifest.json: the SHA-256 of each file, written last.
The folder is built under a hidden ".partial-" name and renamed only once every file is
fsynced, so a stick that fills up or is pulled out never holds a half export that looks whole.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Callable

from . import posts
from .store import Store, fsync_dir, write_atomic

SCHEMA = 1
MANIFEST = "manifest.json"
BACKUP = "backup.json"
POSTS_CSV = "posts.csv"
SUMMARY_CSV = "summary.csv"
POST_COLUMNS = ["id", "kind", "category", "title", "details", "area", "when", "status", "created", "closed",
                "replies", "lang", "source"]
SUMMARY_COLUMNS = ["month", "category", "requests", "offers", "matched", "fulfilled"]
# A cell starting with one of these becomes a formula in a spreadsheet: neutralise it.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Progress = Callable[[str, int, int], None]


class ExchangeError(Exception):
    """A clear, translated-on-screen reason why an export or import cannot go on."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def fat32_name(kiosk_name: str, moment: dt.datetime) -> str:
    """A folder name valid on FAT32: no colons or other reserved characters."""
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", kiosk_name).strip("-_") or "kiosk"
    return f"{base[:40]}-{moment.strftime('%Y-%m-%d_%H%M%S')}"


def _all_posts(store: Store) -> list[dict]:
    found = list(store.live_posts())
    for month in store.archived_months():
        found.extend(store.archived_posts(month))
    return found


def _csv_bytes(rows: list[list], header: list[str]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(c) for c in row])
    # UTF-8 with a byte-order mark: Excel then reads accents and non-Latin scripts right.
    return out.getvalue().encode("utf-8-sig")


def posts_csv(all_posts: list[dict], progress: Progress | None = None) -> bytes:
    rows = []
    for n, p in enumerate(all_posts, 1):
        rows.append([p["id"], p["kind"], p["category"], p.get("title", ""), p.get("details", ""), p.get("area", ""),
                     p.get("when", ""), p["status"], p["created"], p.get("closed") or "", len(p.get("replies") or ()),
                     p.get("lang", ""), p.get("source", "")])
        if progress and n % 500 == 0:
            progress("posts", n, len(all_posts))
    return _csv_bytes(rows, POST_COLUMNS)


def summary_csv(all_posts: list[dict]) -> bytes:
    counts: dict = defaultdict(lambda: {"requests": 0, "offers": 0, "matched": 0, "fulfilled": 0})
    for p in all_posts:
        row = counts[(p["created"][:7], p["category"])]
        row["requests" if p["kind"] == "request" else "offers"] += 1
        if p.get("matched") or p["status"] == "matched":
            row["matched"] += 1
        if p["status"] == "fulfilled":
            row["fulfilled"] += 1
    rows = [[month, category, c["requests"], c["offers"], c["matched"], c["fulfilled"]]
            for (month, category), c in sorted(counts.items())]
    return _csv_bytes(rows, SUMMARY_COLUMNS)


def backup_document(store: Store, kiosk_name: str, now: dt.datetime) -> dict:
    return {
        "schema": SCHEMA,
        "kind": "mutual-aid-kiosk-backup",
        "kiosk": kiosk_name,
        "created": posts.iso(now),
        "live": store.live_posts(),
        "archive": {month: store.archived_posts(month) for month in store.archived_months()},
        "records": {name: [{k: v for k, v in r.items() if k != "_id"} for r in store.records(name)]
                    for name in ("reports", "thanks", "coordinators")},
        "meta": {key: store.get_meta(key) for key in ("settings", "roster", "agreements", "clock", "erased_through_month")},
        "audit": {month: store.audit_entries(month) for month in store.audit_months()},
    }


def export(store: Store, target_dir, *, kiosk_name: str, now: dt.datetime, full: bool = False,
           progress: Progress | None = None, write=write_atomic) -> Path:
    """Write an export folder into ``target_dir``; returns the finished folder."""
    target = Path(target_dir)
    if not target.is_dir():
        raise ExchangeError("no-target", str(target))
    if not os.access(target, os.W_OK):
        raise ExchangeError("read-only", str(target))
    name = fat32_name(kiosk_name, now)
    final = target / name
    partial = target / f".partial-{name}"
    if final.exists():
        raise ExchangeError("exists", final.name)
    step = progress or (lambda what, done, total: None)
    everything = _all_posts(store)
    files: dict[str, bytes] = {}
    step("posts", 0, len(everything))
    files[POSTS_CSV] = posts_csv(everything, step)
    step("posts", len(everything), len(everything))
    files[SUMMARY_CSV] = summary_csv(everything)
    if full:
        files[BACKUP] = json.dumps(backup_document(store, kiosk_name, now), ensure_ascii=False).encode("utf-8")
    manifest = {
        "schema": SCHEMA,
        "kind": "mutual-aid-kiosk-export",
        "kiosk": kiosk_name,
        "created": posts.iso(now),
        "full": full,
        "files": {fname: hashlib.sha256(data).hexdigest() for fname, data in files.items()},
    }
    try:
        partial.mkdir()
        for n, (fname, data) in enumerate(files.items(), 1):
            write(partial / fname, data, 0o644)
            step("files", n, len(files) + 1)
        write(partial / MANIFEST, json.dumps(manifest, indent=2).encode("utf-8"), 0o644)
        os.replace(partial, final)
        fsync_dir(target)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        if exc.errno == 28:
            raise ExchangeError("full", str(target)) from exc
        if exc.errno == 30:
            raise ExchangeError("read-only", str(target)) from exc
        raise ExchangeError("write-failed", f"{exc.strerror or exc}") from exc
    step("done", 1, 1)
    return final


# -- reading a backup back ------------------------------------------------------------------------


def read_backup(folder) -> dict:
    """Check a folder's manifest, checksums and schema and return its backup document; raises
    ExchangeError("not-backup" | "incomplete" | "checksum" | "version" | "no-full") otherwise."""
    folder = Path(folder)
    manifest_path = folder / MANIFEST
    if not folder.is_dir() or not manifest_path.is_file():
        raise ExchangeError("not-backup", str(folder))
    try:
        manifest = json.loads(manifest_path.read_bytes())
        files = manifest["files"]
        assert isinstance(files, dict)
    except (ValueError, KeyError, AssertionError, TypeError):
        raise ExchangeError("not-backup", MANIFEST) from None
    if manifest.get("schema") != SCHEMA:
        raise ExchangeError("version", str(manifest.get("schema")))
    if BACKUP not in files:
        raise ExchangeError("no-full", str(folder))
    for fname, digest in files.items():
        path = folder / fname
        if "/" in fname or "\\" in fname or not path.is_file():
            raise ExchangeError("incomplete", fname)
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise ExchangeError("checksum", fname)
    try:
        document = json.loads((folder / BACKUP).read_bytes())
    except ValueError:
        raise ExchangeError("incomplete", BACKUP) from None
    if document.get("schema") != SCHEMA or document.get("kind") != "mutual-aid-kiosk-backup":
        raise ExchangeError("version", str(document.get("schema")))
    return document


def backup_posts(document: dict) -> list[dict]:
    found = list(document.get("live") or [])
    for month_posts in (document.get("archive") or {}).values():
        found.extend(month_posts)
    return found


def preview(store: Store, document: dict) -> dict:
    """What a restore or a merge would change, in counts a person can judge."""
    local = {p["id"]: p for p in _all_posts(store)}
    incoming = backup_posts(document)
    new = sum(1 for p in incoming if p["id"] not in local)
    newer = sum(1 for p in incoming if p["id"] in local and p["updated"] > local[p["id"]]["updated"])
    return {
        "kiosk": document.get("kiosk", ""),
        "created": document.get("created", ""),
        "posts_now": len(local),
        "posts_in_backup": len(incoming),
        "merge_new": new,
        "merge_newer": newer,
        "coordinators_in_backup": len((document.get("records") or {}).get("coordinators") or []),
    }


def restore(store: Store, document: dict, keep_copy_in, now: dt.datetime, kiosk_name: str) -> Path:
    """Replace all data with the backup's, after saving the current data as a full export."""
    saved = export(store, keep_copy_in, kiosk_name=f"before-restore-{kiosk_name}", now=now, full=True)
    store.replace_everything(document)
    return saved


def merge(store: Store, document: dict) -> dict:
    """Bring in another kiosk's posts by id; where both have one, the newer update wins."""
    added = updated = 0
    for post in backup_posts(document):
        post = {**post, "source": post.get("source") or document.get("kiosk", "")}
        current = store.get_post(post["id"])
        if current is None:
            store.put_post(post)
            added += 1
        elif post.get("updated", "") > current.get("updated", ""):
            store.put_post(post)
            updated += 1
    return {"added": added, "updated": updated}
