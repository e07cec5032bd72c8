"""Issue 16, promise 8: a lost Pi reveals no private text.

A "thief" gets the whole data folder (secret key included) after a realistic day of use and
searches every file for the private sentences, in plain and in simple encodings; the people
who may read them still do, after unlocking."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

from kiosk.core.journal import read_live
from kiosk.core.times import utcnow

from backups import backup_bytes, full_export
from conftest import Visitor, add_coordinator, unlock_coordinator
from test_replies import reply_to

# What neighbours wrote for one another or for the coordinators only, each unique in the day.
REPLY = "I can bring the crib on Friday, ring at 14 Birch Lane — Añita"
AVAILABLE = "after 6pm, côté jardin"
POSTER_SAYS = "Perfect, my door code is 4471, third floor"
HELPER_SAYS = "See you then; I drive a blue Škoda"
CLOSED_THREAD = "Thanks for the soup, the kids loved it ❤"
WORKING = "The Friday soup brings the street together"
CHANGE = "Please stop asking Mrs. Okafor about her son"
SURVEY_TEXT = "We need a ramp at the side door for my wheelchair"
REPORT_NOTE = "He asked for my address twice"
PRIVATE = (REPLY, AVAILABLE, POSTER_SAYS, HELPER_SAYS, CLOSED_THREAD, WORKING, CHANGE, SURVEY_TEXT, REPORT_NOTE)

SURVEY = {"title": "What do we need?", "q1_text": "Which help matters most?", "q1_kind": "single",
          "q1_options": "Food\nRides", "q2_text": "Anything else?", "q2_kind": "text", "q2_options": ""}


def encodings(sentence: str) -> list[bytes]:
    """The sentence as a thief's search would try it: plain, JSON-escaped, base64 at each of the
    three alignments (standard and URL-safe alphabets), UTF-16."""
    raw = sentence.encode("utf-8")
    found = [raw, json.dumps(sentence)[1:-1].encode("ascii"), sentence.encode("utf-16-le"),
             sentence.encode("utf-16-be")]
    for skip in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            # Bytes before the sentence shift its base64; the middle is the same whatever they are.
            encoded = encode(b"\0" * skip + raw)[4:-4]
            found.append(encoded)
    return found


def leaks(folder, sentences=PRIVATE) -> list[tuple[str, str]]:
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [(str(path.relative_to(folder)), s) for s in sentences
                  if any(form in data for form in encodings(s))]
    return found


def a_day(app) -> dict:
    """Posts, replies, a thread, a closed post's thread, a check-in, a survey, a report."""
    add_coordinator(app)
    coordinator = Visitor(app.test_client())
    assert unlock_coordinator(coordinator.client).status_code == 303
    assert coordinator.submit("/survey/edit", **SURVEY).status_code == 303
    assert coordinator.submit("/survey/edit", action="open").status_code == 303

    poster, helper = Visitor(app.test_client()), Visitor(app.test_client())
    post_id, poster_code = poster.create(title="A crib for a newborn")
    reply_id, helper_code = reply_to(helper, post_id, REPLY, available=AVAILABLE, contact_ok="yes")
    poster.unlock(poster_code)
    assert poster.submit(f"/mine/replies/{reply_id}/accept").status_code == 303
    assert poster.submit("/mine/thread", message=POSTER_SAYS, contact_ok="yes").status_code == 303
    helper.unlock(helper_code)
    assert helper.submit("/mine/thread", message=HELPER_SAYS, contact_ok="yes").status_code == 303
    assert helper.submit(f"/mine/report/{reply_id}/1", reason="personal", note=REPORT_NOTE, contact_ok="yes").status_code == 303

    # A second post is fulfilled: its thread moves into the archive.
    other, other_helper = Visitor(app.test_client()), Visitor(app.test_client())
    soup_id, soup_code = other.create(kind="offer", title="Soup on Sunday")
    soup_reply, soup_helper_code = reply_to(other_helper, soup_id, "I would love some")
    other.unlock(soup_code)
    assert other.submit(f"/mine/replies/{soup_reply}/accept").status_code == 303
    assert other.submit("/mine/thread", message=CLOSED_THREAD, contact_ok="yes").status_code == 303
    assert other.submit("/mine/fulfil").status_code == 303

    neighbour = Visitor(app.test_client())
    assert neighbour.submit("/check-in", working=WORKING, change=CHANGE, contact_ok="yes").status_code == 303
    assert Visitor(app.test_client()).submit("/survey", q1="0", q2=SURVEY_TEXT, contact_ok="yes").status_code == 303
    return {"poster": poster_code, "helper": helper_code, "soup": soup_code, "soup_helper": soup_helper_code}


