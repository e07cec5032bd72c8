"""The whole walk-in path: post, ticket, board, post page, /mine edit, fulfil, withdraw."""

from __future__ import annotations

from conftest import Visitor, claim_code


def test_start_page_offers_both_ways_in(client):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/new/request"' in html
    assert 'href="/new/offer"' in html
    assert 'href="/board"' in html
    assert 'href="/mine"' in html


def test_post_ticket_board_and_post_page(client, visitor):
    response = visitor.post(
        "request",
        category="childcare",
        title="Someone to read with my son",
        details="Thursday after school.",
        area="Near the library",
        when="this-week",
    )
    assert response.status_code == 303
    ticket_url = response.headers["Location"]
    post_id = ticket_url.rsplit("/", 1)[1]
    assert ticket_url == f"/ticket/{post_id}"

    ticket = client.get(ticket_url).get_data(as_text=True)
    code = claim_code(ticket)
    assert code.startswith(f"{post_id}-") and len(code.split("-")) == 5
    assert f"/p/{post_id}/qr.svg" in ticket
    pseudonym = ticket.split('class="pseudonym">')[1].split("<")[0]
    assert len(pseudonym.split()) == 2  # "Quiet Heron"

    board = client.get("/board").get_data(as_text=True)
    assert f'href="/p/{post_id}"' in board
    assert "Someone to read with my son" in board

    page = client.get(f"/p/{post_id}").get_data(as_text=True)
    for text in ("Someone to read with my son", "Thursday after school.", "Near the library", pseudonym, "Childcare"):
        assert text in page
    assert code not in page


def test_requests_and_offers_share_the_board_newest_first(client, visitor):
    first, _ = visitor.create("request", title="First a need")
    second, _ = visitor.create("offer", title="Then an offer", category="tools-and-items")
    board = client.get("/board").get_data(as_text=True)
    assert board.index(f"/p/{second}") < board.index(f"/p/{first}")

    needs = client.get("/board?kind=request").get_data(as_text=True)
    assert f"/p/{first}" in needs and f"/p/{second}" not in needs
    offers = client.get("/board?kind=offer").get_data(as_text=True)
    assert f"/p/{second}" in offers and f"/p/{first}" not in offers
    tools = client.get("/board?category=tools-and-items").get_data(as_text=True)
    assert f"/p/{second}" in tools and f"/p/{first}" not in tools


def test_unknown_board_filter_says_so_and_shows_everything(client, visitor):
    post_id, _ = visitor.create()
    html = client.get("/board?kind=bogus&category=spaceships").get_data(as_text=True)
    assert "That kind of post does not exist" in html
    assert "That category does not exist" in html
    assert f"/p/{post_id}" in html


def test_post_id_is_case_insensitive_and_unknown_ids_are_404(client, visitor):
    post_id, _ = visitor.create()
    response = client.get(f"/p/{post_id.lower()}")
    assert response.status_code == 301 and response.headers["Location"].endswith(f"/p/{post_id}")
    assert client.get("/p/ZZZZZ").status_code == 404
    assert "Page not found" in client.get("/p/not-an-id").get_data(as_text=True)


def test_mine_edit(client, visitor):
    post_id, code = visitor.create(title="Old title")
    response = visitor.unlock(code)
    assert response.status_code == 303
    mine = client.get("/mine").get_data(as_text=True)
    assert "Old title" in mine and "Change it" in mine

    response = visitor.submit("/mine/edit", category="food", title="New title", details="more", when="flexible")
    assert response.status_code == 303
    assert "Your changes are saved." in client.get("/mine").get_data(as_text=True)
    page = client.get(f"/p/{post_id}").get_data(as_text=True)
    assert "New title" in page and "Old title" not in page


def test_mine_code_is_forgiving_about_case_and_spaces(client, visitor):
    post_id, code = visitor.create()
    sloppy = "  " + code.upper().replace("-", " ") + " "
    assert visitor.unlock(sloppy).status_code == 303
    assert post_id in client.get("/mine").get_data(as_text=True)


