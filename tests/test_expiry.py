"""Posts leave the board after KIOSK_EXPIRE_DAYS; closed posts lose their text after
KIOSK_RETAIN_DAYS (promise 7); a clock that jumps does not break either."""

from __future__ import annotations

import datetime as dt
import re

from kiosk.core.journal import read_live
from kiosk.core.times import utcnow
from kiosk import run_upkeep
from kiosk.board import lifecycle, posts
from kiosk.core.store import ARCHIVE_DIR

from conftest import TEST_SCRYPT_N


def add_post(app, days_ago: float, title: str = "old soup", kind: str = "request") -> dict:
    when = utcnow() - dt.timedelta(days=days_ago)
    post, _ = posts.create_post(
        app.extensions["kiosk"].store,
        kind,
        {"category": "food", "title": title, "details": "secret-ish detail", "area": "the park"},
        lang="en",
        source="test",
        scrypt_n=TEST_SCRYPT_N,
        now=when,
    )
    return post


def test_old_posts_leave_the_board_and_move_to_the_archive(make_app, data_dir):
    app = make_app(EXPIRE_DAYS=30)
    old = add_post(app, days_ago=31, title="thirty-one days")
    fresh = add_post(app, days_ago=29, title="twenty-nine days")
    client = app.test_client()

    # Hidden from the board at once, even before the sweep runs...
    board = client.get("/board").get_data(as_text=True)
    assert f"/p/{old['id']}" not in board and f"/p/{fresh['id']}" in board

    # ...and moved to the archive by it.
    run_upkeep(app)
    live = read_live(data_dir)
    assert {d["id"] for d in live["posts"].values()} == {fresh["id"]}
    page = client.get(f"/p/{old['id']}")
    assert page.status_code == 200 and "Expired" in page.get_data(as_text=True)
    assert list((data_dir / ARCHIVE_DIR).glob("20*.json"))


def test_expiry_period_is_configurable(make_app):
    app = make_app(EXPIRE_DAYS=3)
    post = add_post(app, days_ago=4)
    assert f"/p/{post['id']}" not in app.test_client().get("/board").get_data(as_text=True)


def test_a_clock_that_jumped_backwards_does_not_expire_or_hide_posts(make_app):
    app = make_app(EXPIRE_DAYS=30)
    future = add_post(app, days_ago=-400, title="written when the clock was ahead")
    run_upkeep(app)
    board = app.test_client().get("/board").get_data(as_text=True)
    assert f"/p/{future['id']}" in board
    card = board.split(future["id"])[1].split("</li>")[0]
    assert not re.search(r"\bin \d", card) and "just now" in card  # never "in 400 days"


def test_closed_posts_lose_their_text_after_the_retention_period(make_app, data_dir):
    app = make_app(EXPIRE_DAYS=30, RETAIN_DAYS=30)
    store = app.extensions["kiosk"].store
    long_ago = add_post(app, days_ago=90, title="closed long ago")
    recent = add_post(app, days_ago=2, title="closed recently")
    lifecycle.close(store, long_ago["id"], "fulfilled", now=utcnow() - dt.timedelta(days=60))
    lifecycle.close(store, recent["id"], "withdrawn")

    run_upkeep(app)
    erased = store.get_post(long_ago["id"])
    assert erased["title"] == erased["details"] == erased["area"] == ""
    assert erased["status"] == "fulfilled" and erased["category"] == "food"  # counts stay
    assert store.get_post(recent["id"])["title"] == "closed recently"
    raw = b"".join(p.read_bytes() for p in data_dir.rglob("*.json"))
    assert b"closed long ago" not in raw
    assert app.test_client().get("/healthz").get_json()["archived_posts"] == 2
    page = app.test_client().get(f"/p/{long_ago['id']}").get_data(as_text=True)
    assert "Its text was erased" in page


def test_upkeep_runs_when_the_kiosk_starts(make_app, data_dir):
    app = make_app(EXPIRE_DAYS=30)
    old = add_post(app, days_ago=45)
    app.extensions["kiosk"].store.close()
    again = make_app(EXPIRE_DAYS=30)
    assert again.extensions["kiosk"].store.get_post(old["id"])["status"] == "expired"