def read_as(app, code: str, page: str) -> str:
    person = Visitor(app.test_client())
    assert person.unlock(code).status_code == 303
    return person.client.get(page).get_data(as_text=True)


def test_a_thief_with_the_data_folder_and_a_full_backup_reads_no_private_text(make_app, data_dir, tmp_path):
    data = data_dir
    app = make_app(WRITE_BUDGET_SCALE=0)
    codes = a_day(app)
    # While it runs (the journal holds the day's changes) and after a clean stop.
    assert leaks(data) == []
    stick = tmp_path / "stick"
    stick.mkdir()
    backup = full_export(app.extensions["kiosk"].store, stick, kiosk_name="Elm", now=utcnow())
    assert leaks(stick) == []
    # Inside the encryption the words are sealed as on the Pi: the passphrase alone opens none.
    inside = backup_bytes(backup)
    assert all(not any(form in inside for form in encodings(s)) for s in PRIVATE)
    assert all(s not in json.dumps(read_live(data), ensure_ascii=False) for s in PRIVATE)
    app.extensions["kiosk"].store.close()

    assert leaks(data) == []
    assert (data / "secret_key").is_file()  # the thief has it too: it opens nothing sealed

    again = make_app()  # the next day: everyone still reads what is theirs
    poster_view = read_as(again, codes["poster"], "/mine")
    assert REPLY in poster_view and AVAILABLE in poster_view
    thread = read_as(again, codes["poster"], "/mine/thread")
    assert POSTER_SAYS in thread and HELPER_SAYS in thread
    thread = read_as(again, codes["helper"], "/mine/thread")
    assert POSTER_SAYS in thread and HELPER_SAYS in thread
    assert CLOSED_THREAD in read_as(again, codes["soup_helper"], "/mine/thread")
    # Someone else's ticket opens nothing of this thread.
    assert POSTER_SAYS not in read_as(again, codes["soup"], "/mine/thread")

    coordinator = again.test_client()
    assert coordinator.get("/coordinate/check-ins").status_code == 303  # locked: nothing to read
    assert unlock_coordinator(coordinator).status_code == 303
    notes = coordinator.get("/coordinate/check-ins").get_data(as_text=True)
    assert WORKING in notes and CHANGE in notes
    assert SURVEY_TEXT in coordinator.get("/survey/results").get_data(as_text=True)
    queue = coordinator.get("/coordinate").get_data(as_text=True)
    assert REPORT_NOTE in queue and POSTER_SAYS in queue


def test_the_thiefs_search_would_find_plain_text():
    """The search itself works: each encoding of a sentence is found inside other bytes."""
    for sentence in PRIVATE:
        for form in encodings(sentence):
            assert form
        for skip in range(3):
            blob = base64.b64encode(b"x" * skip + b'{"text": "' + sentence.encode() + b'"}')
            assert any(form in blob for form in encodings(sentence))


FIXTURE = Path(__file__).parent / "fixtures"


def test_the_first_start_seals_what_the_previous_version_left_in_plain(make_app, data_dir):
    """tests/fixtures/plain-v0.1 was written by the version before sealing (make_plain_data.py):
    replies, threads, a closed post's thread in the archive, a check-in, a survey answer and a
    report note in plain, a temp file a cut write left and a copy kept before a restore."""
    shutil.rmtree(data_dir, ignore_errors=True)
    shutil.copytree(FIXTURE / "plain-v0.1", data_dir)
    sentences = json.loads((FIXTURE / "plain_sentences.json").read_text("utf-8"))
    codes = json.loads((data_dir / "codes.json").read_text())
    (data_dir / "codes.json").unlink()
    assert {s for _, s in leaks(data_dir, sentences.values())} == set(sentences.values())

    app = make_app()
    sealed = app.extensions["kiosk"].sealed_at_start
    # reply + its available (one text), 2 + 1 thread messages, check-in, survey answer, report note
    assert (sealed.texts, sealed.coordinators, sealed.copies) == (8, 1, 1)
    assert "Sealed 8 private text(s)" in sealed.line()
    assert leaks(data_dir, sentences.values()) == []

    poster_view = read_as(app, codes["poster"], "/mine")
    assert sentences["reply"] in poster_view and sentences["available"] in poster_view
    for code in (codes["poster"], codes["helper"]):
        thread = read_as(app, code, "/mine/thread")
        assert sentences["poster_says"] in thread and sentences["helper_says"] in thread
    assert sentences["closed_thread"] in read_as(app, codes["soup_helper"], "/mine/thread")
    coordinator = app.test_client()
    assert unlock_coordinator(coordinator).status_code == 303
    notes = coordinator.get("/coordinate/check-ins").get_data(as_text=True)
    assert sentences["working"] in notes and sentences["change"] in notes
    assert sentences["survey_text"] in coordinator.get("/survey/results").get_data(as_text=True)
    queue = coordinator.get("/coordinate").get_data(as_text=True)
    # The open report still shows the reported message: it now carries the words, sealed.
    assert sentences["report_note"] in queue and sentences["poster_says"] in queue
    app.extensions["kiosk"].store.close()

    assert leaks(data_dir, sentences.values()) == []
    assert make_app().extensions["kiosk"].sealed_at_start is None  # once only


