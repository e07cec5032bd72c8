"""How posts travel on a USB stick: posts.csv and summary.csv in every export, the check of a
post from a backup, and the rule of a merge. Declared in the feature; the exchange runs them."""

from __future__ import annotations

import re

from ..core import codes
from ..web.csvfile import csv_bytes, csv_header, csv_rows
from .numbers import COLUMNS, PostCounts
from .posts import KINDS, STATUSES

POSTS_CSV = "posts.csv"
SUMMARY_CSV = "summary.csv"
POST_COLUMNS = ["id", "kind", "category", "title", "details", "area", "when", "status", "created", "closed",
                "replies", "lang", "source"]
SUMMARY_COLUMNS = ["month", "category", *COLUMNS]


def post_row(p: dict) -> list:
    hidden = bool(p.get("hidden"))  # hidden by coordinators (often for personal data): no text leaves
    text = ["", "", "", ""] if hidden else [p.get("title", ""), p.get("details", ""), p.get("area", ""), p.get("when", "")]
    return [p["id"], p["kind"], p["category"], *text, "hidden" if hidden else p["status"], p["created"],
            p.get("closed") or "", len(p.get("replies") or ()), p.get("lang", ""), p.get("source", "")]


def export_files(store, progress):
    """posts.csv, a month at a time with progress, then summary.csv, counted on the way."""
    counted = PostCounts()

    def posts_csv():
        total, done = store.count_live() + store.count_archived(), 0
        progress("posts", 0, total)
        yield csv_header(POST_COLUMNS)
        for batch in store.post_batches():
            yield csv_rows(post_row(p) for p in batch)
            for p in batch:
                counted.add(p)
            done += len(batch)
            progress("posts", done, total)

    yield POSTS_CSV, posts_csv()
    yield SUMMARY_CSV, (csv_bytes(counted.summary_rows(), SUMMARY_COLUMNS) for _ in (1,))


_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_TEXT_KEYS = ("id", "kind", "category", "status", "created", "updated")


def check_post(post: dict) -> str | None:
    """A post from a backup: None if it can be stored, else what is wrong with it."""
    for key in _TEXT_KEYS:
        if not isinstance(post.get(key), str):
            return f"post {post.get('id')!r}: {key}"
    if post["kind"] not in KINDS or post["status"] not in STATUSES:
        return f"post {post['id']}: kind or status"
    if not _ISO.fullmatch(post["created"]) or not _ISO.fullmatch(post["updated"]):
        return f"post {post['id']}: dates"
    if post.get("closed") is not None and not (isinstance(post["closed"], str) and _ISO.fullmatch(post["closed"])):
        return f"post {post['id']}: closed"
    replies = post.get("replies", [])
    if not isinstance(replies, list) or any(
        not isinstance(r, dict) or codes.normalize_post_id(str(r.get("id"))) != r.get("id")
        or not isinstance(r.get("thread", []), list) for r in replies
    ):
        return f"post {post['id']}: replies"
    return None


def merge_post(current: dict | None, incoming: dict, kiosk: str) -> dict | None:
    """Where both kiosks have a post, the newer update wins, but what coordinators decided here
    (hiding) and replies made here are kept. None: keep ours as it is."""
    if current is not None and not incoming.get("updated", "") > current.get("updated", ""):
        return None
    post = {**incoming, "source": incoming.get("source") or kiosk,
            "merged_from": incoming.get("merged_from") or kiosk}
    if current is not None:
        post["merged_from"] = current.get("merged_from")  # it was ours, or already merged
        post["hidden"] = current.get("hidden") or incoming.get("hidden")
        theirs = {r["id"] for r in incoming.get("replies") or ()}
        post["replies"] = list(incoming.get("replies") or []) + [
            r for r in current.get("replies") or () if r["id"] not in theirs
        ]
    return post
