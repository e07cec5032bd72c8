"""Replies, matches and private threads between pseudonyms, as plain functions over the store.

A reply lives inside its post's document:
    id (its own short id; the replier's ticket code starts with it), created, sealed (its
    message and when the replier is available), pseudonym, lang, claim (check and public key),
    status (new|accepted|declined|withdrawn|ended), thread: [{id, author (poster|replier),
    sealed, created}]
What they wrote is sealed (core/keys.py) to the post's ticket and the reply's ticket: only
those two codes open it, and ``opened`` fills the text in for whoever unlocked one of them.
(``message``, ``available`` and ``text`` stay as empty fields: data from before sealing had
the words there, and the start-up migration, ``seal_plain``, moves them into ``sealed``.)
A post moves open -> matched (one reply accepted) -> fulfilled, or withdrawn / expired at any
point; the poster may reopen a matched post. "I can help" on a request and "I'd like this" on
an offer are the same mechanism.
"""

from __future__ import annotations

import datetime as dt
from typing import Mapping

from flask_babel import lazy_gettext as _l

from ..core import codes, fields, keys, text
from ..core.errors import Invalid, Refused
from ..core.store import Store
from ..core.times import iso
from ..web import gate
from . import lifecycle, travel
from .forms import Checked
from .posts import is_expired
from .schema import MAX_REPLIES, MAX_THREAD

LIMITS = {"message": 500, "available": 80, "thanks": 140, "note": 200}
REPORT_REASONS = {
    "spam": _l("Spam or advertising"),
    "offensive": _l("Rude, hateful or threatening"),
    "personal": _l("Shares someone's personal details"),
    "unsafe": _l("Unsafe, illegal or a scam"),
    "other": _l("Something else"),
}


def _clean(form: Mapping, name: str, limit: int, errors: dict, required: bool, multiline: bool) -> str:
    value = fields.clean(form, name, limit, errors, multiline)
    if required and name not in errors and not text.visible(value):
        errors[name] = _l("Write a message first.")
    return value


def check_reply_form(form: Mapping) -> Checked:
    errors: dict = {}
    values = {
        "message": _clean(form, "message", LIMITS["message"], errors, required=True, multiline=True),
        "available": _clean(form, "available", LIMITS["available"], errors, required=False, multiline=False),
    }
    if errors:
        raise Invalid(errors, values)
    return Checked(values=values, contact=text.contact_in(values))


def check_message(form: Mapping, name: str = "message", limit: int = LIMITS["message"]) -> str:
    errors: dict = {}
    value = _clean(form, name, limit, errors, required=True, multiline=True)
    if errors:
        raise Invalid(errors, {name: value})
    return value


def find_reply(post: dict, reply_id: str) -> dict | None:
    for reply in post.get("replies") or ():
        if reply["id"] == reply_id:
            return reply
    return None


def _reply(post: dict, reply_id: str) -> dict:
    reply = find_reply(post, reply_id)
    if reply is None:
        raise Refused(_l("That reply does not exist."))
    return reply


def is_open_for_replies(post: dict, now: dt.datetime, expire_days: int) -> bool:
    return post["status"] == "open" and not post.get("hidden") and not is_expired(post, now, expire_days)


