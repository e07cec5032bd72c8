"""How a post from another kiosk joins this one's (declared in the feature as PostRules; the
exchange finds the matching post by where it was made and gives it this kiosk's numbers first).

The rule keeps every fact either kiosk knows:
- what people wrote (title, details, ...) follows the copy updated last, unless that copy says
  it was updated more than a week from now (a wrong clock or a crafted stick must not win for ever);
- closing is final: a post fulfilled, withdrawn or expired at either kiosk stays closed, with
  its accepted reply; otherwise it is matched while its accepted reply is still accepted;
- replies are joined by number, and a reply known to both keeps the furthest state either saw
  and every message of its thread either saw;
- what was decided here stays: hiding, a thank-you line, the ticket codes (a stick never
  replaces the code of a post or reply this kiosk knows);
- text that either kiosk erased (retention) stays erased.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l

from ..core.times import iso
from .lifecycle import ERASED, erase_replies
from .schema import MAX_AKA, MAX_REPLIES, MAX_THREAD

CLOSED = ("fulfilled", "withdrawn", "expired")
REPLY_STAGE = {"new": 0, "accepted": 1, "declined": 1, "withdrawn": 2, "ended": 2}
STATE = ("status", "closed", "matched_reply", "matched", "created")  # travel together
TRUSTED_AHEAD = dt.timedelta(days=7)


def check_post(post: dict) -> str | None:
    """What the post's type cannot say: the accepted reply is one of its replies."""
    matched = post.get("matched_reply")
    if matched and matched not in {r["id"] for r in post.get("replies") or ()}:
        return _l("its accepted reply %(id)s is not among its replies", id=matched)
    return None


def renumber(post: dict, new_ids: dict[str, str]) -> dict:
    """The post with its own number and its replies' changed (old -> new) wherever it refers to
    them; each old number stays in ``aka``, so codes and QR codes printed with it still lead here."""
    def moved(record: dict) -> dict:
        old = record["id"]
        if old not in new_ids or new_ids[old] == old:
            return record
        known = [n for n in dict.fromkeys([*(record.get("aka") or ()), old]) if n != new_ids[old]]
        return {**record, "id": new_ids[old], "aka": known[-MAX_AKA:]}

    post = moved(dict(post))
    post["replies"] = [moved(dict(r)) for r in post.get("replies") or ()]
    if post.get("matched_reply") in new_ids:
        post["matched_reply"] = new_ids[post["matched_reply"]]
    return post


def merge_post(current: dict | None, incoming: dict, kiosk: str, now: dt.datetime,
               notes: dict | None = None) -> dict | None:
    """The post to keep, both copies already under this kiosk's numbers; None: ours as it is.
    ``notes["not_kept"]`` counts the replies and messages of theirs that did not fit (a post
    holds MAX_REPLIES replies, a conversation MAX_THREAD messages: ours stay, theirs join while
    there is room, and stay on the other kiosk)."""
    notes = notes if notes is not None else {}
    if current is None:
        return {**incoming, "source": incoming.get("source") or kiosk, "merged_from": incoming.get("merged_from") or kiosk}
    theirs_newer = current.get("updated", "") < incoming.get("updated", "") <= iso(now + TRUSTED_AHEAD)
    post = {**(incoming if theirs_newer else current)}
    post.update(claim=_claim(current.get("claim"), incoming.get("claim")), hidden=current.get("hidden") or incoming.get("hidden"),
                thanks=current.get("thanks") or incoming.get("thanks"), source=current.get("source"),
                merged_from=current.get("merged_from"), home=current.get("home"), home_id=current.get("home_id"),
                updated=max(current.get("updated", ""), incoming.get("updated", "")),
                aka=_numbers(current, incoming))
    post["replies"] = _join_replies(current.get("replies") or [], incoming.get("replies") or [],
                                    incoming.get("matched_reply"), notes)
    _settle_state(post, current, incoming)
    if current.get("erased") or incoming.get("erased"):
        post.update(ERASED, replies=erase_replies(post["replies"]))
    post = _tidy(post, current)
    return None if post == current else post


