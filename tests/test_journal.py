"""Writes that follow the change, not the file (the journal), shared fsyncs, readers that never
wait for a writer's disk sync, and the write budgets for anonymous pages."""

from __future__ import annotations

import json
import os
import random
import threading

import pytest

from kiosk.core import codes, livefile
from kiosk.core.journal import JOURNAL_DIR, read_live, segments
from kiosk.core.store import LIVE_FILE, Store, all_post_ids, iter_json_files

from conftest import Visitor, csrf_token
from server import Browser, KioskServer


def _counting_writes(monkeypatch) -> list[int]:
    """Bytes of every os.write the store makes from now on."""
    written: list[int] = []
    real = os.write

    def write(fd, data):
        written.append(len(data))
        return real(fd, data)

    monkeypatch.setattr(os, "write", write)
    return written


def _fill(app, count: int) -> None:
    """``count`` open posts, made by `kiosk seed` (in one write)."""
    from kiosk.cli.seed import seed
    from kiosk.core.times import utcnow

    seed(app.extensions["kiosk"].store, count, 0, utcnow())


def test_a_post_writes_the_same_bytes_with_2000_open_posts_as_with_20(make_app, tmp_path, monkeypatch):
    costs = []
    for count, folder in ((20, "small"), (2000, "large")):
        app = make_app(DATA_DIR=str(tmp_path / folder))
        _fill(app, count)
        visitor = Visitor(app.test_client())
        csrf_token(visitor.client, "/new/request")
        written = _counting_writes(monkeypatch)
        assert visitor.post(title="one more").status_code == 303
        monkeypatch.undo()
        costs.append(sum(written))
    small, large = costs
    assert large < 2 * small, costs  # before the journal: the whole live file, ~1,000 times more


def test_the_journal_is_folded_into_the_live_file_and_survives_a_restart(make_app, data_dir, monkeypatch):
    monkeypatch.setattr(livefile, "COMPACT_AT", 4096)
    app = make_app(WRITE_BUDGET_SCALE=0)
    visitor = Visitor(app.test_client())
    made = [visitor.create(title=f"post {n}", details="x" * 400)[0] for n in range(40)]
    store = app.extensions["kiosk"].store
    store.checkpoint()
    snapshot = json.loads((data_dir / LIVE_FILE).read_bytes())
    assert {p["id"] for p in snapshot["posts"].values()} == set(made)
    assert not segments(data_dir / JOURNAL_DIR)  # everything is in the snapshot now
    more = visitor.create(title="after the snapshot")[0]
    assert segments(data_dir / JOURNAL_DIR)
    store.close()
    reopened = Store(data_dir)
    try:
        assert {p["id"] for p in reopened.live_posts()} == {*made, more}
    finally:
        reopened.close()


@pytest.mark.damages_data
def test_a_cut_off_journal_line_is_dropped_and_a_damaged_one_stops_the_start(make_app, data_dir):
    from kiosk.core.errors import StoreError

    app = make_app()
    visitor = Visitor(app.test_client())
    first = visitor.create(title="kept")[0]
    store = app.extensions["kiosk"].store
    store.checkpoint()
    second = visitor.create(title="acknowledged")[0]
    # The server dies without a clean stop: the journal is all the second post has.
    store._journal.close()
    store._journal = store._lock.journal = None
    store._live = None
    store.close()
    segment = segments(data_dir / JOURNAL_DIR)[-1]
    good = segment.read_bytes()
    segment.write_bytes(good + b'0badc0de {"t": "posts", "set": {"1": ')  # a cut mid-line
    again = Store(data_dir)
    try:
        assert again.get_post(first) and again.get_post(second)
    finally:
        again.close()
    assert not segments(data_dir / JOURNAL_DIR)  # folded in at the clean stop
    # A damaged line with good lines after it is not a cut: the start stops and says which file.
    again = Store(data_dir)
    again.set_meta("a", 1)
    again.set_meta("b", 2)
    again._journal.close()
    again._journal = again._lock.journal = None
    again._live = None
    again.close()
    segment = segments(data_dir / JOURNAL_DIR)[-1]
    lines = segment.read_bytes().split(b"\n")
    lines[0] = lines[0][:-3] + b"xx}"
    segment.write_bytes(b"\n".join(lines))
    with pytest.raises(StoreError, match=r"journal.*damaged|damaged.*journal"):
        Store(data_dir)


