"""Restoring a backup (everything replaced) and merging another kiosk's posts in, each built
whole in the staging folder and committed in one step (core/staging.py), with the data from
before kept in ``backups/``. The command line and the coordinator screen share these.

A merge matches records by where they were made (core/origin.py), never by number alone: a
post or reply from another kiosk whose number is taken here gets a new one, keeps its old
number in ``aka`` (its printed codes and QR codes still find it), and nothing is lost, hidden
or overwritten because two kiosks drew the same number.
"""

from __future__ import annotations

import datetime as dt
import threading
from contextlib import nullcontext
from dataclasses import dataclass, field
from itertools import chain
from typing import Iterator
from pathlib import Path

from flask_babel import lazy_gettext as _l

from ...core import codes, keys, staging
from ...core.origin import post_home, post_key, reply_key
from ...core.errors import DataDamaged, StoreError
from ...core.schema import MAX_LIVE_POSTS, Problem
from ...core.store import Store
from ...core.times import iso, month_of, utcnow
from ..feature import default_registry
from .backup import Backup
from .export import ExchangeError
from .build import Staged


def _stamp(now: dt.datetime) -> str:
    return now.strftime("%Y-%m-%d_%H%M%S")


def _audit_entry(now: dt.datetime, handle: str, action: str, target: str, detail: str = "") -> dict:
    return {"at": iso(now), "handle": handle, "action": action, "target": target[:500], "detail": detail[:2000]}


def preview(store: Store, backup: Backup, mode: str, registry=None) -> dict:
    """What a restore or a merge would change, in counts a person can judge."""
    seen = {
        "kiosk": backup.header.get("name", ""),
        "kiosk_id": backup.header.get("id", ""),
        "same_kiosk": backup.header.get("id") == store.kiosk_id,
        "created": backup.header.get("created", ""),
        "posts_now": store.count_live() + store.count_archived(),
        "posts_in_backup": backup.counts.get("posts", 0),
        "coordinators_in_backup": backup.counts.get("table:coordinators", 0),
        "merge_new": 0, "merge_newer": 0, "renumbered": 0, "not_kept": 0,
        "unencrypted": backup.unencrypted,
    }
    if mode == "merge":
        counts = merge(store, backup, registry, now=None, handle="", dry_run=True)
        seen.update(merge_new=counts["added"], merge_newer=counts["updated"], renumbered=counts["renumbered"],
                    not_kept=counts["not_kept"])
    return seen


