"""Restoring a backup (everything replaced, after a copy of what was there) and merging
another kiosk's posts in (the rule of which copy wins is the board's, in its declaration)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ...core.store import Store
from ..feature import default_registry
from .backup import backup_posts
from .export import export

KEPT = "backups"  # in the data folder: the copy made before each restore


def preview(store: Store, document: dict) -> dict:
    """What a restore or a merge would change, in counts a person can judge."""
    local: dict[str, str] = {}
    for batch in store.post_batches():
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


def restore(store: Store, document: dict, now: dt.datetime, kiosk_name: str, registry=None) -> Path:
    """Replace all data with the backup's, after saving the current data as a full export in
    the data folder's backups/. The audit trail is never replaced: the backup's entries join."""
    registry = registry or default_registry()
    kept = Path(store.data_dir) / KEPT
    kept.mkdir(exist_ok=True, mode=0o700)
    saved = export(store, kept, registry=registry, kiosk_name=f"before-restore-{kiosk_name}", now=now, full=True)
    records = document.get("records") or {}
    meta = document.get("meta") or {}
    store.replace_everything(
        live=list(document.get("live") or []),
        archive=dict(document.get("archive") or {}),
        tables={name: records.get(name) or [] for name in registry.tables},
        meta={key: meta.get(key) for key in registry.settings},
        audit={month: entries for month, entries in (document.get("audit") or {}).items() if entries},
    )
    return saved


def merge(store: Store, document: dict, registry=None) -> dict:
    """Bring in another kiosk's posts by id, as the board's rules say."""
    registry = registry or default_registry()
    if registry.posts is None:  # no feature keeps posts: nothing to merge
        return {"added": 0, "updated": 0}
    kiosk = document.get("kiosk", "")
    live: list[dict] = []
    archived: dict[str, list[dict]] = {}
    added = updated = 0
    for incoming in backup_posts(document):
        current = store.get_post(incoming["id"])
        post = registry.posts.merge(current, incoming, kiosk)
        if post is None:
            continue
        added, updated = added + (current is None), updated + (current is not None)
        month = registry.posts.place(post)
        (archived.setdefault(month, []) if month else live).append(post)
    store.put_posts(live, archived)
    return {"added": added, "updated": updated}
