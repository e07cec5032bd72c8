"""Issue 16: guessing at ticket codes and passphrases is throttled per client and overall, in
memory only, and nobody can lock a neighbor out (promise 9). The clock is the throttles' own,
a fake monotonic one the tests move on; a client is the address the request comes from."""

from __future__ import annotations

import pytest

from kiosk.core.config import ConfigError, guessing_years

from conftest import Visitor
from test_coordinate import PASSPHRASE, team, unlock  # noqa: F401  (team: a fixture)

ATTACKER = "10.0.0.7"
POSTER = "10.0.0.2"
WRONG_WORDS = "apple-apple-apple-apple"


def client_at(app, address: str) -> Visitor:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Visitor(client)


def fake_clock(throttle) -> list[float]:
    # A whole number of seconds, so that "an hour later" is exactly an hour in floating point too
    # (from a clock such as 12345.678, +3600 then -3600 may land a hair before it).
    now = [float(int(throttle._clock()))]
    throttle._clock = lambda: now[0]
    return now


def guess_until_refused(attempt, limit: int = 100, refusal: str = "Too many wrong") -> int:
    """Send wrong guesses as fast as they are taken; returns how many were checked."""
    for checked in range(limit):
        answer = attempt()
        if answer.status_code == 429:
            assert refusal in answer.get_data(as_text=True)
            return checked
        assert answer.status_code == 403
    raise AssertionError("never refused")