def restore(data_dir: Path, backup: Backup, registry=None, *, now: dt.datetime, handle: str,
            store: Store | None = None) -> Path | None:
    """Replace all data with the backup's (the audit trail excepted: the backup's entries join
    this kiosk's). ``store``: the open store of ``data_dir``, reopened afterwards; without one
    (the data here is damaged) the caller holds the folder's lock. Returns the kept copy.

    The backup is read and staged while the kiosk goes on serving; the store is held only to
    join the audit trail, check the result and commit."""
    registry = registry or default_registry()
    # Without a store the data here did not pass its check: never offered later as a good copy.
    kept_as = f"{'before' if store is not None else 'damaged'}-restore-{_stamp(now)}"
    Path(data_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
    with _ONE_AT_A_TIME:
        staged = _staged(data_dir)
        try:
            header, live, tables, meta, audit = _building(lambda: _stage_backup(staged, backup, registry))
            entry = _audit_entry(now, handle, "restore-backup", header.get("created", ""),
                                 f"{header.get('name', '')}; the data from before is in {staging.BACKUPS}/{kept_as}")
            audit[month_of(now)] = chain(audit.get(month_of(now), ()), [entry])
            with store.exclusive() if store is not None else nullcontext():
                kept = unknown_tables(store.live_data(), registry) if store is not None else {}
                _building(lambda: (staged.write_live(live, tables, meta, kept), staged.audit(audit, registry.schema),
                                   staged.verify(registry.schema)))
                copy = _commit(store, staged, kept_as)
        except BaseException:
            staged.discard()
            raise
    after_import(Path(data_dir), store, registry)
    return copy


def after_import(data_dir: Path, store: Store | None, registry) -> None:
    """Runs once a restore's or a merge's data is in place (committed, and the store reopened
    on it): where data from an older backup is brought up to this version's rules. ``store`` is
    None when the caller holds the folder's lock without one (a restore over damaged data, on
    the command line)."""
    if store is not None:  # else the next start seals it: a backup from before sealing has no mark
        from ..sealing import seal_plain

        seal_plain(store, registry)


def _stage_backup(staged: Staged, backup: Backup, registry) -> tuple:
    """Read the backup (checked again on the way) into the staging folder: archive months
    written, the rest returned (header, live posts, tables, settings, audit entries by month)."""
    live, tables, meta, audit = [], {name: {} for name in registry.tables}, {}, {}
    header: dict = {}
    for line in backup.lines():
        kind = line["t"]
        if kind == "kiosk":
            header = line
        elif kind == "post":
            month = registry.posts.place(line["post"]) if registry.posts else None
            if month is None:
                live.append(line["post"])
            else:
                staged.spool.add(month, line["post"])
        elif kind.startswith("table:"):
            tables[kind[6:]][line["id"]] = line["row"]
        elif kind.startswith("setting:"):
            meta[kind[8:]] = line.get("value")
        elif kind == "audit":
            staged.spool.add(f"audit-{line['entry']['at'][:7]}", line["entry"])
    # A backup from before identities names its kiosk only by its name, which two kiosks may
    # share: the restored kiosk gets an identity of its own.
    identity = header["id"] if not header["id"].startswith("L") else codes.new_kiosk_id()
    meta["kiosk"] = {"id": identity, "since": header.get("since") or header["created"]}
    for key in staged.spool.keys():
        if key.startswith("audit-"):
            audit[key[6:]] = staged.spool.read(key)

    for month in staged.spool.keys():
        if not month.startswith("audit-"):
            staged.write_month(month, staged.spool.read(month))
    staged.write_index()
    return header, live, tables, meta, audit


def unknown_tables(data: dict, registry) -> dict:
    """Tables of a live file that no feature declares (a newer version's): carried over."""
    return {name: rows for name, rows in data.items() if name not in registry.schema.known_tables()}


_ONE_AT_A_TIME = threading.Lock()  # one staging folder: restores and merges never overlap


def _staged(data_dir: Path) -> Staged:
    return _building(lambda: Staged(data_dir))


def _building(step):
    """Run a step of building the new data; a full disk or a file that cannot be read while
    building becomes a clear refusal (nothing was committed, nothing changed)."""
    try:
        return step()
    except DataDamaged as exc:  # the result would not pass the checks of the next start
        raise ExchangeError("result", exc.problem) from exc
    except (StoreError, OSError) as exc:
        raise ExchangeError("staging", getattr(exc, "strerror", None) or str(exc)) from exc


def _commit(store: Store | None, staged: Staged, kept_as: str) -> Path | None:
    """Put the staged data in place and have the store read it. If that fails once the commit
    marker is written, the files may be the new ones while the store's memory is the old: the
    store then refuses every write until the kiosk restarts (and the start finishes the commit)."""
    try:
        kept = staging.commit(staged.data_dir, kept_as)
        if store is not None:
            store.reopen()
        return kept
    except BaseException as exc:
        if (staged.folder / staging.COMMIT).exists() or not staged.folder.exists():
            if store is not None:
                store.freeze()
            raise
        if isinstance(exc, OSError):  # before the marker: nothing changed
            raise ExchangeError("staging", exc.strerror or str(exc)) from exc
        raise


@dataclass
class _Local:
    """This kiosk's records by origin: post key -> (id, where it is, updated); (post id, reply
    key) -> reply id. Replies are known within their post only: a copy naming a reply of
    another post is a new reply, never given that reply's number."""

    posts: dict = field(default_factory=dict)
    replies: dict = field(default_factory=dict)
    numbers: set = field(default_factory=set)  # every number that means something here

    @classmethod
    def of(cls, store: Store) -> "_Local":
        local = cls()
        places = [("live", store.live_posts)] + [(m, lambda m=m: store.archived_posts(m)) for m in store.archived_months()]
        for where, posts in places:
            for post in posts():
                local.posts[post_key(post)] = (post["id"], where, post.get("updated", ""))
                local.numbers.update([post["id"], *(post.get("aka") or ())])
                for reply in post.get("replies") or ():
                    local.replies[post["id"], reply_key(reply, post_home(post))] = reply["id"]
                    local.numbers.update([reply["id"], *(reply.get("aka") or ())])
            store.trim()
        return local


def merge(store: Store, backup: Backup, registry=None, *, now: dt.datetime | None, handle: str,
          dry_run: bool = False) -> dict:
    """Bring another kiosk's posts in, as the board's rule says (``PostRules.merge``), matched by
    origin; returns {"added", "updated", "renumbered", "not_kept"}. Merging the same backup again changes
    nothing (and commits nothing). The store is held throughout: what is merged is this kiosk's
    data as it is, and nothing written meanwhile could be lost. ``dry_run``: the counts only
    (the preview), with nothing built."""
    registry = registry or default_registry()
    rules = registry.posts
    counts = {"added": 0, "updated": 0, "renumbered": 0, "not_kept": 0}
    if rules is None:
        return counts
    now = now or utcnow()
    kiosk = backup.header.get("name", "")
    with _ONE_AT_A_TIME, store.exclusive():
        local = _Local.of(store)
        staged = _staged(store.data_dir)
        try:
            matched = _building(lambda: _sort_incoming(backup, rules, local, kiosk, counts, staged))
            changes = _building(lambda: _apply(store, rules, kiosk, now, matched, staged, counts))
            if dry_run or not (counts["added"] or counts["updated"]):
                staged.discard()
                return counts
            _fits(store, changes, staged)
            entry = _audit_entry(now, handle, "merge", f"{kiosk} ({backup.header.get('id', '')})",
                                 f"{counts['added']} added, {counts['updated']} updated, "
                                 f"{counts['renumbered']} under new numbers")
            _building(lambda: (_write(store, staged, changes, registry), staged.audit({month_of(now): [entry]}, registry.schema),
                               staged.verify(registry.schema)))
            _commit(store, staged, f"before-merge-{_stamp(now)}")
        except BaseException:
            staged.discard()
            raise
    after_import(store.data_dir, store, registry)
    return counts


def _fits(store: Store, changes: dict[str, dict], staged: Staged) -> None:
    """Refuse, before building, a merge whose result a kiosk could not hold."""
    live = store.count_live() - len(changes.get("live", {}).get("drop", ())) + staged.spool.count("a-live")
    if live > MAX_LIVE_POSTS:
        raise ExchangeError("invalid", Problem(str(_l("the merge")), "", _l(
            "the board would hold %(n)s open posts, more than the %(most)s a kiosk can", n=live, most=MAX_LIVE_POSTS)))


def _sort_incoming(backup, rules, local: _Local, kiosk: str, counts: dict, staged) -> set[str]:
    """Give each incoming record its number here and file it: a known one by where it is now
    (spooled "m-<where>"), a new one by where it goes ("a-<where>"). Returns where the known
    ones are."""
    used: set[str] = set()

    def number(*candidates: str) -> str:
        for candidate in chain(candidates, (codes.new_post_id() for _ in range(1000))):
            if candidate not in used and candidate not in local.numbers:
                used.add(candidate)
                return candidate
        raise RuntimeError("no free number")  # pragma: no cover - 24 million numbers

    matched: set[str] = set()
    for line in backup.lines():
        if line["t"] != "post":
            continue
        post = dict(line["post"])
        if not post.get("home") and not post.get("source"):
            post["source"] = kiosk  # a record from before identities, made where the backup was
        home, key = post_home(post), post_key(post)
        post["home_id"] = key[1]
        hit = local.posts.get(key)
        new_ids = {post["id"]: hit[0] if hit else number(post["id"], key[1])}
        replies = []
        for reply in post.get("replies") or ():
            rkey = reply_key(reply, home)
            replies.append({**reply, "home_id": rkey[1]})
            known = local.replies.get((hit[0], rkey)) if hit else None
            new_ids[reply["id"]] = known or number(reply["id"], rkey[1])
        post["replies"] = replies
        if any(old != new for old, new in new_ids.items()) and not hit:
            counts["renumbered"] += 1
        post = rules.renumber(post, new_ids)
        if hit is None:
            counts["added"] += 1
            staged.spool.add(f"a-{rules.place(post) or 'live'}", rules.merge(None, post, kiosk, utcnow()))
        else:
            matched.add(hit[1])
            staged.spool.add(f"m-{hit[1]}", post)
    return matched


def _load(store: Store, where: str) -> list[dict]:
    return store.live_posts() if where == "live" else store.archived_posts(where)


def _apply(store, rules, kiosk: str, now: dt.datetime, matched: set[str], staged, counts: dict) -> dict[str, dict]:
    """Merge known records with ours, place by place. Returns, for each place that changes,
    {"put": {id: post}, "drop": {ids}}; posts that move to another place are spooled there."""
    changes: dict[str, dict] = {}
    for where in sorted(matched):
        ours = {p["id"]: p for p in _load(store, where)}
        for incoming in staged.spool.read(f"m-{where}"):
            merged = rules.merge(ours.get(incoming["id"]), incoming, kiosk, now, notes=counts)
            if merged is None:
                continue
            counts["updated"] += 1
            target = rules.place(merged) or "live"
            change = changes.setdefault(where, {"put": {}, "drop": set()})
            if target == where:
                change["put"][merged["id"]] = merged
            else:
                change["drop"].add(merged["id"])
                staged.spool.add(f"a-{target}", merged)
        store.trim()
    for key in staged.spool.keys():
        if key.startswith("a-"):
            changes.setdefault(key[2:], {"put": {}, "drop": set()})
    return changes


def _write(store: Store, staged: Staged, changes: dict[str, dict], registry) -> None:
    """Each place that changes written once; every other file linked as it is."""
    def final(where: str) -> Iterator[dict]:
        change = changes.get(where, {"put": {}, "drop": set()})
        for post in _load(store, where):
            if post["id"] not in change["drop"]:
                yield change["put"].pop(post["id"], post)
        yield from change["put"].values()
        yield from staged.spool.read(f"a-{where}")

    data = store.live_data()
    meta = {row["key"]: row.get("value") for row in (data.get("meta") or {}).values()}
    swept = registry.posts.swept
    months = sorted(w for w in changes if w != "live")
    # What the backup brought may be plain (a kiosk from before sealing): the merged data is
    # marked unsealed until after_import has sealed it, so a cut in between seals at the next start.
    meta.pop(keys.SEALED_MARK, None)
    changes.setdefault("live", {"put": {}, "drop": set()})
    if swept and months and months[0] <= (meta.get(swept) or ""):
        # Posts joined months that retention has swept: it sweeps them again (promise 7).
        meta[swept] = max((m for m in store.archived_months() if m < months[0]), default="")
        changes.setdefault("live", {"put": {}, "drop": set()})
    if "live" in changes:
        tables = {name: {int(k): v for k, v in (data.get(name) or {}).items()} for name in registry.tables}
        staged.write_live(list(final("live")), tables, meta, unknown_tables(data, registry))
    else:
        staged.link_live()
    files = store.month_files()
    for month in sorted(set(files) | set(months)):
        if month in changes:
            staged.write_month(month, final(month))
            store.trim()
        else:
            staged.link_month(month, *files[month])
    staged.write_index()
