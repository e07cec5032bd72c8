"""How posts travel on a USB stick: posts.csv and summary.csv in every export, the check of a
post from a backup, and the rule of a merge. Declared in the feature; the exchange runs them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..web.csvfile import csv_bytes, csv_header, csv_rows
from .numbers import COLUMNS, PostCounts
from .schema import MAX_AKA

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


def merge_post(current: dict | None, incoming: dict, kiosk: str) -> dict | None:
    """Where both kiosks have a post (already under this kiosk's numbers), the newer update wins,
    but what coordinators decided here (hiding) and replies made here are kept; replies made
    there join an older copy too. None: keep ours as it is."""
    if current is None:
        return {**incoming, "source": incoming.get("source") or kiosk, "merged_from": incoming.get("merged_from") or kiosk}
    ours = {r["id"] for r in current.get("replies") or ()}
    if not incoming.get("updated", "") > current.get("updated", ""):
        new = [r for r in incoming.get("replies") or () if r["id"] not in ours]
        return {**current, "replies": [*(current.get("replies") or ()), *new]} if new else None
    post = {**incoming, "source": incoming.get("source") or kiosk, "merged_from": current.get("merged_from")}
    post["hidden"] = current.get("hidden") or incoming.get("hidden")
    post["aka"] = list(dict.fromkeys([*(current.get("aka") or ()), *(incoming.get("aka") or ())]))[-MAX_AKA:]
    theirs = {r["id"] for r in incoming.get("replies") or ()}
    post["replies"] = list(incoming.get("replies") or []) + [r for r in current.get("replies") or () if r["id"] not in theirs]
    return post
