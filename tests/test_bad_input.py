"""Every bad value gets a clear message next to its field, and nothing is stored."""

from __future__ import annotations

import hashlib

import pytest
from werkzeug.datastructures import MultiDict

from kiosk.core.store import iter_json_files


def snapshot(data_dir) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in iter_json_files(data_dir)}


GOOD = {"category": "food", "title": "Soup for two", "details": "", "area": "", "when": ""}

BAD = [
    ("title", {"title": ""}, "Write a short title"),
    ("title", {"title": "   "}, "Write a short title"),
    ("title", {"title": "x" * 81}, "Use at most 80 characters; this has 81."),
    ("title", {"title": "bell\x07"}, "Remove the invisible control characters"),
    ("title", {"title": "evil \u202egnp.exe"}, "Remove the invisible control characters"),
    ("details", {"details": "y" * 1001}, "Use at most 1000 characters; this has 1001."),
    ("details", {"details": "null\x00byte"}, "Remove the invisible control characters"),
    ("area", {"area": "z" * 61}, "Use at most 60 characters; this has 61."),
    ("area", {"area": "escape\x1b[31m"}, "Remove the invisible control characters"),
    ("title", {"title": "\u200b\u200b"}, "Remove the invisible control characters"),
    ("title", {"title": "\u200e\u200f"}, "Remove the invisible control characters"),
    ("title", {"title": "line\u2028break"}, "Remove the invisible control characters"),
    ("title", {"title": "\ufeffbom"}, "Remove the invisible control characters"),
    ("title", {"title": "two\nlines"}, "Keep this to one line."),
    ("area", {"area": "Elm\r\nStreet"}, "Keep this to one line."),
    ("title", {"title": "\u3000"}, "Write a short title"),
    ("category", {"category": ""}, "Choose a category."),
    ("category", {"category": "weapons"}, "Choose one of the categories in the list."),
    ("when", {"when": "someday"}, "Choose today, this week, a date or flexible."),
    ("when", {"when": "date", "when_date": ""}, "Pick the date."),
    ("when", {"when": "date", "when_date": "2026-13-45"}, "Write the date as year-month-day"),
    ("when", {"when": "2001-01-01"}, "That date has already passed."),
    ("when", {"when": "date", "when_date": "2999-01-01"}, "Pick a date within the next year."),
]