def add_reply(
    store: Store,
    post_id: str,
    values: dict,
    *,
    lang: str,
    scrypt_n: int,
    now: dt.datetime,
    expire_days: int,
) -> tuple[str, str]:
    """Store a reply to an open post; returns (reply id, the replier's ticket code)."""
    secret = codes.new_secret_words(lang)
    claim = keys.new_ticket(codes.secret_key(secret), scrypt_n)
    for _ in range(100):
        reply_id = codes.new_post_id()
        if not store.id_taken(reply_id):
            break
    else:  # pragma: no cover - 24 million ids
        raise RuntimeError("no free id")

    home = store.kiosk_id

    def change(post: dict) -> None:
        if not is_open_for_replies(post, now, expire_days):
            raise Refused(_l("This post is no longer open for replies."))
        if len(post.get("replies") or ()) >= MAX_REPLIES:
            raise Refused(_l("This post has had as many replies as it can take. Look for a similar post, or make one."))
        post.setdefault("replies", []).append(
            {
                "id": reply_id,
                "created": iso(now),
                "message": "",
                "available": "",
                "sealed": keys.seal({"message": values["message"], "available": values.get("available", "")},
                                    keys.public_of(post.get("claim")), claim["pub"]),
                **codes.new_alias(),
                "lang": lang,
                "claim": claim,
                "status": "new",
                "thread": [],
                "home": home,
                "home_id": reply_id,
            }
        )
        post["updated"] = iso(now)

    travel.replied(store, _changed(store, post_id, change), reply_id)
    return reply_id, codes.make_ticket_code(reply_id, secret)


def _changed(store: Store, post_id: str, change) -> dict:
    """Run ``change`` on the post and return the post as stored after it."""
    def run(post: dict) -> dict:
        change(post)
        return post

    return store.mutate_post(post_id, run)


def accept(store: Store, post_id: str, reply_id: str, now: dt.datetime, by=None) -> None:
    def change(post: dict) -> None:
        reply = _reply(post, reply_id)
        if post["status"] != "open":
            raise Refused(_l("Only an open post can accept a reply."))
        if reply["status"] != "new":
            raise Refused(_l("This reply can no longer be accepted."))
        reply["status"] = "accepted"
        post["status"] = "matched"
        post["matched_reply"] = reply_id
        post["matched"] = iso(now)
        post["updated"] = iso(now)

    travel.state(store, _changed(store, post_id, change), "poster", by=by)


def decline(store: Store, post_id: str, reply_id: str, now: dt.datetime, by=None) -> None:
    def change(post: dict) -> None:
        reply = _reply(post, reply_id)
        if reply["status"] != "new":
            raise Refused(_l("This reply was already answered."))
        reply["status"] = "declined"
        post["updated"] = iso(now)

    travel.state(store, _changed(store, post_id, change), "poster", by=by)


def reopen(store: Store, post_id: str, now: dt.datetime, by=None) -> None:
    """The match fell through: the post goes back on the board; the thread is kept closed."""

    def change(post: dict) -> None:
        if post["status"] != "matched":
            raise Refused(_l("Only a matched post can be reopened."))
        reply = find_reply(post, post.get("matched_reply", ""))
        if reply:
            reply["status"] = "ended"
        post["status"] = "open"
        post["matched_reply"] = None
        # Back on the board for a full period from now.
        post["created"] = iso(now)
        post["updated"] = iso(now)

    travel.state(store, _changed(store, post_id, change), "poster", by=by)


def withdraw_reply(store: Store, post_id: str, reply_id: str, now: dt.datetime, by=None) -> None:
    def change(post: dict) -> None:
        reply = _reply(post, reply_id)
        if reply["status"] not in ("new", "accepted"):
            raise Refused(_l("This reply is already closed."))
        if reply["status"] == "accepted" and post["status"] == "matched":
            post["status"] = "open"
            post["matched_reply"] = None
        reply["status"] = "withdrawn"
        post["updated"] = iso(now)

    travel.state(store, _changed(store, post_id, change), "replier", reply_id=reply_id, by=by)


def fulfil(store: Store, post_id: str, now: dt.datetime, reply_id: str | None = None, by=None) -> dict:
    """Either side marks the post fulfilled: the poster (reply_id None) of an open or matched
    post, or the accepted replier of a matched one."""
    post = store.get_post(post_id)
    if post is None or post["status"] not in ("open", "matched"):
        raise Refused(_l("This post is already closed."))
    if reply_id is not None and post.get("matched_reply") != reply_id:
        raise Refused(_l("Only the accepted helper can mark this post fulfilled."))
    return lifecycle.close(store, post_id, "fulfilled", now, by=by, actor="replier" if reply_id else "poster",
                           reply_id=reply_id)


