"""Moderation and thanks: reports, posts nobody answered, thank-you lines waiting, the actions
on them (hide, restore, dismiss, approve), and the thanks wall. Plain functions over the store."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l

from ..core import counts, keys, text
from ..core.errors import Refused
from ..core.store import Store
from ..core.times import iso, month_of, oldest_months, parse_iso
from . import posts, travel

STALE_DAYS = 3
REASON_LIMIT = 200


def check_reason(raw: str) -> str:
    reason = text.normalize(raw or "", multiline=False)
    if not text.visible(reason):
        raise Refused(_l("Write the reason the poster will see."))
    if len(reason) > REASON_LIMIT or text.unsafe(reason):
        raise Refused(_l("Use one line of at most %(n)d characters.", n=REASON_LIMIT))
    return reason


def hide(store: Store, post_id: str, reason: str, handle: str, now: dt.datetime) -> None:
    def change(post: dict) -> None:
        if post.get("hidden"):
            raise Refused(_l("This post is already hidden."))
        post["hidden"] = {"reason": reason, "by": handle, "at": iso(now)}
        return post

    try:
        travel.hid(store, store.mutate_post(post_id, change))
    except KeyError:
        raise Refused(_l("There is no post with that number.")) from None


def restore(store: Store, post_id: str) -> None:
    def change(post: dict) -> None:
        if not post.get("hidden"):
            raise Refused(_l("This post is not hidden."))
        post["hidden"] = None
        return post

    try:
        travel.hid(store, store.mutate_post(post_id, change))
    except KeyError:
        raise Refused(_l("There is no post with that number.")) from None


def _record(store: Store, table: str, record_id: int) -> dict:
    found = next((r for r in store.records(table) if r["_id"] == record_id), None)
    if found is None:
        raise Refused(_l("That item is no longer in the queue."))
    return found


def dismiss_report(store: Store, record_id: int, handle: str, now: dt.datetime) -> dict:
    report = _record(store, "reports", record_id)
    if report.get("status") != "open":
        raise Refused(_l("That item is no longer in the queue."))
    store.update_record("reports", record_id, {"status": "dismissed", "closed": iso(now), "by": handle})
    return report


def close_reports_for(store: Store, post_id: str, handle: str, now: dt.datetime) -> None:
    """Hiding a post settles every open report about it."""
    for report in store.records("reports"):
        if report.get("post") == post_id and report.get("status") == "open":
            store.update_record("reports", report["_id"], {"status": "acted", "closed": iso(now), "by": handle})


def judge_thanks(store: Store, record_id: int, approve: bool, handle: str, now: dt.datetime) -> dict:
    line = _record(store, "thanks", record_id)
    if line.get("status") != "waiting":
        raise Refused(_l("That item is no longer in the queue."))
    status = "approved" if approve else "declined"
    store.update_record("thanks", record_id, {"status": status, "judged": iso(now), "by": handle})

    def change(post: dict) -> None:
        if post.get("thanks"):
            post["thanks"]["status"] = status

    try:
        store.mutate_post(line["post"], change)
    except KeyError:
        pass
    return line


def _describe(store: Store, report: dict, team) -> dict:
    """The reported post, and the note and words the reporter sent, opened with the team's key
    (a report from before sealing still has its note in plain)."""
    post = store.get_post(report.get("post", "")) or {}
    found = keys.unseal(report.get("sealed"), team) or {}
    return {"post": posts.public_view(post) if post else None, "text": found.get("text", ""),
            "note": found.get("note", report.get("note", "")),
            "shut": bool(report.get("sealed")) and not found}


def queue_reports(store: Store, now: dt.datetime, expire_days: int, team=None) -> dict:
    """What waits for the coordinators first: open reports, posts nobody answered for days.
    ``team``: the coordinators' private key, which opens the reports' notes."""
    reports = [
        {**r, **_describe(store, r, team)}
        for r in sorted(store.records("reports"), key=lambda r: r["created"], reverse=True)
        if r.get("status") == "open"
    ]
    stale = [
        posts.public_view(p)
        for p in posts.board(store, now, expire_days)
        if not p.get("replies") and now - parse_iso(p["created"]) > dt.timedelta(days=STALE_DAYS)
    ]
    return {"reports": reports, "stale": stale}


def queue_thanks(store: Store) -> dict:
    """Then: thank-you lines to approve (a line left waiting past the retention period has lost
    its text: nothing to judge), and the posts hidden now."""
    thanks = [t for t in store.records("thanks") if t.get("status") == "waiting" and t.get("text")]
    hidden = [posts.public_view(p) | {"hidden": p["hidden"]} for p in store.live_posts() if p.get("hidden")]
    return {"thanks": thanks, "hidden": hidden}


# -- the thanks wall ----------------------------------------------------------------------------


def thanks_wall(store: Store, limit: int = 100) -> list[dict]:
    """Approved thank-you lines, newest first: only the line and its month."""
    approved = [t for t in store.records("thanks") if t.get("status") == "approved" and t.get("text")]
    approved.sort(key=lambda t: (t.get("judged") or t["created"], t["_id"]), reverse=True)
    return [{"text": t["text"], "month": t["created"][:7]} for t in approved[:limit]]


def needs_met(store: Store, now: dt.datetime) -> int:
    """Requests fulfilled this month (they sit in this month's archive file); 0 while too few
    to show (the small-cell rule: one or two would point at the people involved)."""
    count = sum(1 for p in store.archived_posts(month_of(now)) if p["kind"] == "request" and p["status"] == "fulfilled")
    return 0 if counts.too_small(count) else count


# -- retention (promise 7) ----------------------------------------------------------------------


def erase_old_notes(store: Store, now: dt.datetime, retain_days: int, max_months: int = 3) -> int:
    """Reports' notes (with the words a report carries, sealed) and thank-you lines lose their
    text ``retain_days`` after they were written, a few months a run; what was reported, why
    and when, and that thanks were given, stay."""
    cutoff = iso(now - dt.timedelta(days=retain_days))
    old = [(r["created"][:7], r["_id"]) for r in store.records("reports")
           if r["created"] <= cutoff and (r.get("note") or r.get("sealed"))]
    ids = [record_id for month in oldest_months(old, max_months).values() for record_id in month]
    store.change_records("reports", ids, _blank_report)
    return len(ids) + _erase_old_thanks(store, cutoff, max_months)


def _blank_report(report: dict) -> None:
    report["note"] = ""
    report.pop("sealed", None)


def _thanks_since(line: dict) -> str:
    # An approved line stays on the wall for a whole retention period after its approval,
    # however long it waited; then it leaves the wall like every other text.
    return (line.get("judged") or line["created"]) if line.get("status") == "approved" else line["created"]


def _erase_old_thanks(store: Store, cutoff: str, max_months: int) -> int:
    old = [(_thanks_since(t)[:7], t) for t in store.records("thanks") if t.get("text") and _thanks_since(t) <= cutoff]
    lines = [line for month in oldest_months(old, max_months).values() for line in month]
    # The post's copy first: a line whose record still has its text is tried again next time.
    by_month: dict = {}
    for line in lines:
        post = store.get_post(line["post"])
        if post and post.get("thanks"):
            blank = {k: v for k, v in post["thanks"].items() if k != "sealed"} | {"text": ""}
            by_month.setdefault(posts.archive_month(post), {})[post["id"]] = {"thanks": blank}
    for month, changes in by_month.items():
        if month is None:  # (a thank-you line needs a fulfilled post, which is archived)
            for post_id, fields in changes.items():
                store.update_post(post_id, fields)
        else:
            store.update_archived_month(month, changes)
    store.change_records("thanks", [line["_id"] for line in lines], _blank_thanks)
    return len(lines)


def _blank_thanks(line: dict) -> None:
    line["text"] = ""
    line.pop("sealed", None)
