"""Issue 9 (the app's side): captive-portal answers, setting the clock on screen, kiosk doctor."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk import coordinators, posts
from kiosk.cli import main as kiosk_main
from kiosk.store import LIVE_FILE

from conftest import PUBLIC_URL, Visitor
from test_coordinate import act, coord, team, unlock  # noqa: F401 - fixtures


@pytest.mark.parametrize("path", ["/generate_204", "/gen_204", "/hotspot-detect.html", "/library/test/success.html",
                                  "/connecttest.txt", "/ncsi.txt"])
def test_phones_checking_for_a_captive_portal_are_sent_to_the_start_page(client, path):
    response = client.get(path, base_url="http://connectivitycheck.gstatic.com")
    assert response.status_code == 302
    assert response.headers["Location"] == PUBLIC_URL + "/"
    assert "Set-Cookie" not in response.headers


def test_a_coordinator_sets_the_kiosks_clock(team, coord):  # noqa: F811
    assert "The kiosk thinks it is" in coord.client.get("/coordinate/clock").get_data(as_text=True)
    later = (dt.datetime.now() + dt.timedelta(days=400)).strftime("%Y-%m-%dT%H:%M")
    assert act(coord, "/coordinate/clock", moment=later).status_code == 303
    # The kiosk keeps the time it was told (the machine's own clock is left alone: the
    # service may not change it), and dates it records follow it.
    kiosk_now = team.extensions["kiosk"].clock.now()
    assert dt.timedelta(days=399) < kiosk_now - posts.utcnow() < dt.timedelta(days=401)
    store = team.extensions["kiosk"].store
    assert ("Heron", "clock") in [(e["handle"], e["action"]) for e in coordinators.trail(store)]
    post_id, _ = Visitor(team.test_client()).create()
    assert store.get_post(post_id)["created"][:4] == str(kiosk_now.year)


@pytest.mark.parametrize("value", ["", "soon", "1999-01-01T10:00", "2026-13-40T10:00"])
def test_a_bad_time_is_refused_and_changes_nothing(team, coord, value):  # noqa: F811
    before = team.extensions["kiosk"].clock.now()
    response = act(coord, "/coordinate/clock", moment=value)
    assert response.status_code == 422 and "2026-12-03 18:30" in response.get_data(as_text=True)
    assert abs(team.extensions["kiosk"].clock.now() - before) < dt.timedelta(minutes=5)


def test_only_coordinators_set_the_clock(team):  # noqa: F811
    assert team.test_client().get("/coordinate/clock").status_code == 303


def test_doctor_says_what_is_fine(runner, make_app, monkeypatch):
    app = make_app()
    Visitor(app.test_client()).create()
    monkeypatch.setenv("KIOSK_PUBLIC_URL", "http://localhost:8080")  # resolves from /etc/hosts, offline
    result = runner.invoke(kiosk_main, ["doctor", "--data", app.config["DATA_DIR"]])
    assert result.exit_code == 0, result.output
    assert "Every data file reads back whole." in result.output
    assert "A kiosk server is running" in result.output  # the test app holds the folder
    assert "localhost resolves" in result.output


def test_doctor_finds_a_damaged_file_and_a_clock_behind(runner, make_app, monkeypatch, data_dir):
    app = make_app()
    app.extensions["kiosk"].clock.set(posts.utcnow() + dt.timedelta(days=3))  # the kiosk saw a later time
    app.extensions["kiosk"].store.close()
    monkeypatch.setenv("KIOSK_PUBLIC_URL", "http://localhost:8080")
    result = runner.invoke(kiosk_main, ["doctor", "--data", str(data_dir)])
    assert "The clock is behind" in result.output
    (data_dir / LIVE_FILE).write_text('{"posts": {')
    result = runner.invoke(kiosk_main, ["doctor", "--data", str(data_dir)])
    assert result.exit_code == 1 and "is damaged" in result.output
