"""Issue 17, item 5: a roster that rotates. The rotation's rules as plain functions, then the
coordinators' page (a proposal stores nothing until "Save") and the start page's line."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from kiosk.community import roster, rotation
from kiosk.core.times import utcnow
from kiosk.events import rules as events
from kiosk.web import audit

from test_coordinate import act, coord, team  # noqa: F401  (fixtures: a team of Heron and Otter, unlocked)


def weeks_from(day: dt.date, count: int) -> list[str]:
    return roster.upcoming_weeks(day, count)


START = dt.date(2026, 12, 7)


@pytest.mark.parametrize("n_weeks", [1, 5, 8, 13])
@pytest.mark.parametrize("people", [["Ana"], ["Ana", "Ben"], ["Ana", "Ben", "Cy"], list("ABCDE")])
def test_everyone_gets_floor_or_ceil_of_the_weeks(people, n_weeks):
    plan = rotation.propose(people, weeks_from(START, n_weeks))
    counts = Counter(plan.values())
    assert set(counts) <= set(people) and None not in counts
    low, high = n_weeks // len(people), -(-n_weeks // len(people))
    assert all(low <= counts.get(p, 0) <= high for p in people), counts


@pytest.mark.parametrize("people", [["Ana", "Ben"], ["Ana", "Ben", "Cy"], list("ABCDE")])
def test_nobody_twice_in_a_row_with_two_or_more(people):
    weeks = weeks_from(START, 12)
    history = {roster.week_key(START - dt.timedelta(weeks=1)): people[0]}
    plan = [rotation.propose(people, weeks, history)[w] for w in weeks]
    assert plan[0] != people[0]
    assert all(a != b for a, b in zip(plan, plan[1:])), plan


def test_the_round_continues_after_whoever_was_on_duty_last():
    people = ["Ana", "Ben", "Cy"]
    past = weeks_from(START - dt.timedelta(weeks=2), 2)
    plan = rotation.propose(people, weeks_from(START, 6), {past[0]: "Ana", past[1]: "Ben"})
    assert list(plan.values()) == ["Cy", "Ana", "Ben", "Cy", "Ana", "Ben"]


def test_fewer_past_duties_go_first_and_a_newcomer_does_not_take_every_week():
    people = ["Ana", "Ben", "Cy", "Dee"]  # Dee just joined
    past = weeks_from(START - dt.timedelta(weeks=9), 9)
    history = dict(zip(past, ["Ana", "Ben", "Cy"] * 3))
    plan = list(rotation.propose(people, weeks_from(START, 8), history).values())
    assert plan[0] == "Dee"
    assert Counter(plan) == {"Ana": 2, "Ben": 2, "Cy": 2, "Dee": 2}


def test_away_weeks_are_respected_and_a_week_nobody_can_take_stays_empty():
    people = ["Ana", "Ben", "Cy"]
    weeks = weeks_from(START, 6)
    away = {weeks[0]: ["Ana"], weeks[1]: ["Ben", "Cy"], weeks[2]: ["Ana", "Ben", "Cy"], weeks[4]: ["Cy"]}
    plan = rotation.propose(people, weeks, {}, away)
    for week, gone in away.items():
        assert plan[week] not in gone
    assert plan[weeks[1]] == "Ana" and plan[weeks[2]] is None
    assert Counter(plan.values())[None] == 1
    assert max(Counter(v for v in plan.values() if v).values()) == 2


def test_a_fixed_week_is_kept_and_counted():
    people = ["Ana", "Ben"]
    weeks = weeks_from(START, 4)
    plan = rotation.propose(people, weeks, {}, {}, fixed={weeks[0]: "Ben"})
    assert list(plan.values()) == ["Ben", "Ana", "Ben", "Ana"]


def test_nobody_to_rotate_proposes_empty_weeks():
    assert set(rotation.propose([], weeks_from(START, 3)).values()) == {None}


# -- the coordinators' page ----------------------------------------------------------------------


def selected(page: str, week: str) -> str | None:
    select = page.split(f'name="week-{week}"', 1)[1].split("</select>", 1)[0]
    for option in select.split("<option")[1:]:
        if " selected" in option.split(">", 1)[0]:
            return option.split('value="', 1)[1].split('"', 1)[0]
    return None


def test_a_proposal_is_shown_and_nothing_is_stored_until_save(team, coord):
    store = team.extensions["kiosk"].store
    weeks = roster.upcoming_weeks(utcnow().date())
    page = coord.client.get("/coordinate/roster").get_data(as_text=True)
    assert "Heron\nOtter</textarea>" in page  # the coordinators' handles by default
    answer = act(coord, "/coordinate/roster", people="Heron\nOtter\nWren", action="propose",
                 **{f"away-{weeks[1]}": "Otter"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "This is a proposal" in page
    plan = [selected(page, w) for w in weeks]
    assert None not in plan and Counter(plan) in ({"Heron": 3, "Otter": 3, "Wren": 2}, {"Heron": 3, "Otter": 2, "Wren": 3},
                                                  {"Heron": 2, "Otter": 3, "Wren": 3})
    assert plan[1] != "Otter" and all(a != b for a, b in zip(plan, plan[1:]))
    assert roster.roster(store) == {} and not [e for e in audit.trail(store) if e["action"] == "roster"]

    # Changed by hand for one week, then saved: exactly what the form showed.
    plan[7] = "Wren" if plan[6] != "Wren" else "Heron"
    fields = {f"week-{w}": name for w, name in zip(weeks, plan)}
    act(coord, "/coordinate/roster", people="Heron\nOtter\nWren", action="save", **fields, **{f"away-{weeks[1]}": "Otter"})
    saved = roster.roster(store)
    assert saved["weeks"] == dict(zip(weeks, plan)) and saved["people"] == ["Heron", "Otter", "Wren"]
    assert saved["away"] == {weeks[1]: ["Otter"]}
    assert [e["action"] for e in audit.trail(store)].count("roster") == 1
    start = team.test_client().get("/").get_data(as_text=True)
    assert f"On duty this week: {plan[0]}" in start


def test_bad_names_are_refused_and_nothing_changes(team, coord):
    store = team.extensions["kiosk"].store
    answer = act(coord, "/coordinate/roster", people="Heron\n<b>x</b>", action="save")
    assert "handle or nickname" in coord.client.get(answer.headers["Location"]).get_data(as_text=True)
    assert roster.roster(store) == {}


def test_the_start_page_shows_the_next_meeting_gathering(team, coord):
    store = team.extensions["kiosk"].store
    day = utcnow().date() + dt.timedelta(days=2)
    events.create(store, events.check({"title": "Coordinators' meeting", "kind": "meeting", "place": "Hall B",
                                       "date": day.isoformat(), "time": "18:30", "duration": "60"}), utcnow())
    start = team.test_client().get("/").get_data(as_text=True)
    meeting = start.split("Next meeting:", 1)[1].split("</p>", 1)[0]
    assert "Coordinators&#39; meeting" in meeting and "Hall B" in meeting
    # A roster meeting later than the gathering does not hide the sooner one; a sooner one wins.
    later = (utcnow() + dt.timedelta(days=9)).strftime("%Y-%m-%dT18:00")
    act(coord, "/coordinate/roster", meeting_when=later, meeting_where="Room 9")
    assert "Hall B" in team.test_client().get("/").get_data(as_text=True)
    sooner = (utcnow() + dt.timedelta(days=1)).strftime("%Y-%m-%dT18:00")
    act(coord, "/coordinate/roster", meeting_when=sooner, meeting_where="Room 1")
    start = team.test_client().get("/").get_data(as_text=True)
    assert "Room 1" in start and "Hall B" not in start.split("Next meeting:", 1)[1].split("</p>", 1)[0]


def test_nothing_set_shows_no_empty_box(team):
    start = team.test_client().get("/").get_data(as_text=True)
    assert 'class="notice community"' not in start and "On duty" not in start


def test_names_as_people_type_them_in_any_script_are_kept(team, coord):
    """Arabic with its vowel marks, Hindi, an accent typed as a combining mark, a phone's curly
    apostrophe, and names separated by Arabic commas: each is one person's name."""
    store = team.extensions["kiosk"].store
    typed = "مُحَمَّد، سارة\nदेवनागरी\nJose\u0301\nO\u2019Brien"
    answer = act(coord, "/coordinate/roster", people=typed, action="save")
    assert answer.status_code == 303
    shown = coord.client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "handle or nickname" not in shown
    assert roster.roster(store)["people"] == ["مُحَمَّد", "سارة", "देवनागरी", "Jos\u00e9", "O\u2019Brien"]


def test_the_meeting_line_reads_like_the_gatherings_under_it(team, coord):
    """A newcomer saw "Next meeting: Jan 5, 2027, 18:30:00" above "Saturday, December 12, 2026,
    10:00": the meeting now has the gatherings' wording, weekday and hour, no seconds."""
    day = utcnow().date() + dt.timedelta(days=3)
    act(coord, "/coordinate/roster", meeting_when=f"{day.isoformat()}T18:30", meeting_where="Room 2")
    start = team.test_client().get("/").get_data(as_text=True)
    meeting = start.split("Next meeting:", 1)[1].split("</p>", 1)[0]
    assert day.strftime("%A") in meeting and f"{day.strftime('%B')} {day.day}, {day.year}" in meeting
    assert "6:30" in meeting and ":30:00" not in meeting
