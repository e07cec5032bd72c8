"""Issue 16: every kind of text visitors write is warned about when it looks like contact
details (promise 1), and ages out after KIOSK_RETAIN_DAYS (promise 7): check-in notes, survey
free text, report notes and thank-you lines, as well as posts, replies and threads."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk import run_upkeep
from kiosk.community import checkins
from kiosk.core.times import month_of, utcnow
from kiosk.web import gate

from conftest import Visitor
from test_coordinate import act, team, unlock  # noqa: F401  (team: a fixture)
from test_programs import snapshot
from test_replies import reply_to
from test_survey import QUESTIONS

PHONE = "Call me on 555 123 4567"
WARNING = "looks like a phone number"


def later(app, days: float) -> dt.datetime:
    """Time passes: the kiosk's clock moves on, as a coordinator would set it."""
    clock = app.extensions["kiosk"].clock
    moment = clock.now() + dt.timedelta(days=days)
    clock.set(moment)
    return moment


def coordinator(app) -> Visitor:
    person = Visitor(app.test_client())
    assert unlock(person.client).status_code == 303
    return person


def fulfilled(app) -> tuple[Visitor, str]:
    """A poster whose request was met, unlocked at /mine."""
    poster = Visitor(app.test_client())
    post_id, code = poster.create("request", title="Winter coat")
    reply_to(Visitor(app.test_client()), post_id)
    poster.unlock(code)
    assert poster.submit("/mine/fulfil").status_code == 303
    return poster, post_id


def matched(app) -> tuple[Visitor, Visitor, str, str]:
    poster, helper = Visitor(app.test_client()), Visitor(app.test_client())
    post_id, code = poster.create("request", title="Ride to the clinic")
    reply_id, helper_code = reply_to(helper, post_id)
    poster.unlock(code)
    assert poster.submit(f"/mine/replies/{reply_id}/accept", form_url="/mine").status_code == 303
    helper.unlock(helper_code)
    return poster, helper, post_id, reply_id


# -- the contact-details warning ---------------------------------------------------------------


def warned_then_kept(person: Visitor, data_dir, url: str, form_url: str | None = None,
                     warning: str = WARNING, **fields) -> None:
    """The text comes back with the warning and nothing is stored; ticked, it is stored."""
    before = snapshot(data_dir)
    shown = person.submit(url, form_url=form_url, **fields)
    page = shown.get_data(as_text=True)
    assert shown.status_code == 200 and warning in page, url
    assert all(value in page for value in fields.values() if len(value) > 2), url  # the text is kept to edit
    assert snapshot(data_dir) == before, url
    assert person.submit(url, form_url=form_url, contact_ok="yes", **fields).status_code == 303, url
    assert snapshot(data_dir) != before, url


def test_a_thanks_line_with_a_phone_number_gets_the_warning(team, data_dir):  # noqa: F811
    poster, _ = fulfilled(team)
    warned_then_kept(poster, data_dir, "/mine/thanks", form_url="/mine", thanks=f"Thank you! {PHONE}")
    assert PHONE in team.extensions["kiosk"].store.records("thanks")[0]["text"]


def test_thread_messages_with_contact_details_get_the_warning_on_both_sides(team, data_dir):  # noqa: F811
    poster, helper, _, _ = matched(team)
    warned_then_kept(poster, data_dir, "/mine/thread", message=f"Sure. {PHONE}")
    warned_then_kept(helper, data_dir, "/mine/thread", message="Or write to me at someone@example.org",
                     warning="looks like an e-mail address")
    page = helper.client.get("/mine/thread").get_data(as_text=True)
    assert PHONE in page and "someone@example.org" in page


def test_report_notes_with_contact_details_get_the_warning(team, data_dir):  # noqa: F811
    poster, helper, post_id, reply_id = matched(team)
    reporter = Visitor(team.test_client())
    warned_then_kept(reporter, data_dir, f"/p/{post_id}/report", reason="other", note=f"They told me {PHONE}")
    helper.submit("/mine/thread", message="Hello")
    warned_then_kept(poster, data_dir, f"/mine/report/{reply_id}/1", form_url=f"/mine/report/{reply_id}/1",
                     warning="looks like a street address", reason="personal", note="My address is 12 Elm Street")


@pytest.mark.parametrize("url, fields", [("/check-in", {"working": PHONE}), ("/survey", {"q1": "0", "q3": PHONE})])
def test_check_ins_and_survey_free_text_get_the_warning_too(team, data_dir, url, fields):  # noqa: F811
    coord = coordinator(team)
    coord.submit("/survey/edit", **QUESTIONS)
    coord.submit("/survey/edit", action="open")
    warned_then_kept(Visitor(team.test_client()), data_dir, url, **fields)


# -- ageing out --------------------------------------------------------------------------------


def test_a_check_in_from_13_months_ago_is_gone_after_upkeep_and_still_counted(team, data_dir):  # noqa: F811
    store = team.extensions["kiosk"].store
    first_month = month_of(utcnow())
    for n in range(3):
        assert Visitor(team.test_client()).submit("/check-in", working=f"The soup night is lovely {n}").status_code == 303
    later(team, 396)  # thirteen months on
    assert Visitor(team.test_client()).submit("/check-in", change="More chairs").status_code == 303
    run_upkeep(team)
    notes = checkins.checkins(store, None)
    assert [note["month"] for note in notes] == [month_of(team.extensions["kiosk"].clock.now())]
    page = coordinator(team).client.get("/coordinate/check-ins").get_data(as_text=True)
    assert "More chairs" in page and "soup night" not in page
    assert checkins.per_month(store)[first_month] == 3  # the open numbers keep the count


