"""The coordinators' queue: reports, posts nobody answered, thank-you lines waiting, and the
actions on them (hide, restore, dismiss, approve). Plain functions over the store."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l

from . import posts, replies, text
from .store import Store

STALE_DAYS = 3
REASON_LIMIT = 200


class Refused(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


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
        post["hidden"] = {"reason": reason, "by": handle, "at": posts.iso(now)}

    try:
        store.mutate_post(post_id, change)
    except KeyError:
        raise Refused(_l("There is no post with that number.")) from None


def restore(store: Store, post_id: str) -> None:
    def change(post: dict) -> None:
        if not post.get("hidden"):
            raise Refused(_l("This post is not hidden."))
        post["hidden"] = None

    try:
        store.mutate_post(post_id, change)
    except KeyError:
        raise Refused(_l("There is no post with that number.")) from None


def _record(store: Store, table: str, record_id: int) -> dict:
    found = next((r for r in store.records(table) if r["_id"] == record_id), None)
    if found is None:
        raise Refused(_l("That item is no longer in the queue."))
    return found


def dismiss_report(store: Store, record_id: int, handle: str, now: dt.datetime) -> dict:
    report = _record(store, "reports", record_id)
    store.update_record("reports", record_id, {"status": "dismissed", "closed": posts.iso(now), "by": handle})
    return report


def close_reports_for(store: Store, post_id: str, handle: str, now: dt.datetime) -> None:
    """Hiding a post settles every open report about it."""
    for report in store.records("reports"):
        if report.get("post") == post_id and report.get("status") == "open":
            store.update_record("reports", report["_id"], {"status": "acted", "closed": posts.iso(now), "by": handle})


def judge_thanks(store: Store, record_id: int, approve: bool, handle: str, now: dt.datetime) -> dict:
    line = _record(store, "thanks", record_id)
    if line.get("status") != "waiting":
        raise Refused(_l("That item is no longer in the queue."))
    status = "approved" if approve else "declined"
    store.update_record("thanks", record_id, {"status": status, "judged": posts.iso(now), "by": handle})

    def change(post: dict) -> None:
        if post.get("thanks"):
            post["thanks"]["status"] = status

    try:
        store.mutate_post(line["post"], change)
    except KeyError:
        pass
    return line


def _describe(store: Store, report: dict) -> dict:
    post = store.get_post(report.get("post", "")) or {}
    shown = {"post": posts.public_view(post) if post else None, "text": ""}
    reply = replies.find_reply(post, report.get("reply", "")) if post else None
    if report.get("kind") == "reply" and reply:
        shown["text"] = reply.get("message", "")
    elif report.get("kind") == "message" and reply:
        message = next((m for m in reply.get("thread") or () if m["id"] == report.get("message")), None)
        shown["text"] = message.get("text", "") if message else ""
    return shown


def queue(store: Store, now: dt.datetime, expire_days: int) -> dict:
    reports = [
        {**r, **_describe(store, r)}
        for r in sorted(store.records("reports"), key=lambda r: r["created"], reverse=True)
        if r.get("status") == "open"
    ]
    stale = [
        posts.public_view(p)
        for p in posts.board(store, now, expire_days)
        if not p.get("replies") and now - posts.parse_iso(p["created"]) > dt.timedelta(days=STALE_DAYS)
    ]
    thanks = [t for t in store.records("thanks") if t.get("status") == "waiting"]
    hidden = [posts.public_view(p) | {"hidden": p["hidden"]} for p in store.live_posts() if p.get("hidden")]
    return {"reports": reports, "stale": stale, "thanks": thanks, "hidden": hidden}