def test_a_guesser_waits_while_the_poster_always_gets_in(app):
    now = fake_clock(app.extensions["kiosk"].throttle)
    poster = client_at(app, POSTER)
    post_id, code = poster.create()
    attacker = client_at(app, ATTACKER)
    per_minute, per_hour = [], [0, 0]
    for minute in range(120):  # two hours at the highest rate allowed
        checked = guess_until_refused(lambda: attacker.unlock(f"{post_id}-{WRONG_WORDS}"),
                                      refusal="Too many wrong codes. Please wait")
        per_minute.append(checked)
        per_hour[minute // 60] += checked
        # The poster's right code works at once, every time, while the guesser waits.
        assert poster.unlock(code).status_code == 303
        now[0] += 60
    assert max(per_minute) == 5 and per_hour == [20, 20]
    # One client at its limit has not used up everybody's budget: a neighbor's mistake is checked.
    assert client_at(app, "10.0.0.9").unlock(f"{post_id}-{WRONG_WORDS}").status_code == 403


def test_a_guesser_at_a_handle_waits_while_the_coordinator_unlocks(team):  # noqa: F811
    now = fake_clock(team.extensions["kiosk"].coord_throttle)
    attacker = client_at(team, ATTACKER).client
    per_hour = [0, 0]
    for minute in range(90):
        checked = guess_until_refused(lambda: unlock(attacker, passphrase="not the passphrase at all"),
                                      refusal="Too many wrong tries. Please wait")
        assert checked <= 3
        per_hour[minute // 60] += checked
        coordinator = client_at(team, POSTER).client  # a browser that has not unlocked yet
        assert unlock(coordinator).status_code == 303
        assert "Queue" in coordinator.get("/coordinate").get_data(as_text=True)
        if minute == 0:  # the guesser waits even with the right passphrase: it is the client that waits
            assert unlock(attacker).status_code == 429
        now[0] += 60
    assert per_hour == [10, 10]


def test_a_right_code_is_not_counted(app):
    poster = client_at(app, POSTER)
    post_id, code = poster.create()
    for _ in range(30):
        assert poster.unlock(code).status_code == 303
    assert guess_until_refused(lambda: poster.unlock(f"{post_id}-{WRONG_WORDS}")) == 5


def test_a_post_number_that_does_not_exist_is_a_guess_too(app):
    attacker = client_at(app, ATTACKER)
    assert guess_until_refused(lambda: attacker.unlock(f"ZZZZZ-{WRONG_WORDS}")) == 5
    assert guess_until_refused(lambda: attacker.unlock("not a code at all")) == 0


def test_a_flood_from_many_clients_pauses_others_only_within_the_overall_limit(make_app):
    app = make_app(GUESS_PER_MINUTE=2, GUESS_PER_HOUR=2, GUESS_OVERALL_PER_HOUR=6, TOUCHSCREEN=True)
    now = fake_clock(app.extensions["kiosk"].throttle)
    poster = client_at(app, POSTER)
    post_id, code = poster.create()
    flood = [client_at(app, f"10.0.1.{n}") for n in range(1, 6)]
    checked = [guess_until_refused(lambda: c.unlock(f"{post_id}-{WRONG_WORDS}")) for c in flood[:2]]
    assert checked == [2, 2]
    assert poster.unlock(code).status_code == 303  # 4 of 6: nobody else is paused yet
    checked += [guess_until_refused(lambda: c.unlock(f"{post_id}-{WRONG_WORDS}")) for c in flood[2:]]
    assert checked == [2, 2, 2, 0, 0]  # never more than the overall limit, however many clients
    paused = poster.unlock(code)
    assert paused.status_code == 429 and "Please wait 60 minutes" in paused.get_data(as_text=True)
    # The touchscreen is not in the overall count: the person at the screen gets in.
    screen = client_at(app, "127.0.0.1")
    screen_id, screen_code = screen.create()
    assert screen.unlock(screen_code).status_code == 303
    now[0] += 3600
    assert poster.unlock(code).status_code == 303


def test_the_touchscreen_is_its_own_client(make_app):
    app = make_app(GUESS_PER_MINUTE=2, GUESS_PER_HOUR=2, GUESS_OVERALL_PER_HOUR=3, TOUCHSCREEN=True)
    screen = client_at(app, "127.0.0.1")
    post_id, _ = screen.create()
    assert guess_until_refused(lambda: screen.unlock(f"{post_id}-{WRONG_WORDS}")) == 2
    # Its guesses took nothing from everybody's budget.
    phones = [client_at(app, f"10.0.2.{n}") for n in (1, 2)]
    assert [guess_until_refused(lambda: p.unlock(f"{post_id}-{WRONG_WORDS}")) for p in phones] == [2, 1]


def test_mistakes_at_the_touchscreen_keep_the_next_visitor_out_a_minute_at_most(make_app):
    app = make_app(GUESS_PER_MINUTE=2, GUESS_PER_HOUR=4, GUESS_OVERALL_PER_HOUR=10, TOUCHSCREEN=True)
    now = fake_clock(app.extensions["kiosk"].throttle)
    screen = client_at(app, "127.0.0.1")
    post_id, code = screen.create()
    for _ in range(5):  # ten wrong codes in five minutes: past any hourly limit of a phone
        assert guess_until_refused(lambda: screen.unlock(f"{post_id}-{WRONG_WORDS}")) == 2
        now[0] += 61
    assert screen.unlock(code).status_code == 303


def test_nothing_about_a_client_outlives_the_window(team, data_dir):  # noqa: F811
    svc = team.extensions["kiosk"]
    clocks = [fake_clock(svc.throttle), fake_clock(svc.coord_throttle)]
    attacker = client_at(team, ATTACKER)
    guess_until_refused(lambda: attacker.unlock(f"ZZZZZ-{WRONG_WORDS}"))
    guess_until_refused(lambda: unlock(attacker.client, passphrase="not the passphrase at all"))
    for throttle in (svc.throttle, svc.coord_throttle):
        assert throttle.remembered() == 1
        # Held as a digest under a key that lives in memory only, never as the address.
        assert ATTACKER not in repr(vars(throttle)) and ATTACKER.encode() not in repr(vars(throttle)).encode()
    svc.store.close()
    for path in data_dir.rglob("*"):
        assert not path.is_file() or ATTACKER.encode() not in path.read_bytes(), path
    for now in clocks:
        now[0] += 3600
    for throttle in (svc.throttle, svc.coord_throttle):
        assert throttle.remembered() == 0
        assert throttle._clients == {} and not throttle._all


def test_the_arithmetic_holds_and_settings_that_break_it_are_refused(make_app):
    assert guessing_years(300, 20) > 1000  # README: "Guessing"
    with pytest.raises(ConfigError, match="years"):
        make_app(GUESS_OVERALL_PER_HOUR=200_000)
    with pytest.raises(ConfigError, match="GUESS_PER_HOUR"):
        make_app(GUESS_PER_HOUR=300)  # one client could use up everybody's budget
