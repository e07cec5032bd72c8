"""Issue 5: coordinator mode, moderation, audit trail, roster, agreements, settings, CLI."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from kiosk.core.times import utcnow
from kiosk.board import posts
from kiosk.community import roster
from kiosk.core.store import Store
from kiosk.web import audit, gate
from kiosk.cli import main as kiosk_main

from conftest import TEST_SCRYPT_N, Visitor, csrf_token
from test_qr import decode_svg
from test_replies import reply_to

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def team(app):
    store = app.extensions["kiosk"].store
    now = utcnow()
    key = None  # the first makes the team's key; the next needs it unlocked
    for handle in ("Heron", "Otter"):
        gate.add(store, handle, PASSPHRASE, by="test", now=now, scrypt_n=TEST_SCRYPT_N, team=key)
        key = key or gate.verify(store, handle, PASSPHRASE, TEST_SCRYPT_N).team
    return app


def unlock(client, handle="Heron", passphrase=PASSPHRASE):
    token = csrf_token(client, "/coordinate")
    return client.post("/coordinate", data={"csrf_token": token, "handle": handle, "passphrase": passphrase})


@pytest.fixture
def coord(team):
    client = team.test_client()
    assert unlock(client).status_code == 303
    return Visitor(client)


def act(coord: Visitor, url: str, **fields):
    return coord.submit(url, form_url="/coordinate", **fields)


def trail_actions(app) -> list[tuple[str, str]]:
    return [(e["handle"], e["action"]) for e in audit.trail(app.extensions["kiosk"].store)]


def test_nothing_under_coordinate_answers_before_unlocking(team, visitor, data_dir):
    post_id, _ = visitor.create()
    client = team.test_client()
    page = client.get("/coordinate").get_data(as_text=True)
    assert 'name="passphrase"' in page and "Queue" not in page
    token = csrf_token(client, "/coordinate")
    rules = [r for r in team.url_map.iter_rules() if r.rule.startswith("/coordinate/")]
    assert len(rules) >= 10
    for rule in rules:
        url = re.sub(r"<(?:int:)?(\w+)>", lambda m: "1" if "int:" in m.group(0) else post_id, rule.rule)
        for method in rule.methods & {"GET", "POST"}:
            response = client.open(url, method=method, data={"csrf_token": token, "reason": "x", "body": "x"})
            assert response.status_code == 303 and response.headers["Location"] == "/coordinate", (method, url)
    assert f"/p/{post_id}" in client.get("/board").get_data(as_text=True)  # nothing was hidden


def test_wrong_passphrases_make_the_guesser_wait_not_the_coordinator(team):
    client = team.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.7"
    statuses = [unlock(client, passphrase="wrong passphrase!").status_code for _ in range(50)]
    assert statuses[:3] == [403] * 3 and set(statuses[3:]) == {429}
    waiting = unlock(client)
    assert waiting.status_code == 429 and "Too many wrong tries" in waiting.get_data(as_text=True)
    assert unlock(team.test_client()).status_code == 303  # the handle itself is not locked
    throttle = team.extensions["kiosk"].coord_throttle
    later = throttle._clock() + 3600
    throttle._clock = lambda: later
    assert unlock(client).status_code == 303
    assert "Queue" in client.get("/coordinate").get_data(as_text=True)


def test_unknown_handle_gets_the_same_answer(team):
    client = team.test_client()
    a = unlock(client, handle="Nobody", passphrase=PASSPHRASE)
    b = unlock(client, handle="Heron", passphrase="not the passphrase")
    assert a.status_code == b.status_code == 403
    assert "do not match" in a.get_data(as_text=True) and "do not match" in b.get_data(as_text=True)


def test_unlocking_starts_a_new_session(team):
    client = team.test_client()
    visitor = Visitor(client)
    _, code = visitor.create(title="Someone's post")
    visitor.unlock(code)
    old_token = csrf_token(client, "/coordinate")
    unlock(client)
    assert "Someone's post" not in client.get("/mine").get_data(as_text=True)
    assert csrf_token(client, "/mine") != old_token


def test_coordinator_mode_locks_itself_when_idle_and_with_the_button(team, coord):
    assert coord.client.get("/coordinate/log").status_code == 200
    unlocks = team.extensions["kiosk"].coord_unlocks
    later = unlocks._clock() + 5 * 60 + 1
    unlocks._clock = lambda: later
    assert coord.client.get("/coordinate/log").status_code == 303
    unlocks._clock = lambda: later  # unlock again, then use the lock button
    unlock(coord.client)
    assert act(coord, "/coordinate/lock").status_code == 303
    assert coord.client.get("/coordinate/log").status_code == 303


def test_hiding_a_reported_post_removes_it_and_tells_the_poster(team, coord):
    poster, neighbor = Visitor(team.test_client()), Visitor(team.test_client())
    post_id, code = poster.create(title="Cheap watches for sale")
    neighbor.submit(f"/p/{post_id}/report", form_url="/mine", reason="spam")
    queue = coord.client.get("/coordinate").get_data(as_text=True)
    assert "Spam or advertising" in queue and "Cheap watches for sale" in queue

    assert act(coord, f"/coordinate/posts/{post_id}/hide", reason="Selling is not mutual aid").status_code == 303
    assert f"/p/{post_id}" not in neighbor.client.get("/board").get_data(as_text=True)
    page = neighbor.client.get(f"/p/{post_id}")
    assert page.status_code == 410
    assert "was hidden" in page.get_data(as_text=True) and "Cheap watches" not in page.get_data(as_text=True)
    response = neighbor.submit(f"/p/{post_id}/reply", form_url="/mine", message="how much?")
    assert "no longer open for replies" in neighbor.client.get(response.headers["Location"]).get_data(as_text=True)
    poster.unlock(code)
    assert "Selling is not mutual aid" in poster.client.get("/mine").get_data(as_text=True)
    assert "No open reports." in coord.client.get("/coordinate").get_data(as_text=True)

    assert act(coord, f"/coordinate/posts/{post_id}/restore").status_code == 303
    assert f"/p/{post_id}" in neighbor.client.get("/board").get_data(as_text=True)
    assert trail_actions(team)[:2] == [("Heron", "restore"), ("Heron", "hide")]


def test_hiding_needs_a_reason(team, coord, visitor):
    post_id, _ = visitor.create()
    act(coord, f"/coordinate/posts/{post_id}/hide", reason="   ")
    assert "Write the reason" in coord.client.get("/coordinate").get_data(as_text=True)
    assert f"/p/{post_id}" in visitor.client.get("/board").get_data(as_text=True)


def test_dismissing_a_report_and_approving_thanks_are_logged(team, coord):
    store = team.extensions["kiosk"].store
    poster, helper = Visitor(team.test_client()), Visitor(team.test_client())
    post_id, code = poster.create()
    helper.submit(f"/p/{post_id}/report", form_url="/mine", reason="other", note="not sure")
    report_id = store.records("reports")[0]["_id"]
    act(coord, f"/coordinate/reports/{report_id}/dismiss")
    assert store.records("reports")[0]["status"] == "dismissed"

    poster.unlock(code)
    poster.submit("/mine/fulfil")
    poster.submit("/mine/thanks", form_url="/mine", thanks="Thanks neighbors!")
    assert "Thanks neighbors!" in coord.client.get("/coordinate").get_data(as_text=True)
    thanks_id = store.records("thanks")[0]["_id"]
    act(coord, f"/coordinate/thanks/{thanks_id}/approve")
    assert store.records("thanks")[0]["status"] == "approved"
    actions = trail_actions(team)
    assert ("Heron", "dismiss") in actions and ("Heron", "approve") in actions


def test_stale_posts_are_in_the_queue(team, coord):
    store = team.extensions["kiosk"].store
    old, _ = posts.create_post(store, "request", {"category": "food", "title": "Nobody answered me"},
                               lang="en", source="t", scrypt_n=TEST_SCRYPT_N,
                               now=utcnow() - dt.timedelta(days=5))
    assert "Nobody answered me" in coord.client.get("/coordinate").get_data(as_text=True)


def test_audit_trail_is_readable_by_every_coordinator_and_has_no_edit(team, coord):
    act(coord, "/coordinate/agreements", body="# Be kind")
    other = team.test_client()
    unlock(other, handle="Otter")
    log = other.get("/coordinate/log").get_data(as_text=True)
    assert "Heron" in log and "edited the community agreements" in log
    assert "<form" not in log.split("<table")[1].split("</table>")[0]  # nothing to change it with


def this_month(page: str) -> list[str]:
    """The transparency table's only month column: a row per kind of action."""
    return re.findall(r'<tr><th scope="row">[^<]+</th><td>(\d+)</td></tr>', page)