def test_mine_fulfil_asks_first_then_closes(client, visitor):
    post_id, code = visitor.create(title="A ladder")
    visitor.unlock(code)
    confirm = client.get("/mine/fulfil").get_data(as_text=True)
    assert "Mark as fulfilled?" in confirm
    assert f"/p/{post_id}" in client.get("/board").get_data(as_text=True)  # nothing changed yet

    response = visitor.submit("/mine/fulfil")
    assert response.status_code == 303
    assert "marked as fulfilled" in client.get("/mine").get_data(as_text=True)
    assert f"/p/{post_id}" not in client.get("/board").get_data(as_text=True)
    page = client.get(f"/p/{post_id}")
    assert page.status_code == 200 and "Fulfilled" in page.get_data(as_text=True)


def test_mine_withdraw(client, visitor):
    post_id, code = visitor.create(title="Not needed any more")
    visitor.unlock(code)
    assert "Withdraw your post?" in client.get("/mine/withdraw").get_data(as_text=True)
    assert visitor.submit("/mine/withdraw").status_code == 303
    assert f"/p/{post_id}" not in client.get("/board").get_data(as_text=True)
    assert "Withdrawn" in client.get(f"/p/{post_id}").get_data(as_text=True)
    # A closed post can no longer be edited.
    response = visitor.submit("/mine/edit", form_url="/mine", category="food", title="sneaky")
    assert response.status_code == 303
    assert "sneaky" not in client.get(f"/p/{post_id}").get_data(as_text=True)


def test_done_locks_mine_for_the_next_person(client, visitor):
    _, code = visitor.create(title="Private matter")
    visitor.unlock(code)
    assert visitor.submit("/mine/done", form_url="/mine").status_code == 303
    page = client.get("/mine").get_data(as_text=True)
    assert "Private matter" not in page and 'name="code"' in page


def test_wrong_code_gets_one_generic_message(client, visitor):
    post_id, code = visitor.create()
    wrong_words = visitor.unlock(f"{post_id}-apple-apple-apple-apple")
    unknown_post = visitor.unlock("ZZZZZ-acorn-acorn-acorn-acorn")
    garbage = visitor.unlock("hello")
    messages = set()
    for response in (wrong_words, unknown_post, garbage):
        assert response.status_code == 403
        html = response.get_data(as_text=True)
        messages.add(html.split('id="code-error" role="alert">')[1].split("<")[0])
    assert len(messages) == 1


def test_guessing_is_throttled_per_client_not_per_post(make_app):
    app = make_app(GUESS_PER_MINUTE=3)
    poster = Visitor(app.test_client())
    post_id, code = poster.create()
    guesser = Visitor(app.test_client())
    guesser.client.environ_base["REMOTE_ADDR"] = "10.0.0.7"
    for _ in range(3):
        assert guesser.unlock(f"{post_id}-apple-apple-apple-apple").status_code == 403
    # The guesser waits, even with a right code, and the answer says so...
    waiting = guesser.unlock(code)
    assert waiting.status_code == 429
    assert "Too many wrong codes" in waiting.get_data(as_text=True)
    # ...while the post itself is not locked: its poster gets in.
    assert poster.unlock(code).status_code == 303


def test_guessing_is_throttled_overall(make_app):
    app = make_app(GUESS_PER_MINUTE=2, GUESS_PER_HOUR=2, GUESS_OVERALL_PER_HOUR=4)
    visitor = Visitor(app.test_client())
    _, code = visitor.create()
    for i in range(4):
        guesser = Visitor(app.test_client())
        guesser.client.environ_base["REMOTE_ADDR"] = f"10.0.0.{10 + i // 2}"
        assert guesser.unlock(f"ZZZZ{'ABCD'[i]}-apple-apple-apple-apple").status_code == 403
    assert visitor.unlock(code).status_code == 429


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"
