"""Reading a backup back: its manifest, checksums and schema, then every record it holds,
checked by the feature that declared it, before anything is written."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ...core import codes
from ...core.idindex import valid_month
from ..feature import default_registry
from .export import BACKUP, MANIFEST, SCHEMA, ExchangeError


def read_backup(folder, registry=None) -> dict:
    """Check a folder's manifest, checksums and schema and return its backup document; raises
    ExchangeError("not-backup" | "incomplete" | "checksum" | "version" | "no-full" | "invalid")."""
    folder = Path(folder)
    manifest_path = folder / MANIFEST
    if not folder.is_dir() or not manifest_path.is_file():
        raise ExchangeError("not-backup", str(folder))
    try:
        manifest = json.loads(manifest_path.read_bytes())
        files = manifest["files"]
    except (ValueError, KeyError, TypeError):
        raise ExchangeError("not-backup", MANIFEST) from None
    if not isinstance(files, dict):
        raise ExchangeError("not-backup", MANIFEST)
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
    check_document(document, registry or default_registry())
    return document


def backup_posts(document: dict) -> list[dict]:
    found = list(document.get("live") or [])
    for month_posts in (document.get("archive") or {}).values():
        found.extend(month_posts)
    return found


def _bad(detail: str):
    raise ExchangeError("invalid", detail)


def _check_posts(document: dict, registry) -> None:
    if not isinstance(document.get("live", []), list) or not isinstance(document.get("archive", {}), dict):
        _bad("posts")
    for month, month_posts in (document.get("archive") or {}).items():
        if not valid_month(month) or not isinstance(month_posts, list):
            _bad(f"archive month {month!r}")
    seen: set[str] = set()
    for post in backup_posts(document):
        if not isinstance(post, dict) or not isinstance(post.get("id"), str):
            _bad("a post is not an object with an id")
        if codes.normalize_post_id(post["id"]) != post["id"] or post["id"] in seen:
            _bad(f"post id {post['id']!r}")
        seen.add(post["id"])
        problem = registry.posts.check(post) if registry.posts else None
        if problem:
            _bad(problem)


def check_document(document, registry) -> None:
    """Refuse a backup whose content could not be restored, before anything is written:
    checksums prove a file was not changed, not that it was right to begin with."""
    if not isinstance(document, dict):
        _bad("backup.json is not an object")
    _check_posts(document, registry)
    records = document.get("records", {})
    if not isinstance(records, dict) or any(not isinstance(v, list) or not all(isinstance(r, dict) for r in v)
                                             for v in records.values()):
        _bad("records")
    for name, table in registry.tables.items():
        for row in records.get(name, []) if table.check else ():
            problem = table.check(row)
            if problem:
                _bad(problem)
    meta = document.get("meta", {})
    if not isinstance(meta, dict):
        _bad("meta")
    for key, declared in registry.settings.items():
        problem = declared.check(meta.get(key)) if declared.check else None
        if problem:
            _bad(problem)
    audit = document.get("audit", {})
    if not isinstance(audit, dict) or any(not valid_month(str(m)) or not isinstance(v, list)
                                           or not all(isinstance(e, dict) for e in v) for m, v in audit.items()):
        _bad("audit")