def _claim(ours: dict | None, theirs: dict | None) -> dict | None:
    """Our ticket check stays; the same ticket's verify key (made at its first use since kiosks
    share a board: travel.py) joins it."""
    if ours and theirs and not ours.get("sign") and theirs.get("sign") and \
            (ours.get("salt"), ours.get("check")) == (theirs.get("salt"), theirs.get("check")):
        return {**ours, "sign": theirs["sign"]}
    return ours


def _settle_state(post: dict, current: dict, incoming: dict) -> None:
    """Closed if either copy is (ours first). Otherwise matched while an accepted reply is still
    accepted in the joined replies (a copy that is merely newer may never have seen the match),
    else open: the accepted reply ended (the poster reopened) or was withdrawn."""
    closed = [p for p in (current, incoming) if p.get("status") in CLOSED]
    if closed:
        post.update({key: closed[0].get(key) for key in STATE})
        if post.get("matched_reply") not in {r["id"] for r in post["replies"]}:
            # Their accepted reply found no room here (a post full of replies): closed all
            # the same, without naming a reply this kiosk does not hold.
            post.update(matched_reply=None, matched=None)
        return
    accepted = {r["id"] for r in post["replies"] if r.get("status") == "accepted"}
    side = next((p for p in (current, incoming) if p.get("matched_reply") in accepted), None)
    if side is not None:
        post.update({key: side.get(key) for key in STATE})
        for reply in post["replies"]:  # both kiosks accepted a reply at once: ours stands
            if reply["id"] in accepted and reply["id"] != side["matched_reply"]:
                reply["status"] = "ended"
        return
    post.update(status="open", matched_reply=None, matched=None, closed=None,
                created=max(current.get("created", ""), incoming.get("created", "")))


def _tidy(record: dict, current: dict) -> dict:
    """Without the empty fields the merge added (a post merged twice must come out the same)."""
    return {key: value for key, value in record.items() if key in current or value not in (None, [])}


def _numbers(*records: dict) -> list[str]:
    return list(dict.fromkeys(n for r in records for n in r.get("aka") or ()))[-MAX_AKA:]


def _join_replies(ours: list[dict], theirs: list[dict], their_match: str | None, notes: dict) -> list[dict]:
    by_id = {r["id"]: r for r in theirs}
    joined = [_join_reply(r, by_id[r["id"]], notes) if r["id"] in by_id else r for r in ours]
    known = {r["id"] for r in ours}
    # Room for theirs after ours; their accepted reply first, as their copy's state names it.
    new = sorted((r for r in theirs if r["id"] not in known), key=lambda r: r["id"] != their_match)
    room = max(0, MAX_REPLIES - len(joined))
    _not_kept(notes, len(new) - room)
    kept = {r["id"] for r in new[:room]}
    return joined + [r for r in theirs if r["id"] in kept]


def _join_reply(ours: dict, theirs: dict, notes: dict) -> dict:
    """One reply as both kiosks know it: the furthest state either saw, every message of its
    thread (ours keep their numbers: reports name them), our ticket code."""
    reply = {**ours, "aka": _numbers(ours, theirs)}
    if REPLY_STAGE.get(theirs.get("status"), 0) > REPLY_STAGE.get(ours.get("status"), 0):
        reply["status"] = theirs["status"]
    thread = list(ours.get("thread") or [])
    new = [m for m in theirs.get("thread") or () if not _known(m, thread)]
    room = max(0, MAX_THREAD - len(thread))
    _not_kept(notes, len(new) - room)
    used = {m["id"] for m in thread}
    free = (n for n in range(1, MAX_THREAD + 1) if n not in used)
    thread += [{**message, "id": next(free)} for message in new[:room]]
    reply["thread"] = sorted(thread, key=lambda m: (m["created"], m["id"]))
    return _tidy(reply, ours)


def _known(message: dict, thread: list[dict]) -> bool:
    """Whether ``thread`` holds ``message``: the same author and second, and the same words, or
    either side sealed, whose words cannot be compared (a message sealed here, or sealed apart
    at two kiosks from one older backup, is one message, not two)."""
    return any(m["author"] == message["author"] and m["created"] == message["created"]
               and (m.get("sealed") or message.get("sealed") or m["text"] == message["text"]) for m in thread)


def _not_kept(notes: dict, count: int) -> None:
    if count > 0:
        notes["not_kept"] = notes.get("not_kept", 0) + count
