"""Backups from before kiosk identities (schema 1: ``backup.json``, one JSON document), read as
the same lines as this version's backups, so they are checked by the same rules. The document is
read whole, which is why its size is limited (lines.MAX_OLD_BACKUP_BYTES)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import msgspec
from flask_babel import lazy_gettext as _l

from ...core import codes
from ...core.schema import Problem, problem_from
from ..feature import default_registry
from .export import ExchangeError
from .lines import FORMAT, OLD_BACKUP, SCHEMA


def _bad(what):
    raise ExchangeError("invalid", Problem(OLD_BACKUP, "", what))


def old_lines(path: Path, registry=None, digest=None) -> Iterator[dict]:
    registry = registry or default_registry()
    raw = path.read_bytes()
    if digest is not None:
        digest.update(raw)
    try:
        document = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise ExchangeError("invalid", problem_from(exc, OLD_BACKUP)) from None
    except RecursionError:
        _bad(_l("is nested too deeply"))
    if not isinstance(document, dict) or document.get("kind") != FORMAT:
        _bad(_l("it is not a kiosk backup"))
    if type(document.get("schema")) is not int or document["schema"] != 1:
        raise ExchangeError("version", str(document.get("schema")))
    name = document.get("kiosk")
    if not isinstance(name, str):
        _bad(_l("the kiosk's name is missing"))
    yield {"t": "kiosk", "format": FORMAT, "schema": SCHEMA, "id": codes.legacy_kiosk_id(name), "name": name,
           "created": document.get("created"), "since": None, "version": "schema 1"}
    count = 1
    live, archive = document.get("live") or [], document.get("archive") or {}
    if not isinstance(live, list) or not isinstance(archive, dict) or not all(isinstance(v, list) for v in archive.values()):
        _bad(_l("the posts are not lists"))
    for post in [*live, *(p for month in archive.values() for p in month)]:
        yield {"t": "post", "post": post}
        count += 1
    records, meta, audit = (document.get(key) or {} for key in ("records", "meta", "audit"))
    if not all(isinstance(part, dict) for part in (records, meta, audit)):
        _bad(_l("records, settings or the audit trail are not objects"))
    for table in registry.tables:
        rows = records.get(table) or []
        if not isinstance(rows, list):
            _bad(_l("%(table)s is not a list", table=table))
        for number, row in enumerate(rows, 1):
            yield {"t": f"table:{table}", "id": number, "row": row}
            count += 1
    for key in registry.settings:
        if meta.get(key) is not None:
            yield {"t": f"setting:{key}", "value": meta[key]}
            count += 1
    for entries in audit.values():
        if not isinstance(entries, list):
            _bad(_l("the audit trail is not a list"))
        for entry in entries:
            yield {"t": "audit", "entry": entry}
            count += 1
    yield {"t": "end", "lines": count + 1}
