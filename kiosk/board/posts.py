"""Posts: needs and offers, as plain functions over the store.

A post is a dict:
    id, kind (request|offer), category, title, details, area, when, ride, lang, pseudonym (and
    alias, its parts: core/aliases.py),
    status (open|matched|fulfilled|withdrawn|expired), created, updated, closed (ISO UTC or
    None), claim (salted scrypt hash of the ticket's secret words), source (the kiosk's name),
    replies (replies.py), hidden (moderation.py), thanks
Open and matched posts live in the store's live file; closed ones in its archive, in the month
they closed.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left

from flask_babel import lazy_gettext as _l

from ..core import codes, keys
from ..core.store import Store
from ..core.times import iso, month_of, parse_iso, utcnow

KINDS = ("request", "offer")
WHEN_CHOICES = {
    "today": _l("Today"),
    "this-week": _l("This week"),
    "flexible": _l("Flexible"),
}
STATUSES = {
    "open": _l("Open"),
    "matched": _l("Matched"),
    "fulfilled": _l("Fulfilled"),
    "withdrawn": _l("Withdrawn"),
    "expired": _l("Expired"),
}
LIVE_STATUSES = ("open", "matched")
LIMITS = {"title": 80, "details": 1000, "area": 60}
FIELDS = ("category", "title", "details", "area", "when")


def archive_month(post: dict) -> str | None:
    """Where a post is kept: None while live, else the month it closed (YYYY-MM)."""
    if post["status"] in LIVE_STATUSES:
        return None
    return (post.get("closed") or post["updated"])[:7]


def create_post(store: Store, kind: str, values: dict, *, lang: str, source: str, scrypt_n: int,
                now: dt.datetime | None = None) -> tuple[dict, str]:
    """Store a new open post; returns it with its ticket code (shown once, never stored)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    now = now or utcnow()
    secret = codes.new_secret_words(lang)
    for _ in range(100):
        post_id = codes.new_post_id()
        if store.id_taken(post_id):
            continue
        post = {
            "id": post_id,
            "kind": kind,
            **{name: values.get(name, "") for name in FIELDS},
            "ride": values.get("ride"),
            "lang": lang,
            **codes.new_alias(),
            "status": "open",
            "created": iso(now),
            "updated": iso(now),
            "closed": None,
            "claim": keys.new_ticket(codes.secret_key(secret), scrypt_n),
            "source": source,
            "home": store.kiosk_id,
            "home_id": post_id,
        }
        try:
            store.insert_post(post)
        except KeyError:  # another thread took the id in the meantime
            continue
        from . import travel  # here: travel builds on the posts' rules

        travel.made(store, post)
        return post, codes.make_ticket_code(post_id, secret)
    raise RuntimeError("could not find a free post id")


def is_expired(post: dict, now: dt.datetime, expire_days: int) -> bool:
    # An open post ages from when it went on the board; a matched one from its last message.
    start = post["updated"] if post["status"] == "matched" else post["created"]
    # A clock that jumped backwards gives a negative age: the post simply stays.
    return now - parse_iso(start) > dt.timedelta(days=expire_days)


def _board_row(post: dict) -> tuple:
    # What the board sorts and filters by; read without copying the post (store.scan_live).
    start = post["updated"] if post["status"] == "matched" else post["created"]
    return (post["created"], post["status"], bool(post.get("hidden")), post["kind"], post["category"], start, post["id"])


def board_ids(store: Store, now: dt.datetime, expire_days: int, kind: str | None = None,
              category: str | None = None, status: str = "open") -> list[str]:
    """Ids of the live posts of one status, newest first, as ``board`` lists them. Each filter's
    sorted rows are worked out once per write, so a page costs its own posts, not the board."""
    def sorted_rows() -> list[tuple]:
        rows = store.memo("board-rows", lambda: store.scan_live(_board_row))
        # The store keeps insertion order, which breaks ties between posts of the same second.
        found = [(created, order, start, post_id)
                 for order, (created, post_status, hidden, post_kind, post_category, start, post_id) in enumerate(rows)
                 if post_status == status and not hidden
                 and (kind is None or post_kind == kind) and (category is None or post_category == category)]
        found.sort(reverse=True)
        return found

    def columns() -> tuple[list[str], list[str]]:
        found = sorted_rows()
        return [post_id for *_, post_id in found], [start for _, _, start, _ in reversed(found)]

    # Stored times are ISO text of one format: comparing text compares times (is_expired).
    cutoff = iso(now - dt.timedelta(days=expire_days))
    ids, rising_starts = store.memo(f"board:{status}:{kind}:{category}", columns)
    if status == "open":  # an open post ages from its creation, the order of the list: a prefix
        return ids[:len(ids) - bisect_left(rising_starts, cutoff)]
    return [post_id for post_id, start in zip(ids, reversed(rising_starts)) if start >= cutoff]


