"""How the board's changes travel between the kiosks of a network (kiosk/network reads them):
the record each change makes here, and what a record from another kiosk asks of a post here.

A record names its post by origin (home kiosk, number there), never by this kiosk's numbers,
and says only what changed: a new post (``post``, its whole shareable state), an edit, a state
(status, the accepted reply, the replies' answers), a new reply, a thread message (sealed, as
stored), a hide by the post's home. A record becomes an "incoming" post under this kiosk's
numbers, and the same rule as a USB merge (merging.py) joins it with ours: closing is final,
the furthest answer wins, text follows the newer edit, so the records may come in any order
and any number of times.

Who may ask: a kiosk for its own posts and replies; the poster (or replier) at any kiosk, with
a signature made by their ticket (only its check data travels, never a code), which the post's
home and every other kiosk check against the ticket's verify key.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Callable

from flask_babel import lazy_gettext as _l

from ..core import keys
from ..core.changelog import Refused, Waiting, verify_ticket
from ..core.errors import StoreError
from ..core.origin import post_home, post_key, reply_key
from ..core.times import iso
from .merging import merge_post, renumber
from .posts import FIELDS

log = logging.getLogger(__name__)

KINDS = ("post", "edit", "state", "reply", "message", "hide")
LOCAL = ("aka", "hidden", "thanks", "merged_from")  # what stays decided at each kiosk
EDITED = (*FIELDS, "ride", "updated")
STATE = ("status", "closed", "matched", "created", "updated")


# -- records made here -----------------------------------------------------------------------------


def key_of(post: dict) -> list[str]:
    return [post_home(post), post_key(post)[1]]


def _reply_key(post: dict, reply: dict) -> list[str]:
    return list(reply_key(reply, post_home(post))[:2])


def shareable(post: dict) -> dict:
    """A post as it travels: under its home numbers, its replies under theirs, without what
    each kiosk decides for itself (hiding, the thank-you line, the numbers it has here)."""
    home = post_home(post)
    replies = post.get("replies") or []
    numbers = {post["id"]: key_of(post)[1], **{r["id"]: _reply_key(post, r)[1] for r in replies}}
    moved = renumber({k: v for k, v in post.items() if k not in LOCAL}, numbers)
    moved.pop("aka", None)
    moved.update(home=home, home_id=moved["id"], claim=_check_data(moved.get("claim")))
    moved["replies"] = [_shareable_reply(home, r) for r in moved.get("replies") or ()]
    return moved


def _check_data(claim: dict | None) -> dict | None:
    """What of a ticket's claim travels: its check and public keys. An old claim's ``hash`` is
    the scrypt output itself, which gives the ticket's key: it never leaves the kiosk."""
    if not claim or not claim.get("check"):
        return None
    return {k: v for k, v in claim.items() if k != "hash"}


def _shareable_reply(home: str, reply: dict) -> dict:
    out = {k: v for k, v in reply.items() if k != "aka"}
    return {**out, "home": reply.get("home") or home, "home_id": reply["id"], "claim": _check_data(reply.get("claim"))}


def _sealed_only(post: dict) -> None:
    """Private words come sealed or not at all (promise 8): a record with a reply's or a
    message's words in plain is refused, whoever wrote it."""
    for reply in post.get("replies") or ():
        if reply.get("message") or reply.get("available") or any(m.get("text") for m in reply.get("thread") or ()):
            raise Refused(_l("Private words that are not sealed."))


def _add(store, kind: str, post: dict, body: dict, *, actor: str = "kiosk", reply: dict | None = None,
         by=None) -> None:
    changes = store.changes
    if changes is None:
        return
    try:
        changes.add(kind, key_of(post), body, actor=actor, reply=_reply_key(post, reply) if reply else None,
                    ticket_signer=keys.ticket_signer(by) if by is not None else None)
    except OSError as exc:  # the change itself is stored: only its travel is late (doctor shows it)
        log.warning("could not write the network record of a %s: %s", kind, exc)


def made(store, post: dict) -> None:
    _add(store, "post", post, shareable(post))


