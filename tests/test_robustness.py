"""Things people and machines do by accident: double taps, floods of guesses, a clock that
jumps forward, a screen left unlocked."""

from __future__ import annotations

import datetime as dt
import re
import threading

from kiosk.core.journal import read_live
from kiosk.core import clock as clock_module
from kiosk import run_upkeep

from conftest import Visitor, claim_code


def form_fields(client, url: str) -> dict:
    html = client.get(url).get_data(as_text=True)
    return dict(re.findall(r'name="(csrf_token|form_key)" value="([^"]+)"', html))


def test_double_tap_on_post_makes_one_post_and_its_ticket_shows_the_code(client, data_dir):
    fields = {**form_fields(client, "/new/request"), "category": "food", "title": "Tapped twice"}
    first = client.post("/new/request", data=fields)
    second = client.post("/new/request", data=fields)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    live = read_live(data_dir)
    assert [d["title"] for d in live["posts"].values()] == ["Tapped twice"]
    assert claim_code(client.get(second.headers["Location"]).get_data(as_text=True))


def test_simultaneous_double_submit_makes_one_post(app, data_dir):
    client = app.test_client()
    fields = {**form_fields(client, "/new/offer"), "category": "food", "title": "Both at once"}
    cookie = client.get_cookie("kiosk").value
    results, start = [], threading.Barrier(2)

    def send():
        other = app.test_client()
        other.set_cookie("kiosk", cookie)
        start.wait()
        results.append(other.post("/new/offer", data=fields).headers["Location"])

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1
    live = read_live(data_dir)
    assert len(live["posts"]) == 1
    # Whichever answer the browser kept, its session (from the form page) finds the code.
    assert claim_code(client.get(results[0]).get_data(as_text=True))


def test_fixing_a_mistake_after_an_error_still_posts(client, visitor):
    fields = {**form_fields(client, "/new/request"), "category": "food", "title": ""}
    assert client.post("/new/request", data=fields).status_code == 422
    fields["title"] = "Now with a title"
    assert client.post("/new/request", data=fields).status_code == 303


def test_simultaneous_guesses_cannot_pass_the_per_client_limit(make_app):
    app = make_app(GUESS_PER_MINUTE=5)
    post_id, _ = Visitor(app.test_client()).create()
    statuses, start = [], threading.Barrier(20)

    def guess():
        visitor = Visitor(app.test_client())
        token = re.search(r'name="csrf_token" value="([^"]+)"', visitor.client.get("/mine").get_data(as_text=True)).group(1)
        start.wait()
        statuses.append(visitor.client.post("/mine", data={"csrf_token": token, "code": f"{post_id}-a-b-c-d"}).status_code)

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count(403) == 5  # checked
    assert statuses.count(429) == 15  # refused without a check


def test_a_clock_that_jumps_years_ahead_does_not_empty_the_board(app, monkeypatch):
    visitor = Visitor(app.test_client())
    post_id, _ = visitor.create(title="Still needed")
    real = clock_module.wall_now()
    app.extensions["kiosk"].clock._wall = lambda: real + dt.timedelta(days=3 * 365)
    run_upkeep(app)
    client = app.test_client()
    assert f"/p/{post_id}" in client.get("/board").get_data(as_text=True)
    assert client.get("/healthz").get_json()["clock"] == "suspect"


def test_restart_with_a_clock_years_ahead_keeps_the_kiosks_time(make_app, monkeypatch):
    app = make_app()
    post_id, _ = Visitor(app.test_client()).create(title="Survives a bad date")
    app.extensions["kiosk"].store.close()
    real = clock_module.wall_now()
    monkeypatch.setattr(clock_module, "wall_now", lambda: real + dt.timedelta(days=3 * 365))
    again = make_app()
    client = again.test_client()
    assert f"/p/{post_id}" in client.get("/board").get_data(as_text=True)
    assert client.get("/healthz").get_json()["clock"] == "suspect"


def test_restart_after_a_few_days_off_follows_the_wall_clock(make_app, monkeypatch):
    app = make_app()
    app.extensions["kiosk"].store.close()
    real = clock_module.wall_now()
    monkeypatch.setattr(clock_module, "wall_now", lambda: real + dt.timedelta(days=3))
    again = make_app()
    assert again.test_client().get("/healthz").get_json()["clock"] == "ok"


def test_mine_locks_itself_after_idle_time(app):
    client = app.test_client()
    visitor = Visitor(client)
    _, code = visitor.create(title="Left open")
    visitor.unlock(code)
    assert "Left open" in client.get("/mine").get_data(as_text=True)
    unlocks = app.extensions["kiosk"].unlocks
    later = unlocks._clock() + app.config["MINE_IDLE_SECONDS"] + 1
    unlocks._clock = lambda: later
    page = client.get("/mine").get_data(as_text=True)
    assert "Left open" not in page and 'name="code"' in page


def test_mine_done_is_a_button_not_a_link(client):
    assert client.get("/mine/done").status_code == 405
