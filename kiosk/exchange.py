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
CHECKINS_CSV = "checkins.csv"
# Everything a restore needs besides posts: small tables and settings of the live file.
RECORD_TABLES = ("reports", "thanks", "coordinators", "checkins", "library_items", "library_loans",
                 "events", "survey_answers")
META_KEYS = ("settings", "roster", "agreements", "clock", "erased_through_month", "survey")
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


def _post_batches(store: Store):
    """Live posts, then one archive month at a time: never the whole history in memory."""
    yield store.live_posts()
    for month in store.archived_months():
        yield store.archived_posts(month)
    store.trim()


def _csv_text(rows: list[list]) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(c) for c in row])
    return out.getvalue()


def _csv_bytes(rows: list[list], header: list[str]) -> bytes:
    # UTF-8 with a byte-order mark: Excel then reads accents and non-Latin scripts right.
    return _csv_text([header] + rows).encode("utf-8-sig")


def post_row(p: dict) -> list:
    if p.get("hidden"):
        # Hidden by coordinators (often for personal data): its text never leaves the kiosk.
        return [p["id"], p["kind"], p["category"], "", "", "", "", "hidden", p["created"], p.get("closed") or "",
                len(p.get("replies") or ()), p.get("lang", ""), p.get("source", "")]
    return [p["id"], p["kind"], p["category"], p.get("title", ""), p.get("details", ""), p.get("area", ""),
            p.get("when", ""), p["status"], p["created"], p.get("closed") or "", len(p.get("replies") or ()),
            p.get("lang", ""), p.get("source", "")]


def posts_csv(all_posts: list[dict], progress: Progress | None = None) -> bytes:
    return _csv_bytes([post_row(p) for p in all_posts], POST_COLUMNS)


class Summary:
    def __init__(self):
        self.counts: dict = defaultdict(lambda: {"requests": 0, "offers": 0, "matched": 0, "fulfilled": 0})

    def add(self, p: dict) -> None:
        row = self.counts[(p["created"][:7], p["category"])]
        row["requests" if p["kind"] == "request" else "offers"] += 1
        if p.get("matched") or p["status"] == "matched":
            row["matched"] += 1
        if p["status"] == "fulfilled":
            row["fulfilled"] += 1

    def csv(self) -> bytes:
        rows = [[month, category, c["requests"], c["offers"], c["matched"], c["fulfilled"]]
                for (month, category), c in sorted(self.counts.items())]
        return _csv_bytes(rows, SUMMARY_COLUMNS)


def summary_csv(all_posts: list[dict]) -> bytes:
    summary = Summary()
    for p in all_posts:
        summary.add(p)
    return summary.csv()


class _HashingFile:
    """A file being written that keeps its SHA-256 as it goes, and is fsynced on close."""

    def __init__(self, path: Path, opener):
        self.path = path
        self.fh = opener(path)
        self.sha = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.sha.update(data)
        self.fh.write(data)

    def close(self) -> str:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        return self.sha.hexdigest()


def _open_for_export(path: Path):
    # Only the owner may read them, whatever the umask: backup.json holds private
    # conversations, and a stick formatted ext4 keeps file modes.
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def _write_backup(out: _HashingFile, store: Store, kiosk_name: str, now: dt.datetime) -> None:
    def dump(value) -> bytes:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    out.write(b'{"schema":' + dump(SCHEMA) + b',"kind":"mutual-aid-kiosk-backup","kiosk":' + dump(kiosk_name)
              + b',"created":' + dump(posts.iso(now)) + b',"live":' + dump(store.live_posts()) + b',"archive":{')
    for n, month in enumerate(store.archived_months()):
        out.write((b"," if n else b"") + dump(month) + b":" + dump(store.archived_posts(month)))
    store.trim()
    records = {name: [{k: v for k, v in r.items() if k != "_id"} for r in store.records(name)]
               for name in RECORD_TABLES}
    meta = {key: store.get_meta(key) for key in META_KEYS}
    out.write(b'},"records":' + dump(records) + b',"meta":' + dump(meta) + b',"audit":{')
    for n, month in enumerate(store.audit_months()):
        out.write((b"," if n else b"") + dump(month) + b":" + dump(store.audit_entries(month)))
    out.write(b"}}")


