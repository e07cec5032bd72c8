"""Issue 17, item 7: a poster learns that someone answered without typing the code. The post's
page and its card on the board say how many replies wait for the poster: a count, nothing more,
and right after each change even for readers served from the page cache."""

from __future__ import annotations

import re

from conftest import Visitor
from test_replies import reply_to


def waiting(html: str) -> int:
    found = re.findall(r"(\d+) repl(?:y|ies) waiting for the poster", html)
    assert len(set(found)) <= 1, found
    return int(found[0]) if found else 0


def card(board: str, post_id: str) -> str:
    return board.split(f'href="/p/{post_id}"', 1)[1].split("</li>", 1)[0]


def test_the_count_follows_replies_and_the_posters_answers(app):
    poster, first, second = (Visitor(app.test_client()) for _ in range(3))
    reader = app.test_client()  # no cookie: served from the page cache where it can be
    assert app.config["PAGE_CACHE"]
    post_id, code = poster.create("request", title="Ladder for a day", category="tools-and-items")

    def seen() -> tuple[int, int]:
        page = reader.get(f"/p/{post_id}").get_data(as_text=True)
        board = reader.get("/board").get_data(as_text=True)
        return waiting(page), waiting(card(board, post_id))

    assert seen() == (0, 0)
    one, _ = reply_to(first, post_id, "Secret words about my ladder")
    assert seen() == (1, 1)
    two, _ = reply_to(second, post_id, "Another private answer")
    assert seen() == (2, 2)
    page = reader.get(f"/p/{post_id}").get_data(as_text=True)
    assert "Secret words" not in page and "private answer" not in page
    post = app.extensions["kiosk"].store.get_post(post_id)
    for reply in post["replies"]:
        assert reply["pseudonym"] not in page and reply["id"] not in page
    assert "Your post? Open it with your ticket" in page and 'href="/mine"' in page

    poster.unlock(code)
    assert poster.submit(f"/mine/replies/{one}/decline", form_url="/mine").status_code == 303
    assert seen() == (1, 1)
    assert poster.submit(f"/mine/replies/{two}/accept", form_url="/mine").status_code == 303
    # Matched: off the open board, and nothing waits on its page any more.
    page = reader.get(f"/p/{post_id}").get_data(as_text=True)
    assert waiting(page) == 0
    matched = reader.get("/board?status=matched").get_data(as_text=True)
    assert waiting(card(matched, post_id)) == 0 and "2 replies" in card(matched, post_id)


def test_every_language_shows_the_count(app):
    poster = Visitor(app.test_client())
    post_id, _ = poster.create("offer", title="Soup on Fridays", category="food")
    for _ in range(3):  # three: Arabic says one and two in words
        reply_to(Visitor(app.test_client()), post_id)
    for lang in ("en", "es", "ar"):
        page = app.test_client().get(f"/p/{post_id}", headers={"Accept-Language": lang}).get_data(as_text=True)
        note = page.split('class="waiting-note"', 1)[1].split("</strong>", 1)[0]
        assert "3" in note
        board = app.test_client().get("/board", headers={"Accept-Language": lang}).get_data(as_text=True)
        assert "3" in card(board, post_id).split('class="waiting"', 1)[1].split("</span>", 1)[0]


def test_the_count_is_under_the_title_where_a_phone_shows_it_first(app):
    """On a 360x740 phone the facts list filled the first screen and pushed the count below it."""
    poster = Visitor(app.test_client())
    post_id, _ = poster.create("request", title="Someone to chat with over tea", category="companionship",
                               details="Afternoons are long.")
    reply_to(Visitor(app.test_client()), post_id)
    page = app.test_client().get(f"/p/{post_id}").get_data(as_text=True)
    assert page.index("Afternoons are long.") < page.index('class="waiting-note"') < page.index('class="facts"')