def test_writers_arriving_together_share_one_fsync(make_app, monkeypatch):
    app = make_app(WRITE_BUDGET_SCALE=0)
    store = app.extensions["kiosk"].store
    visitor = Visitor(app.test_client())
    made = [visitor.create(title=f"post {n}")[0] for n in range(8)]
    syncs = []
    entered = threading.Event()
    release = threading.Event()
    real_fsync = os.fsync

    def slow_disk(fd):
        syncs.append(fd)
        entered.set()
        release.wait(10)  # the disk is busy until every writer has queued behind this sync
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", slow_disk)
    written_before = store._journal._written
    writers = [threading.Thread(target=store.update_post, args=(made[n], {"title": f"changed {n}"}))
               for n in range(8)]
    writers[0].start()
    assert entered.wait(10)
    for w in writers[1:]:
        w.start()
    while store._journal._written < written_before + 8:
        threading.Event().wait(0.01)  # until all eight wrote their change (polling, no timing)
    release.set()
    for w in writers:
        w.join(10)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert [store.get_post(made[n])["title"] for n in range(8)] == [f"changed {n}" for n in range(8)]
    assert len(syncs) <= 2, len(syncs)  # the first writer's sync, then one for the seven others


def test_readers_answer_while_a_writer_waits_for_the_disk(make_app, monkeypatch):
    app = make_app()
    visitor = Visitor(app.test_client())
    post_id, _ = visitor.create(title="already there")
    entered, release = threading.Event(), threading.Event()
    real_fsync = os.fsync

    def stuck_disk(fd):
        entered.set()
        release.wait(20)
        return real_fsync(fd)

    writer = Visitor(app.test_client())
    token = csrf_token(writer.client, "/new/offer")
    monkeypatch.setattr(os, "fsync", stuck_disk)
    posting = threading.Thread(target=lambda: writer.client.post("/new/offer", data={
        "csrf_token": token, "category": "food", "title": "waiting for the disk"}))
    posting.start()
    try:
        assert entered.wait(10)
        answers = {}

        def read():
            reader = app.test_client()
            reader.set_cookie("lang", "x")  # past the page cache: a real render
            answers["board"] = reader.get("/board").status_code
            answers["post"] = reader.get(f"/p/{post_id}").status_code
            answers["qr"] = reader.get(f"/p/{post_id}/qr.svg").status_code

        reading = threading.Thread(target=read)
        reading.start()
        reading.join(15)
        assert answers == {"board": 200, "post": 200, "qr": 200}, "a reader waited for a writer's fsync"
    finally:
        release.set()
        posting.join(15)


def test_a_failed_journal_write_changes_neither_memory_nor_disk(app, data_dir, monkeypatch):
    visitor = Visitor(app.test_client())
    post_id, _ = visitor.create(title="before the disk filled")
    before = {p.name: p.read_bytes() for p in iter_json_files(data_dir)}

    def full_disk(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", full_disk)
    with pytest.raises(OSError):
        app.extensions["kiosk"].store.update_post(post_id, {"title": "after"})
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in iter_json_files(data_dir)} == before
    assert app.extensions["kiosk"].store.get_post(post_id)["title"] == "before the disk filled"
    assert read_live(data_dir)["posts"][str(codes.post_id_to_int(post_id))]["title"] == "before the disk filled"


# -- SIGKILL while snapshots are written ---------------------------------------------------------


@pytest.mark.slow
def test_twenty_kills_during_snapshots_lose_no_acknowledged_post(tmp_path):
    """A snapshot every few kilobytes of journal (KIOSK_TEST_COMPACT_AT), so kills land while one
    is encoded, written or replacing the file, and while its segments are deleted."""
    from test_durability import post_until_killed

    rnd = random.Random(11)
    data_dir = tmp_path / "data"
    everything: list[str] = []
    lock = threading.Lock()
    snapshots = set()
    for round_no in range(20):
        server = KioskServer(data_dir, KIOSK_TEST_COMPACT_AT="2048", KIOSK_WRITE_BUDGET_SCALE="0").start()
        try:
            browser = Browser(server.port)
            for post_id in everything:
                assert browser.get(f"/p/{post_id}")[0] == 200, (round_no, post_id)
            acknowledged: list[str] = []
            post_until_killed(server, acknowledged, lock, kill_after=rnd.randint(5, 40))
            everything.extend(acknowledged)
        finally:
            server.stop()
        snapshots.add((data_dir / LIVE_FILE).stat().st_mtime_ns)
        assert set(everything) <= all_post_ids(iter_json_files(data_dir))
    assert len(snapshots) >= 10, "snapshots were not being written while the kills came"
    final = Store(data_dir)
    try:
        assert set(everything) <= {p["id"] for p in final.live_posts()}
    finally:
        final.close()