@pytest.mark.parametrize("field,change,message", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_value_is_explained_next_to_its_field_and_nothing_is_stored(client, visitor, data_dir, field, change, message):
    visitor.create()  # so there is a data file to compare
    before = snapshot(data_dir)
    response = visitor.post("offer", **{**GOOD, **change})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert f'<p class="error" id="{field}-error">' in html
    assert "Nothing was saved yet" in html
    assert snapshot(data_dir) == before


def test_what_was_typed_is_kept_when_the_form_comes_back(visitor):
    response = visitor.post(**{**GOOD, "title": "", "details": "Keep me <b>safe</b>", "area": "By the fountain"})
    html = response.get_data(as_text=True)
    assert "Keep me &lt;b&gt;safe&lt;/b&gt;" in html  # escaped, not interpreted
    assert 'value="By the fountain"' in html


def test_a_field_sent_twice_is_refused(client, visitor, data_dir):
    from conftest import csrf_token

    token = csrf_token(client, "/new/request")
    before = snapshot(data_dir)
    response = client.post(
        "/new/request",
        data=MultiDict([("csrf_token", token), ("category", "food"), ("title", "a"), ("title", "b")]),
    )
    assert response.status_code == 422
    assert "Send this field only once." in response.get_data(as_text=True)
    assert snapshot(data_dir) == before


def test_missing_csrf_token_is_refused_with_a_clear_page(client, data_dir):
    client.get("/new/request")
    before = snapshot(data_dir)
    response = client.post("/new/request", data=GOOD)
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert snapshot(data_dir) == before


def test_forged_csrf_token_is_refused(client, visitor, data_dir):
    visitor.create()
    before = snapshot(data_dir)
    response = client.post("/new/request", data={**GOOD, "csrf_token": "forged"})
    assert response.status_code == 400
    assert snapshot(data_dir) == before


def test_unknown_kind_is_404(client):
    assert client.get("/new/bribe").status_code == 404


def test_oversized_body_is_refused_before_anything_is_read(client, data_dir):
    from conftest import csrf_token

    token = csrf_token(client, "/new/request")
    before = snapshot(data_dir)
    response = client.post("/new/request", data={**GOOD, "csrf_token": token, "details": "x" * 200_000})
    assert response.status_code == 413
    assert "too much text" in response.get_data(as_text=True)
    assert snapshot(data_dir) == before


def test_contact_details_get_a_warning_and_a_chance_to_remove_them(client, visitor, data_dir):
    visitor.create()
    before = snapshot(data_dir)
    response = visitor.post(**{**GOOD, "details": "Call me on 555-123-4567 or mail me@example.org"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This may be personal contact information" in html
    assert "looks like a phone number" in html and "looks like an e-mail address" in html
    assert snapshot(data_dir) == before  # nothing stored yet

    # Removing it posts normally.
    cleaned = visitor.post(**{**GOOD, "details": "Ask at the front desk"})
    assert cleaned.status_code == 303


def test_contact_details_can_be_kept_on_purpose(client, visitor):
    response = visitor.post(**{**GOOD, "area": "12 Elm Street", "contact_ok": "yes"})
    assert response.status_code == 303
    post_id = response.headers["Location"].rsplit("/", 1)[1]
    assert "12 Elm Street" in client.get(f"/p/{post_id}").get_data(as_text=True)


def test_dates_and_times_are_not_mistaken_for_phone_numbers(visitor):
    response = visitor.post(**{**GOOD, "details": "On 2026-12-01 from 10:30-12:00"})
    assert response.status_code == 303


def test_human_category_names_are_understood(visitor):
    assert visitor.post(**{**GOOD, "category": "Home repairs"}).status_code == 303
    assert visitor.post(**{**GOOD, "category": "tools and items"}).status_code == 303


def test_mine_with_overlong_code_is_just_a_wrong_code(visitor):
    response = visitor.unlock("x" * 5000)
    assert response.status_code == 403


def test_joiners_inside_words_are_fine(visitor):
    # Persian and emoji use zero-width (non-)joiners inside words.
    assert visitor.post(**{**GOOD, "title": "می\u200cخواهم 👩\u200d👧"}).status_code == 303


def test_bad_page_numbers_are_named_and_the_first_page_shown(client):
    for page in ("²", "-1", "0", "abc", "99999999999999999999"):
        response = client.get(f"/board?page={page}")
        assert response.status_code == 400, page
        assert "That page number does not exist" in response.get_data(as_text=True)


def test_editing_with_bad_values_changes_nothing(client, visitor, data_dir):
    post_id, code = visitor.create(title="Keep me")
    visitor.unlock(code)
    before = snapshot(data_dir)
    response = visitor.submit("/mine/edit", category="food", title="x" * 81)
    assert response.status_code == 422
    assert "Use at most 80 characters" in response.get_data(as_text=True)
    assert snapshot(data_dir) == before
    assert "Keep me" in client.get(f"/p/{post_id}").get_data(as_text=True)


def test_a_date_picked_without_its_radio_is_kept(client, visitor):
    response = visitor.post(**{**GOOD, "when": "", "when_date": "2099-01-01"})
    assert response.status_code == 422  # too far ahead: so it was read, not dropped
    soon = (__import__("datetime").date.today() + __import__("datetime").timedelta(days=3)).isoformat()
    response = visitor.post(**{**GOOD, "when": "", "when_date": soon})
    post_id = response.headers["Location"].rsplit("/", 1)[1]
    assert client.get(f"/p/{post_id}").get_data(as_text=True).count("When") >= 1


def test_print_buttons_are_hidden_without_javascript(client, visitor):
    response = visitor.post()
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "data-print hidden" in html
    assert "[hidden] { display: none !important; }" in client.get("/static/kiosk.css").get_data(as_text=True)


@pytest.mark.parametrize("when_date", ["", "2999-01-01"])
def test_on_a_date_stays_ticked_when_its_date_is_missing_or_refused(visitor, when_date):
    """Without JavaScript the date list shows only while "On a date:" is ticked: a newcomer who
    ticked it and forgot the date came back to "Pick the date." with the choice (and the list) gone."""
    html = visitor.post(**{**GOOD, "when": "date", "when_date": when_date}).get_data(as_text=True)
    assert 'value="date" checked' in html
    assert 'name="when" value="today" checked' not in html
