"""Issue 8, point 3: gatherings at /events."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from kiosk.events import rules as domain
from kiosk.core.store import iter_json_files

from conftest import PUBLIC_URL, Visitor, csrf_token
from test_coordinate import team, trail_actions, unlock  # noqa: F401 - the team fixture
from test_qr import decode_svg
from test_stress import snapshot

UTC = dt.timezone.utc
# Monday 2026-01-26, 12:00 UTC. January 2026 has Tuesdays 6, 13, 20, 27 (no 5th one);
# March 2026 has a 5th Tuesday, the 31st.
NOW = dt.datetime(2026, 1, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def fixed_now(app, monkeypatch):
    clock = app.extensions["kiosk"].clock
    monkeypatch.setattr(clock, "now", lambda: NOW)
    return NOW


@pytest.fixture
def coord(team, fixed_now):
    client = team.test_client()
    assert unlock(client).status_code == 303
    return Visitor(client)


def store_of(app):
    return app.extensions["kiosk"].store


def event_form(**overrides) -> dict:
    form = {"title": "Food share", "kind": "food-share", "place": "Main hall", "date": "2026-01-27",
            "time": "18:00", "duration": "120", "repeat": "none", "nth": "", "until": ""}
    form.update(overrides)
    return form


def create(coord: Visitor, **overrides):
    return coord.submit("/events/new", **event_form(**overrides))


def created_id(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def dates_on(html: str) -> list[str]:
    return re.findall(r'<time datetime="(\d{4}-\d{2}-\d{2})T', html)


# -- the domain, as pure functions -------------------------------------------------------------


class FakeStore:
    def __init__(self, *events):
        self.events = [{"_id": i + 1, "counts": {}, "cancelled": False, **e} for i, e in enumerate(events)]

    def records(self, table):
        assert table == domain.TABLE
        return [dict(e) for e in self.events]


def test_weekly_occurrences_cross_a_month_boundary():
    store = FakeStore({"title": "Repair café", "start": "2026-01-20T18:00", "duration": 120, "repeat": "weekly"})
    found = domain.upcoming(store, NOW, 4)
    assert [o["date"] for o in found] == ["2026-01-27", "2026-02-03", "2026-02-10", "2026-02-17"]
    assert found[0]["start"] == dt.datetime(2026, 1, 27, 18, 0, tzinfo=UTC)
    assert found[0]["end"] == dt.datetime(2026, 1, 27, 20, 0, tzinfo=UTC)


def test_monthly_nth_weekday_crosses_months_and_years():
    store = FakeStore({"title": "Meeting", "start": "2026-01-13T19:00", "duration": 60, "repeat": "monthly", "nth": "2"})
    found = domain.upcoming(store, NOW, 3, days=400)
    # The 2nd Tuesday: January's has passed, so February, March and April.
    assert [o["date"] for o in found] == ["2026-02-10", "2026-03-10", "2026-04-14"]
    last = FakeStore({"title": "M", "start": "2025-12-30T19:00", "duration": 60, "repeat": "monthly", "nth": "last"})
    assert [o["date"] for o in domain.upcoming(last, NOW, 3, days=400)] == ["2026-01-27", "2026-02-24", "2026-03-31"]


def test_months_without_a_fifth_weekday_are_skipped():
    store = FakeStore({"title": "Fifth", "start": "2025-12-30T18:00", "duration": 60, "repeat": "monthly", "nth": "5"})
    found = domain.upcoming(store, NOW, 4, days=400)
    # Tuesdays: Jan 2026 ends on the 27th (4th), Feb has four, March has a 5th (31st), then June, Sept, Dec.
    assert [o["date"] for o in found] == ["2026-03-31", "2026-06-30", "2026-09-29", "2026-12-29"]


def test_until_ends_a_series_and_an_ongoing_occurrence_still_shows():
    store = FakeStore({"title": "W", "start": "2026-01-19T11:00", "duration": 120, "repeat": "weekly",
                       "until": "2026-02-02"})
    found = domain.upcoming(store, dt.datetime(2026, 1, 26, 12, 30, tzinfo=UTC), None)
    assert [o["date"] for o in found] == ["2026-01-26", "2026-02-02"]  # 11:00-13:00 is still going on


def test_upcoming_merges_events_in_order_and_skips_cancelled_ones():
    store = FakeStore(
        {"title": "B", "start": "2026-01-29T10:00", "duration": 60, "repeat": "none"},
        {"title": "A", "start": "2026-01-20T18:00", "duration": 60, "repeat": "weekly"},
        {"title": "C", "start": "2026-01-28T10:00", "duration": 60, "repeat": "none", "cancelled": True},
    )
    assert [(o["event"]["title"], o["date"]) for o in domain.upcoming(store, NOW, 2)] == [("A", "2026-01-27"),
                                                                                        ("B", "2026-01-29")]


# -- coordinators: create, edit, cancel --------------------------------------------------------


def test_create_a_weekly_event_lists_it_across_a_month_boundary(team, coord, client):
    event_id = created_id(create(coord, repeat="weekly", until="2026-02-10"))
    stored = domain.get(store_of(team), event_id)
    assert stored["start"] == "2026-01-27T18:00" and stored["repeat"] == "weekly" and stored["until"] == "2026-02-10"
    html = client.get("/events").get_data(as_text=True)
    assert dates_on(html) == ["2026-01-27", "2026-02-03", "2026-02-10"]
    assert "Main hall" in html and "Food share" in html
    page = client.get(f"/events/{event_id}").get_data(as_text=True)
    assert "Every week on Tuesday" in page
    assert ("Heron", "event-new") in trail_actions(team)


def test_create_a_monthly_nth_weekday_event(team, coord, client):
    event_id = created_id(create(coord, title="Repair café", kind="repair-cafe", date="2026-02-10",
                                 repeat="monthly", nth="2"))
    page = client.get(f"/events/{event_id}").get_data(as_text=True)
    assert "Every month on the 2nd Tuesday" in page
    assert dates_on(page)[:4] == ["2026-02-10", "2026-02-10", "2026-03-10", "2026-04-14"]  # "next" then the list
    # The 8-week list shows February's and March's.
    assert dates_on(client.get("/events").get_data(as_text=True)) == ["2026-02-10", "2026-03-10"]


def test_monthly_date_must_be_the_chosen_weekday_of_the_month(team, coord, data_dir):
    before = snapshot(data_dir)
    response = create(coord, date="2026-02-10", repeat="monthly", nth="3")
    assert response.status_code == 422
    assert "is not the 3rd Tuesday of its month" in response.get_data(as_text=True)
    assert snapshot(data_dir) == before


def test_edit_changes_the_event_and_is_audited(team, coord, client):
    event_id = created_id(create(coord))
    form_page = coord.client.get(f"/events/{event_id}/edit").get_data(as_text=True)
    assert 'value="Main hall"' in form_page
    response = coord.submit(f"/events/{event_id}/edit", **event_form(title="Soup night", place="Kitchen"))
    assert response.status_code == 303
    assert domain.get(store_of(team), event_id)["title"] == "Soup night"
    assert ("Heron", "event-edit") in trail_actions(team)


def test_cancel_asks_first(team, coord, client):
    event_id = created_id(create(coord))
    question = coord.client.get(f"/events/{event_id}/cancel")
    assert question.status_code == 200
    html = question.get_data(as_text=True)
    assert "Cancel this gathering?" in html and 'name="confirm" value="yes"' in html
    assert not domain.get(store_of(team), event_id)["cancelled"]
    # A POST without the confirmation only asks again.
    token = csrf_token(coord.client, f"/events/{event_id}/cancel")
    again = coord.client.post(f"/events/{event_id}/cancel", data={"csrf_token": token})
    assert again.status_code == 200 and "Cancel this gathering?" in again.get_data(as_text=True)
    assert not domain.get(store_of(team), event_id)["cancelled"]
    done = coord.client.post(f"/events/{event_id}/cancel", data={"csrf_token": token, "confirm": "yes"})
    assert done.status_code == 303
    assert domain.get(store_of(team), event_id)["cancelled"]
    assert dates_on(client.get("/events").get_data(as_text=True)) == []
    assert "This gathering is cancelled" in client.get(f"/events/{event_id}").get_data(as_text=True)
    assert ("Heron", "event-cancel") in trail_actions(team)


def test_non_coordinators_are_refused(team, fixed_now, data_dir):
    coord_client = team.test_client()
    assert unlock(coord_client).status_code == 303
    event_id = created_id(Visitor(coord_client).submit("/events/new", **event_form()))
    stranger = team.test_client()
    token = csrf_token(stranger, "/coordinate")
    before = snapshot(data_dir)
    for url in ("/events/new", f"/events/{event_id}/edit", f"/events/{event_id}/cancel"):
        for response in (stranger.get(url),
                         stranger.post(url, data={"csrf_token": token, "confirm": "yes", **event_form()})):
            assert response.status_code == 303 and response.headers["Location"] == "/coordinate", url
    assert snapshot(data_dir) == before
    assert "New gathering" not in stranger.get("/events").get_data(as_text=True)
    assert f"/events/{event_id}/edit" not in stranger.get(f"/events/{event_id}").get_data(as_text=True)


@pytest.mark.parametrize("field, value, message", [
    ("title", "", "Please fill this in"),
    ("title", "x" * 81, "at most 80 characters"),
    ("title", "two\nlines", "one line"),
    ("place", "", "Please fill this in"),
    ("place", "p" * 61, "at most 60 characters"),
    ("kind", "party", "what kind of gathering"),
    ("date", "2026-02-30", "Choose a date"),
    ("date", "tomorrow", "Choose a date"),
    ("time", "25:00", "Choose a time"),
    ("time", "6pm", "Choose a time"),
    ("duration", "45", "how long it lasts"),
    ("duration", "-1", "how long it lasts"),
    ("repeat", "daily", "how often"),
    ("nth", "6", "which weekday of the month"),
    ("until", "2026-01-01", "cannot be before"),
    ("until", "someday", "Choose a date"),
])
def test_bad_values_get_a_message_next_to_the_field_and_store_nothing(team, coord, data_dir, field, value, message):
    repeat = "monthly" if field == "nth" else ("weekly" if field == "until" else "none")
    before = snapshot(data_dir)
    response = create(coord, **{"repeat": repeat, "nth": "4" if repeat == "monthly" else "", field: value})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', html)
    assert error and message.lower() in error.group(1).lower().replace("&#39;", "'"), html
    assert snapshot(data_dir) == before
    assert domain.get(store_of(team), 1) is None


# -- "I'll come" ---------------------------------------------------------------------------------


def test_ill_come_counts_once_per_browser(team, coord, fixed_now, data_dir):
    event_id = created_id(create(coord, repeat="weekly"))
    phone = team.test_client()
    # A reader gets no cookie: the button is a link to a small confirmation page.
    listing = phone.get("/events")
    assert "Set-Cookie" not in listing.headers
    assert "Set-Cookie" not in phone.get(f"/events/{event_id}").headers
    come_url = f"/events/{event_id}/come/2026-02-03"
    assert f'href="{come_url}"' in listing.get_data(as_text=True)
    token = csrf_token(phone, come_url)
    for _ in range(3):
        assert phone.post(come_url, data={"csrf_token": token, "back": "list"}).status_code == 303
    event = domain.get(store_of(team), event_id)
    assert event["counts"] == {"2026-02-03": 1}
    # Now that this browser has a session, the list carries the forms directly, and remembers.
    html = phone.get("/events").get_data(as_text=True)
    assert f'action="{come_url}"' not in html and f'action="/events/{event_id}/come/2026-02-10"' in html
    assert "You said you will come" in html
    # Another browser counts too; nothing about who is stored.
    other = team.test_client()
    other.post(come_url, data={"csrf_token": csrf_token(other, come_url)})
    assert domain.get(store_of(team), event_id)["counts"] == {"2026-02-03": 2}
    shown = other.get(f"/events/{event_id}").get_data(as_text=True)
    assert "2 people said they'll come" in shown, shown[shown.find("<article"):shown.find("</article>")]
    raw = b"".join(p.read_bytes() for p in iter_json_files(data_dir))
    assert b"127.0.0.1" not in raw and b"werkzeug" not in raw.lower()
    assert domain.attendance_by_month(store_of(team)) == {"2026-02": 2}


def test_ill_come_refuses_dates_that_are_not_occurrences(team, coord, data_dir):
    event_id = created_id(create(coord, repeat="weekly"))
    phone = team.test_client()
    token = csrf_token(phone, f"/events/{event_id}/come/2026-01-27")
    before = snapshot(data_dir)
    for day in ("2026-01-28", "2026-01-20", "2027-13-01", "x"):
        response = phone.post(f"/events/{event_id}/come/{day}", data={"csrf_token": token})
        assert response.status_code in (303, 404)
        assert phone.get(f"/events/{event_id}/come/{day}").status_code == 404
    assert phone.post("/events/999/come/2026-01-27", data={"csrf_token": token}).status_code == 404
    assert snapshot(data_dir) == before


def test_attendance_by_month_adds_up_and_leaves_out_cancelled_dates():
    store = FakeStore(
        {"start": "2026-01-06T18:00", "repeat": "weekly", "counts": {"2026-01-27": 3, "2026-02-03": 4}},
        {"start": "2026-01-10T18:00", "repeat": "none", "counts": {"2026-01-10": 2}},
        {"start": "2026-01-05T18:00", "repeat": "weekly", "cancelled": True, "cancelled_at": "2026-01-20T10:00:00Z",
         "counts": {"2026-01-12": 5, "2026-01-26": 7}},
    )
    assert domain.attendance_by_month(store) == {"2026-01": 10, "2026-02": 4}


# -- the notice ---------------------------------------------------------------------------------


def test_notice_is_printable_with_a_qr_code_of_the_public_url(team, coord, client, tmp_path):
    event_id = created_id(create(coord))
    page = client.get(f"/events/{event_id}", base_url="http://localhost:8080")
    html = page.get_data(as_text=True)
    assert 'class="post-card event-notice"' in html and "data-print" in html
    assert f"{PUBLIC_URL}/events/{event_id}" in html
    assert ' style="' not in html and "<style" not in html and "<script>" not in html
    svg = client.get(f"/events/{event_id}/qr.svg", base_url="http://localhost:8080")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert decode_svg(svg.data, tmp_path) == f"{PUBLIC_URL}/events/{event_id}"
    assert client.get("/events/12345").status_code == 404
    assert client.get("/events/12345/qr.svg").status_code == 404


def test_pages_have_no_inline_style_and_speak_spanish(team, coord, client):
    event_id = created_id(create(coord, repeat="monthly", nth="4"))
    for url in ("/events", f"/events/{event_id}", f"/events/{event_id}/come/2026-01-27"):
        html = client.get(url).get_data(as_text=True)
        assert ' style="' not in html and "<style" not in html, url
    for url in ("/events/new", f"/events/{event_id}/edit", f"/events/{event_id}/cancel"):
        html = coord.client.get(url).get_data(as_text=True)
        assert ' style="' not in html and "<style" not in html, url
    spanish = client.get("/events", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert 'lang="es"' in spanish


def test_next_gatherings_panel_for_the_start_page(team, coord, app):
    created_id(create(coord, repeat="weekly"))
    with app.test_request_context("/"):
        from kiosk.events.views import start_panel

        shown = "".join(f"[{occ['date']} {occ['event']['title']}]" for occ in start_panel()["gatherings"])
    assert shown == "[2026-01-27 Food share][2026-02-03 Food share]"