# -- what start-up takes for a power cut, and what it refuses as damage ---------------------------


def _unclean_stop(store) -> None:
    """The server dies: no snapshot at stop, the journal as it is."""
    store._journal.close()
    store._journal = store._lock.journal = None
    store._live = None
    store.close()


def _journaled(make_app, data_dir, titles) -> list[str]:
    app = make_app(WRITE_BUDGET_SCALE=0)
    visitor = Visitor(app.test_client())
    made = [visitor.create(title=title)[0] for title in titles]
    _unclean_stop(app.extensions["kiosk"].store)
    return made


@pytest.mark.damages_data
def test_a_journal_copied_with_windows_line_ends_is_refused_not_emptied(make_app, data_dir):
    from kiosk.core.errors import StoreError

    _journaled(make_app, data_dir, ["one", "two"])
    segment = segments(data_dir / JOURNAL_DIR)[-1]
    crlf = segment.read_bytes().replace(b"\n", b"\r\n")
    segment.write_bytes(crlf)
    with pytest.raises(StoreError, match="journal.*does not read"):
        Store(data_dir)
    assert segment.read_bytes() == crlf  # nothing cut


@pytest.mark.damages_data
def test_a_bad_line_in_an_older_segment_is_damage_even_at_its_end(make_app, data_dir):
    from kiosk.core.errors import StoreError

    _journaled(make_app, data_dir, ["in the first segment"])
    _journaled(make_app, data_dir, ["in the second segment"])  # a start opens a new segment
    older = segments(data_dir / JOURNAL_DIR)[0]
    raw = bytearray(older.read_bytes())
    raw[-5] ^= 1  # one flipped bit in its last line: fsynced when it was closed, so not a cut
    older.write_bytes(bytes(raw))
    with pytest.raises(StoreError, match="does not read.*truncate -s"):
        Store(data_dir)


def test_a_line_cut_off_by_a_power_cut_is_dropped_and_said(make_app, data_dir):
    from kiosk.core.checkup import repairs

    made = _journaled(make_app, data_dir, ["acknowledged"])
    segment = segments(data_dir / JOURNAL_DIR)[-1]
    segment.write_bytes(segment.read_bytes() + b'0badc0de {"t": "posts", "set": {"1": ' + b"\0" * 300)
    store = Store(data_dir)
    try:
        assert store.get_post(made[0])["title"] == "acknowledged"
    finally:
        store.close()
    assert any("unfinished change a power cut left" in line for line in repairs(data_dir))


@pytest.mark.damages_data
def test_a_lost_live_file_beside_its_journal_is_damage_not_a_new_kiosk(make_app, data_dir):
    from kiosk.core.errors import StoreError

    _journaled(make_app, data_dir, ["only in the journal"])
    kept = {p.name: p.read_bytes() for p in segments(data_dir / JOURNAL_DIR)}
    (data_dir / LIVE_FILE).write_bytes(b"")
    with pytest.raises(StoreError, match="empty or missing, while the journal"):
        Store(data_dir)
    assert {p.name: p.read_bytes() for p in segments(data_dir / JOURNAL_DIR)} == kept


def test_a_restore_never_waits_for_a_snapshot_that_waits_for_it(app, data_dir):
    """The restore holds the store's lock; a snapshot thread started by the last write waits
    for that lock: reopening must not wait for the thread."""
    Visitor(app.test_client()).create(title="before the restore")
    store = app.extensions["kiosk"].store
    done = threading.Event()

    def restore_like():
        with store.exclusive():
            store._compactor = threading.Thread(target=store._compact, daemon=True)
            store._compactor.start()  # blocks on the lock this thread holds
            store.reopen()
        done.set()

    worker = threading.Thread(target=restore_like, daemon=True)
    worker.start()
    assert done.wait(20), "the restore and the snapshot thread wait for each other"
    assert store.count_live() == 1


