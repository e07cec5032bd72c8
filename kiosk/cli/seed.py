"""Synthetic data for measuring: N open posts and M closed ones, realistic in lengths,
categories and languages, with replies and threads, written in one pass (seconds for 50,000)."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

from ..board.lifecycle import ERASED, ERASED_THROUGH, erase_replies
from ..core import codes, keys
from ..core.store import Store
from ..core.times import iso, month_of
from ..web.sealing import SEALED
from .demo import SAMPLES

WORDS = ("soup", "ride", "ladder", "help", "Friday", "evening", "garden", "kids", "school", "bread", "coat",
         "repair", "letter", "clinic", "walk", "tea", "tools", "market", "bus", "window", "paint", "books")


def _text(rnd: random.Random, low: int, high: int) -> str:
    words, size, length = [], rnd.randint(low, high), 0
    while length < size:
        word = WORDS[int(rnd.random() * len(WORDS))]
        words.append(word)
        length += len(word) + 1
    return " ".join(words)[:high]


def _sealed_pool(rnd: random.Random, claim: dict, size: int = 64) -> list[str]:
    """Sealed texts to share among the synthetic replies and messages: sealing each of them
    would take minutes at 50,000 posts, and the stored shape is the real one."""
    return [keys.seal({"message": _text(rnd, 20, 300), "text": _text(rnd, 10, 200), "available": ""},
                      claim["pub"]) for _ in range(size)]


def _post(rnd: random.Random, post_id: str, created: dt.datetime, claim: dict, status: str, closed,
          pool: list[str]) -> dict:
    kind, category, lang, title, details, area, when = rnd.choice(SAMPLES)
    replies = []
    for _ in range(rnd.choice((0, 0, 1, 1, 2, 3))):
        replies.append({
            "id": None, "created": iso(created + dt.timedelta(hours=rnd.randint(1, 48))),
            "message": "", "available": "", "sealed": rnd.choice(pool),
            **codes.new_alias(), "lang": lang, "claim": claim,
            "status": "new", "thread": [],
        })
    post = {
        "id": post_id, "kind": kind, "category": category,
        "title": f"{title} {rnd.randint(1, 999)}"[:80], "details": _text(rnd, 0, 600) if rnd.random() < 0.8 else "",
        "area": area, "when": when, "lang": lang, **codes.new_alias(),
        "status": status, "created": iso(created), "updated": iso(closed or created),
        "closed": iso(closed) if closed else None, "claim": claim, "source": "seed", "replies": replies,
    }
    if status == "fulfilled" and replies:
        replies[0]["status"] = "accepted"
        post["matched_reply"] = None
        replies[0]["thread"] = [
            {"id": n + 1, "author": ("poster", "replier")[n % 2], "text": "", "sealed": rnd.choice(pool),
             "created": iso(created + dt.timedelta(hours=50 + n))}
            for n in range(rnd.randint(1, 6))
        ]
    return post


def _numbers(store: Store):
    """A maker of numbers free on this kiosk, never the same twice."""
    taken: set[str] = set()

    def new_id() -> str:
        while True:
            candidate = codes.new_post_id()
            if candidate not in taken and not store.id_taken(candidate):
                taken.add(candidate)
                return candidate

    return new_id


def _own(store: Store, post: dict, new_id) -> dict:
    """Made here, as the board makes posts: so they travel to the other kiosks of a network."""
    post.update(home=store.kiosk_id, home_id=post["id"])
    for reply in post["replies"]:
        reply["id"] = new_id()
        reply.update(home=store.kiosk_id, home_id=reply["id"])
    return post


def seed(store: Store, live: int, archived: int, now: dt.datetime, rnd_seed: int = 1,
         retain_days: int | None = 30) -> None:
    """``retain_days``: posts closed longer ago have lost their text, as on a kiosk that has run
    for years with that retention; None keeps all text (the worst case for size)."""
    rnd = random.Random(rnd_seed)
    # One hash shared by all synthetic posts: their codes are never shown to anyone, and 50,000
    # scrypt runs would take minutes; the stored shape is the real one.
    claim = keys.new_ticket(codes.new_secret_words(), 1024)
    pool = _sealed_pool(rnd, claim)
    new_id = _numbers(store)
    by_month: dict[str, list[dict]] = defaultdict(list)
    for _ in range(archived):
        created = now - dt.timedelta(days=rnd.uniform(31, 900))
        closed = created + dt.timedelta(days=rnd.uniform(0.5, 30))
        post = _own(store, _post(rnd, new_id(), created, claim, rnd.choice(("fulfilled", "fulfilled", "withdrawn", "expired")), closed, pool), new_id)
        if retain_days is not None and now - closed > dt.timedelta(days=retain_days):
            post.update(ERASED, replies=erase_replies(post["replies"]))
        by_month[month_of(closed)].append(post)
    store.put_posts([], by_month)
    if retain_days is not None:
        cutoff = now - dt.timedelta(days=retain_days)
        done = [m for m in by_month if m < month_of(cutoff)]
        if done:
            store.set_meta(ERASED_THROUGH, max(done))
    fresh = []
    for _ in range(live):
        created = now - dt.timedelta(days=rnd.uniform(0, 25))
        fresh.append(_own(store, _post(rnd, new_id(), created, claim, "open", None, pool), new_id))
    store.put_posts(fresh, {})
    store.set_meta(SEALED, 1)  # written sealed: no migration to run at the first start