def board(store: Store, now: dt.datetime, expire_days: int, kind: str | None = None,
          category: str | None = None, status: str = "open") -> list[dict]:
    """Posts of one status (open by default), newest first; requests and offers side by side."""
    if status == "fulfilled":
        return _recently_fulfilled(store, now, kind, category)
    return store.get_posts(board_ids(store, now, expire_days, kind, category, status))


PAGE_SIZE = 30  # posts on one page of the board


def board_page(store: Store, now: dt.datetime, expire_days: int, page: int, kind: str | None = None,
               category: str | None = None, status: str = "open") -> tuple[list[dict], int, int, int]:
    """One page of the board: (its posts, how many in all, the page shown, how many pages). A page
    that has emptied since its link was made shows the last one. Only the page's posts are read."""
    if status == "fulfilled":
        found = _recently_fulfilled(store, now, kind, category)
    else:
        found = board_ids(store, now, expire_days, kind, category, status)
    pages = max(1, -(-len(found) // PAGE_SIZE))
    page = min(page, pages)
    shown = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return (shown if status == "fulfilled" else store.get_posts(shown)), len(found), page, pages


def _recently_fulfilled(store: Store, now: dt.datetime, kind, category) -> list[dict]:
    """Fulfilled posts of this month and the last, from the archive (celebrating them)."""
    months = {month_of(now), month_of(now.replace(day=1) - dt.timedelta(days=1))}
    found = [
        p
        for month in sorted(months)
        for p in store.archived_posts(month)
        if p["status"] == "fulfilled" and not p.get("erased") and not p.get("hidden")
        and (kind is None or p["kind"] == kind)
        and (category is None or p["category"] == category)
    ]
    found.sort(key=lambda p: p.get("closed") or "", reverse=True)
    return found


def rides(store: Store, now: dt.datetime, expire_days: int) -> list[dict]:
    """Open transportation posts with a ride date, soonest first (past rides left out)."""
    today = now.date().isoformat()
    found = [p for p in board(store, now, expire_days, category="transportation")
             if p.get("ride") and p["ride"].get("date", "") >= today]
    found.sort(key=lambda p: (p["ride"]["date"], p["ride"].get("time") or "99:99"))
    return [public_view(p) for p in found]


PRIVATE_FIELDS = {"claim", "replies", "thanks", "matched_reply", "hidden"}


def public_view(post: dict) -> dict:
    """What anyone may see of a post: no claim hash, no replies or threads, only their count."""
    view = {k: v for k, v in post.items() if k not in PRIVATE_FIELDS}
    view["reply_count"] = len(post.get("replies") or ())
    # Replies the poster has not yet accepted or declined: a count only (their words are sealed).
    view["waiting"] = sum(1 for r in post.get("replies") or () if r.get("status") == "new") \
        if post.get("status") == "open" and not post.get("hidden") else 0
    view["is_hidden"] = bool(post.get("hidden"))
    return view


def hidden_view(post: dict) -> dict:
    """A hidden post listed beside others (the page asking which post a shared number means):
    none of its words and nothing of its replies, as its own page says only that it was hidden."""
    return {**public_view(post), "title": "", "details": "", "area": "", "ride": None, "reply_count": 0, "waiting": 0}


def suggestions(store: Store, post: dict, now: dt.datetime, expire_days: int, limit: int = 5) -> list[dict]:
    """Open posts of the other kind in the same category: the simplest useful matching."""
    other = "offer" if post["kind"] == "request" else "request"
    found = board_ids(store, now, expire_days, kind=other, category=post["category"])
    return [public_view(p) for p in store.get_posts([i for i in found if i != post["id"]][:limit])]