def resend_all(store) -> int:
    """Every post made here, whole (a new epoch: the first start with a network, or after
    retention erased text, whose older records then go); of the archive, the last year's (an
    erased post travels as erased, so the others erase their copies too). A month that cannot
    be read is left out (the kiosk says so elsewhere); it cannot stop a start."""
    here, sent = store.kiosk_id, 0
    for month in [None, *store.archived_months()[-12:]]:
        try:
            batch = store.live_posts() if month is None else store.archived_posts(month)
        except (StoreError, OSError) as exc:
            log.warning("network: the posts of %s were not sent: %s", month, exc)
            continue
        mine = [p for p in batch if post_home(p) == here]
        store.changes.add_many([("post", key_of(p), shareable(p), {}) for p in mine])
        sent += len(mine)
    store.trim()
    return sent


def keep_outbox(store, now, erased: int) -> None:
    """The upkeep's part: a fresh outbox gets every post; once retention erased text, at most
    once a day, the outbox starts afresh, so the erased text leaves every kiosk's copy."""
    changes = store.changes
    if changes is None:
        return
    since = changes.since() or ""
    if erased and not changes.fresh and since < iso(now - dt.timedelta(days=1)):
        changes.restart()
    if changes.fresh:
        resend_all(store)
        changes.drop_old()


def edited(store, post: dict, by=None) -> None:
    _add(store, "edit", post, {name: post.get(name) for name in EDITED}, actor="poster", by=by)


def state(store, post: dict, actor: str = "poster", reply_id: str | None = None, by=None) -> None:
    """The post's state after an answer, a match, a reopening or a closing."""
    replies = post.get("replies") or []
    matched = next((r for r in replies if r["id"] == post.get("matched_reply")), None)
    body = {name: post.get(name) for name in STATE}
    body["matched_reply"] = _reply_key(post, matched) if matched else None
    body["replies"] = {":".join(_reply_key(post, r)): r["status"] for r in replies}
    reply = next((r for r in replies if r["id"] == reply_id), None)
    _add(store, "state", post, body, actor=actor, reply=reply, by=by)


def replied(store, post: dict, reply_id: str) -> None:
    reply = next(r for r in post["replies"] if r["id"] == reply_id)
    _add(store, "reply", post, _shareable_reply(post_home(post), reply), actor="replier", reply=reply)


def messaged(store, post: dict, reply_id: str, by=None) -> None:
    reply = next(r for r in post["replies"] if r["id"] == reply_id)
    message = dict(reply["thread"][-1])
    _add(store, "message", post, {"message": message}, actor=message["author"], reply=reply, by=by)


def hid(store, post: dict) -> None:
    """A hide or its undoing travels only from the post's home: elsewhere it stays on that screen."""
    if post_home(post) == store.kiosk_id:
        _add(store, "hide", post, {"hidden": post.get("hidden")})


# -- records from elsewhere ------------------------------------------------------------------------


def _local_reply(post: dict, key) -> dict | None:
    if not key:
        return None
    return next((r for r in post.get("replies") or () if _reply_key(post, r) == list(key)), None)


def authorize(current: dict | None, record: dict) -> None:
    """Raise Refused unless the record's kiosk may ask for it (see the module's note)."""
    kind, kiosk, actor = record["kind"], record["kiosk"], record["actor"]
    body = record["body"]
    if kind == "post":
        if body.get("home") != kiosk or record["post"] != [body.get("home"), body.get("home_id")]:
            raise Refused(_l("A kiosk sent a post as its own that was made elsewhere."))
        return
    if current is None:
        raise Waiting()
    if kind == "reply":
        if body.get("home") != kiosk or list(record["reply"] or ()) != [body.get("home"), body.get("home_id")]:
            raise Refused(_l("A kiosk sent a reply as its own that was made elsewhere."))
        return
    if kind == "hide" or actor == "kiosk":
        if post_home(current) != kiosk:
            raise Refused(_l("Only a post's home kiosk may change it on its own."))
        return
    if kind == "edit" and actor != "poster":
        raise Refused(_l("Only the poster may edit a post."))
    if actor == "poster":
        if post_home(current) != kiosk and not verify_ticket(record, (current.get("claim") or {}).get("sign")):
            raise Refused(_l("A change to a post made elsewhere without its ticket."))
        return
    reply = _local_reply(current, record["reply"])
    if reply is None:
        raise Waiting()
    if reply.get("home", post_home(current)) != kiosk and not verify_ticket(record, (reply.get("claim") or {}).get("sign")):
        raise Refused(_l("A change to a reply made elsewhere without its ticket."))