def test_a_reader_beside_the_server_sees_every_acknowledged_post_while_snapshots_come(make_app, data_dir,
                                                                                       monkeypatch):
    monkeypatch.setattr(livefile, "COMPACT_AT", 2048)
    monkeypatch.setattr(livefile, "COMPACT_RATIO", 0)
    app = make_app(WRITE_BUDGET_SCALE=0)
    visitor = Visitor(app.test_client())
    acknowledged: list[str] = []
    stop = threading.Event()

    def post():
        while not stop.is_set() and len(acknowledged) < 150:
            acknowledged.append(visitor.create(title=f"post {len(acknowledged)}", details="d" * 300)[0])

    writer = threading.Thread(target=post)
    writer.start()
    misses = reads = 0
    try:
        while writer.is_alive():
            before = list(acknowledged)
            seen = {row["id"] for row in read_live(data_dir).get("posts", {}).values()}
            misses += len(set(before) - seen)
            reads += 1
    finally:
        stop.set()
        writer.join(60)
    assert reads > 5 and misses == 0, (reads, misses)


def test_a_clean_stop_folds_the_journal_into_the_live_file(tmp_path):
    data_dir = tmp_path / "data"
    server = KioskServer(data_dir).start()
    try:
        browser = Browser(server.port)
        token = browser.token("/new/request")
        status, headers, _ = browser.post("/new/request", {"csrf_token": token, "category": "food", "title": "kept"})
        assert status == 303
        post_id = headers["Location"].rsplit("/", 1)[1]
    finally:
        server.stop()  # SIGTERM, as systemd stops the service
    assert not segments(data_dir / JOURNAL_DIR)
    snapshot = json.loads((data_dir / LIVE_FILE).read_bytes())
    assert post_id in {p["id"] for p in snapshot["posts"].values()}


# -- write budgets -------------------------------------------------------------------------------


def _post_form(client, title="Soup"):
    return {"csrf_token": csrf_token(client, "/new/request"), "category": "food", "title": title}


def test_a_session_past_its_budget_gets_a_clear_page_and_nothing_is_stored(make_app, data_dir):
    app = make_app()
    client = app.test_client()
    client.set_cookie("kiosk_lang_probe", "1")
    for n in range(10):
        assert client.post("/new/request", data=_post_form(client, f"post {n}")).status_code == 303
    stored = {p.name: p.read_bytes() for p in iter_json_files(data_dir)}
    refused = client.post("/new/request", data=_post_form(client, "one too many"),
                          headers={"Accept-Language": "es"})
    assert refused.status_code == 429 and 3000 < int(refused.headers["Retry-After"]) <= 3600
    assert "Inténtalo de nuevo en 60 minutos" in refused.get_data(as_text=True)
    assert {p.name: p.read_bytes() for p in iter_json_files(data_dir)} == stored
    # Nothing about who was refused is kept on disk: no session digest, no address.
    from kiosk.web.budget import session_key

    with app.test_request_context():
        from flask import session

        session["csrf_token"] = "probe"
        digest = session_key()
    everything = b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())
    assert b"127.0.0.1" not in everything and digest.encode() not in everything
    # Another browser still posts.
    other = app.test_client()
    assert other.post("/new/request", data=_post_form(other)).status_code == 303


def test_forms_shown_again_cost_nothing(make_app):
    app = make_app()
    client = app.test_client()
    for _ in range(15):  # an empty title: the form again, 422
        assert client.post("/new/request", data={**_post_form(client), "title": ""}).status_code == 422
    assert client.post("/new/request", data=_post_form(client)).status_code == 303


def test_the_overall_budget_does_not_lock_out_the_touchscreen(make_app):
    app = make_app(WRITE_BUDGET_SCALE=0.1, TOUCHSCREEN=True)  # 1 post a session, 30 for everybody
    phone = {"REMOTE_ADDR": "10.0.0.7"}
    for n in range(30):
        client = app.test_client()
        form = {"csrf_token": csrf_token(client, "/new/request"), "category": "food", "title": f"flood {n}"}
        assert client.post("/new/request", data=form, environ_base=phone).status_code == 303
    late = app.test_client()
    form = {"csrf_token": csrf_token(late, "/new/request"), "category": "food", "title": "a neighbor"}
    assert late.post("/new/request", data=form, environ_base=phone).status_code == 429
    screen = app.test_client()  # the kiosk's own browser, on the machine itself
    assert screen.post("/new/request", data=_post_form(screen, "at the screen")).status_code == 303