def backup_document(store: Store, kiosk_name: str, now: dt.datetime) -> dict:
    buffer = io.BytesIO()

    class _Memory(_HashingFile):
        def __init__(self):
            self.fh, self.sha = buffer, hashlib.sha256()

    _write_backup(_Memory(), store, kiosk_name, now)
    return json.loads(buffer.getvalue())


SURVEY_CSV = "survey.csv"
SURVEY_COLUMNS = ["question", "text", "kind", "option", "people", "free_text"]


def survey_csv(store: Store) -> bytes | None:
    """The needs survey's exact results (counts per option; free-text answers one a row)."""
    from . import survey

    result = survey.results(store)
    if result is None:
        return None
    rows = [["", result["title"], "all", "", result["total"], ""]]
    for q in result["questions"]:
        rows.append([q["number"], q["text"], q["kind"], "", q["answered"], ""])
        rows += [[q["number"], q["text"], q["kind"], label, count, ""] for label, count in q["options"]]
        rows += [[q["number"], q["text"], q["kind"], "", "", answer] for answer in q["texts"]]
    return _csv_bytes(rows, SURVEY_COLUMNS)


def extra_files(store: Store) -> dict[str, bytes]:
    """Program results that travel in every export (survey.csv once a survey exists)."""
    data = survey_csv(store)
    return {SURVEY_CSV: data} if data is not None else {}


def export(store: Store, target_dir, *, kiosk_name: str, now: dt.datetime, full: bool = False,
           progress: Progress | None = None, opener=_open_for_export) -> Path:
    """Write an export folder into ``target_dir``; returns the finished folder. Files are
    written a month at a time, so memory stays small however long the history."""
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
    total = store.count_live() + store.count_archived()
    digests: dict[str, str] = {}
    try:
        partial.mkdir()
        out = _HashingFile(partial / POSTS_CSV, opener)
        out.write(_csv_text([POST_COLUMNS]).encode("utf-8-sig"))
        summary, done = Summary(), 0
        step("posts", 0, total)
        for batch in _post_batches(store):
            out.write(_csv_text([post_row(p) for p in batch]).encode("utf-8"))
            for p in batch:
                summary.add(p)
            done += len(batch)
            step("posts", done, total)
        digests[POSTS_CSV] = out.close()
        out = _HashingFile(partial / SUMMARY_CSV, opener)
        out.write(summary.csv())
        digests[SUMMARY_CSV] = out.close()
        # The check-in notes are anonymous and meant for the meetings: they travel too.
        notes = [[n.get("month", ""), n.get("working", ""), n.get("change", "")] for n in store.records("checkins")]
        out = _HashingFile(partial / CHECKINS_CSV, opener)
        out.write(_csv_bytes(notes, ["month", "working", "change"]))
        digests[CHECKINS_CSV] = out.close()
        for fname, data in extra_files(store).items():
            out = _HashingFile(partial / fname, opener)
            out.write(data)
            digests[fname] = out.close()
        if full:
            step("backup", 0, 1)
            out = _HashingFile(partial / BACKUP, opener)
            _write_backup(out, store, kiosk_name, now)
            digests[BACKUP] = out.close()
        manifest = {"schema": SCHEMA, "kind": "mutual-aid-kiosk-export", "kiosk": kiosk_name,
                    "created": posts.iso(now), "full": full, "files": digests}
        write_atomic(partial / MANIFEST, json.dumps(manifest, indent=2).encode("utf-8"), 0o644)
        fsync_dir(partial)
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
    if not isinstance(document, dict) or document.get("kind") != "mutual-aid-kiosk-backup":
        raise ExchangeError("invalid", BACKUP)
    if document.get("schema") != SCHEMA:
        raise ExchangeError("version", str(document.get("schema")))
    check_document(document)
    return document


def backup_posts(document: dict) -> list[dict]:
    found = list(document.get("live") or [])
    for month_posts in (document.get("archive") or {}).values():
        found.extend(month_posts)
    return found


_POST_KEYS = {"id": str, "kind": str, "category": str, "status": str, "created": str, "updated": str}
_STATUSES = {"open", "matched", "fulfilled", "withdrawn", "expired"}
_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_MONTH = re.compile(r"\d{4}-\d\d")