def incoming(current: dict | None, record: dict, number: Callable[[str], str]) -> dict:
    """The post ``record`` describes, under this kiosk's numbers, to be merged with ``current``
    (None: not here yet). ``number(printed)`` gives a free number here, the printed one if it can.
    Raises Waiting or Refused."""
    authorize(current, record)
    kind, body = record["kind"], record["body"]
    if kind == "post":
        return _numbered(current, body, number)
    if kind == "edit":
        return {**current, **{name: body.get(name) for name in EDITED if name in body}}
    if kind == "state":
        return _state(current, record)
    if kind == "reply":
        known = _local_reply(current, record["reply"])
        # A reply arrives new and without a conversation: the poster's answer travels as a state
        # the poster signed, each message as its own record (a replier's kiosk must not write
        # "accepted", nor messages "from the poster", into its own reply).
        reply = {**body, "id": known["id"] if known else number(body["home_id"]), "status": "new", "thread": []}
        return {**current, "replies": [reply]}
    if kind == "message":
        reply = _local_reply(current, record["reply"])
        if reply is None:
            raise Waiting()
        message = dict(body.get("message") or {})
        if message.get("author") != record["actor"]:
            raise Refused(_l("A message signed by one side of a conversation and written by the other."))
        return {**current, "replies": [{**reply, "thread": [message]}]}
    if kind == "hide":
        return _hidden(current, record)
    raise Refused(_l("An unknown kind of record."))


def _numbered(current: dict | None, body: dict, number: Callable[[str], str]) -> dict:
    ids = {body["id"]: current["id"] if current else number(body["home_id"])}
    for reply in body.get("replies") or ():
        known = _local_reply(current, [reply.get("home"), reply.get("home_id")]) if current else None
        ids[reply["id"]] = known["id"] if known else number(reply["home_id"])
    # What each kiosk decides for itself never comes in a record (a thank-you line marked
    # approved would skip this kiosk's coordinators).
    post = renumber({k: v for k, v in body.items() if k not in LOCAL}, ids)
    post.pop("aka", None)
    post["replies"] = [{k: v for k, v in r.items() if k != "aka"} for r in post.get("replies") or ()]
    return post


def _state(current: dict, record: dict) -> dict:
    body = record["body"]
    answers = body.get("replies") or {}
    if record["actor"] == "replier":
        # A replier answers for their own reply only: withdrawing it, or fulfilling their match.
        mine = ":".join(record["reply"])
        answers = {mine: answers[mine]} if answers.get(mine) in ("withdrawn",) else {}
        post = {**current, "replies": _answered(current, answers)}
        own = _local_reply(current, record["reply"])
        if body.get("status") == "fulfilled" and own is not None and current.get("matched_reply") == own["id"]:
            post.update({name: body.get(name) for name in ("status", "closed", "updated")})
        return post
    matched = body.get("matched_reply")
    local = _local_reply(current, matched) if matched else None
    if matched and local is None:
        raise Waiting()
    post = {**current, **{name: body.get(name) for name in STATE}, "matched_reply": local["id"] if local else None}
    post["replies"] = _answered(current, answers)
    return post


def _answered(current: dict, answers: dict) -> list[dict]:
    out = []
    for reply in current.get("replies") or ():
        answer = answers.get(":".join(_reply_key(current, reply)))
        out.append({**reply, "status": answer} if answer else reply)
    return out


def _hidden(current: dict, record: dict) -> dict:
    """Hidden by its home: hidden here too (marked with the home, so that the home's undoing
    finds it); a hide made by this kiosk's own coordinators stays theirs to undo."""
    hidden = record["body"].get("hidden")
    mine = current.get("hidden")
    if mine and not mine.get("home"):
        return current
    return {**current, "hidden": {**hidden, "home": record["kiosk"]} if hidden else None}


def applied(current: dict | None, record: dict, number: Callable[[str], str], now) -> dict | None:
    """The post to store after ``record`` (None: ours as it is), by the merge's rule; a hide is
    the home's decision and replaces the mark its previous hide left."""
    new = incoming(current, record, number)
    _sealed_only({"replies": [r for r in new.get("replies") or () if r not in (current or {}).get("replies", ())]})
    if record["kind"] == "hide":
        return None if new == current else new
    return merge_post(current, new, new.get("source") or "", now)
