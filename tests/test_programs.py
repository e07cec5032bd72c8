"""Issue 8 (part): rides, the thanks wall and the needs-met counter, check-ins, open numbers."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import xml.etree.ElementTree as ET

import pytest

from kiosk.core.journal import read_live
from kiosk.core.store import iter_json_files

from conftest import Visitor, add_coordinator
from test_coordinate import act, team, unlock  # noqa: F401 - fixtures
from test_replies import reply_to


def snapshot(data_dir) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in iter_json_files(data_dir)}


def soon(days: int) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


def test_rides_are_listed_by_date(client, visitor):
    later, _ = visitor.create("offer", category="transportation", title="Driving to the market",
                              ride_date=soon(5), ride_time="09:30", ride_from="Library", ride_to="Market")
    sooner, _ = visitor.create("request", category="transportation", title="Lift to the clinic",
                               ride_date=soon(2), ride_time="14:00", ride_from="Elm Court", ride_to="Clinic")
    visitor.create("request", category="food", title="Soup", ride_date=soon(1))  # not a ride
    html = client.get("/rides").get_data(as_text=True)
    assert html.index(f"/p/{sooner}") < html.index(f"/p/{later}")
    assert "Elm Court → Clinic" in html and "09:30" in html and "Soup" not in html


@pytest.mark.parametrize("fields,message", [
    ({"ride_date": "tomorrow"}, "Write the date as year-month-day"),
    ({"ride_date": "2001-01-01"}, "That date has already passed."),
    ({"ride_time": "25:99", "ride_date": soon(1)}, "Write the time like 14:30."),
    ({"ride_from": "x" * 61, "ride_date": soon(1)}, "Use at most 60 characters"),
    ({"ride_to": "Clinic"}, "A ride needs its date."),
])
def test_bad_ride_values_store_nothing(visitor, data_dir, fields, message):
    visitor.create()
    before = snapshot(data_dir)
    response = visitor.post("offer", category="transportation", title="Ride", **fields)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert snapshot(data_dir) == before


def test_approved_thanks_reach_the_wall_and_needs_met_are_celebrated(team, visitor):  # noqa: F811
    poster, helper = Visitor(team.test_client()), Visitor(team.test_client())
    post_id, code = poster.create("request", title="Winter coat")
    reply_to(helper, post_id)
    poster.unlock(code)
    poster.submit("/mine/fulfil")
    poster.submit("/mine/thanks", form_url="/mine", thanks="A warm coat and a warm heart, thank you!")
    wall = team.test_client().get("/thanks").get_data(as_text=True)
    assert "A warm coat" not in wall  # waiting for a coordinator
    # One need met is not shown (it would point at the people involved); three are.
    assert "need met this month" not in team.test_client().get("/").get_data(as_text=True)
    from kiosk.board import lifecycle as post_rules

    store = team.extensions["kiosk"].store
    for i in range(2):
        other_id, _ = poster.create("request", title=f"Another need {i}")
        post_rules.close(store, other_id, "fulfilled")
    assert "3 needs met this month" in team.test_client().get("/").get_data(as_text=True)
    coord = Visitor(team.test_client())
    unlock(coord.client)
    record = team.extensions["kiosk"].store.records("thanks")[0]["_id"]
    act(coord, f"/coordinate/thanks/{record}/approve")
    assert "A warm coat and a warm heart" in team.test_client().get("/thanks").get_data(as_text=True)


def test_check_in_is_anonymous_and_read_by_coordinators(team, data_dir):  # noqa: F811
    visitor = Visitor(team.test_client())
    response = visitor.submit("/check-in", working="The Friday soup!", change="More rides on Sundays")
    assert response.status_code == 303
    stored = read_live(data_dir)["checkins"]
    (note,) = stored.values()
    # The month, and the notes sealed to the coordinators' key: nothing readable without it.
    assert set(note) == {"month", "working", "change", "sealed"} and re.fullmatch(r"\d{4}-\d\d", note["month"])
    assert note["working"] == note["change"] == "" and "Sundays" not in note["sealed"]
    assert team.test_client().get("/coordinate/check-ins").status_code == 303  # coordinators only
    coord = team.test_client()
    unlock(coord)
    assert "More rides on Sundays" in coord.get("/coordinate/check-ins").get_data(as_text=True)


@pytest.mark.parametrize("fields,message", [
    ({"working": "", "change": "  "}, "Write at least one of the two."),
    ({"working": "w" * 501}, "Use at most 500 characters"),
    ({"change": "bell\x07"}, "Remove the invisible control characters"),
])
def test_bad_check_ins_store_nothing(app, data_dir, fields, message):
    visitor = Visitor(app.test_client())
    visitor.create()
    before = snapshot(data_dir)
    response = visitor.submit("/check-in", **fields)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert snapshot(data_dir) == before


def _table_and_chart(html: str, key: str) -> tuple[dict, list[str]]:
    section = html.split(f'id="h-{key}"')[1].split("</section>")[0]
    svg = re.search(r"<svg.*?</svg>", section, re.S).group(0)
    root = ET.fromstring(svg)  # valid XML, or this raises
    assert root.tag.endswith("svg") and root.get("role") == "img"
    texts = ["".join(t.itertext()) for t in root.iter() if t.tag.endswith("text")]
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th><td>([^<]+)</td>', section))
    return rows, texts


def test_open_numbers_hide_small_counts_and_charts_match_tables(client, visitor):
    month = dt.date.today().strftime("%Y-%m")
    for i in range(4):
        visitor.create("request", title=f"need {i}")
    visitor.create("offer", title="one offer")
    html = client.get("/stats").get_data(as_text=True)
    needs, needs_chart = _table_and_chart(html, "needs")
    offers, offers_chart = _table_and_chart(html, "offers")
    assert needs[month] == "4" and offers[month] == "fewer than 3"
    assert "4" in needs_chart and "fewer than 3" in offers_chart and "1" not in offers_chart
    assert "one offer" not in html  # only counts


def test_ride_landmarks_get_the_contact_warning_and_show_on_the_post(client, visitor):
    response = visitor.post("offer", category="transportation", title="Ride", ride_date=soon(2),
                            ride_from="call 555-123-4567", ride_to="Clinic")
    assert response.status_code == 200 and "looks like a phone number" in response.get_data(as_text=True)
    post_id, _ = visitor.create("offer", category="transportation", title="Ride", ride_date=soon(2),
                                ride_time="08:15", ride_from="Library", ride_to="Clinic")
    page = client.get(f"/p/{post_id}").get_data(as_text=True)
    assert "08:15" in page and "Library → Clinic" in page


def test_a_median_of_fewer_than_three_replies_is_not_shown(client, visitor, app):
    post_id, _ = visitor.create("request", title="Only one")
    reply_to(Visitor(app.test_client()), post_id)
    html = client.get("/stats").get_data(as_text=True)
    section = html.split('id="h-wait"')[1].split("</section>")[0]
    table = section.split("<table")[1]
    assert re.search(r'<th scope="row">[^<]+</th><td>—</td>', table)


def test_check_in_with_a_phone_number_gets_the_warning_first(app, data_dir):
    add_coordinator(app)
    visitor = Visitor(app.test_client())
    visitor.create()
    before = snapshot(data_dir)
    response = visitor.submit("/check-in", working="Call me on 555 123 4567 about it")
    assert response.status_code == 200 and "looks like a phone number" in response.get_data(as_text=True)
    assert snapshot(data_dir) == before
    kept = visitor.submit("/check-in", working="Call me on 555 123 4567 about it", contact_ok="yes")
    assert kept.status_code == 303