def check_document(document) -> None:
    """Refuse a backup whose content could not be restored, before anything is written:
    checksums prove a file was not changed, not that it was right to begin with."""
    from . import codes

    def bad(detail: str):
        raise ExchangeError("invalid", detail)

    if not isinstance(document, dict):
        bad("backup.json is not an object")
    if not isinstance(document.get("live", []), list) or not isinstance(document.get("archive", {}), dict):
        bad("posts")
    seen: set[str] = set()
    for month, month_posts in (document.get("archive") or {}).items():
        if not isinstance(month, str) or not _MONTH.fullmatch(month) or not isinstance(month_posts, list):
            bad(f"archive month {month!r}")
    for post in backup_posts(document):
        if not isinstance(post, dict):
            bad("a post is not an object")
        for key, kind in _POST_KEYS.items():
            if not isinstance(post.get(key), kind):
                bad(f"post {post.get('id')!r}: {key}")
        if codes.normalize_post_id(post["id"]) != post["id"] or post["id"] in seen:
            bad(f"post id {post['id']!r}")
        seen.add(post["id"])
        if post["kind"] not in ("request", "offer") or post["status"] not in _STATUSES:
            bad(f"post {post['id']}: kind or status")
        if not _ISO.fullmatch(post["created"]) or not _ISO.fullmatch(post["updated"]):
            bad(f"post {post['id']}: dates")
        if post.get("closed") is not None and not (isinstance(post["closed"], str) and _ISO.fullmatch(post["closed"])):
            bad(f"post {post['id']}: closed")
        replies = post.get("replies", [])
        if not isinstance(replies, list) or any(
            not isinstance(r, dict) or codes.normalize_post_id(str(r.get("id"))) != r.get("id")
            or not isinstance(r.get("thread", []), list) for r in replies
        ):
            bad(f"post {post['id']}: replies")
    records = document.get("records", {})
    if not isinstance(records, dict) or any(not isinstance(v, list) or not all(isinstance(r, dict) for r in v)
                                             for v in records.values()):
        bad("records")
    for c in records.get("coordinators", []):
        if not isinstance(c.get("handle"), str) or not isinstance(c.get("hash"), dict):
            bad("coordinators")
    if not isinstance(document.get("meta", {}), dict):
        bad("meta")
    audit = document.get("audit", {})
    if not isinstance(audit, dict) or any(not _MONTH.fullmatch(str(m)) or not isinstance(v, list) for m, v in audit.items()):
        bad("audit")


def preview(store: Store, document: dict) -> dict:
    """What a restore or a merge would change, in counts a person can judge."""
    local: dict[str, str] = {}
    for batch in _post_batches(store):
        local.update((p["id"], p["updated"]) for p in batch)
    incoming = backup_posts(document)
    new = sum(1 for p in incoming if p["id"] not in local)
    newer = sum(1 for p in incoming if p["id"] in local and p["updated"] > local[p["id"]])
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
    """Replace all data with the backup's, after saving the current data as a full export.
    The audit trail is never replaced: the backup's entries join this kiosk's."""
    saved = export(store, keep_copy_in, kiosk_name=f"before-restore-{kiosk_name}", now=now, full=True)
    store.replace_everything(document)
    return saved


def merge(store: Store, document: dict) -> dict:
    """Bring in another kiosk's posts by id; where both have a post, the newer update wins,
    but what coordinators decided here (hiding) and replies made here are kept."""
    kiosk = document.get("kiosk", "")
    changed: list[dict] = []
    added = updated = 0
    for post in backup_posts(document):
        current = store.get_post(post["id"])
        if current is not None and not post.get("updated", "") > current.get("updated", ""):
            continue
        post = {**post, "source": post.get("source") or kiosk, "merged_from": post.get("merged_from") or kiosk}
        if current is None:
            added += 1
        else:
            updated += 1
            post["merged_from"] = current.get("merged_from")  # it was ours, or already merged
            post["hidden"] = current.get("hidden") or post.get("hidden")
            theirs = {r["id"] for r in post.get("replies") or ()}
            post["replies"] = list(post.get("replies") or []) + [
                r for r in current.get("replies") or () if r["id"] not in theirs
            ]
        changed.append(post)
    store.put_posts(changed)
    return {"added": added, "updated": updated}