def test_transparency_page_counts_without_names(team, coord, visitor):
    post_id, _ = visitor.create()
    act(coord, f"/coordinate/posts/{post_id}/hide", reason="test")
    act(coord, f"/coordinate/posts/{post_id}/restore")
    page = visitor.client.get("/transparency").get_data(as_text=True)
    assert f'<th scope="col" class="nowrap">{utcnow().strftime("%Y-%m")}</th>' in page  # a column per month
    assert this_month(page).count("1") == 2  # one hide, one restore
    assert "Heron" not in page


def test_the_same_action_twice_in_a_second_is_logged_twice(team, coord, visitor):
    post_id, _ = visitor.create()
    for _ in range(2):
        act(coord, f"/coordinate/posts/{post_id}/hide", reason="spam")
        act(coord, f"/coordinate/posts/{post_id}/restore")
    assert trail_actions(team).count(("Heron", "hide")) == 2
    page = visitor.client.get("/transparency").get_data(as_text=True)
    assert this_month(page).count("2") == 2


def test_a_dismissed_report_cannot_be_dismissed_again(team, coord, visitor):
    post_id, _ = visitor.create()
    visitor.submit(f"/p/{post_id}/report", reason="spam")
    report_id = team.extensions["kiosk"].store.records("reports")[0]["_id"]
    act(coord, f"/coordinate/reports/{report_id}/dismiss")
    again = act(coord, f"/coordinate/reports/{report_id}/dismiss")
    assert "no longer in the queue" in coord.client.get(again.headers["Location"]).get_data(as_text=True)
    assert trail_actions(team).count(("Heron", "dismiss")) == 1