def add_message(store: Store, post_id: str, reply_id: str, author: str, body: str, now: dt.datetime,
                by=None) -> None:
    def change(post: dict) -> None:
        reply = _reply(post, reply_id)
        if post["status"] != "matched" or reply["status"] != "accepted":
            raise Refused(_l("This conversation is closed."))
        thread = reply.setdefault("thread", [])
        if len(thread) >= MAX_THREAD:
            raise Refused(_l("This conversation has reached its length limit. Meet in person, or start a new post."))
        sealed = keys.seal({"text": body}, *readers(post, reply))
        thread.append({"id": len(thread) + 1, "author": author, "text": "", "sealed": sealed, "created": iso(now)})
        post["updated"] = iso(now)

    travel.messaged(store, _changed(store, post_id, change), reply_id, by=by)


def readers(post: dict, reply: dict) -> tuple[str | None, str | None]:
    """The public keys a reply and its thread are sealed to: the post's ticket, the reply's."""
    return keys.public_of(post.get("claim")), keys.public_of(reply.get("claim"))


def opened(post: dict, key) -> dict:
    """A copy of ``post`` with the text of every reply and message ``key`` opens filled in;
    what it does not open stays empty. For showing only: never stored."""
    return {**post, "replies": [_opened_reply(reply, key) for reply in post.get("replies") or ()]}


def _opened_reply(reply: dict, key) -> dict:
    found = keys.unseal(reply.get("sealed"), key) or {}
    thread = [{**m, "text": (keys.unseal(m.get("sealed"), key) or {}).get("text", m.get("text", ""))}
              for m in reply.get("thread") or ()]
    return {**reply, "message": found.get("message", reply.get("message", "")),
            "available": found.get("available", reply.get("available", "")), "thread": thread}


def can_talk(post: dict, reply_id: str | None) -> bool:
    reply = find_reply(post, reply_id or "")
    return post["status"] == "matched" and reply is not None and reply["status"] == "accepted"


def set_thanks(store: Store, post_id: str, line: str, now: dt.datetime) -> None:
    """The poster's anonymous thank-you line, waiting for a coordinator's approval."""

    def change(post: dict) -> None:
        if post["status"] != "fulfilled":
            raise Refused(_l("A thank-you line can be left once the post is fulfilled."))
        if post.get("thanks"):
            raise Refused(_l("You already left a thank-you line. Thank you!"))
        post["thanks"] = {"text": line, "created": iso(now), "status": "waiting"}

    store.mutate_post(post_id, change)
    store.add_record(
        "thanks",
        {"post": post_id, "text": line, "created": iso(now), "status": "waiting"},
    )


def report(store: Store, target: dict, reason: str, note: str, now: dt.datetime, quoted: str = "") -> None:
    """Store a report for the coordinators: what (post, reply or message), why, when. The
    note, and ``quoted`` (the reported reply's or message's words, which only the reporter's
    ticket opens), are sealed to the coordinators' key."""
    team = gate.team_public(store)
    if team is None:
        raise Refused(_l("No coordinator is set up on this kiosk yet, so nobody could read a report."))
    record = {**target, "reason": reason, "note": "", "created": iso(now), "status": "open"}
    if text.visible(note) or quoted:
        record["sealed"] = keys.seal({"note": note, "text": quoted}, team)
    store.add_record("reports", record)


def check_report_form(form: Mapping) -> tuple[str, str]:
    errors: dict = {}
    reason = fields.one(form, "reason", errors)
    if "reason" not in errors and reason not in REPORT_REASONS:
        errors["reason"] = _l("Choose a reason.")
    note = _clean(form, "note", LIMITS["note"], errors, required=False, multiline=True)
    if errors:
        raise Invalid(errors, {"reason": reason, "note": note})
    return reason, note
