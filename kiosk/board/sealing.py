"""Sealing what posts held in plain before this version (promise 8): the migration.

Data written before sealing has each reply's words, and each message of its thread, in
plain text, and the tickets' claims hold the scrypt output itself. Both can be sealed without
any code: that output is exactly what a code gives, so the ticket's key pair comes from it
(core/keys.py upgrade_ticket), and the words are sealed to the post's and the reply's keys.
Text that no ticket could ever open (a post or reply without a claim) is blanked instead.
Idempotent: sealed records are left as they are, so a cut-short run simply runs again.
"""

from __future__ import annotations

from ..core import keys
from ..core.store import Store
from .replies import readers


def _upgraded(claim: dict | None) -> dict | None:
    return keys.upgrade_ticket(claim) if claim and claim.get("hash") else claim


def seal_post(post: dict) -> tuple[dict | None, int]:
    """(the post with its claims upgraded and its words sealed, how many texts were sealed),
    or (None, 0) when nothing in it was plain."""
    claim = _upgraded(post.get("claim"))
    changed = claim is not post.get("claim")
    post = {**post, "claim": claim}
    sealed = 0
    replies = []
    for reply in post.get("replies") or ():
        reply, reply_changed, count = _seal_reply(post, reply)
        replies.append(reply)
        changed |= reply_changed
        sealed += count
    post["replies"] = replies
    return (post, sealed) if changed else (None, 0)


def _seal_reply(post: dict, reply: dict) -> tuple[dict, bool, int]:
    reply_claim = _upgraded(reply.get("claim"))
    changed = reply_claim is not reply.get("claim")
    reply = {**reply, "claim": reply_claim}
    who = [key for key in readers(post, reply) if key]
    sealed = 0
    if reply.get("message") or reply.get("available"):
        if who:
            reply["sealed"] = keys.seal({"message": reply.get("message", ""), "available": reply.get("available", "")}, *who)
            sealed += 1
        reply.update(message="", available="")
        changed = True
    thread = []
    for message in reply.get("thread") or ():
        if message.get("text"):
            blanked = {**message, "text": ""}
            if who:
                blanked["sealed"] = keys.seal({"text": message["text"]}, *who)
                sealed += 1
            message, changed = blanked, True
        thread.append(message)
    reply["thread"] = thread
    return reply, changed, sealed


def seal_posts(store: Store, team: str | None = None) -> int:
    """Seal every live and archived post's plain words; returns how many texts were sealed."""
    total = 0
    for post in store.live_posts():
        done, count = seal_post(post)
        if done is not None:
            store.update_post(post["id"], {"claim": done["claim"], "replies": done["replies"]})
            total += count
    for month in store.archived_months():
        changes = {}
        for post in store.archived_posts(month):
            done, count = seal_post(post)
            if done is not None:
                changes[post["id"]] = {"claim": done["claim"], "replies": done["replies"]}
                total += count
        store.update_archived_month(month, changes)
    return total


def seal_reports(store: Store, team: str | None) -> int:
    """Reports from before sealing: their note, and the reported reply's or message's words
    (coordinators read those from the thread then; now only a report carries them), sealed to
    the team's key (blanked if none). Runs before the posts are sealed, while the words are plain."""
    plain = [r for r in store.records("reports") if not r.get("sealed") and (r.get("note") or r["kind"] != "post")]
    for found in plain:
        fields = {"note": ""}
        if team:
            fields["sealed"] = keys.seal({"note": found.get("note", ""), "text": _reported(store, found)}, team)
        store.update_record("reports", found["_id"], fields)
    return len(plain) if team else 0


def _reported(store: Store, report: dict) -> str:
    post = store.get_post(report["post"]) or {}
    reply = next((r for r in post.get("replies") or () if r["id"] == report.get("reply")), None) or {}
    if report["kind"] == "reply":
        return reply.get("message", "")
    message = next((m for m in reply.get("thread") or () if m["id"] == report.get("message")), None) or {}
    return message.get("text", "")
