"""A post's life after posting: its ticket checked, edits, closing (fulfilled, withdrawn,
expired: the post moves to the archive), and the upkeep that expires old posts and erases the
text of long-closed ones (promise 7)."""

from __future__ import annotations

import datetime as dt

from nacl.public import PrivateKey

from ..core import codes, keys
from ..core.errors import BadCode, Refused, TooManyTries
from ..core.store import Store
from ..core.times import iso, month_of, parse_iso, utcnow
from .posts import FIELDS, LIVE_STATUSES

CLOSED_STATUSES = ("fulfilled", "withdrawn", "expired")
HOME_SILENT_DAYS = 30  # past its expiry, another kiosk's post is put away here even if its home never said


def claim(store: Store, throttle, raw_code: str, scrypt_n: int) -> tuple[dict, str | None, PrivateKey]:
    """Check a ticket code, a poster's or a replier's. Returns (post, None, key) for the poster,
    (post, reply id, key) for a replier, the key opening what is sealed to that ticket; raises
    BadCode or TooManyTries."""
    parts = codes.split_ticket_code(raw_code)
    printed = parts[0] if parts else None
    wait = throttle.attempt()  # this client's guess, counted as wrong until proven right
    if wait:
        raise TooManyTries(wait)
    checked = False
    # A number may mean more than one record once kiosks share posts (core/origin.py): the
    # words decide which.
    for post_id, reply_id in store.holders(printed) if printed else ():
        post = store.get_post(post_id)
        record = post if reply_id is None or post is None else next(
            (r for r in post.get("replies") or () if r["id"] == reply_id), None)
        stored = record.get("claim") if record else None
        if stored:
            checked = True
            key = keys.open_ticket(parts[1], stored)
            if key is not None:
                throttle.succeeded()
                if not stored.get("sign"):
                    post = _add_verify_key(store, post, reply_id, key)
                return post, reply_id, key
    if not checked:
        codes.burn_time(scrypt_n)  # same cost as a real check: the answer tells nothing
    raise BadCode()


def _add_verify_key(store: Store, post: dict, reply_id: str | None, key: PrivateKey) -> dict:
    """A ticket from before kiosks shared a board gets its verify key at its first use at its
    home, which tells the others (travel.py): from then on it works at every kiosk."""
    from . import travel

    home = (post if reply_id is None else next(r for r in post["replies"] if r["id"] == reply_id)).get("home")
    if home not in (None, store.kiosk_id):
        return post

    def change(doc: dict) -> dict:
        record = doc if reply_id is None else next(r for r in doc["replies"] if r["id"] == reply_id)
        record["claim"] = {**record["claim"], "sign": keys.ticket_verify_key(key)}
        return doc

    post = store.mutate_post(post["id"], change)
    if post.get("home") in (None, store.kiosk_id):
        travel.made(store, post)
    return post


def edit(store: Store, post_id: str, values: dict, now: dt.datetime | None = None, by=None) -> dict:
    """``by``: the unlocked ticket's key, which signs the change for the other kiosks (travel.py)."""
    from . import travel

    post = store.get_post(post_id)
    if post is None or post["status"] != "open":
        raise Refused("only an open post can be edited")
    changes = {name: values.get(name, "") for name in FIELDS}
    changes["ride"] = values.get("ride")
    changes["updated"] = iso(now or utcnow())
    post = store.update_post(post_id, changes)
    travel.edited(store, post, by)
    return post


def close(store: Store, post_id: str, status: str, now: dt.datetime | None = None, *, by=None,
          actor: str = "poster", reply_id: str | None = None) -> dict:
    """Fulfil, withdraw or expire an open or matched post: it moves to the archive. ``actor``
    and ``by`` say who asked, for the other kiosks (travel.py)."""
    from . import travel

    if status not in CLOSED_STATUSES:
        raise ValueError(status)
    post = store.get_post(post_id)
    if post is None or post["status"] not in LIVE_STATUSES:
        raise Refused("only an open or matched post can be closed")
    now = now or utcnow()
    fields = {"status": status, "closed": iso(now), "updated": iso(now)}
    post = store.archive_post(post_id, fields, month=month_of(now))
    if post is not None and (actor != "kiosk" or post.get("home") in (None, store.kiosk_id)):
        travel.state(store, post, actor, reply_id=reply_id, by=by)  # a kiosk speaks for its own posts only
    return post


