"""Issue 8, point 1: the needs survey — edit, answer, results, charts, privacy of answers."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from kiosk.core.journal import read_live
from kiosk.web import audit as coordinators
from kiosk.web import charts
from kiosk.web import gate as coordinators_gate
from kiosk.survey import rules as surveys

from conftest import TEST_SCRYPT_N, Visitor, csrf_token
from test_coordinate import PASSPHRASE, team, unlock  # noqa: F401  (fixture and helper)

SVG = "{http://www.w3.org/2000/svg}"
QUESTIONS = {
    "title": "What do we need?",
    "q1_text": "Which help matters most?",
    "q1_kind": "single",
    "q1_options": "Food\nChildcare\nRides",
    "q2_text": "Which days suit you?",
    "q2_kind": "multiple",
    "q2_options": "Monday\nWednesday\nSaturday",
    "q3_text": "Anything else?",
    "q3_kind": "text",
    "q3_options": "",
}


def store_of(app):
    return app.extensions["kiosk"].store


def live_json(data_dir) -> dict:
    return read_live(data_dir)


def answer_rows(data_dir) -> list[dict]:
    return list((live_json(data_dir).get(surveys.TABLE) or {}).values())


@pytest.fixture
def coord(team):  # noqa: F811
    client = team.test_client()
    assert unlock(client).status_code == 303
    return Visitor(client)


def edit(coord, **fields):
    return coord.submit("/survey/edit", **fields)


@pytest.fixture
def open_survey(coord):
    assert edit(coord, **QUESTIONS).status_code == 303
    assert edit(coord, action="open").status_code == 303
    return coord


def survey_key(app) -> str:
    return store_of(app).get_meta("survey")["key"]


def answer(app, **fields):
    """A new browser answers once."""
    person = Visitor(app.test_client())
    return person.submit("/survey", **fields)


def svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r"<svg\b.*?</svg>", html, re.S)]


def tables(html: str) -> list[list[tuple[str, str]]]:
    out = []
    for body in re.findall(r'<table class="table survey-table">.*?<tbody>(.*?)</tbody>', html, re.S):
        out.append(re.findall(r'<th scope="row"[^>]*>(.*?)</th><td class="count">(.*?)</td>', body))
    return out


def chart_rows(svg: ET.Element) -> list[tuple[str, str]]:
    groups = svg.findall(f"{SVG}g")
    return [(g.find(f"{SVG}text[@class='bar-label']").text, g.find(f"{SVG}text[@class='bar-value']").text)
            for g in groups]


# -- editing ----------------------------------------------------------------------------------------


def test_non_coordinators_cannot_edit(team, app, data_dir):  # noqa: F811
    client = app.test_client()
    assert client.get("/survey/edit").headers["Location"] == "/coordinate"
    token = csrf_token(client, "/new/request")
    response = client.post("/survey/edit", data={"csrf_token": token, **QUESTIONS})
    assert response.status_code == 303 and response.headers["Location"] == "/coordinate"
    response = client.post("/survey/edit", data={"csrf_token": token, "action": "open"})
    assert response.status_code == 303 and response.headers["Location"] == "/coordinate"
    assert store_of(app).get_meta("survey") is None


def test_coordinator_writes_opens_and_closes_the_survey_and_it_is_audited(coord, team):  # noqa: F811
    assert edit(coord, **QUESTIONS).status_code == 303
    survey = store_of(team).get_meta("survey")
    assert survey["title"] == "What do we need?" and survey["open"] is False
    assert [q["kind"] for q in survey["questions"]] == ["single", "multiple", "text"]
    assert survey["questions"][0]["options"] == ["Food", "Childcare", "Rides"]
    page = coord.client.get("/survey/edit").get_data(as_text=True)
    assert "Childcare" in page and "Open the survey" in page
    assert "no survey open" in Visitor(team.test_client()).client.get("/survey").get_data(as_text=True)
    assert edit(coord, action="open").status_code == 303
    assert store_of(team).get_meta("survey")["open"] is True
    assert edit(coord, action="close").status_code == 303
    assert store_of(team).get_meta("survey")["open"] is False
    actions = [(e["handle"], e["action"]) for e in coordinators.trail(store_of(team))]
    assert actions[:3] == [("Heron", "survey-close"), ("Heron", "survey-open"), ("Heron", "survey")]


BAD_DEFINITIONS = [
    ({"title": ""}, "title"),
    ({"title": "x" * 121}, "title"),
    ({"title": "Needs\u202e"}, "title"),
    ({"q1_kind": "ranking"}, "q1_kind"),
    ({"q1_options": "Only one"}, "q1_options"),
    ({"q1_options": "\n".join(f"o{i}" for i in range(9))}, "q1_options"),
    ({"q1_options": "Food\nfood"}, "q1_options"),
    ({"q1_options": "Food\n" + "x" * 81}, "q1_options"),
    ({"q1_options": "Food\nRi\x00des"}, "q1_options"),
    ({"q1_text": ""}, "q1_text"),
    ({"q1_text": "x" * 201}, "q1_text"),
    ({"q3_options": "A\nB"}, "q3_options"),
    ({"q9_text": "A ninth question", "q9_kind": "text"}, "questions"),
]


@pytest.mark.parametrize("change, field", BAD_DEFINITIONS)
def test_bad_survey_definitions_store_nothing(coord, team, data_dir, change, field):  # noqa: F811
    before = live_json(data_dir)
    response = edit(coord, **{**QUESTIONS, **change})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Nothing was saved yet" in html and f'href="#{field}"' in html
    assert live_json(data_dir) == before


def test_an_empty_survey_is_refused(coord, team):  # noqa: F811
    response = edit(coord, title="Empty")
    assert response.status_code == 422 and "at least one question" in response.get_data(as_text=True)
    assert edit(coord, action="open").status_code == 422  # nothing to open
    assert store_of(team).get_meta("survey") is None


def test_questions_are_fixed_once_answered_but_the_title_can_change(open_survey, team, data_dir):
    assert answer(team, q1="0").status_code == 303
    changed = edit(open_survey, **{**QUESTIONS, "q1_options": "Food\nChildcare"})
    assert changed.status_code == 422 and "can no longer change" in changed.get_data(as_text=True)
    assert edit(open_survey, **{**QUESTIONS, "title": "Our needs"}).status_code == 303
    survey = store_of(team).get_meta("survey")
    assert survey["title"] == "Our needs" and survey["questions"][0]["options"] == ["Food", "Childcare", "Rides"]


# -- answering --------------------------------------------------------------------------------------


def test_an_answer_stores_only_the_answers_and_the_month(open_survey, team, data_dir):
    person = Visitor(team.test_client())
    page = person.client.get("/survey").get_data(as_text=True)
    assert 'name="q1" value="2"' in page and 'name="q2" value="0"' in page and 'name="q3"' in page
    before = live_json(data_dir)
    response = person.submit("/survey", q1="2", q2=["0", "2"], q3="  More rides on Sundays  ")
    assert response.status_code == 303 and response.headers["Location"] == "/survey/thanks"
    rows = answer_rows(data_dir)
    assert len(rows) == 1
    row = rows[0]
    assert set(row) == {"month", "answers", "sealed"}
    assert re.fullmatch(r"\d{4}-\d{2}", row["month"])
    # The free text is sealed to the coordinators' key; its place says only that it was answered.
    assert row["answers"] == {"q1": 2, "q2": [0, 2], "q3": ""}
    assert "Sundays" not in row["sealed"]
    # Nothing in the record could link it to the browser, a language or a time of day.
    # (The sealed text is base64 ciphertext: short words like "en" turn up in it by chance, so
    # only the 20-character cookie prefix and the key are looked for there.)
    raw = json.dumps(row)
    readable = json.dumps({name: value for name, value in row.items() if name != "sealed"})
    cookie = person.client.get_cookie("kiosk").value
    for leak in (cookie[:20], survey_key(team)):
        assert leak not in raw, leak
    for leak in ("en", "session", "lang", "key"):
        assert leak not in readable, leak
    after = live_json(data_dir)
    assert list(after.pop(surveys.TABLE).values()) == [row]
    before.pop(surveys.TABLE, None)
    assert after == before  # nothing else was written


def test_the_same_browser_cannot_answer_twice(open_survey, team, data_dir):
    person = Visitor(team.test_client())
    assert person.submit("/survey", q1="0").status_code == 303
    again = person.client.get("/survey")
    assert "already in" in again.get_data(as_text=True) and 'name="q1"' not in again.get_data(as_text=True)
    token = csrf_token(person.client, "/new/request")
    repeat = person.client.post("/survey", data={"csrf_token": token, "q1": "1"})
    assert repeat.status_code == 409
    assert len(answer_rows(data_dir)) == 1
    assert answer(team, q1="1").status_code == 303  # another browser can
    assert len(answer_rows(data_dir)) == 2


BAD_ANSWERS = [
    {"q1": "7"},  # unknown option
    {"q1": "-1"},
    {"q1": "Food"},
    {"q1": ["0", "1"]},  # one choice only
    {"q2": ["0", "0"]},  # too many choices
    {"q2": ["0", "1", "2", "3"]},
    {"q3": "x" * 501},
    {"q3": "hello\x07there"},
    {"q3": "hi\u200b"},
    {"q1": "0", "q3": "ok\x1b[31m"},  # one bad field spoils the whole answer
    {},  # nothing answered
    {"q3": "   "},
]


@pytest.mark.parametrize("fields", BAD_ANSWERS)
def test_bad_answers_store_nothing(open_survey, team, data_dir, fields):
    before = live_json(data_dir)
    person = Visitor(team.test_client())
    response = person.submit("/survey", **fields)
    assert response.status_code == 422
    assert "Nothing was saved yet" in response.get_data(as_text=True)
    assert live_json(data_dir) == before
    assert person.submit("/survey", q1="0").status_code == 303  # and the browser may try again


def test_a_closed_survey_takes_no_answers(open_survey, team, data_dir):
    person = Visitor(team.test_client())
    token = csrf_token(person.client, "/survey")
    assert edit(open_survey, action="close").status_code == 303
    response = person.client.post("/survey", data={"csrf_token": token, "q1": "0"})
    assert response.status_code == 409 and answer_rows(data_dir) == []


# -- results ----------------------------------------------------------------------------------------


def test_results_charts_match_tables_and_small_cells_are_hidden(open_survey, team):
    # Food 4, Childcare 2, Rides 1; Monday 5, Wednesday 3, Saturday 0.
    for q1, q2 in [("0", ["0", "1"]), ("0", ["0"]), ("0", ["0", "1"]), ("0", ["0", "1"]),
                   ("1", ["0"]), ("1", []), ("2", [])]:
        assert answer(team, q1=q1, q2=q2, q3="call me").status_code == 303

    public = team.test_client().get("/survey/results")
    assert public.status_code == 200 and "Set-Cookie" not in public.headers
    html = public.get_data(as_text=True)
    charts_ = svgs(html)
    assert len(charts_) == 2
    for svg, table in zip(charts_, tables(html)):
        assert svg.get("role") == "img" and svg.find(f"{SVG}title").text
        assert chart_rows(svg) == table
        assert not any(el.get("style") for el in svg.iter())
    q1, q2 = tables(html)
    # Childcare (2) and Rides (1) are small; with one choice per person both stay hidden.
    assert q1 == [("Food", "4"), ("Childcare", "fewer than 3"), ("Rides", "fewer than 3")]
    assert q2 == [("Monday", "5"), ("Wednesday", "3"), ("Saturday", "fewer than 3")]
    assert "call me" not in html and "read by coordinators only" in html

    exact = open_survey.client.get("/survey/results")
    assert exact.headers["Cache-Control"] == "no-store"
    html = exact.get_data(as_text=True)
    assert tables(html) == [[("Food", "4"), ("Childcare", "2"), ("Rides", "1")],
                            [("Monday", "5"), ("Wednesday", "3"), ("Saturday", "0")]]
    for svg, table in zip(svgs(html), tables(html)):
        assert chart_rows(svg) == table
    assert html.count("call me") == 7


def test_one_small_cell_cannot_be_worked_out_by_subtraction(open_survey, team):
    for q1 in ["0"] * 5 + ["1"] * 4 + ["2"]:
        assert answer(team, q1=q1).status_code == 303
    html = team.test_client().get("/survey/results").get_data(as_text=True)
    # Every number shown stays true; the total, which would give the small one away, is not shown.
    assert tables(html)[0] == [("Food", "5"), ("Childcare", "4"), ("Rides", "fewer than 3")]
    assert "not shown" in html and ">10<" not in html


def test_results_without_a_survey(client):
    assert "no survey yet" in client.get("/survey/results").get_data(as_text=True)
    assert "no survey open" in client.get("/survey").get_data(as_text=True)


def test_results_function_for_the_export(open_survey, team):
    answer(team, q1="1", q2=["2"], q3="Tool library please")
    answer(team, q3="x")
    assert surveys.results(store_of(team))["questions"][2]["texts"] == []  # sealed: counted, not shown
    key = coordinators_gate.verify(store_of(team), "Heron", PASSPHRASE, TEST_SCRYPT_N).team
    result = surveys.results(store_of(team), key)
    assert result["total"] == 2 and sum(result["months"].values()) == 2
    q1, q2, q3 = result["questions"]
    assert q1["options"] == [("Food", 0), ("Childcare", 1), ("Rides", 0)] and q1["answered"] == 1
    assert q2["options"][2] == ("Saturday", 1)
    assert sorted(q3["texts"]) == ["Tool library please", "x"] and q3["answered"] == 2


# -- charts on their own ----------------------------------------------------------------------------


def test_chart_is_valid_svg_with_escaped_labels():
    svg = charts.bar_chart("c1", 'Title <&> "q"', [charts.Bar("<b>&", 3, "3"), charts.Bar("B", None, "fewer than 3"),
                                                   charts.Bar("C" * 60, 0, "0")], "desc")
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.find(f"{SVG}title").text == 'Title <&> "q"'
    assert chart_rows(root)[:2] == [("<b>&", "3"), ("B", "fewer than 3")]
    assert len(root.findall(f".//{SVG}rect[@class='bar-fill']")) == 1  # only the bar with a count
    assert " style=" not in svg



def test_answers_are_stored_in_an_order_that_says_nothing_about_time(make_app):
    from kiosk.core.journal import JOURNAL_DIR
    from kiosk.core.store import LIVE_FILE
    import json
    from pathlib import Path

    app = make_app()
    store = app.extensions["kiosk"].store
    for n in range(30):
        surveys.store_answer(store, {"month": "2026-11", "answers": {"q1": str(n)}})  # a free-text answer
    folder = Path(app.config["DATA_DIR"])
    # Answers go straight into the live file, in id order: never into the journal, whose lines
    # would keep the order they came in.
    assert not any(b"survey_answers" in p.read_bytes() for p in (folder / JOURNAL_DIR).glob("*.log"))
    stored = json.loads((folder / LIVE_FILE).read_bytes())["survey_answers"]
    keys = [int(k) for k in stored]
    assert keys == sorted(keys)  # kept in random-id order...
    order = [int(v["answers"]["q1"]) for v in stored.values()]
    assert order != list(range(30))  # ...which is not the order they came in
    assert len(store.records("survey_answers")) == 30



def test_a_closed_survey_can_make_way_for_a_new_one(open_survey, team):
    answer(team, q1="1", q3="old answer")
    client = open_survey.client
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/survey/edit").get_data(as_text=True)).group(1)
    refused = client.post("/survey/edit", data={"csrf_token": token, "action": "new", "confirm": "yes"})
    assert refused.status_code == 422  # still open
    client.post("/survey/edit", data={"csrf_token": token, "action": "close"})
    unconfirmed = client.post("/survey/edit", data={"csrf_token": token, "action": "new"})
    assert unconfirmed.status_code == 422 and surveys.answers(store_of(team))
    done = client.post("/survey/edit", data={"csrf_token": token, "action": "new", "confirm": "yes"})
    assert done.status_code == 303
    assert surveys.get(store_of(team)) is None and surveys.answers(store_of(team)) == []


def test_free_text_with_contact_details_gets_the_warning_first(open_survey, team):
    response = answer(team, q1="1", q3="mail me at someone@example.org")
    assert response.status_code == 200 and "looks like an e-mail address" in response.get_data(as_text=True)
    assert surveys.answers(store_of(team)) == []
    assert answer(team, q1="1", q3="mail me at someone@example.org", contact_ok="yes").status_code == 303
    assert len(surveys.answers(store_of(team))) == 1


def test_options_typed_in_a_browser_textarea_are_accepted(coord, team):  # noqa: F811
    """Browsers send a textarea's line breaks as CR LF: that is not a control character to refuse."""
    fields = {**QUESTIONS, "q1_options": "Food\r\nChildcare\r\nRides", "q2_options": "Monday\r\nWednesday\r\nSaturday"}
    assert edit(coord, **fields).status_code == 303
    assert surveys.get(store_of(team))["questions"][0]["options"] == ["Food", "Childcare", "Rides"]
