"""What the board puts on a USB stick: posts.csv and summary.csv in every export (the rule of a
merge is in merging.py). Declared in the feature; the exchange runs them."""

from __future__ import annotations

from ..web.csvfile import csv_bytes, csv_header, csv_rows
from .numbers import COLUMNS, PostCounts

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