def expire_due(store: Store, now: dt.datetime, expire_days: int) -> int:
    """Move open posts older than the expiry period to the archive as expired."""
    # Stored times are ISO text of one format: comparing text compares times (posts.is_expired).
    cutoff = iso(now - dt.timedelta(days=expire_days))
    # A post's home expires it (its clock decides, once) and tells the others; another kiosk's
    # post is put away here only long after, in case its home is gone for good.
    late = iso(now - dt.timedelta(days=expire_days + HOME_SILENT_DAYS))
    here = store.kiosk_id
    found = store.scan_live(lambda p: (p["id"], p["status"], p["updated"] if p["status"] == "matched" else p["created"],
                                       p.get("home") in (None, here)))
    due = [post_id for post_id, status, start, ours in found
           if status in LIVE_STATUSES and start < (cutoff if ours else late)]
    for post_id in due:
        close(store, post_id, "expired", now, actor="kiosk")
    return len(due)


ERASED = {"title": "", "details": "", "area": "", "ride": None, "erased": True}
ERASED_THROUGH = "erased_through_month"  # a setting: the last month already swept


def erase_replies(replies: list[dict]) -> list[dict]:
    """Replies and their threads lose their text; how many there were stays for statistics."""
    def blank(record: dict, **fields) -> dict:
        return {**{k: v for k, v in record.items() if k != "sealed"}, **fields}

    return [blank(reply, message="", available="", thread=[blank(m, text="") for m in reply.get("thread") or ()])
            for reply in replies]


def erase_old_text(store: Store, now: dt.datetime, retain_days: int, max_months: int = 3) -> int:
    """Blank the text of posts closed more than ``retain_days`` ago; kind, category, status
    and dates stay for the statistics. Months already done are remembered and skipped, and a
    run looks at no more than ``max_months`` archive files, so a backlog never stalls a request."""
    cutoff = now - dt.timedelta(days=retain_days)
    done_through = store.get_meta(ERASED_THROUGH, "")
    erased = 0
    last_full_month = ""
    pending = [m for m in store.archived_months() if done_through < m <= month_of(cutoff)]
    for month in pending[:max_months]:
        # The month is parsed whole only when some of its posts are due (most upkeeps: none).
        due = [post_id for post_id, erased, closed in store.closings(month)
               if not erased and closed and parse_iso(closed) <= cutoff]
        changes = {post["id"]: {**ERASED, "replies": erase_replies(post.get("replies") or [])}
                   for post in store.get_posts(due)}
        store.update_archived_month(month, changes)
        erased += len(changes)
        if month < month_of(cutoff):
            last_full_month = month
    if last_full_month > done_through:
        store.set_meta(ERASED_THROUGH, last_full_month)
    return erased


def upkeep(store: Store, now: dt.datetime, setting, max_months: int) -> None:
    import logging

    from .moderation import erase_old_notes  # (moderation needs replies, which needs this module)

    expired = expire_due(store, now, setting("EXPIRE_DAYS"))
    erased = erase_old_text(store, now, setting("RETAIN_DAYS"), max_months)
    notes = erase_old_notes(store, now, setting("RETAIN_DAYS"), max_months)
    from . import travel

    travel.keep_outbox(store, now, erased)
    if expired or erased or notes:
        logging.getLogger("kiosk").info("upkeep: %d posts expired, %d closed posts erased, %d report notes and "
                                        "thank-you lines erased", expired, erased, notes)
