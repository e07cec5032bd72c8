"""Every field of a backup, fuzzed: a backup with any one value changed (to text with control
characters, huge numbers, other types, dates that do not exist, very long strings) or any field
removed or added is either refused with an ExchangeError, or restores to a kiosk that starts and
whose pages all answer. Nothing in between: no traceback, no half restore."""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kiosk import create_app
from kiosk.board import posts, replies
from kiosk.community import agreements, checkins, roster
from kiosk.core.times import iso, utcnow
from kiosk.events import rules as events
from kiosk.library import rules as library
from kiosk.survey import rules as surveys
from kiosk.web import exchange, gate

from backups import plain_full_export
from conftest import PUBLIC_URL, TEST_SCRYPT_N
from test_data_safety import write_backup


@pytest.fixture(scope="module")
def rich_lines(tmp_path_factory):
    """A backup holding one of every kind of record."""
    root = tmp_path_factory.mktemp("rich")
    app = create_app({"TESTING": True, "DATA_DIR": str(root / "data"), "SCRYPT_N": TEST_SCRYPT_N,
                      "PUBLIC_URL": PUBLIC_URL})
    store = app.extensions["kiosk"].store
    now = utcnow()
    with app.app_context():
        gate.add(store, "Heron", "correct horse battery", by="t", now=now, scrypt_n=TEST_SCRYPT_N)
        post, _ = posts.create_post(store, "request", {"category": "food", "title": "Soup", "when": "today"},
                                    lang="en", source="Elm", scrypt_n=TEST_SCRYPT_N, now=now)
        reply_id, _ = replies.add_reply(store, post["id"], {"message": "I can", "available": "Fridays"}, lang="es",
                                        scrypt_n=TEST_SCRYPT_N, now=now, expire_days=30)
        replies.accept(store, post["id"], reply_id, now)
        replies.add_message(store, post["id"], reply_id, "poster", "Thank you", now)
        replies.report(store, {"kind": "message", "post": post["id"], "reply": reply_id, "message": 1}, "spam", "",
                       now)
        replies.fulfil(store, post["id"], now)
        replies.set_thanks(store, post["id"], "Thanks, neighbor", now)
        ride, _ = posts.create_post(store, "offer", {"category": "transportation", "title": "Ride",
                                                     "ride": {"date": (now + dt.timedelta(days=2)).date().isoformat(),
                                                              "time": "09:30", "from": "Library", "to": "Clinic"}},
                                    lang="ar", source="Elm", scrypt_n=TEST_SCRYPT_N, now=now)
        events.create(store, events.check({"title": "Food share", "kind": "food-share", "place": "Hall",
                                           "date": (now + dt.timedelta(days=3)).date().isoformat(), "time": "18:00",
                                           "duration": "60", "repeat": "weekly"}), now)
        item = library.add_item(store, {"name": "Drill", "notes": "", "kept": "Shelf", "category": "tools",
                                        "condition": "good"}, now)
        library.lend(store, item, (now + dt.timedelta(days=7)).date().isoformat(), now, TEST_SCRYPT_N)
        survey = surveys.save(store, "Needs", [{"text": "What?", "kind": "single", "options": "Food\nRides"},
                                               {"text": "More", "kind": "text", "options": ""}])
        surveys.set_open(store, True)
        surveys.add_answer(store, surveys.get(store), {"q1": 1, "q2": "more rides"}, now)
        checkins.add_checkin(store, {"working": "the soup", "change": ""}, now)
        roster.save_roster(store, {roster.week_key(now.date()): "Heron"}, iso(now)[:16], "Hall", ["Heron"])
        agreements.save(store, {"en": "# How\n- ask\n- offer", "ar": "# كيف"}, "en", {})
    (root / "stick").mkdir()
    made = plain_full_export(store, root / "stick", kiosk_name="Elm", now=now)  # the lines are what is fuzzed
    store.close()
    lines = [json.loads(line) for line in (made / "backup.jsonl").read_text("utf-8").splitlines()]
    kinds = {line["t"] for line in lines}
    assert {"post", "table:reports", "table:thanks", "table:events", "table:library_items", "table:library_loans",
            "table:survey_answers", "table:checkins", "table:coordinators", "setting:roster", "setting:agreements",
            "setting:survey"} <= kinds, kinds
    return lines


VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40),
    st.text(alphabet=st.characters(whitelist_categories=("Cc", "Cf", "Zl", "Zp")), min_size=1, max_size=5),
    st.sampled_from(["", "9" * 5000, "x" * 20_000, "2026-02-30T00:00:00Z", "1970-01-01T00:00:00Z",
                     "2099-12-31T23:59:59Z", "0000-00", "2026-13", "ABCDE", "../x", "\r\n", "W", "-1", "http://x/y",
                     "2026-W53", "2026-12-31T23:59", "last", "scrypt"]),
    st.lists(st.integers(min_value=-3, max_value=10), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


EDGES = ["", "1970-01-01T00:00:00Z", "2099-12-31T23:59:59Z", "2000-02-29T12:00:00Z", "1970-01-01", "2099-12-31",
         "2026-12-31T23:59", "09:00", "23:59", "1970-01", "2099-12", "ZZZZZ", "22222", "en", "ar", "zz", "other",
         "food", "a" * 59, "ا" * 80, "\n" * 3, "none", "weekly", "monthly", "5", "last", "new", "open"]


def _similar(original):
    """A value of the same type as ``original``, often at an edge: what a careless edit makes."""
    if isinstance(original, bool):
        return st.booleans()
    if isinstance(original, int):
        return st.one_of(st.sampled_from([0, 1, -1, 2**53, 2**63, original + 1, original - 1]), st.integers())
    if isinstance(original, str):
        return st.one_of(st.sampled_from(EDGES), st.text(max_size=len(original) + 5),
                         st.integers(min_value=0, max_value=len(original)).map(lambda n: original[:n]))
    if isinstance(original, list):
        return st.one_of(st.just([]), st.just(original + original[:1]), st.just(original[1:]))
    return VALUES


def _mutate(data, lines: list[dict]) -> list[dict]:
    lines = copy.deepcopy(lines)
    where = data.draw(st.integers(min_value=0, max_value=len(lines) - 2), label="line")  # the end line stays
    parent, key = lines, where
    while True:
        value = parent[key]
        keys = list(value) if isinstance(value, dict) else list(range(len(value))) if isinstance(value, list) else []
        if not keys or data.draw(st.integers(min_value=0, max_value=9), label="stop") == 0:
            break
        parent, key = value, data.draw(st.sampled_from(keys), label="key")
    action = data.draw(st.sampled_from(["set", "set", "set", "remove", "add"]), label="action")
    if action == "remove" and isinstance(parent, dict) and key != "t":
        del parent[key]
    elif action == "add" and isinstance(parent[key], dict):
        parent[key][data.draw(st.text(min_size=1, max_size=8), label="field")] = data.draw(VALUES)
    elif data.draw(st.integers(min_value=0, max_value=3), label="kind of value"):
        parent[key] = data.draw(_similar(parent[key]), label="similar value")
    else:
        parent[key] = data.draw(VALUES, label="value")
    return lines


PAGES = ["/", "/board", "/board?status=fulfilled", "/board?status=matched", "/rides", "/thanks", "/stats", "/events",
         "/library", "/survey", "/survey/results", "/how-it-works", "/transparency", "/flyer", "/healthz",
         "/check-in"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_a_fuzzed_backup_is_refused_or_restores_to_a_kiosk_that_works(rich_lines, tmp_path_factory, data):
    root = tmp_path_factory.mktemp("fuzz")
    folder = write_backup(root / "backup", _mutate(data, rich_lines))
    try:
        backup = exchange.read_backup(folder)
    except exchange.ExchangeError as refused:
        event(f"refused: {refused.code} {getattr(refused.detail, 'what', refused.detail)}"[:120])
        return  # refused: nothing was read into any kiosk
    event("accepted")
    exchange.restore(root / "data", backup, now=utcnow(), handle="fuzz")
    app = create_app({"TESTING": True, "DATA_DIR": str(root / "data"), "SCRYPT_N": TEST_SCRYPT_N,
                      "PUBLIC_URL": PUBLIC_URL})
    try:
        client = app.test_client()
        store = app.extensions["kiosk"].store
        ids = [p["id"] for batch in store.post_batches() for p in batch]
        for url in [*PAGES, *(f"/p/{i}" for i in ids), *(f"/p/{i}/qr.svg" for i in ids), "/events/1", "/library/1"]:
            assert client.get(url).status_code < 500, url
    finally:
        app.extensions["kiosk"].store.close()
        shutil.rmtree(root, ignore_errors=True)


def test_the_unchanged_backup_restores_whole(rich_lines, tmp_path):
    folder = write_backup(tmp_path / "backup", rich_lines)
    exchange.restore(tmp_path / "data", exchange.read_backup(folder), now=utcnow(), handle="t")
    assert Path(tmp_path / "data" / "live.json").is_file()