def test_a_handle_typed_with_spaces_still_unlocks(team):
    assert unlock(team.test_client(), handle="  Heron ").status_code == 303


def test_roster_and_next_meeting_show_on_the_start_page(team, coord):
    week = roster.week_key(utcnow().date())
    when = (utcnow() + dt.timedelta(days=3)).strftime("%Y-%m-%dT18:30")
    act(coord, "/coordinate/roster", **{f"week-{week}": "Otter", "meeting_when": when, "meeting_where": "Room 2"})
    start = team.test_client().get("/").get_data(as_text=True)
    assert "On duty this week: Otter" in start and "Room 2" in start and "Next meeting" in start
    # A handle that is not on the team is refused.
    act(coord, "/coordinate/roster", **{f"week-{week}": "Mallory"})
    assert "On duty this week: Otter" in team.test_client().get("/").get_data(as_text=True)


def test_agreements_have_a_default_and_edits_are_escaped(team, coord):
    client = team.test_client()
    default = client.get("/how-it-works").get_data(as_text=True)
    assert "How to ask" in default and "Who coordinates" in default
    act(coord, "/coordinate/agreements", body="# Our rules\n- be **kind**\n\n<script>alert(1)</script>")
    page = client.get("/how-it-works").get_data(as_text=True)
    assert "<h2>Our rules</h2>" in page and "<li>be <strong>kind</strong></li>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page


def test_new_category_is_offered_and_retired_one_is_not(team, coord, visitor):
    act(coord, "/coordinate/settings/category", action="add", label="Pet care")
    form = visitor.client.get("/new/request").get_data(as_text=True)
    assert 'value="pet-care"' in form and "Pet care" in form
    post_id, _ = visitor.create(category="pet-care", title="Walk my dog")
    assert "Pet care" in visitor.client.get(f"/p/{post_id}").get_data(as_text=True)

    act(coord, "/coordinate/settings/category", action="retire", slug="pet-care")
    assert 'value="pet-care"' not in visitor.client.get("/new/request").get_data(as_text=True)
    assert visitor.post(category="pet-care").status_code == 422
    assert "Pet care" in visitor.client.get(f"/p/{post_id}").get_data(as_text=True)  # old posts readable

    act(coord, "/coordinate/settings/category", action="rename", slug="food", label="Food and groceries")
    assert "Food and groceries" in visitor.client.get("/new/request").get_data(as_text=True)
    assert [a for h, a in trail_actions(team)].count("category") == 3


def test_settings_change_the_qr_codes_name_and_languages(team, coord, visitor, tmp_path):
    post_id, _ = visitor.create()
    fields = {"NAME": "Elm Street Aid", "PUBLIC_URL": "http://help.lan:8080", "WIFI_SSID": "Elm Guest",
              "WIFI_PASSWORD": "share-it-all", "EXPIRE_DAYS": "14", "RETAIN_DAYS": "20"}
    token = csrf_token(coord.client, "/coordinate/settings")
    response = coord.client.post("/coordinate/settings", data={"csrf_token": token, **fields, "LANGUAGES": ["en", "es"]})
    assert response.status_code == 303
    svg = visitor.client.get(f"/p/{post_id}/qr.svg").data
    assert decode_svg(svg, tmp_path) == f"http://help.lan:8080/p/{post_id}"
    start = visitor.client.get("/").get_data(as_text=True)
    assert "Elm Street Aid" in start and 'value="ar"' not in start
    log = coord.client.get("/coordinate/log").get_data(as_text=True)
    assert "PUBLIC_URL" in log and "share-it-all" not in log


