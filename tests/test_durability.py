"""Promise 4: acknowledged writes survive threads, SIGKILL, and a second server on the folder."""

from __future__ import annotations

import subprocess
import threading

from kiosk.core.journal import read_live
from kiosk.core.store import ARCHIVE_DIR, LIVE_FILE, Store, all_post_ids, iter_json_files

from conftest import Visitor, csrf_token
from server import Browser, KioskServer, free_port, kiosk_env, serve_command


def test_eight_threads_posting_200_each_leave_exactly_1600_posts(make_app, data_dir):
    app = make_app(WRITE_BUDGET_SCALE=0)  # one "session" per thread posts far past its budget
    threads, per_thread = 8, 200
    created: list[list[str]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def worker(n: int) -> None:
        try:
            client = app.test_client()
            token = csrf_token(client, "/new/offer")
            start.wait()
            for i in range(per_thread):
                response = client.post(
                    "/new/offer",
                    data={"csrf_token": token, "category": "food", "title": f"thread {n} post {i}"},
                )
                assert response.status_code == 303, response.status_code
                created[n].append(response.headers["Location"].rsplit("/", 1)[1])
        except BaseException as exc:  # reported below, in the main thread
            errors.append(exc)

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert not errors, errors[0]

    ids = {post_id for batch in created for post_id in batch}
    assert len(ids) == threads * per_thread
    parsed = read_live(data_dir)
    assert len(parsed["posts"]) == 1600
    assert {doc["id"] for doc in parsed["posts"].values()} == ids
    assert app.test_client().get("/healthz").get_json()["live_posts"] == 1600


def post_until_killed(server, acknowledged: list, lock, kill_after: int, threads: int = 4) -> None:
    """Post from several threads; SIGKILL the server once ``kill_after`` posts were answered."""
    enough = threading.Event()
    stop = threading.Event()

    def poster(n: int) -> None:
        browser = Browser(server.port, timeout=10)
        try:
            token = browser.token("/new/request")
            for i in range(10_000):
                if stop.is_set():
                    return
                status, headers, _ = browser.post(
                    "/new/request", {"csrf_token": token, "category": "other", "title": f"p{n}-{i}"}
                )
                if status == 303:
                    with lock:
                        acknowledged.append(headers["Location"].rsplit("/", 1)[1])
                        if len(acknowledged) >= kill_after:
                            enough.set()
        except Exception:
            return  # the server died under us: that is the point

    workers = [threading.Thread(target=poster, args=(n,)) for n in range(threads)]
    for t in workers:
        t.start()
    assert enough.wait(timeout=60), "posting did not get going"
    server.kill()  # SIGKILL, in the middle of writes
    stop.set()
    for t in workers:
        t.join(timeout=30)


def test_twenty_kills_while_posting_lose_no_acknowledged_post(tmp_path):
    """20 rounds: start, post from several threads, SIGKILL at a random moment, restart."""
    import random

    rnd = random.Random(7)
    data_dir = tmp_path / "data"
    everything: list[str] = []
    lock = threading.Lock()
    for round_no in range(20):
        server = KioskServer(data_dir, KIOSK_WRITE_BUDGET_SCALE="0").start()  # on whatever the kill left
        try:
            # Everything answered so far is there, after every kill.
            browser = Browser(server.port)
            for post_id in rnd.sample(everything, min(len(everything), 25)):
                assert browser.get(f"/p/{post_id}")[0] == 200, (round_no, post_id)
            acknowledged: list[str] = []
            post_until_killed(server, acknowledged, lock, kill_after=len(everything) % 3 + rnd.randint(1, 12))
            everything.extend(acknowledged)
        finally:
            server.stop()
        # Every file parses, and holds every acknowledged post.
        assert set(everything) <= all_post_ids(iter_json_files(data_dir))
    assert len(everything) >= 20


def test_second_server_on_the_same_folder_refuses_to_start(tmp_path):
    data_dir = tmp_path / "data"
    first = KioskServer(data_dir).start()
    try:
        second = subprocess.run(
            serve_command(data_dir, free_port()), env=kiosk_env(), capture_output=True, text=True, timeout=60
        )
        assert second.returncode != 0
        assert str(data_dir.resolve()) in second.stderr
        assert "already using" in second.stderr
        # The first one is unharmed.
        assert Browser(first.port).get("/healthz")[0] == 200
    finally:
        first.stop()


def test_interrupted_archive_move_is_repaired_at_start(make_app, data_dir):
    """A power cut between writing the archive and removing the live copy leaves a post in
    both files; the archived (closed) version wins on the next start."""
    app = make_app()
    visitor = Visitor(app.test_client())
    post_id, code = visitor.create(title="moving")
    store = app.extensions["kiosk"].store
    store.checkpoint()
    live_before = (data_dir / LIVE_FILE).read_bytes()
    visitor.unlock(code)
    visitor.submit("/mine/fulfil")
    store.close()
    (data_dir / LIVE_FILE).write_bytes(live_before)  # as if the last write never happened
    for segment in (data_dir / "journal").glob("*.log"):
        segment.unlink()

    store = Store(data_dir)
    try:
        assert store.count_live() == 0
        assert store.get_post(post_id)["status"] == "fulfilled"
    finally:
        store.close()


def test_leftover_temp_files_are_swept_and_data_survives(make_app, data_dir):
    app = make_app()
    post_id, _ = Visitor(app.test_client()).create()
    app.extensions["kiosk"].store.close()
    stray = data_dir / f".{LIVE_FILE}.tmp-123-456"
    stray.write_text('{"posts": {"1": {"id": "half')
    store = Store(data_dir)
    try:
        assert not stray.exists()
        assert store.get_post(post_id) is not None
    finally:
        store.close()


def test_damaged_data_file_stops_with_a_clear_message(data_dir):
    import pytest

    from kiosk.core.errors import StoreError

    data_dir.mkdir(parents=True)
    (data_dir / LIVE_FILE).write_text('{"posts": {')
    with pytest.raises(StoreError, match="is damaged"):
        Store(data_dir)
    assert (data_dir / LIVE_FILE).read_text() == '{"posts": {'  # untouched
    # The failed start released the folder lock: once the file is moved aside, it opens.
    (data_dir / LIVE_FILE).rename(data_dir / "live.json.damaged")
    Store(data_dir).close()


def test_failed_write_leaves_memory_and_file_as_they_were(app, data_dir, monkeypatch):
    """A full disk: the post is refused and the kiosk keeps serving what is on disk."""
    import os

    import pytest

    visitor = Visitor(app.test_client())
    post_id, _ = visitor.create(title="before the disk filled")
    before = {p.name: p.read_bytes() for p in iter_json_files(data_dir)}
    real_write = os.write

    def full_disk(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", full_disk)
    with pytest.raises(OSError):
        app.extensions["kiosk"].store.update_post(post_id, {"title": "after"})
    monkeypatch.setattr(os, "write", real_write)
    assert {p.name: p.read_bytes() for p in iter_json_files(data_dir)} == before  # the journal too
    assert app.extensions["kiosk"].store.get_post(post_id)["title"] == "before the disk filled"
    assert not list(data_dir.glob(".*.tmp-*"))


def _disk_calls(monkeypatch, data_dir) -> list[str]:
    """The order of the store's writes, fsyncs and renames in the data folder."""
    import os

    calls = []
    real_write, real_fsync, real_replace = os.write, os.fsync, os.replace

    def where(fd) -> str:
        return os.readlink(f"/proc/self/fd/{fd}")

    monkeypatch.setattr(os, "write", lambda fd, data: (calls.append(f"write {where(fd)}"), real_write(fd, data))[1])
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(f"fsync {where(fd)}"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append(f"replace {b}"), real_replace(a, b))[1])
    return calls


def test_a_post_is_fsynced_in_the_journal_before_it_is_acknowledged(app, data_dir, monkeypatch):
    """A SIGKILL cannot show a missing fsync (the kernel keeps the data); a power cut would.
    So check the order the store asks for: the change written to the journal, then the journal
    fsynced, then the answer."""
    visitor = Visitor(app.test_client())
    token = csrf_token(visitor.client, "/new/request")
    calls = _disk_calls(monkeypatch, data_dir)
    response = visitor.client.post("/new/request", data={"csrf_token": token, "category": "food", "title": "synced"})
    assert response.status_code == 303
    journal = [c for c in calls if "/journal/" in c]
    assert journal and journal[0].startswith("write") and journal[-1].startswith("fsync"), calls


def test_every_snapshot_is_fsynced_before_it_replaces_the_file(app, data_dir, monkeypatch):
    Visitor(app.test_client()).create()
    calls = _disk_calls(monkeypatch, data_dir)
    app.extensions["kiosk"].store.checkpoint()  # the journal folded into live.json
    replaced = [i for i, call in enumerate(calls) if call.startswith("replace") and call.endswith(LIVE_FILE)]
    assert replaced, calls
    for i in replaced:
        assert calls[i - 1].startswith("fsync") and calls[i + 1].startswith("fsync"), calls
