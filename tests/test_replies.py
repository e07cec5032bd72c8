"""Issue 4: replies, matches and private threads between pseudonyms."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest

from kiosk.core.times import utcnow
from kiosk import run_upkeep
from kiosk.board import lifecycle
from kiosk.core.store import iter_json_files

from conftest import Visitor, add_coordinator, claim_code, csrf_token, unlock_coordinator


def snapshot(data_dir) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in iter_json_files(data_dir)}


def reply_to(visitor: Visitor, post_id: str, message: str = "I can bring it on Friday", **extra) -> tuple[str, str]:
    """Reply as this visitor; returns (reply id, the replier's ticket code)."""
    response = visitor.submit(f"/p/{post_id}/reply", message=message, **extra)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    ticket = visitor.client.get(response.headers["Location"]).get_data(as_text=True)
    code = claim_code(ticket)
    assert code
    return response.headers["Location"].rsplit("/", 1)[1], code


@pytest.fixture
def people(app):
    """Three people, each on their own device: a poster, a helper, and a stranger."""
    return Visitor(app.test_client()), Visitor(app.test_client()), Visitor(app.test_client())


@pytest.fixture
def matched(people):
    poster, helper, stranger = people
    post_id, poster_code = poster.create("request", title="Ride to the clinic", category="transportation")
    reply_id, helper_code = reply_to(helper, post_id, "I drive past the clinic on Thursdays")
    poster.unlock(poster_code)
    assert poster.submit(f"/mine/replies/{reply_id}/accept", form_url="/mine").status_code == 303
    return post_id, poster_code, reply_id, helper_code


def test_two_people_talk_and_nobody_else_can_read_it(app, people, matched):
    poster, helper, stranger = people
    post_id, poster_code, reply_id, helper_code = matched
    thread = poster.client.get("/mine/thread").get_data(as_text=True)
    assert "Safest is to meet at the community center" in thread
    assert poster.submit("/mine/thread", message="Thursday 10am at the center?").status_code == 303

    helper.unlock(helper_code)
    page = helper.client.get("/mine").get_data(as_text=True)
    assert "accepted your reply" in page
    helper_thread = helper.client.get("/mine/thread").get_data(as_text=True)
    assert "Thursday 10am at the center?" in helper_thread
    assert helper.submit("/mine/thread", message="Perfect, see you there").status_code == 303
    assert "Perfect, see you there" in poster.client.get("/mine/thread").get_data(as_text=True)

    # A stranger with no code, by every URL there is.
    secret_bits = ("Thursday 10am", "Perfect, see you", "I drive past the clinic")
    for url in ("/", "/board", "/board?status=matched", f"/p/{post_id}", f"/ticket/{reply_id}",
                f"/ticket/{post_id}", "/mine", "/mine/thread", f"/mine/report/{reply_id}/1",
                f"/p/{post_id}/reply", f"/p/{post_id}/qr.svg", "/healthz"):
        html = stranger.client.get(url, follow_redirects=True).get_data(as_text=True)
        for bit in secret_bits:
            assert bit not in html, (url, bit)
    # A stranger with the code of another post.
    _, other_code = stranger.create(title="Something else")
    stranger.unlock(other_code)
    for url in ("/mine", "/mine/thread", f"/mine/replies/{reply_id}/accept", f"/mine/report/{reply_id}/1"):
        response = stranger.client.get(url, follow_redirects=True)
        html = response.get_data(as_text=True)
        for bit in secret_bits:
            assert bit not in html, (url, bit)
    assert stranger.client.get(f"/mine/replies/{reply_id}/accept").status_code == 404


def test_poster_sees_replies_newest_first_with_a_waiting_count(people):
    poster, helper, stranger = people
    post_id, code = poster.create("offer", title="Winter coats")
    reply_to(helper, post_id, "First reply here")
    reply_to(stranger, post_id, "Second reply here")
    poster.unlock(code)
    page = poster.client.get("/mine").get_data(as_text=True)
    assert "2 waiting for your answer" in page
    assert page.index("Second reply here") < page.index("First reply here")


def test_accepted_post_leaves_the_open_board_but_keeps_its_page(people, matched):
    poster, helper, stranger = people
    post_id = matched[0]
    client = stranger.client
    assert f"/p/{post_id}" not in client.get("/board").get_data(as_text=True)
    assert f"/p/{post_id}" in client.get("/board?status=matched").get_data(as_text=True)
    page = client.get(f"/p/{post_id}").get_data(as_text=True)
    assert "Matched" in page and "found a match" in page


def test_declined_replier_gets_a_kind_note(people):
    poster, helper, _ = people
    post_id, code = poster.create()
    reply_id, helper_code = reply_to(helper, post_id)
    poster.unlock(code)
    assert "Decline this reply?" in poster.client.get(f"/mine/replies/{reply_id}/decline").get_data(as_text=True)
    poster.submit(f"/mine/replies/{reply_id}/decline")
    helper.unlock(helper_code)
    assert "chose another answer this time" in helper.client.get("/mine").get_data(as_text=True)
    # Declined twice? A clear message, nothing changes.
    response = poster.submit(f"/mine/replies/{reply_id}/accept", form_url="/mine")
    assert "can no longer be accepted" in poster.client.get("/mine").get_data(as_text=True)


def test_reopen_after_a_match_falls_through(people, matched):
    poster, helper, stranger = people
    post_id, _, reply_id, helper_code = matched
    assert "Reopen your post?" in poster.client.get("/mine/reopen").get_data(as_text=True)
    poster.submit("/mine/reopen")
    assert f"/p/{post_id}" in stranger.client.get("/board").get_data(as_text=True)
    helper.unlock(helper_code)
    assert "This match ended" in helper.client.get("/mine").get_data(as_text=True)
    # The conversation is closed for new messages.
    response = helper.submit("/mine/thread", form_url="/mine", message="still there?")
    assert response.status_code == 303
    assert "still there?" not in poster.client.get("/mine/thread", follow_redirects=True).get_data(as_text=True)
    # ...and a new reply can be accepted.
    new_reply, _ = reply_to(stranger, post_id, "I can do it instead")
    assert poster.submit(f"/mine/replies/{new_reply}/accept", form_url="/mine").status_code == 303
    assert "You are matched with" in poster.client.get("/mine").get_data(as_text=True)


def test_the_helper_can_mark_it_fulfilled_and_the_poster_thanks(app, people, matched):
    poster, helper, stranger = people
    post_id, _, _, helper_code = matched
    helper.unlock(helper_code)
    assert "Mark as fulfilled?" in helper.client.get("/mine/fulfil").get_data(as_text=True)
    helper.submit("/mine/fulfil")
    assert "Fulfilled" in stranger.client.get(f"/p/{post_id}").get_data(as_text=True)
    assert f"/p/{post_id}" in stranger.client.get("/board?status=fulfilled").get_data(as_text=True)

    page = poster.client.get("/mine").get_data(as_text=True)
    assert "thank-you line" in page
    poster.submit("/mine/thanks", form_url="/mine", thanks="Thank you for the ride, you made my week!")
    records = app.extensions["kiosk"].store.records("thanks")
    assert [r["text"] for r in records] == ["Thank you for the ride, you made my week!"]
    assert records[0]["status"] == "waiting"
    # Only once.
    poster.submit("/mine/thanks", form_url="/mine", thanks="again")
    assert len(app.extensions["kiosk"].store.records("thanks")) == 1


def test_poster_can_fulfil_and_withdraw_a_matched_post(people, matched):
    poster, _, stranger = people
    post_id = matched[0]
    poster.submit("/mine/withdraw", form_url="/mine")
    assert "Withdrawn" in stranger.client.get(f"/p/{post_id}").get_data(as_text=True)


def test_replier_withdrawing_an_accepted_reply_reopens_the_post(people, matched):
    poster, helper, stranger = people
    post_id, _, _, helper_code = matched
    helper.unlock(helper_code)
    assert "Withdraw your reply?" in helper.client.get("/mine/withdraw").get_data(as_text=True)
    helper.submit("/mine/withdraw")
    assert f"/p/{post_id}" in stranger.client.get("/board").get_data(as_text=True)


@pytest.mark.parametrize("closing", ["withdraw", "fulfil"])
def test_replying_to_a_closed_post_says_so_and_stores_nothing(people, data_dir, closing):
    poster, helper, _ = people
    post_id, code = poster.create()
    poster.unlock(code)
    poster.submit(f"/mine/{closing}")
    before = snapshot(data_dir)
    response = helper.client.get(f"/p/{post_id}/reply", follow_redirects=True)
    assert "no longer open for replies" in response.get_data(as_text=True)
    response = helper.submit(f"/p/{post_id}/reply", form_url="/mine", message="too late")
    assert response.status_code == 303
    assert "no longer open for replies" in helper.client.get(response.headers["Location"]).get_data(as_text=True)
    assert snapshot(data_dir) == before


def test_replying_to_a_matched_post_is_refused(people, matched, data_dir):
    _, _, stranger = people
    before = snapshot(data_dir)
    response = stranger.submit(f"/p/{matched[0]}/reply", form_url="/mine", message="me too")
    assert response.status_code == 303 and snapshot(data_dir) == before


def test_messages_before_a_match_are_not_possible(people):
    poster, helper, _ = people
    post_id, code = poster.create()
    _, helper_code = reply_to(helper, post_id)
    helper.unlock(helper_code)
    response = helper.client.get("/mine/thread")
    assert response.status_code == 303
    assert "no conversation yet" in helper.client.get("/mine").get_data(as_text=True)


def test_suggestions_list_open_posts_of_the_other_kind_and_same_category(app, people):
    poster, other, _ = people
    need_id, _ = poster.create("request", title="Need soup", category="food")
    offer_food, _ = other.create("offer", title="Offer bread", category="food")
    offer_tools, _ = other.create("offer", title="Offer drill", category="tools-and-items")
    request_food, _ = other.create("request", title="Need rice", category="food")
    closed_offer, closed_code = other.create("offer", title="Offer gone", category="food")
    other.unlock(closed_code)
    other.submit("/mine/withdraw")

    page = app.test_client().get(f"/p/{need_id}").get_data(as_text=True)
    section = page.split('class="suggestions"')[1].split("</section>")[0]
    assert f"/p/{offer_food}" in section
    for absent in (offer_tools, request_food, closed_offer, need_id):
        assert f'"/p/{absent}"' not in section
    # The other way round, and on a fresh ticket.
    response = other.post("offer", title="Offer soup pot", category="food")
    ticket = other.client.get(response.headers["Location"]).get_data(as_text=True)
    section = ticket.split('class="suggestions"')[1].split("</section>")[0]
    assert f"/p/{need_id}" in section and f"/p/{request_food}" in section and f"/p/{offer_food}" not in section


def test_reports_are_stored_for_coordinators(app, people, matched):
    poster, helper, stranger = people
    post_id, _, reply_id, helper_code = matched
    assert "nobody could read a report" in stranger.client.post(
        f"/p/{post_id}/report", data={"csrf_token": csrf_token(stranger.client, f"/p/{post_id}/report"),
                                      "reason": "spam"}, follow_redirects=True).get_data(as_text=True)
    assert app.extensions["kiosk"].store.records("reports") == []  # no coordinator yet: nothing kept
    add_coordinator(app)
    assert stranger.submit(f"/p/{post_id}/report", reason="spam", note="looks like an ad").status_code == 303
    poster.submit("/mine/thread", message="hello, you fool")
    helper.unlock(helper_code)
    # The reporting page says the words go to the coordinators, before anything is sent.
    form = helper.client.get(f"/mine/report/{reply_id}/1").get_data(as_text=True)
    assert "hello, you fool" in form and "sealed so that only coordinators can read them" in form
    assert helper.submit(f"/mine/report/{reply_id}/1", reason="offensive").status_code == 303
    poster.client.get("/mine")
    assert poster.submit(f"/mine/report/{reply_id}", reason="unsafe").status_code == 303
    reports = app.extensions["kiosk"].store.records("reports")
    kinds = sorted((r["kind"], r["reason"]) for r in reports)
    assert kinds == [("message", "offensive"), ("post", "spam"), ("reply", "unsafe")]
    message_report = next(r for r in reports if r["kind"] == "message")
    assert message_report["post"] == post_id and message_report["reply"] == reply_id and message_report["message"] == 1
    assert all(r["status"] == "open" and r["created"] for r in reports)
    # One's own message cannot be reported by oneself, nor anything outside one's post.
    assert helper.client.get(f"/mine/report/{reply_id}/99").status_code == 404
    # The report carries the message's words, sealed: a coordinator reads them after unlocking.
    assert all("hello, you fool" not in str(r) for r in reports)
    coordinator = app.test_client()
    assert unlock_coordinator(coordinator).status_code == 303
    queue = coordinator.get("/coordinate").get_data(as_text=True)
    assert "hello, you fool" in queue and "looks like an ad" in queue


def test_report_with_a_bad_reason_stores_nothing(app, people, data_dir):
    poster, _, stranger = people
    post_id, _ = poster.create()
    before = snapshot(data_dir)
    response = stranger.submit(f"/p/{post_id}/report", reason="because")
    assert response.status_code == 422 and "Choose a reason." in response.get_data(as_text=True)
    response = stranger.submit(f"/p/{post_id}/report", reason="spam", note="x" * 201)
    assert response.status_code == 422
    assert snapshot(data_dir) == before


BAD_REPLIES = [
    ({"message": ""}, "Write a message first."),
    ({"message": "   "}, "Write a message first."),
    ({"message": "m" * 501}, "Use at most 500 characters; this has 501."),
    ({"message": "bell\x07"}, "Remove the invisible control characters"),
    ({"message": "ok", "available": "a" * 81}, "Use at most 80 characters; this has 81."),
    ({"message": "ok", "available": "two\nlines"}, "Keep this to one line."),
]


@pytest.mark.parametrize("fields,message", BAD_REPLIES)
def test_bad_reply_values_are_explained_and_nothing_is_stored(people, data_dir, fields, message):
    poster, helper, _ = people
    post_id, _ = poster.create()
    before = snapshot(data_dir)
    response = helper.submit(f"/p/{post_id}/reply", **fields)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert snapshot(data_dir) == before


def test_reply_with_a_phone_number_gets_the_warning_first(people, data_dir):
    poster, helper, _ = people
    post_id, _ = poster.create()
    before = snapshot(data_dir)
    response = helper.submit(f"/p/{post_id}/reply", message="Text me at 555 123 4567")
    assert response.status_code == 200 and "looks like a phone number" in response.get_data(as_text=True)
    assert snapshot(data_dir) == before


@pytest.mark.parametrize("body,message", [("", "Write a message first."), ("z" * 501, "Use at most 500")])
def test_bad_thread_messages_are_explained_and_nothing_is_stored(people, matched, data_dir, body, message):
    poster = people[0]
    before = snapshot(data_dir)
    response = poster.submit("/mine/thread", message=body)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert snapshot(data_dir) == before


def test_double_tap_on_send_reply_makes_one_reply(app, people):
    poster, helper, _ = people
    post_id, code = poster.create()
    html = helper.client.get(f"/p/{post_id}/reply").get_data(as_text=True)
    fields = dict(re.findall(r'name="(csrf_token|form_key)" value="([^"]+)"', html))
    fields["message"] = "Tapped twice"
    first = helper.client.post(f"/p/{post_id}/reply", data=fields)
    second = helper.client.post(f"/p/{post_id}/reply", data=fields)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(app.extensions["kiosk"].store.get_post(post_id)["replies"]) == 1


def test_replies_per_post_are_limited(make_app, data_dir):
    app = make_app(REPLY_LIMIT_PER_HOUR=2)
    poster = Visitor(app.test_client())
    post_id, _ = poster.create()
    for i in range(2):
        reply_to(Visitor(app.test_client()), post_id, f"reply {i}")
    before = snapshot(data_dir)
    response = Visitor(app.test_client()).submit(f"/p/{post_id}/reply", message="one too many")
    assert response.status_code == 429
    assert "many replies in the last hour" in response.get_data(as_text=True)
    assert snapshot(data_dir) == before


def test_messages_per_ticket_are_limited(make_app, data_dir):
    app = make_app(MESSAGE_LIMIT_PER_HOUR=2)
    poster, helper = Visitor(app.test_client()), Visitor(app.test_client())
    post_id, code = poster.create()
    reply_id, _ = reply_to(helper, post_id)
    poster.unlock(code)
    poster.submit(f"/mine/replies/{reply_id}/accept", form_url="/mine")
    for i in range(2):
        assert poster.submit("/mine/thread", message=f"message {i}").status_code == 303
    before = snapshot(data_dir)
    response = poster.submit("/mine/thread", message="one too many")
    assert response.status_code == 429 and "many messages in the last hour" in response.get_data(as_text=True)
    assert snapshot(data_dir) == before


def test_retention_erases_replies_and_threads_but_keeps_counts(make_app, data_dir):
    app = make_app(RETAIN_DAYS=30)
    poster, helper = Visitor(app.test_client()), Visitor(app.test_client())
    post_id, code = poster.create(title="Old conversation")
    reply_id, _ = reply_to(helper, post_id, "A reply to be forgotten")
    poster.unlock(code)
    poster.submit(f"/mine/replies/{reply_id}/accept", form_url="/mine")
    poster.submit("/mine/thread", message="A private message to be forgotten")
    store = app.extensions["kiosk"].store
    lifecycle.close(store, post_id, "fulfilled", now=utcnow() - dt.timedelta(days=40))
    run_upkeep(app)
    erased = store.get_post(post_id)
    assert len(erased["replies"]) == 1 and len(erased["replies"][0]["thread"]) == 1  # counts stay
    raw = b"".join(p.read_bytes() for p in data_dir.rglob("*.json"))
    for text in (b"A reply to be forgotten", b"A private message to be forgotten", b"Old conversation"):
        assert text not in raw