@pytest.mark.damages_data
@pytest.mark.parametrize("spoil", ["flip", "zeros-then-line"])
def test_a_whole_last_line_that_does_not_read_is_damage_not_a_cut(make_app, data_dir, spoil):
    from kiosk.core.errors import StoreError

    _journaled(make_app, data_dir, ["first", "second", "third"])
    segment = segments(data_dir / JOURNAL_DIR)[-1]
    lines = segment.read_bytes().split(b"\n")[:-1]
    if spoil == "flip":  # a flipped bit in the last line, which ends as a written line does
        last = bytearray(lines[-1])
        last[20] ^= 1
        lines[-1] = bytes(last)
    else:  # zeroed blocks, then a line that reads: it was written, it may have been acknowledged
        lines[-1] = b"\0" * 64 + lines[-1]
    spoiled = b"\n".join(lines) + b"\n"
    segment.write_bytes(spoiled)
    with pytest.raises(StoreError, match="does not read"):
        Store(data_dir)
    assert segment.read_bytes() == spoiled


@pytest.mark.damages_data
def test_a_live_file_lost_after_a_clean_stop_is_damage_not_a_new_kiosk(make_app, data_dir):
    from kiosk.core.errors import StoreError

    app = make_app()
    Visitor(app.test_client()).create(title="on the board")
    app.extensions["kiosk"].store.close()  # a clean stop: the journal folded in, no segment left
    assert not segments(data_dir / JOURNAL_DIR)
    (data_dir / LIVE_FILE).unlink()
    with pytest.raises(StoreError, match="empty or missing"):
        Store(data_dir)


def test_a_row_read_twice_in_one_change_keeps_both_changes(make_app, data_dir):
    """A change that reads the same post twice (update_multiple, a repeated id) changes one row."""
    from tinydb import where

    app = make_app()
    post_id, _ = Visitor(app.test_client()).create(title="twice")
    store = app.extensions["kiosk"].store
    with store.exclusive():
        assert dict.__getitem__(store._live.storage.read()["posts"], str(codes.post_id_to_int(post_id)))  # as JSON
        store._posts.update_multiple([({"area": "north"}, where("id") == post_id),
                                      ({"details": "both"}, where("id") == post_id)])
    seen = store.get_post(post_id)
    store.close()
    again = Store(data_dir)
    try:
        after = again.get_post(post_id)
    finally:
        again.close()
    assert (seen["area"], seen["details"]) == (after["area"], after["details"]) == ("north", "both")


@pytest.mark.damages_data
def test_zeroed_blocks_then_the_end_of_a_line_are_a_cut_but_a_readable_line_after_zeros_is_not(make_app, data_dir):
    from kiosk.core.errors import StoreError

    made = _journaled(make_app, data_dir, ["acknowledged"])
    segment = segments(data_dir / JOURNAL_DIR)[-1]
    whole = segment.read_bytes()
    segment.write_bytes(whole + b"\0" * 100 + b'"set":{}}\n')  # its start never reached the disk
    store = Store(data_dir)
    try:
        assert store.get_post(made[0])["title"] == "acknowledged"
    finally:
        _unclean_stop(store)
    segment = segments(data_dir / JOURNAL_DIR)[-1]
    lines = segment.read_bytes()
    good_line = lines.rstrip(b"\n").rsplit(b"\n", 1)[-1] + b"\n"
    segment.write_bytes(lines + b"\0" * 64 + good_line)  # a line that reads: it may have been acknowledged
    with pytest.raises(StoreError, match="does not read"):
        Store(data_dir)


def test_a_setting_saved_twice_from_one_dict_reaches_the_disk_both_times(tmp_path):
    """The network's pass keeps one dict per kiosk and saves it after every batch: the second save
    must be journaled too (the stored value once was that very dict, so it looked unchanged)."""
    store = Store(tmp_path / "data")
    try:
        value = {"applied": 1}
        store.set_meta("network_inbox_probe", value)
        value["applied"] = 2
        store.set_meta("network_inbox_probe", value)
        beside = Store(tmp_path / "data", read_only=True)  # what a power cut now would leave
        assert beside.get_meta("network_inbox_probe") == {"applied": 2}
        beside.close()
    finally:
        store.close()