def test_a_check_in_stays_until_its_month_ended_a_retention_period_ago(make_app):
    app = make_app(RETAIN_DAYS=30)
    store = app.extensions["kiosk"].store
    gate.add(store, "Heron", "correct horse battery staple", by="test", now=utcnow(), scrypt_n=1024)
    start = dt.datetime(2026, 3, 15, tzinfo=dt.timezone.utc)
    checkins.add_checkin(store, {"working": "kept a while", "change": ""}, start)
    for moment, left in ((dt.datetime(2026, 4, 30), 1), (dt.datetime(2026, 5, 2), 0)):
        app.extensions["kiosk"].clock.set(moment.replace(tzinfo=dt.timezone.utc))
        run_upkeep(app)
        assert len(store.records(checkins.TABLE)) == left, moment


def test_a_backlog_is_worked_off_a_few_months_per_upkeep(make_app):
    app = make_app(RETAIN_DAYS=30)
    store = app.extensions["kiosk"].store
    gate.add(store, "Heron", "correct horse battery staple", by="test", now=utcnow(), scrypt_n=1024)
    for month in range(1, 7):
        checkins.add_checkin(store, {"working": f"note {month}", "change": ""},
                             dt.datetime(2026, month, 10, tzinfo=dt.timezone.utc))
    app.extensions["kiosk"].clock.set(dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc))
    run_upkeep(app, max_months=3)
    assert sorted(note["month"] for note in store.records(checkins.TABLE)) == ["2026-04", "2026-05", "2026-06"]
    run_upkeep(app, max_months=3)
    assert store.records(checkins.TABLE) == []
    assert checkins.per_month(store) == {f"2026-{m:02d}": 1 for m in range(1, 7)}


def test_old_survey_free_text_is_blanked_and_the_choices_still_count(team, data_dir):  # noqa: F811
    coord = coordinator(team)
    coord.submit("/survey/edit", **QUESTIONS)
    coord.submit("/survey/edit", action="open")
    for n in range(3):
        assert Visitor(team.test_client()).submit("/survey", q1="1", q3=f"We need a bike rack {n}").status_code == 303
    assert "bike rack" in coord.client.get("/survey/results").get_data(as_text=True)
    later(team, 70)
    run_upkeep(team)
    rows = team.extensions["kiosk"].store.records("survey_answers")
    assert all(row["answers"] == {"q1": 1, "q3": ""} and "sealed" not in row for row in rows)
    results = coordinator(team).client.get("/survey/results").get_data(as_text=True)
    assert "bike rack" not in results and "Childcare" in results
    from kiosk.survey import rules as surveys

    result = surveys.results(team.extensions["kiosk"].store)
    assert result["questions"][0]["options"][1] == ("Childcare", 3) and result["questions"][2]["answered"] == 3


def test_old_report_notes_are_blanked_and_the_report_stays(team, data_dir):  # noqa: F811
    poster, helper, post_id, reply_id = matched(team)
    Visitor(team.test_client()).submit(f"/p/{post_id}/report", reason="spam", note="Selling things, see above")
    helper.submit("/mine/thread", message="Buy my things")
    poster.submit(f"/mine/report/{reply_id}/1", form_url=f"/mine/report/{reply_id}/1", reason="spam",
                  note="Advertising again")
    queue = coordinator(team).client.get("/coordinate").get_data(as_text=True)
    assert "Selling things" in queue and "Buy my things" in queue
    later(team, 31)
    run_upkeep(team)
    reports = team.extensions["kiosk"].store.records("reports")
    assert len(reports) == 2 and all(r["note"] == "" and "sealed" not in r for r in reports)
    assert {r["reason"] for r in reports} == {"spam"}
    queue = coordinator(team).client.get("/coordinate").get_data(as_text=True)
    assert "Selling things" not in queue and "Buy my things" not in queue and "Advertising again" not in queue


def test_thanks_lines_leave_the_wall_a_retention_period_after_approval(make_app):
    app = make_app(RETAIN_DAYS=30)
    store = app.extensions["kiosk"].store
    gate.add(store, "Heron", "correct horse battery staple", by="test", now=utcnow(), scrypt_n=1024)
    poster, post_id = fulfilled(app)
    poster.submit("/mine/thanks", form_url="/mine", thanks="A warm coat and a warm heart")
    other, other_id = fulfilled(app)
    other.submit("/mine/thanks", form_url="/mine", thanks="Never judged, so never shown")
    later(app, 20)
    line = next(t for t in store.records("thanks") if t["post"] == post_id)
    act(coordinator(app), f"/coordinate/thanks/{line['_id']}/approve")
    later(app, 15)  # 35 days after it was written, 15 after it went on the wall
    run_upkeep(app)
    assert "A warm coat" in app.test_client().get("/thanks").get_data(as_text=True)
    assert store.get_post(other_id)["thanks"]["text"] == ""  # the waiting line aged from when it was written
    assert "Never judged" not in coordinator(app).client.get("/coordinate").get_data(as_text=True)
    later(app, 16)
    run_upkeep(app)
    assert "A warm coat" not in app.test_client().get("/thanks").get_data(as_text=True)
    assert store.get_post(post_id)["thanks"] == {**store.get_post(post_id)["thanks"], "text": "", "status": "approved"}
    assert [t["text"] for t in store.records("thanks")] == ["", ""] and len(store.records("thanks")) == 2
    store.checkpoint()
    raw = b"".join(p.read_bytes() for p in app.extensions["kiosk"].store.data_dir.rglob("*.json"))
    assert b"A warm coat" not in raw and b"Never judged" not in raw