def test_readers_cached_pages_follow_a_change_of_languages_at_once(team, coord):
    reader = team.test_client(use_cookies=False)  # people who only read get the cached pages
    arabic = {"Accept-Language": "ar"}
    assert 'lang="ar"' in reader.get("/board", headers=arabic).get_data(as_text=True)
    assert 'lang="ar"' in reader.get("/board", headers=arabic).get_data(as_text=True)  # now from the cache
    fields = {"NAME": "Elm", "PUBLIC_URL": "http://aid.lan", "EXPIRE_DAYS": "30", "RETAIN_DAYS": "30"}
    token = csrf_token(coord.client, "/coordinate/settings")
    coord.client.post("/coordinate/settings", data={"csrf_token": token, **fields, "LANGUAGES": ["en", "es"]})
    page = reader.get("/board", headers=arabic).get_data(as_text=True)
    assert 'lang="en"' in page and 'value="ar"' not in page


@pytest.mark.parametrize("field,value,message", [
    ("PUBLIC_URL", "aid.lan", "Write the address phones use"),
    ("EXPIRE_DAYS", "0", "Give a whole number of days"),
    ("EXPIRE_DAYS", "soon", "Give a whole number of days"),
    ("NAME", "", "This cannot be empty."),
    ("WIFI_PASSWORD", "short", "A WPA2 password has 8 to 63 characters."),
])
def test_bad_settings_are_explained_and_nothing_changes(team, coord, field, value, message):
    fields = {"NAME": "Kiosk", "PUBLIC_URL": "http://aid.lan", "WIFI_SSID": "", "WIFI_PASSWORD": "",
              "EXPIRE_DAYS": "30", "RETAIN_DAYS": "30", field: value}
    token = csrf_token(coord.client, "/coordinate/settings")
    response = coord.client.post("/coordinate/settings", data={"csrf_token": token, **fields, "LANGUAGES": ["en"]})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert team.config["LANGUAGES"] == ["en", "es", "ar"]


def test_team_add_and_remove_on_screen(team, coord):
    act(coord, "/coordinate/team", handle="Wren", passphrase="a long enough passphrase",
        passphrase_again="a long enough passphrase")
    assert "Wren" in gate.handles(team.extensions["kiosk"].store)
    short = act(coord, "/coordinate/team", handle="Finch", passphrase="too short", passphrase_again="too short")
    assert short.status_code == 422 and "at least 12 characters" in short.get_data(as_text=True)
    act(coord, "/coordinate/team/remove", handle="Wren")  # no confirmation ticked
    assert "Wren" in gate.handles(team.extensions["kiosk"].store)
    act(coord, "/coordinate/team/remove", handle="Wren", confirm="yes")
    assert "Wren" not in gate.handles(team.extensions["kiosk"].store)
    assert ("Heron", "add-coordinator") in trail_actions(team) and ("Heron", "remove-coordinator") in trail_actions(team)


# -- command line --------------------------------------------------------------------------------