def test_an_unlocked_key_is_forgotten_when_idle_even_if_nobody_comes_back():
    """The key in memory goes by a timer once idle, not at the next visit (a quiet night)."""
    from kiosk.web.handoff import Unlocks

    now = [1000.0]
    unlocks = Unlocks(clock=lambda: now[0])
    unlocks.unlock("k", ("POST1", None, "a private key"))  # no timer here: driven by hand below
    now[0] += 200
    unlocks._forget_if_idle("k", 300)  # what the timer runs: used 200 s ago, kept
    assert unlocks.use("k", 300) is not None
    now[0] += 301
    unlocks._forget_if_idle("k", 300)
    assert "k" not in unlocks._seen


def test_no_coordinator_can_put_another_key_in_the_teams_place(app):
    """A key from other data (a session that outlived a restore) never replaces the team's: the
    others' passphrases would no longer open what is sealed after it."""
    import pytest

    from kiosk.core import keys
    from kiosk.core.errors import Refused
    from kiosk.web import gate

    add_coordinator(app)
    store = app.extensions["kiosk"].store
    team = gate.team_public(store)
    with pytest.raises(Refused):
        gate.add(store, "Wren", "another long passphrase", by="Heron", now=utcnow(), scrypt_n=1024,
                 team=keys.new_team_key())
    assert gate.team_public(store) == team and gate.handles(store) == ["Heron"]


def test_the_team_keeps_someone_who_opens_its_key(app):
    """The last coordinator whose passphrase opens the team's key cannot be removed; a team whose
    key nobody opens any more (old data mixed in) gets a new one for the notes from now on."""
    import pytest

    from kiosk.core import codes
    from kiosk.core.errors import Refused
    from kiosk.web import gate

    add_coordinator(app)
    store = app.extensions["kiosk"].store
    # "Old" came with a backup from before sealing: a check, and no wrapped key.
    gate.add(store, "Wren", "another long passphrase", by="Heron", now=utcnow(), scrypt_n=1024,
             team=gate.verify(store, "Heron", "correct horse battery staple", 1024).team)
    store.add_record(gate.TABLE, {"handle": "Old", "hash": codes.hash_secret("an old long passphrase", n=1024),
                                  "added": "2026-01-01T00:00:00Z", "added_by": "t"})
    gate.upgrade(store)
    old = gate.verify(store, "Old", "an old long passphrase", 1024)
    assert old is not None and old.team is None
    with pytest.raises(Refused, match="passphrase does not open the team's key"):
        gate.add(store, "Kite", "a third long passphrase", by="Old", now=utcnow(), scrypt_n=1024, team=old.team)
    gate.remove(store, "Wren")
    with pytest.raises(Refused, match="last coordinator whose passphrase opens"):
        gate.remove(store, "Heron")
    assert gate.handles(store) == ["Heron", "Old"]


def test_a_migration_cut_short_runs_again_at_the_next_start(make_app, data_dir, monkeypatch):
    """A start that fails in the middle of sealing (a power cut, a full disk) unlocks the data
    folder and leaves the work unmarked: the next start finishes it, and nothing stays plain."""
    import pytest

    from kiosk.web import sealing

    shutil.rmtree(data_dir, ignore_errors=True)
    shutil.copytree(FIXTURE / "plain-v0.1", data_dir)
    sentences = json.loads((FIXTURE / "plain_sentences.json").read_text("utf-8"))
    codes = json.loads((data_dir / "codes.json").read_text())
    (data_dir / "codes.json").unlink()
    real = sealing._delete_plain_copies

    def cut(store):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sealing, "_delete_plain_copies", cut)  # after the texts, before the copies
    with pytest.raises(OSError):
        make_app()
    monkeypatch.setattr(sealing, "_delete_plain_copies", real)
    app = make_app()  # the folder was unlocked, and the mark was never written
    assert app.extensions["kiosk"].sealed_at_start is not None
    assert leaks(data_dir, sentences.values()) == []
    thread = read_as(app, codes["helper"], "/mine/thread")
    assert sentences["poster_says"] in thread and sentences["helper_says"] in thread