def test_cli_adds_lists_and_removes_coordinators(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_SCRYPT_N", str(TEST_SCRYPT_N))
    data = str(tmp_path / "d")
    result = runner.invoke(kiosk_main, ["coordinator", "add", "Heron", "--data", data], input=PASSPHRASE + "\n")
    assert result.exit_code == 0, result.output
    # Once a team exists, a coordinator unlocks the team's key for the newcomer.
    alone = runner.invoke(kiosk_main, ["coordinator", "add", "Otter", "--data", data], input=PASSPHRASE + "\n")
    assert alone.exit_code == 1 and "--by" in alone.output
    wrong = runner.invoke(kiosk_main, ["coordinator", "add", "Otter", "--by", "Heron", "--data", data],
                          input="not the passphrase\n" + PASSPHRASE + "\n")
    assert wrong.exit_code == 1 and "do not match" in wrong.output
    added = runner.invoke(kiosk_main, ["coordinator", "add", "Otter", "--by", "Heron", "--data", data],
                          input=PASSPHRASE + "\nanother long passphrase\n")
    assert added.exit_code == 0, added.output
    listed = runner.invoke(kiosk_main, ["coordinator", "list", "--data", data])
    assert listed.output.split() == ["Heron", "Otter"]
    store = Store(data)
    try:  # the newcomer's passphrase opens the same team key as the first one's
        assert gate.verify(store, "Otter", "another long passphrase", TEST_SCRYPT_N).team.public_key == \
            gate.verify(store, "Heron", PASSPHRASE, TEST_SCRYPT_N).team.public_key
    finally:
        store.close()
    assert runner.invoke(kiosk_main, ["coordinator", "remove", "Otter", "--yes", "--data", data]).exit_code == 0
    last = runner.invoke(kiosk_main, ["coordinator", "remove", "Heron", "--yes", "--data", data])
    assert last.exit_code == 1 and "last coordinator" in last.output


@pytest.mark.parametrize("args", [["my secret passphrase"], ["--passphrase", "my secret passphrase"], ["--passphrase=xyz"]])
def test_cli_refuses_a_passphrase_given_as_an_argument(runner, tmp_path, args):
    data = str(tmp_path / "d")
    result = runner.invoke(kiosk_main, ["coordinator", "add", "Heron", *args, "--data", data])
    assert result.exit_code == 2 and "never give a passphrase on the command line" in result.output
    listed = runner.invoke(kiosk_main, ["coordinator", "list", "--data", data])
    assert listed.output.strip() == ""


def test_cli_refuses_a_short_passphrase(runner, tmp_path):
    result = runner.invoke(kiosk_main, ["coordinator", "add", "Heron", "--data", str(tmp_path)], input="short\n")
    assert result.exit_code == 1 and "at least 12 characters" in result.output


def test_no_default_passphrase_exists(app):
    assert gate.handles(app.extensions["kiosk"].store) == []
    client = app.test_client()
    for guess in ("admin", "password", "coordinator", "changeme123456"):
        assert unlock(client, handle="admin", passphrase=guess).status_code in (403, 429)


def test_touchscreen_idle_reset_locks_coordinator_mode(team):
    client = team.test_client()
    unlock(client)
    token = csrf_token(client, "/coordinate/log")
    assert client.post("/reset", data={"csrf_token": token}).status_code == 303
    assert client.get("/coordinate/log").status_code == 303


def test_a_removed_coordinator_is_locked_out_at_once(team):
    otter = team.test_client()
    unlock(otter, handle="Otter")
    assert otter.get("/coordinate/log").status_code == 200
    gate.remove(team.extensions["kiosk"].store, "Otter")
    assert otter.get("/coordinate/log").status_code == 303


def test_a_guessers_wait_never_grows_past_the_hour(team):
    client = team.test_client()
    throttle = team.extensions["kiosk"].coord_throttle
    t = [float(int(throttle._clock()))]  # whole seconds: exact arithmetic (test_guessing.fake_clock)
    throttle._clock = lambda: t[0]
    for _ in range(20):  # hours of wrong passphrases, at the highest rate allowed
        for _ in range(10):
            unlock(client, passphrase="wrong wrong wrong")
            t[0] += 60
    t[0] += 3600  # nothing doubles: an hour after the last wrong one, nothing is held against anyone
    assert unlock(client).status_code == 303


def test_bad_ids_and_loopback_urls_are_refused_clearly(team, coord):
    assert act(coord, "/coordinate/posts/ZZZZZZZZZZ/hide", reason="x").status_code == 404
    assert act(coord, "/coordinate/posts/%C3%A9/restore").status_code == 404
    for url in ("http://localhost", "http://127.0.0.1:8080", "http://aid.lan:99999"):
        fields = {"NAME": "K", "PUBLIC_URL": url, "WIFI_SSID": "", "WIFI_PASSWORD": "", "EXPIRE_DAYS": "30",
                  "RETAIN_DAYS": "30", "LANGUAGES": ["en"]}
        token = csrf_token(coord.client, "/coordinate/settings")
        response = coord.client.post("/coordinate/settings", data={"csrf_token": token, **fields})
        assert response.status_code == 422, url


def test_categories_in_arabic_script_get_their_own_slugs(team, coord, visitor):
    act(coord, "/coordinate/settings/category", action="add", label="رعاية الحيوانات")
    act(coord, "/coordinate/settings/category", action="add", label="دروس")
    form = visitor.client.get("/new/request").get_data(as_text=True)
    assert "رعاية الحيوانات" in form and "دروس" in form
