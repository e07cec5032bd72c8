"""Issue 14: data that survives volunteers. Restores that cannot destroy, merges that cannot
collide, files that cannot silently shrink, and input that gets a message, not a traceback.
Every refusal is checked against the data folder byte for byte."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.cli import main as kiosk_main
from kiosk.core import codes, staging
from kiosk.core.journal import read_live
from kiosk.core.store import Store
from kiosk.core.times import utcnow
from kiosk.web import exchange
from kiosk.web.feature import default_registry

from conftest import Visitor, claim_code, opened
from server import kiosk_command, kiosk_env
from backups import BACKUP_PASSPHRASE, plain_full_export
from test_exchange import busy_app, stick, write_backup  # noqa: F401  (fixtures)
from test_replies import reply_to


def folder_bytes(folder) -> dict[str, str]:
    """Every file of a data folder (the lock file aside) and its SHA-256; the live file as the
    kiosk reads it (with its journal: folding the journal into it changes no data)."""
    folder = Path(folder)
    found = {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(folder.rglob("*"))
             if p.is_file() and p.name != "kiosk.lock" and p.parent.name != "journal"}
    try:
        live = read_live(folder)
    except ValueError:  # a damaged file: its bytes, and every segment as it is
        return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "kiosk.lock"}
    if "live.json" in found:
        found["live.json"] = hashlib.sha256(json.dumps(live, sort_keys=True).encode()).hexdigest()
    return found


def lines_of(folder) -> list[dict]:
    return [json.loads(line) for line in (Path(folder) / "backup.jsonl").read_text("utf-8").splitlines()]


def with_end(lines: list[dict]) -> list[dict]:
    """The lines with their end line counting them again (as someone editing a backup would)."""
    body = [line for line in lines if line["t"] != "end"]
    return [*body, {"t": "end", "lines": len(body) + 1}]


def first_post(lines):
    return next(line for line in lines if line["t"] == "post")["post"]


def setting(lines, key):
    return next(line for line in lines if line["t"] == f"setting:{key}")


@pytest.fixture
def target(tmp_path, make_app):
    """Another kiosk's data folder, with a post and a closed one, that refusals must not touch."""
    app = make_app(DATA_DIR=str(tmp_path / "target"), NAME="Target")
    visitor = Visitor(app.test_client())
    visitor.create(title="Already here")
    _, code = visitor.create(title="Closed here")
    visitor.unlock(code)
    visitor.submit("/mine/fulfil")
    app.extensions["kiosk"].store.close()
    return tmp_path / "target"


@pytest.fixture
def good_lines(busy_app, stick):
    made = plain_full_export(busy_app.extensions["kiosk"].store, stick, kiosk_name="Elm")
    return lines_of(made)


def _garbage(table, row, number=1):
    return lambda lines: lines.insert(-1, {"t": f"table:{table}", "id": number, "row": row})


def _post_field(**changes):
    return lambda lines: first_post(lines).update(changes)


def _duplicate_reply_id(lines):
    post = first_post(lines)
    other = next(line["post"] for line in lines if line["t"] == "post" and line["post"] is not post)
    post.setdefault("replies", []).append({**copy.deepcopy(other.get("replies", [{}])[0] or {}), "id": other["id"]}
                                          if other.get("replies") else
                                          {"id": other["id"], "created": post["created"], "message": "x",
                                           "pseudonym": "Quiet Heron", "status": "new"})


BAD_LINES = {
    "impossible date": _post_field(created="2026-99-99T99:99:99Z"),
    "30 February": _post_field(updated="2026-02-30T10:00:00Z"),
    "date with a time zone": _post_field(created="2026-01-05T10:00:00+01:00"),
    "expiry not a number": lambda lines: setting(lines, "settings")["value"].update(EXPIRE_DAYS="abc"),
    "no languages": lambda lines: setting(lines, "settings")["value"].update(LANGUAGES=[]),
    "public URL with a path": lambda lines: setting(lines, "settings")["value"].update(PUBLIC_URL="http://x/y"),
    "clock not a time": lambda lines: lines.insert(-1, {"t": "setting:clock", "value": {}}),
    "huge scrypt cost": lambda lines: first_post(lines)["claim"].update(n=2**20),
    "claim not a hash": _post_field(claim="x"),
    "title too long": _post_field(title="x" * 81),
    "unknown status": _post_field(status="lost"),
    "unknown field": _post_field(secret_door=1),
    "a number used twice": _duplicate_reply_id,
    "accepted reply missing": _post_field(matched_reply="ZZZZZ"),
    "garbage gathering": _garbage("events", {"title": 5, "start": "tomorrow"}),
    "garbage library item": _garbage("library_items", {"name": ["drill"]}),
    "loan of no item": _garbage("library_loans", {"id": "ABCDE", "item": 99, "lent": "2026-01-01T00:00:00Z",
                                                  "due": "2026-01-15"}),
    "garbage survey answer": _garbage("survey_answers", {"month": "soon", "answers": {"q1": {"x": 1}}}),
    "report of no post": _garbage("reports", {"kind": "post", "post": "ZZZZZ", "reason": "spam",
                                              "created": "2026-01-01T00:00:00Z", "status": "open"}),
    "garbage thanks": _garbage("thanks", {"post": 7}),
    "garbage check-in": _garbage("checkins", {"month": 2026}),
    "garbage coordinator": _garbage("coordinators", {"handle": "Otter", "hash": "x", "added": "now", "added_by": "me"}, 2),
    "garbage roster": lambda lines: lines.insert(-1, {"t": "setting:roster", "value": {"weeks": {"2026-W99": "Heron"}}}),
    "agreements not text": lambda lines: lines.insert(-1, {"t": "setting:agreements", "value": 5}),
    "agreements too long": lambda lines: lines.insert(-1, {"t": "setting:agreements", "value": "x" * 10_001}),
    "agreements in a language no kiosk offers": lambda lines: lines.insert(-1, {"t": "setting:agreements",
                                                                                "value": {"en": "ok", "xx": "x"}}),
    "agreements in one language too long": lambda lines: lines.insert(-1, {"t": "setting:agreements",
                                                                           "value": {"es": "x" * 10_001}}),
    "category name in one language too long": lambda lines: setting(lines, "settings")["value"].update(
        categories={"pets": {"labels": {"ar": "x" * 41}}}),
    "survey question without options": lambda lines: lines.insert(-1, {"t": "setting:survey", "value": {
        "title": "Needs", "key": "k", "questions": [{"text": "What?", "kind": "single"}]}}),
    "an unknown kind of line": lambda lines: lines.insert(-1, {"t": "table:secrets", "id": 1, "row": {}}),
    "a setting twice": lambda lines: lines.insert(-1, setting(lines, "settings")),
    "kiosk name too long": lambda lines: lines[0].update(name="x" * 61),
    "header not first": lambda lines: lines.insert(1, lines.pop(0)),
    "cut short": lambda lines: lines.pop(),
}


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_a_bad_backup_is_refused_with_its_line_and_field_and_changes_nothing(good_lines, tmp_path, target, runner,
                                                                                  case):
    lines = copy.deepcopy(good_lines)
    BAD_LINES[case](lines)
    folder = write_backup(tmp_path / "bad", lines if case in ("cut short",) else with_end(lines))
    before = folder_bytes(target)
    for mode in ("--replace", "--merge"):
        result = runner.invoke(kiosk_main, ["import", "--from", str(folder), mode, "--yes", "--data", str(target)],
                               catch_exceptions=False)
        assert result.exit_code == 1, result.output
        assert "kiosk: this backup holds data the kiosk cannot use" in result.output
        assert "line " in result.output  # which record
        assert "Traceback" not in result.output
    assert folder_bytes(target) == before


def test_a_refusal_names_the_record_and_the_field(good_lines, tmp_path, runner, target):
    lines = copy.deepcopy(good_lines)
    post = first_post(lines)
    post["created"] = "2026-99-99T99:99:99Z"
    folder = write_backup(tmp_path / "bad", with_end(lines))
    result = runner.invoke(kiosk_main, ["import", "--from", str(folder), "--merge", "--yes", "--data", str(target)])
    assert f"(post {post['id']}), field created: is not in the expected form" in result.output


def test_the_screen_names_the_problem_in_the_coordinators_language(busy_app, stick, tmp_path):
    from test_coordinate import act, unlock

    lines = lines_of(plain_full_export(busy_app.extensions["kiosk"].store, stick, kiosk_name="Elm"))
    first_post(lines)["title"] = "x" * 200
    write_backup(stick / "Broken-2026-01-01_000000", with_end(lines))
    busy_app.config["USB_ROOTS"] = str(stick.parent)
    client = busy_app.test_client()
    unlock(client)
    from test_screen import choose

    choose(client, "es", "/coordinate/import", page="/coordinate")
    before = folder_bytes(busy_app.config["DATA_DIR"])
    response = act(Visitor(client), "/coordinate/import", folder=str(stick / "Broken-2026-01-01_000000"), mode="replace")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "title" in page and "80" in page and "No se cambió nada" in page
    assert folder_bytes(busy_app.config["DATA_DIR"]) == before


# -- backups from before kiosk identities (schema 1) -----------------------------------------------------


def old_backup(folder: Path, document: dict) -> Path:
    folder.mkdir(parents=True)
    data = json.dumps(document).encode()
    (folder / "backup.json").write_bytes(data)
    (folder / "manifest.json").write_text(json.dumps({"schema": 1, "kind": "mutual-aid-kiosk-export", "full": True,
                                                      "files": {"backup.json": hashlib.sha256(data).hexdigest()}}))
    return folder


def old_document(good_lines) -> dict:
    posts = [line["post"] for line in good_lines if line["t"] == "post"]
    for post in posts:
        for key in ("home", "home_id", "aka"):
            post.pop(key, None)
            for reply in post.get("replies") or ():
                reply.pop(key, None)
    closed = [p for p in posts if p["status"] not in ("open", "matched")]
    return {"schema": 1, "kind": "mutual-aid-kiosk-backup", "kiosk": "Elm", "created": "2026-11-20T10:00:00Z",
            "live": [p for p in posts if p not in closed], "archive": {p["closed"][:7]: [p] for p in closed},
            "records": {}, "meta": {}, "audit": {}}


@pytest.mark.parametrize("case", ["month 0000-00", "month 2026-13", "audit entries not objects", "impossible date"])
def test_an_old_backup_is_checked_by_the_same_rules(good_lines, tmp_path, target, runner, case):
    document = old_document(copy.deepcopy(good_lines))
    if case.startswith("month"):
        month = case.split()[1]
        document["archive"][month] = [{**document["live"][0], "id": "MMMMM", "status": "fulfilled",
                                       "closed": f"{month}-01T00:00:00Z"}]
    elif case == "audit entries not objects":
        document["audit"] = {"2026-11": ["unlock", 5]}
    else:
        document["live"][0]["created"] = "2026-99-99T99:99:99Z"
    folder = old_backup(tmp_path / "old", document)
    before = folder_bytes(target)
    result = runner.invoke(kiosk_main, ["import", "--from", str(folder), "--replace", "--yes", "--data", str(target)],
                           catch_exceptions=False)
    assert result.exit_code == 1 and "cannot use" in result.output, result.output
    assert folder_bytes(target) == before
    assert "archived_posts" not in result.output


def test_an_old_backup_still_restores_and_merges(good_lines, tmp_path, runner, target):
    folder = old_backup(tmp_path / "old", old_document(copy.deepcopy(good_lines)))
    result = runner.invoke(kiosk_main, ["import", "--from", str(folder), "--merge", "--yes", "--data", str(target)],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    again = runner.invoke(kiosk_main, ["import", "--from", str(folder), "--merge", "--yes", "--data", str(target)])
    assert "Merged: 0 added (0 under new numbers), 0 updated." in again.output
    result = runner.invoke(kiosk_main, ["import", "--from", str(folder), "--replace", "--yes", "--data", str(target)])
    assert result.exit_code == 0, result.output
    store = Store(target, schema=default_registry().schema)
    try:
        assert store.count_live() + store.count_archived() == sum(1 for line in good_lines if line["t"] == "post")
    finally:
        store.close()


# -- size ----------------------------------------------------------------------------------------------


# The kiosk command, reporting its own peak memory when it ends. Read inside the process (VmHWM
# starts afresh at exec), not from wait4: a child forked from a large pytest would carry the
# parent's size in its peak.
PEAK = ("import atexit, sys\n"
        "def peak():\n"
        "    hwm = next(line for line in open('/proc/self/status') if line.startswith('VmHWM'))\n"
        "    print('peak-kb', hwm.split()[1], file=sys.stderr)\n"
        "atexit.register(peak)\n"
        "from kiosk.cli import main\n"
        "main(sys.argv[1:])\n")


def _peak_rss_mb(args: list[str]) -> tuple[int, str, float]:
    """Run the kiosk command; its exit status, its output, and its peak memory (MB)."""
    done = subprocess.run([sys.executable, "-c", PEAK, *args], capture_output=True, text=True, env=kiosk_env())
    peak_kb = int(done.stderr.rsplit("peak-kb", 1)[1].split()[0])
    return done.returncode, done.stdout + done.stderr, peak_kb / 1024


def test_a_200_mb_backup_is_refused_in_bounded_memory(good_lines, tmp_path, target):
    lines = copy.deepcopy(good_lines)
    folder = tmp_path / "huge"
    folder.mkdir()
    digest = hashlib.sha256()
    with open(folder / "backup.jsonl", "wb") as out:
        head = json.dumps({**lines[0], "name": ""}).encode()
        cut = head.index(b'"name": "') + len(b'"name": "')
        chunk = b"x" * (1024 * 1024)
        for piece in (head[:cut], *(chunk for _ in range(200)), head[cut:] + b"\n"):
            out.write(piece)
            digest.update(piece)
    (folder / "manifest.json").write_text(json.dumps({"schema": 2, "kind": "mutual-aid-kiosk-export",
                                                      "files": {"backup.jsonl": digest.hexdigest()}}))
    before = folder_bytes(target)
    status, output, peak = _peak_rss_mb(["import", "--from", str(folder), "--merge", "--yes", "--data", str(target)])
    assert status == 1 and "line 1" in output and "longer than 16 MiB" in output, output
    assert peak < 100, f"peak memory {peak:.0f} MB"
    assert folder_bytes(target) == before


def test_an_old_backup_over_its_size_limit_is_refused_unread(tmp_path, target, runner):
    folder = tmp_path / "old-huge"
    folder.mkdir()
    with open(folder / "backup.json", "wb") as out:
        out.truncate(65 * 1024 * 1024)  # a sparse file: the size is what counts
    digest = hashlib.sha256()
    with open(folder / "backup.json", "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    (folder / "manifest.json").write_text(json.dumps({"schema": 1, "kind": "mutual-aid-kiosk-export",
                                                      "files": {"backup.json": digest.hexdigest()}}))
    result = runner.invoke(kiosk_main, ["import", "--from", str(folder), "--replace", "--yes", "--data", str(target)])
    assert result.exit_code == 1 and "larger than" in result.output


def test_a_manifest_naming_a_very_long_file_is_refused_plainly(tmp_path, target, runner):
    folder = tmp_path / "long"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"schema": 2, "kind": "mutual-aid-kiosk-export",
                                                      "files": {"x" * 300: "0" * 64}}))
    result = runner.invoke(kiosk_main, ["import", "--from", str(folder), "--merge", "--yes", "--data", str(target)],
                           catch_exceptions=False)
    assert result.exit_code == 1 and "not a kiosk export" in result.output


# -- two kiosks that drew the same numbers ----------------------------------------------------------------


@pytest.fixture
def numbers(monkeypatch):
    """Hand out the post and reply numbers a test asks for, in order (then random ones)."""
    queue: list[str] = []
    real = codes.new_post_id
    monkeypatch.setattr(codes, "new_post_id", lambda: queue.pop(0) if queue else real())
    return queue


def test_merging_kiosks_that_used_the_same_numbers_keeps_everything(make_app, tmp_path, numbers, runner):
    here = make_app(NAME="Elm Street", DATA_DIR=str(tmp_path / "elm"))
    there = make_app(NAME="Oak Hall", DATA_DIR=str(tmp_path / "oak"))
    # Elm: post AAAAA with reply CCCCC; post BBBBB.
    numbers[:] = ["AAAAA", "CCCCC", "BBBBB"]
    elm_a = Visitor(here.test_client()).create(title="Elm: soup")
    elm_reply = reply_to(Visitor(here.test_client()), "AAAAA", "Elm helper")
    elm_b = Visitor(here.test_client()).create(title="Elm: ladder")
    # Oak: post AAAAA (taken at Elm) with reply BBBBB (an Elm post's number); post CCCCC (an Elm reply's).
    numbers[:] = ["AAAAA", "BBBBB", "CCCCC"]
    oak_a = Visitor(there.test_client()).create(title="Oak: ride")
    oak_reply = reply_to(Visitor(there.test_client()), "AAAAA", "Oak helper")
    oak_c = Visitor(there.test_client()).create(title="Oak: tutoring")
    assert [elm_a[0], elm_reply[0], elm_b[0], oak_a[0], oak_reply[0], oak_c[0]] == \
        ["AAAAA", "CCCCC", "BBBBB", "AAAAA", "BBBBB", "CCCCC"]
    stick = tmp_path / "stick"
    stick.mkdir()
    oak_backup = plain_full_export(there.extensions["kiosk"].store, stick, kiosk_name="Oak Hall")

    store = here.extensions["kiosk"].store
    result = exchange.merge(store, exchange.read_backup(oak_backup), now=utcnow(), handle="Heron")
    assert result == {"added": 2, "updated": 0, "renumbered": 2, "not_kept": 0}
    titles = sorted(p["title"] for p in store.live_posts())
    assert titles == ["Elm: ladder", "Elm: soup", "Oak: ride", "Oak: tutoring"]
    messages = sorted(r["message"] for p in store.live_posts() for r in opened(p, elm_a[1], oak_a[1]).get("replies") or ())
    assert messages == ["Elm helper", "Oak helper"]

    # Every ticket still opens its own post, here, with the number printed at its kiosk.
    for code, title, reply_message in ((elm_a[1], "Elm: soup", None), (elm_b[1], "Elm: ladder", None),
                                      (oak_a[1], "Oak: ride", None), (oak_c[1], "Oak: tutoring", None),
                                      (elm_reply[1], "Elm: soup", "Elm helper"),
                                      (oak_reply[1], "Oak: ride", "Oak helper")):
        visitor = Visitor(here.test_client())
        assert visitor.unlock(code).status_code == 303, code
        page = visitor.client.get("/mine").get_data(as_text=True)
        assert title in page, (code, title)
        if reply_message:
            assert reply_message in page
    # A printed QR code with a number both kiosks used asks which post; Oak's own opens Oak's.
    choose = here.test_client().get("/p/AAAAA").get_data(as_text=True)
    assert "Which post do you mean?" in choose and "Elm: soup" in choose and "Oak: ride" in choose
    # Each as the board shows a post, with the kiosk it comes from: one card each, links to both.
    assert choose.count('<li class="card kind-') == 2 and "· Elm Street" in choose and "· Oak Hall" in choose
    oak_ride = next(p for p in store.live_posts() if p["title"] == "Oak: ride")
    assert "AAAAA" in oak_ride["aka"] and oak_ride["home_id"] == "AAAAA"
    assert "Oak: ride" in here.test_client().get(f"/p/{oak_ride['id']}").get_data(as_text=True)

    # The same backup again changes nothing, on screen or on disk.
    before = folder_bytes(here.config["DATA_DIR"])
    again = exchange.merge(store, exchange.read_backup(oak_backup), now=utcnow(), handle="Heron")
    assert again == {"added": 0, "updated": 0, "renumbered": 0, "not_kept": 0}
    assert folder_bytes(here.config["DATA_DIR"]) == before

    # And back the other way: Oak gets Elm's posts, its own come back as they were.
    elm_backup = plain_full_export(store, stick, kiosk_name="Elm Street")
    oak_store = there.extensions["kiosk"].store
    back = exchange.merge(oak_store, exchange.read_backup(elm_backup), now=utcnow(), handle="Otter")
    assert back["added"] == 2
    assert sorted(p["title"] for p in oak_store.live_posts()) == titles
    for code in (oak_a[1], oak_c[1], oak_reply[1], elm_a[1], elm_reply[1]):
        assert Visitor(there.test_client()).unlock(code).status_code == 303, code


def test_a_post_merged_over_a_local_reply_number_leaves_that_replier_their_code(make_app, tmp_path, numbers):
    here = make_app(NAME="Elm", DATA_DIR=str(tmp_path / "elm"))
    there = make_app(NAME="Oak", DATA_DIR=str(tmp_path / "oak"))
    numbers[:] = ["PPPPP", "RRRRR"]
    post_id, _ = Visitor(here.test_client()).create(title="Ours")
    reply_id, reply_code = reply_to(Visitor(here.test_client()), post_id)
    numbers[:] = ["RRRRR"]
    theirs, their_code = Visitor(there.test_client()).create(title="Theirs")
    assert theirs == reply_id
    stick = tmp_path / "s"
    stick.mkdir()
    made = plain_full_export(there.extensions["kiosk"].store, stick, kiosk_name="Oak")
    exchange.merge(here.extensions["kiosk"].store, exchange.read_backup(made), now=utcnow(), handle="Heron")
    replier = Visitor(here.test_client())
    assert replier.unlock(reply_code).status_code == 303
    assert "Ours" in replier.client.get("/mine").get_data(as_text=True)
    poster = Visitor(here.test_client())
    assert poster.unlock(their_code).status_code == 303
    assert "Theirs" in poster.client.get("/mine").get_data(as_text=True)


def test_a_merge_where_both_sides_changed_keeps_the_replies_of_both(make_app, tmp_path):
    here = make_app(NAME="Elm", DATA_DIR=str(tmp_path / "elm"))
    there = make_app(NAME="Oak", DATA_DIR=str(tmp_path / "oak"))
    post_id, post_code = Visitor(there.test_client()).create(title="Shared")
    stick = tmp_path / "s"
    stick.mkdir()
    store, oak_store = here.extensions["kiosk"].store, there.extensions["kiosk"].store
    first = plain_full_export(oak_store, stick, kiosk_name="Oak")
    exchange.merge(store, exchange.read_backup(first), now=utcnow(), handle="Heron")
    reply_to(Visitor(there.test_client()), post_id, "Oak neighbor")  # there
    reply_to(Visitor(here.test_client()), post_id, "Elm neighbor")  # here, later
    second = plain_full_export(oak_store, stick / ".." / "s", kiosk_name="Oak2")
    exchange.merge(store, exchange.read_backup(second), now=utcnow(), handle="Heron")
    messages = sorted(r["message"] for r in opened(store.get_post(post_id), post_code)["replies"])
    assert messages == ["Elm neighbor", "Oak neighbor"]


# -- start-up knows its files ------------------------------------------------------------------------------


@pytest.fixture
def archived(tmp_path, runner):
    """A data folder with 200 archived and 20 open posts, made by kiosk seed."""
    folder = tmp_path / "archived"
    result = runner.invoke(kiosk_main, ["seed", "--data", str(folder), "--live", "20", "--archived", "200"],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return folder


def serve_briefly(folder) -> subprocess.CompletedProcess:
    """``kiosk serve`` on a data folder it must refuse: it stops by itself, with a message."""
    return subprocess.run([kiosk_command(), "serve", "--port", "1", "--data", str(folder)], capture_output=True,
                          text=True, timeout=60, env=kiosk_env())


@pytest.mark.damages_data
def test_a_truncated_index_is_rebuilt_at_start_with_every_archived_post(archived, make_app, runner):
    index = archived / "archive" / "index.json"
    raw = index.read_bytes()
    index.write_bytes(raw[: len(raw) // 4])
    app = make_app(DATA_DIR=str(archived))
    assert app.test_client().get("/healthz").get_json()["archived_posts"] == 200
    assert "archive/index.json rebuilt" in (archived / "repairs.log").read_text()
    app.extensions["kiosk"].store.close()
    doctor = runner.invoke(kiosk_main, ["doctor", "--data", str(archived)])
    assert "Start-up mended the data" in doctor.output and "200 archived" in doctor.output


@pytest.mark.damages_data
def test_an_index_that_lists_too_few_posts_is_brought_up_to_date(archived, make_app):
    index = json.loads((archived / "archive" / "index.json").read_text())
    month, entry = next(iter(index["months"].items()))
    entry["posts"] = entry["posts"][:5]
    (archived / "archive" / "index.json").write_text(json.dumps(index))
    # The month's file changed since (as the index says it should have), so it is checked again.
    os.utime(archived / "archive" / f"{month}.json")
    app = make_app(DATA_DIR=str(archived))
    assert app.test_client().get("/healthz").get_json()["archived_posts"] == 200


@pytest.mark.parametrize("content,words", [
    ("[]", "live.json"), ('"x"', "live.json"), ('{"posts": {', "not valid JSON"),
    ("status", "misses the field status"),
])
def test_a_damaged_live_file_stops_the_start_with_a_message_naming_it(archived, content, words):
    live = archived / "live.json"
    if content == "status":
        data = json.loads(live.read_text())
        next(iter(data["posts"].values())).pop("status")
        live.write_text(json.dumps(data))
    else:
        live.write_text(content)
    before = folder_bytes(archived)
    result = serve_briefly(archived)
    assert result.returncode == 1
    assert f"The data file {live} is damaged" in result.stderr and words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "kiosk import --from" in result.stderr
    assert folder_bytes(archived) == before


def test_a_damaged_month_stops_the_start_and_names_the_file(archived, runner):
    month = sorted((archived / "archive").glob("20*.json"))[0]
    month.write_bytes(month.read_bytes()[:-500])
    before = folder_bytes(archived)
    result = serve_briefly(archived)
    assert result.returncode == 1 and f"The data file {month} is damaged" in result.stderr, result.stderr
    assert "move the file out of the data folder" in result.stderr and "Traceback" not in result.stderr
    assert folder_bytes(archived) == before
    doctor = runner.invoke(kiosk_main, ["doctor", "--data", str(archived)])
    assert doctor.exit_code == 1 and f"{month} is damaged" in doctor.output


def test_a_missing_month_stops_the_start(archived):
    month = sorted((archived / "archive").glob("20*.json"))[-1]
    month.unlink()
    result = serve_briefly(archived)
    assert result.returncode == 1 and "is missing although the archive index lists it" in result.stderr


@pytest.mark.damages_data
def test_a_month_damaged_while_running_answers_with_a_message_and_healthz_names_it(archived, make_app):
    app = make_app(DATA_DIR=str(archived))
    client = app.test_client()
    store = app.extensions["kiosk"].store
    month = store.archived_months()[0]
    post_id = store.archived_posts(month)[0]["id"]
    store.trim()
    (archived / "archive" / f"{month}.json").write_text('{"posts": {"1": {"id": "BAD"}}}')
    page = client.get(f"/p/{post_id}")
    assert page.status_code == 503 and "cannot be read" in page.get_data(as_text=True)
    assert client.get("/stats").status_code == 503
    health = client.get("/healthz").get_json()
    assert health["status"] == "degraded" and health["unreadable_months"] == [month]


# -- a restore or a merge is one step ------------------------------------------------------------------------


def test_a_restore_keeps_the_data_from_before_and_that_copy_restores(busy_app, stick, runner, tmp_path):
    store = busy_app.extensions["kiosk"].store
    before_titles = sorted(p["title"] for p in store.live_posts())
    other = tmp_path / "other"
    runner.invoke(kiosk_main, ["seed", "--data", str(other), "--live", "3"], catch_exceptions=False)
    other_store = Store(other, schema=default_registry().schema)
    made = plain_full_export(other_store, stick, kiosk_name="Seed")
    other_store.close()
    kept = exchange.restore(store.data_dir, exchange.read_backup(made), now=utcnow(), handle="Heron", store=store)
    assert store.count_live() == 3 and kept.parent == store.data_dir / "backups"
    assert exchange.restore(store.data_dir, exchange.read_backup(kept), now=utcnow(), handle="Heron", store=store)
    assert sorted(p["title"] for p in store.live_posts()) == before_titles
    assert ("restore-backup", "Heron") in [(e["action"], e["handle"]) for e in store.audit_entries(store.audit_months()[-1])]


def test_a_restore_over_damaged_data_keeps_the_damaged_files(busy_app, stick, runner):
    store = busy_app.extensions["kiosk"].store
    made = plain_full_export(store, stick, kiosk_name="Elm")
    titles = sorted(p["title"] for p in store.live_posts())
    folder = store.data_dir
    store.close()
    (folder / "live.json").write_text("[]")
    result = runner.invoke(kiosk_main, ["import", "--from", str(made), "--replace", "--yes", "--data", str(folder)],
                           catch_exceptions=False)
    assert result.exit_code == 0 and "The data here is damaged" in result.output, result.output
    restored = Store(folder, schema=default_registry().schema)
    try:
        assert sorted(p["title"] for p in restored.live_posts()) == titles
    finally:
        restored.close()
    kept = staging.kept_copies(folder)[0]
    assert (kept / "live.json").read_text() == "[]"


def _staged_change(folder: Path) -> tuple[str, str]:
    """Stage a restore of a changed live.json and archive, and return (old, new) live files."""
    old = (folder / "live.json").read_text()
    work = staging.staging_folder(folder)
    (work / "archive").mkdir()
    new = old.replace("Soup for two", "Soup for ten")
    (work / "live.json").write_text(new)
    for path in (folder / "archive").iterdir():
        staging.link_or_copy(path, work / "archive" / path.name)
    (work / "audit").mkdir()
    return old, new


@pytest.mark.parametrize("cut_after", range(0, 8))
def test_a_commit_cut_at_any_rename_ends_on_the_new_data_at_the_next_start(busy_app, monkeypatch, cut_after):
    store = busy_app.extensions["kiosk"].store
    folder = store.data_dir
    store.close()
    old, new = _staged_change(folder)
    renames = {"n": 0}
    real_replace = os.replace

    def cut(src, dst):
        if renames["n"] == cut_after:
            raise SystemExit("power cut")
        renames["n"] += 1
        real_replace(src, dst)

    monkeypatch.setattr(staging.os, "replace", cut)
    with pytest.raises(SystemExit):
        staging.commit(folder, "before-test")
        raise SystemExit("the commit ran to its end")
    monkeypatch.setattr(staging.os, "replace", real_replace)
    started = Store(folder, schema=default_registry().schema)
    try:
        live = (folder / "live.json").read_text()
        # Before the marker is written (the first rename) the old data stays; after, the new.
        assert live == (old if cut_after == 0 else new)
        assert not (folder / staging.STAGING).exists() and not (folder / staging.PREVIOUS).exists()
    finally:
        started.close()


def test_a_staging_that_never_committed_is_thrown_away(busy_app):
    store = busy_app.extensions["kiosk"].store
    folder = store.data_dir
    store.close()
    old, _ = _staged_change(folder)
    before = folder_bytes(folder)
    Store(folder, schema=default_registry().schema).close()
    assert (folder / "live.json").read_text() == old and not (folder / staging.STAGING).exists()
    assert {k: v for k, v in folder_bytes(folder).items() if k != "repairs.log"} == \
        {k: v for k, v in before.items() if not k.startswith(".staging") and k != "repairs.log"}


# -- input that once crashed ---------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["/board\r\nSet-Cookie: x=1", "/\t/evil.example/", "//evil.example",
                                    "/\\evil.example", "https://evil.example/"])
def test_a_crafted_return_address_is_refused_and_the_language_stays(client, target):
    response = client.post("/lang", data={"lang": "es", "next": target})
    assert response.status_code == 400 and "Nothing was saved" in response.get_data(as_text=True)
    assert "Location" not in response.headers
    assert 'lang="en"' in client.get("/board").get_data(as_text=True)


@pytest.mark.parametrize("target, lands", [("/board?kind=need", "/board?kind=need"), ("/no/such/page", "/"),
                                           ("/%09/evil.example/", "/"), ("", "/"), ("/p/" + "%D8%A8" * 400, "/")])
def test_the_language_switch_returns_to_the_page_or_to_the_start(client, target, lands):
    response = client.post("/lang", data={"lang": "es", "next": target})
    assert response.status_code == 303 and response.headers["Location"] == lands
    assert 'lang="es"' in client.get("/board").get_data(as_text=True)


def test_a_redirect_is_never_built_from_the_host_header(client):
    for path in ("/p//ABCDE", "/board/", "//board", "/coordinate/"):
        response = client.get(path, headers={"Host": "evil.example"})
        assert "evil.example" not in response.headers.get("Location", ""), path
        assert response.status_code < 500


@pytest.mark.parametrize("url", ["/board?page=" + "9" * 5000, "/board?page=-1", "/board?page=%00", "/board?page=0"])
def test_huge_or_strange_page_numbers_are_named_and_the_first_page_shown(client, url):
    Visitor(client).create(title="Soup for two")
    response = client.get(url)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "That page number does not exist" in page and "Soup for two" in page


def test_a_page_number_past_the_last_page_shows_the_last_page(client):
    Visitor(client).create(title="Soup for two")
    response = client.get("/board?page=7")
    assert response.status_code == 200 and "Soup for two" in response.get_data(as_text=True)


def test_a_coordinator_typing_a_huge_number_of_days_gets_a_message(client):
    from test_coordinate import act, unlock
    from kiosk.web import gate

    app = client.application
    gate.add(app.extensions["kiosk"].store, "Heron", "correct horse battery", by="t", now=utcnow(), scrypt_n=1024)
    unlock(client, passphrase="correct horse battery")
    response = act(Visitor(client), "/coordinate/settings", NAME="Elm", PUBLIC_URL="http://aid.lan",
                   EXPIRE_DAYS="9" * 5000, RETAIN_DAYS="30", LANGUAGES="en")
    assert response.status_code == 422 and "whole number of days" in response.get_data(as_text=True)


# -- SIGKILL at any moment of a restore or a merge of a large backup ----------------------------------------


def _without_numbers(post: dict) -> dict:
    """A post as its content: a merge gives colliding records new random numbers, which differ
    from one run to the next."""
    drop = ("id", "aka", "matched_reply")
    return {**{k: v for k, v in post.items() if k not in drop},
            "replies": [{k: v for k, v in r.items() if k not in drop} for r in post.get("replies") or ()]}


def fingerprint(folder: Path) -> str:
    """Everything a restore or a merge may change, as one hash: every post (by where it was made),
    row, setting and audit entry. Opening the store also runs what a start runs (finishing or
    undoing a commit), and so does the sealing of what a merge brought (a merge commits its data
    marked unsealed; a kill before it was sealed leaves it to the next start)."""
    from kiosk.core.origin import post_key
    from kiosk.web.sealing import seal_plain

    store = Store(folder, schema=default_registry().schema)
    try:
        seal_plain(store, default_registry())
        digest = hashlib.sha256()
        found = sorted((post_key(p), _without_numbers(p)) for batch in store.post_batches() for p in batch)
        for key, post in found:
            digest.update(json.dumps([key, post], sort_keys=True).encode())
        for table in default_registry().tables:
            digest.update(json.dumps(store.records(table), sort_keys=True).encode())
        for key in (*default_registry().settings, "kiosk"):
            digest.update(json.dumps(store.get_meta(key), sort_keys=True).encode())
        for month in store.audit_months():  # the time of the restore's own entry differs by run
            digest.update(json.dumps([(e["action"], e["target"]) for e in store.audit_entries(month)]).encode())
        return digest.hexdigest()
    finally:
        store.close()


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    """A kiosk with 5,000 archived posts, and a full backup (encrypted) of another with 50,000."""
    root = tmp_path_factory.mktemp("large")
    for folder, live, archived in (("base", 200, 5_000), ("big", 300, 50_000)):
        subprocess.run([kiosk_command(), "seed", "--data", str(root / folder), "--live", str(live),
                        "--archived", str(archived)], check=True, capture_output=True, env=kiosk_env())
    (root / "stick").mkdir()
    subprocess.run([kiosk_command(), "export", "--full", "--to", str(root / "stick"), "--data", str(root / "big")],
                   check=True, capture_output=True, env=kiosk_env(), input=BACKUP_PASSPHRASE + "\n", text=True)
    return root, next((root / "stick").iterdir())


KILLPOINT = str(Path(__file__).with_name("killpoint.py"))


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["--replace", "--merge"])
def test_twenty_kills_during_a_restore_or_merge_leave_the_old_or_the_new_data_whole(large, tmp_path, mode):
    """SIGKILL at 20 moments spread over the whole import (one at random in each twentieth of its
    file operations: building, checking, committing): each time the kiosk then starts on exactly
    the old or exactly the new data."""
    import random
    import shutil

    root, backup = large
    old = fingerprint(root / "base")
    command = [sys.executable, KILLPOINT, "{n}", "import", "--from", str(backup), mode, "--yes", "--data", "{data}"]

    def run(n: int, data: Path) -> subprocess.CompletedProcess:
        return subprocess.run([part.format(n=n, data=data) for part in command], capture_output=True, text=True,
                              env=kiosk_env(), timeout=600, input=BACKUP_PASSPHRASE + "\n")

    shutil.copytree(root / "base", tmp_path / "whole")
    whole = run(0, tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr
    operations = int(whole.stderr.split()[-1])
    new = fingerprint(tmp_path / "whole")
    assert new != old
    rnd = random.Random(14)
    outcomes = []
    for round_ in range(20):
        n = rnd.randint(operations * round_ // 20 + 1, operations * (round_ + 1) // 20)
        work = tmp_path / f"round-{round_}"
        shutil.copytree(root / "base", work)
        killed = run(n, work)
        assert killed.returncode == -9, (n, killed.stderr)
        after = fingerprint(work)  # the kiosk starts on it...
        assert after in (old, new), f"killed at operation {n} of {operations}: a mix of old and new data"  # ...whole
        outcomes.append("new" if after == new else "old")
        shutil.rmtree(work)
    assert outcomes[0] == "old" and outcomes[-1] == "new", outcomes


def rot(path: Path) -> None:
    """Bit rot: a few bytes changed, the size and the modification time as they were."""
    before = path.stat()
    raw = bytearray(path.read_bytes())
    raw[10:20] = b"\x00" * 10
    path.write_bytes(bytes(raw))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


@pytest.mark.damages_data
def test_a_month_that_rots_without_changing_its_date_is_caught_when_read(archived, make_app, runner):
    """Bit rot keeps a file's size and date, so start-up trusts the month; the first read finds
    it, says so on the page and in /healthz, and kiosk doctor (which checks every month) names it."""
    path = sorted((archived / "archive").glob("20*.json"))[0]
    rot(path)
    app = make_app(DATA_DIR=str(archived))
    client = app.test_client()
    assert client.get("/stats").status_code == 503
    assert client.get("/healthz").get_json()["unreadable_months"] == [path.stem]
    app.extensions["kiosk"].store.close()
    doctor = runner.invoke(kiosk_main, ["doctor", "--data", str(archived)])
    assert doctor.exit_code == 1 and f"{path} is damaged" in doctor.output


# -- what the review and the attack found --------------------------------------------------------------------


def test_a_restore_over_a_damaged_audit_month_works_and_keeps_it(busy_app, stick, runner):
    from kiosk.web import audit

    store = busy_app.extensions["kiosk"].store
    audit.log(store, "Heron", "unlock", "", utcnow())
    made = plain_full_export(store, stick, kiosk_name="Elm")
    folder = store.data_dir
    store.close()
    month = next((folder / "audit").glob("*.json"))
    month.write_text('{"audit": {"1": 5}}')
    assert serve_briefly(folder).returncode == 1
    result = runner.invoke(kiosk_main, ["import", "--from", str(made), "--replace", "--yes", "--data", str(folder)],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    Store(folder, schema=default_registry().schema).close()  # starts again
    kept = staging.kept_copies(folder)[0]
    assert kept.name.startswith("damaged-") and (kept / "audit" / month.name).read_text() == '{"audit": {"1": 5}}'


def test_a_backup_with_too_many_audit_entries_in_a_month_is_refused(good_lines, tmp_path, target, runner, monkeypatch):
    from kiosk.web.exchange import backup as backup_module

    monkeypatch.setattr(backup_module, "MAX_AUDIT_MONTH", 3)
    lines = copy.deepcopy(good_lines)
    entry = {"at": "2026-11-01T10:00:00Z", "handle": "Heron", "action": "unlock", "target": "", "detail": ""}
    lines[-1:-1] = [{"t": "audit", "entry": {**entry, "detail": str(n)}} for n in range(4)]
    folder = write_backup(tmp_path / "bad", with_end(lines))
    before = folder_bytes(target)
    result = runner.invoke(kiosk_main, ["import", "--from", str(folder), "--replace", "--yes", "--data", str(target)])
    assert result.exit_code == 1 and "more audit entries for 2026-11" in result.output
    assert folder_bytes(target) == before


def test_a_post_larger_than_the_kiosk_keeps_one_is_refused(good_lines, tmp_path, target, runner, monkeypatch):
    from kiosk.web.exchange import backup as backup_module

    monkeypatch.setattr(backup_module, "MAX_POST_BYTES", 600)
    folder = write_backup(tmp_path / "bad", good_lines)
    result = runner.invoke(kiosk_main, ["import", "--from", str(folder), "--merge", "--yes", "--data", str(target)])
    assert result.exit_code == 1 and "larger than the kiosk keeps one" in result.output


def test_an_empty_live_file_beside_an_archive_is_damage_not_a_new_kiosk(archived):
    (archived / "live.json").write_bytes(b"")
    result = serve_briefly(archived)
    assert result.returncode == 1 and "it is empty or missing, while the journal, archive" in result.stderr


@pytest.mark.damages_data
def test_an_index_edited_while_its_months_stayed_the_same_is_rebuilt(archived, make_app):
    index = json.loads((archived / "archive" / "index.json").read_text())
    entry = next(iter(index["months"].values()))
    entry["posts"] = entry["posts"][10:]  # two posts fewer, the month files untouched
    (archived / "archive" / "index.json").write_text(json.dumps(index))
    app = make_app(DATA_DIR=str(archived))
    assert app.test_client().get("/healthz").get_json()["archived_posts"] == 200
    assert "(damaged)" in (archived / "repairs.log").read_text()


@pytest.mark.damages_data
def test_a_table_of_a_newer_version_is_kept_at_start_and_through_restore_and_merge(busy_app, stick, make_app,
                                                                                    tmp_path):
    store = busy_app.extensions["kiosk"].store
    made = plain_full_export(store, stick, kiosk_name="Elm")
    folder = store.data_dir
    store.close()
    data = json.loads((folder / "live.json").read_text())
    data["from_a_newer_version"] = {"1": {"keep": "me"}}
    (folder / "live.json").write_text(json.dumps(data))
    reopened = Store(folder, schema=default_registry().schema)  # starts, with a line in the log
    try:
        exchange.restore(folder, exchange.read_backup(made), now=utcnow(), handle="t", store=reopened)
        other = make_app(NAME="Oak", DATA_DIR=str(tmp_path / "oak"))
        Visitor(other.test_client()).create(title="Oak's")
        oak = plain_full_export(other.extensions["kiosk"].store, stick, kiosk_name="Oak")
        assert exchange.merge(reopened, exchange.read_backup(oak), now=utcnow(), handle="t")["added"] == 1
        assert [r["keep"] for r in reopened.records("from_a_newer_version")] == ["me"]
    finally:
        reopened.close()


def test_the_screen_waits_for_an_export_before_a_restore(busy_app, stick, tmp_path):
    from test_coordinate import act, unlock

    busy_app.config["USB_ROOTS"] = str(stick.parent)
    made = plain_full_export(busy_app.extensions["kiosk"].store, stick, kiosk_name="Elm")
    client = busy_app.test_client()
    unlock(client)
    jobs = busy_app.extensions["kiosk"].jobs
    with jobs._lock:
        jobs._jobs["writing"] = {"state": "running"}
    response = act(Visitor(client), "/coordinate/import", folder=str(made), mode="replace")
    assert response.status_code == 409 and "safe to unplug" in response.get_data(as_text=True)


def test_a_restore_that_cannot_finish_stops_the_kiosk_writing_until_it_restarts(busy_app, stick, monkeypatch,
                                                                                make_app):
    store = busy_app.extensions["kiosk"].store
    made = plain_full_export(store, stick, kiosk_name="Elm")

    def commit_then_fail(data_dir, kept_as):
        work = Path(data_dir) / staging.STAGING
        (work / staging.COMMIT).write_text(kept_as)  # the marker is down...
        raise OSError(5, "Input/output error")  # ...and the disk fails before the swap

    with monkeypatch.context() as patched:
        patched.setattr(staging, "commit", commit_then_fail)
        with pytest.raises(OSError):
            exchange.restore(store.data_dir, exchange.read_backup(made), now=utcnow(), handle="t", store=store)
    client = busy_app.test_client()
    assert client.get("/healthz").get_json()["status"] == "degraded"
    assert Visitor(client).post(title="After").status_code == 503  # nothing written over the files
    store.close()
    restarted = make_app()  # the start finishes the commit
    assert restarted.test_client().get("/healthz").get_json()["status"] == "ok"
    assert staging.kept_copies(store.data_dir)


def test_copies_kept_before_a_restore_go_after_the_retention_period(busy_app, stick):
    from kiosk import run_upkeep

    store = busy_app.extensions["kiosk"].store
    made = plain_full_export(store, stick, kiosk_name="Elm")
    kept = exchange.restore(store.data_dir, exchange.read_backup(made), now=utcnow(), handle="t", store=store)
    run_upkeep(busy_app)
    assert kept.exists()
    old = utcnow().timestamp() - 31 * 86400
    os.utime(kept, (old, old))
    run_upkeep(busy_app)
    assert not kept.exists()


def _copy_of_backup(app, stick, name="There") -> Path:
    return plain_full_export(app.extensions["kiosk"].store, stick, kiosk_name=name)


def test_a_crafted_stick_cannot_take_over_a_post_made_here(make_app, tmp_path):
    from conftest import TEST_SCRYPT_N

    here = make_app(NAME="Elm", DATA_DIR=str(tmp_path / "elm"))
    post_id, code = Visitor(here.test_client()).create(title="Soup for two")
    store = here.extensions["kiosk"].store
    lines = lines_of(_copy_of_backup(here, tmp_path))
    lines[0]["id"] = "ZZZZZZZZZZ"  # "another kiosk", carrying a copy of our post...
    first_post(lines).update(title="Mine now", updated="2099-12-31T23:59:59Z",  # ...newer than anything
                             claim=codes.hash_secret("acorn-bloom-civic-dwarf", n=TEST_SCRYPT_N))  # ...a code of theirs
    folder = write_backup(tmp_path / "crafted", lines)
    exchange.merge(store, exchange.read_backup(folder), now=utcnow(), handle="Heron")
    assert store.get_post(post_id)["title"] == "Soup for two"  # a date far ahead never wins
    assert Visitor(here.test_client()).unlock(code).status_code == 303  # the poster's code still opens it
    assert Visitor(here.test_client()).unlock(f"{post_id}-acorn-bloom-civic-dwarf").status_code == 403


def test_a_crafted_reply_naming_a_reply_made_here_is_kept_apart_from_it(make_app, tmp_path):
    from conftest import TEST_SCRYPT_N

    here = make_app(NAME="Elm", DATA_DIR=str(tmp_path / "elm"))
    store = here.extensions["kiosk"].store
    post_id, post_code = Visitor(here.test_client()).create(title="Soup for two")
    reply_id, reply_code = reply_to(Visitor(here.test_client()), post_id, "I can cook")
    lines = lines_of(_copy_of_backup(here, tmp_path))
    ours = first_post(lines)
    home = ours["home"]
    lines[0]["id"] = "ZZZZZZZZZZ"
    # "Another kiosk's" post, whose reply claims to be the reply made here, with a code of theirs.
    ours.update(id="QQQQQ", home="ZZZZZZZZZZ", home_id="QQQQQ", title="Crafted")
    ours["replies"][0].update(home=home, home_id=reply_id, message="Taken over",
                              claim=codes.hash_secret("acorn-bloom-civic-dwarf", n=TEST_SCRYPT_N))
    folder = write_backup(tmp_path / "crafted", lines)
    assert exchange.merge(store, exchange.read_backup(folder), now=utcnow(), handle="Heron")["added"] == 1
    replier = Visitor(here.test_client())
    assert replier.unlock(reply_code).status_code == 303  # the replier's code still opens their reply
    assert "Soup for two" in replier.client.get("/mine").get_data(as_text=True)
    crafted = next(p for p in store.live_posts() if p["title"] == "Crafted")
    assert crafted["replies"][0]["id"] != reply_id  # the copy got a number of its own
    assert [r["message"] for r in opened(store.get_post(post_id), post_code)["replies"]] == ["I can cook"]
    again = exchange.merge(store, exchange.read_backup(folder), now=utcnow(), handle="Heron")
    assert again["added"] == again["updated"] == 0  # and merging it again changes nothing


def test_a_merge_never_undoes_an_acceptance_or_a_closing_and_keeps_every_message(make_app, tmp_path):
    a = make_app(NAME="Elm", DATA_DIR=str(tmp_path / "elm"))
    b = make_app(NAME="Oak", DATA_DIR=str(tmp_path / "oak"))
    a_store, b_store = a.extensions["kiosk"].store, b.extensions["kiosk"].store
    poster = Visitor(a.test_client())
    post_id, code = poster.create(title="Help moving")
    withdrawn_id, withdrawn_code = poster.create(title="Old request")
    reply_id, _ = reply_to(Visitor(a.test_client()), post_id, "I have a van")
    (tmp_path / "s1").mkdir()
    exchange.merge(b_store, exchange.read_backup(_copy_of_backup(a, tmp_path / "s1", "Elm")), now=utcnow(), handle="t")
    # At Elm: accepted, a private message, the other post withdrawn.
    poster.unlock(code)
    poster.submit(f"/mine/replies/{reply_id}/accept", form_url="/mine")
    poster.submit("/mine/thread", message="Saturday at nine?")
    other = Visitor(a.test_client())
    other.unlock(withdrawn_code)
    other.submit("/mine/withdraw")
    # Later at Oak (which saw none of that): another reply, an hour on, so Oak's copy is newer.
    from kiosk.board import replies

    with b.app_context():
        replies.add_reply(b_store, post_id, {"message": "I can carry boxes"}, lang="en", scrypt_n=1024,
                          now=utcnow() + dt.timedelta(hours=1), expire_days=30)
    (tmp_path / "s2").mkdir()
    exchange.merge(a_store, exchange.read_backup(_copy_of_backup(b, tmp_path / "s2", "Oak")), now=utcnow(), handle="t")
    post = opened(a_store.get_post(post_id), code)
    assert post["status"] == "matched" and post["matched_reply"] == reply_id
    accepted = next(r for r in post["replies"] if r["id"] == reply_id)
    assert accepted["status"] == "accepted" and [m["text"] for m in accepted["thread"]] == ["Saturday at nine?"]
    assert sorted(r["message"] for r in post["replies"]) == ["I can carry boxes", "I have a van"]
    assert a_store.get_post(withdrawn_id)["status"] == "withdrawn"


def test_restoring_an_old_backup_gives_the_kiosk_an_identity_of_its_own(good_lines, tmp_path, runner):
    ids = []
    for n in (1, 2):
        folder = old_backup(tmp_path / f"old-{n}", old_document(copy.deepcopy(good_lines)))
        data = tmp_path / f"kiosk-{n}"
        assert runner.invoke(kiosk_main, ["import", "--from", str(folder), "--replace", "--yes", "--data",
                                          str(data)]).exit_code == 0
        store = Store(data, schema=default_registry().schema)
        ids.append(store.kiosk_id)
        store.close()
    assert ids[0] != ids[1] and not ids[0].startswith("L")


def test_posts_merged_into_months_retention_has_swept_are_swept_again(make_app, tmp_path, archived):
    from kiosk import run_upkeep
    from kiosk.board.lifecycle import ERASED_THROUGH

    there = make_app(DATA_DIR=str(archived))  # 200 posts closed over two years, their text erased
    there_store = there.extensions["kiosk"].store
    month = there_store.archived_months()[0]
    old = dict(there_store.archived_posts(month)[0])
    there_store.update_archived_month(month, {old["id"]: {"title": "Insulin, call 555-0100", "erased": False}})
    (tmp_path / "s").mkdir()
    made = _copy_of_backup(there, tmp_path / "s")
    here = make_app(DATA_DIR=str(tmp_path / "here"))
    store = here.extensions["kiosk"].store
    store.set_meta(ERASED_THROUGH, there_store.archived_months()[-1])
    exchange.merge(store, exchange.read_backup(made), now=utcnow(), handle="t")
    assert (store.get_meta(ERASED_THROUGH) or "") < month
    for _ in range(20):
        run_upkeep(here)
    merged = next(p for p in store.archived_posts(month) if p.get("home_id") == old["id"])
    assert merged["title"] == "" and merged["erased"]


@pytest.mark.parametrize("what", ["archive is a file", "index is a folder", "secret_key is a folder",
                                  "kiosk.lock is a folder", ".staging is a file", "audit is a file"])
def test_something_odd_in_the_place_of_a_kiosk_file_stops_the_start_with_a_message(archived, what):
    import shutil

    place = {"archive is a file": "archive", "index is a folder": "archive/index.json",
             "secret_key is a folder": "secret_key", "kiosk.lock is a folder": "kiosk.lock",
             ".staging is a file": ".staging", "audit is a file": "audit"}[what]
    path = archived / place
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    if what.endswith("a folder"):
        path.mkdir()
    else:
        path.write_text("odd")
    result = serve_briefly(archived)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and ("cannot be used" in result.stderr or "damaged" in result.stderr)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can run a command as another user's data folder owner")
def test_root_is_told_to_run_an_import_as_the_kiosk_user(good_lines, tmp_path, target, runner):
    os.chown(target, 65534, 65534)
    folder = write_backup(tmp_path / "good", good_lines)
    before = folder_bytes(target)
    result = runner.invoke(kiosk_main, ["import", "--from", str(folder), "--replace", "--yes", "--data", str(target)])
    assert result.exit_code == 1 and "run this as that user (sudo -u" in result.output
    assert folder_bytes(target) == before


def test_a_deeply_nested_line_is_refused_plainly(good_lines, tmp_path, target, runner):
    folder = tmp_path / "deep"
    folder.mkdir()
    data = json.dumps(good_lines[0]).encode() + b"\n" + b'{"t":"post","post":' + b"[" * 100_000 + b"\n"
    (folder / "backup.jsonl").write_bytes(data)
    (folder / "manifest.json").write_text(json.dumps({"schema": 2, "kind": "mutual-aid-kiosk-export",
                                                      "files": {"backup.jsonl": hashlib.sha256(data).hexdigest()}}))
    result = runner.invoke(kiosk_main, ["import", "--from", str(folder), "--merge", "--yes", "--data", str(target)],
                           catch_exceptions=False)
    assert result.exit_code == 1 and "line 2" in result.output


def test_a_backup_changed_after_its_preview_is_refused_before_anything_is_written(busy_app, stick, tmp_path):
    store = busy_app.extensions["kiosk"].store
    made = plain_full_export(store, stick, kiosk_name="Elm")
    backup = exchange.read_backup(made)  # what the preview showed
    lines = lines_of(made)
    first_post(lines)["title"] = "Swapped at the prompt"
    (made / "backup.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    before = folder_bytes(store.data_dir)
    with pytest.raises(exchange.ExchangeError) as refused:
        exchange.restore(store.data_dir, backup, now=utcnow(), handle="t", store=store)
    assert refused.value.code == "checksum"
    assert folder_bytes(store.data_dir) == before


def test_a_merge_that_would_overfill_the_board_is_refused_before_building(make_app, tmp_path, monkeypatch, runner):
    from kiosk.web.exchange import restore as _  # noqa: F401
    import sys as _sys

    here = make_app(DATA_DIR=str(tmp_path / "here"))
    Visitor(here.test_client()).create(title="Ours")
    there = make_app(DATA_DIR=str(tmp_path / "there"))
    Visitor(there.test_client()).create(title="Theirs")
    (tmp_path / "s").mkdir()
    made = _copy_of_backup(there, tmp_path / "s")
    monkeypatch.setattr(_sys.modules["kiosk.web.exchange.restore"], "MAX_LIVE_POSTS", 1)
    store = here.extensions["kiosk"].store
    before = folder_bytes(store.data_dir)
    with pytest.raises(exchange.ExchangeError) as refused:
        exchange.merge(store, exchange.read_backup(made), now=utcnow(), handle="t")
    assert "would hold 2 open posts" in refused.value.detail.english()
    assert folder_bytes(store.data_dir) == before


def test_a_row_number_too_high_for_the_rows_after_it_is_refused(good_lines, tmp_path, target, runner):
    lines = copy.deepcopy(good_lines)
    lines.insert(-1, {"t": "table:checkins", "id": 2**53, "row": {"month": "2026-11", "working": "x", "change": ""}})
    folder = write_backup(tmp_path / "bad", with_end(lines))
    result = runner.invoke(kiosk_main, ["import", "--from", str(folder), "--replace", "--yes", "--data", str(target)])
    assert result.exit_code == 1 and "higher than the numbers the kiosk gives" in result.output


def test_names_from_a_stick_are_printed_without_terminal_codes(good_lines, tmp_path, target, runner):
    lines = copy.deepcopy(good_lines)
    lines[0]["name"] = "Elm\x1b]0;owned\x07"
    folder = write_backup(tmp_path / "named", lines)
    result = runner.invoke(kiosk_main, ["import", "--from", str(folder), "--merge", "--yes", "--data", str(target)])
    assert "\x1b" not in result.output and "\x07" not in result.output


def test_a_merge_into_a_folder_with_no_kiosk_is_refused(good_lines, tmp_path, runner):
    folder = write_backup(tmp_path / "good", good_lines)
    result = runner.invoke(kiosk_main, ["import", "--from", str(folder), "--merge", "--yes", "--data",
                                        str(tmp_path / "typo")])
    assert result.exit_code == 1 and "no kiosk data" in result.output and not (tmp_path / "typo").exists()


@pytest.mark.parametrize("content", ["[1]", '"x"', '{"meta": {"1": 5}}', "[" * 50_000])
def test_doctor_reads_a_damaged_live_file_without_a_traceback(archived, runner, content):
    (archived / "live.json").write_text(content)
    result = runner.invoke(kiosk_main, ["doctor", "--data", str(archived)], catch_exceptions=False)
    assert result.exit_code == 1 and "live.json is damaged" in result.output


from conftest import kiosk_in_namespace, needs_namespaces  # noqa: E402


@needs_namespaces
def test_a_full_disk_while_staging_gives_a_message_and_changes_nothing(large, tmp_path):
    """The data folder on a 6 MB disk, a backup of 50,000 posts: the staging cannot be written."""
    root, backup = large
    script = ('mount -t tmpfs -o size=6m tmpfs "$DIR"\n'
              'kiosk seed --data "$DIR/data" --live 5 >/dev/null\n'
              'sha256sum "$DIR/data/live.json" > "$OUT/before"\n'
              'printf "%s\\n" "$PASS" | kiosk import --from "$BACKUP" --replace --yes --data "$DIR/data" || echo "status=$?"\n'
              'sha256sum "$DIR/data/live.json" > "$OUT/after"; ls -A "$DIR/data"')
    (tmp_path / "disk").mkdir()
    result = kiosk_in_namespace(script, {"DIR": str(tmp_path / "disk"), "OUT": str(tmp_path), "BACKUP": str(backup),
                                         "PASS": BACKUP_PASSPHRASE})
    output = result.stdout + result.stderr
    assert "status=1" in output and "could not be written in the data folder" in output, output
    assert "Traceback" not in output
    assert (tmp_path / "before").read_text() == (tmp_path / "after").read_text()


@pytest.mark.damages_data
def test_months_trusted_at_start_are_checked_after_it(archived, make_app):
    """The start trusts months whose files did not change (so it stays quick); they are checked
    just after, and one that rotted is named in /healthz before anyone opens it."""
    path = sorted((archived / "archive").glob("20*.json"))[-1]
    rot(path)
    app = make_app(DATA_DIR=str(archived))
    store = app.extensions["kiosk"].store
    assert store.check_trusted_months() == [path.stem]
    health = app.test_client().get("/healthz").get_json()
    assert health["status"] == "degraded" and health["unreadable_months"] == [path.stem]


# -- third attack round ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("marker", [b"../../escaped", b"<outside>", b"\xff\xfe", b"a\x00b", b"a/b/c", b"x" * 300])
def test_a_damaged_commit_marker_still_ends_on_the_new_data_inside_the_folder(busy_app, tmp_path, marker):
    store = busy_app.extensions["kiosk"].store
    folder = store.data_dir
    store.close()
    old, new = _staged_change(folder)
    (folder / staging.STAGING / staging.COMMIT).write_bytes(marker.replace(b"<outside>", bytes(tmp_path / "elsewhere")))
    outside = sorted(p.name for p in tmp_path.iterdir())
    Store(folder, schema=default_registry().schema).close()
    assert (folder / "live.json").read_text() == new
    kept = staging.kept_copies(folder)
    assert [c.name for c in kept] == ["before-change"] and (kept[0] / "live.json").read_text() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == outside


def test_restoring_the_same_backup_again_and_again_keeps_the_data_from_before_it(busy_app, stick, make_app, tmp_path):
    store = busy_app.extensions["kiosk"].store
    Visitor(busy_app.test_client()).create(title="Precious local post")
    other = make_app(NAME="Oak", DATA_DIR=str(tmp_path / "oak"))
    Visitor(other.test_client()).create(title="Theirs")
    closing = Visitor(other.test_client())
    closing.unlock(closing.create(title="Theirs, done")[1])
    closing.submit("/mine/fulfil")  # so the backup has an archive month (and its index) too
    backup = exchange.read_backup(_copy_of_backup(other, stick, "Oak"))
    for _ in range(5):  # a volunteer who is not sure it worked
        exchange.restore(store.data_dir, backup, now=utcnow(), handle="Heron", store=store)
    kept = [json.loads((c / "live.json").read_text()) for c in staging.kept_copies(store.data_dir)]
    assert len(kept) == 2  # what was restored, once, and what was there before
    assert any("Precious local post" in json.dumps(copy) for copy in kept)


def test_a_conversation_too_long_to_join_keeps_ours_and_says_how_many_did_not_fit(make_app, tmp_path, monkeypatch):
    from kiosk.board import merging

    monkeypatch.setattr(merging, "MAX_THREAD", 6)  # the real limit (500) is the same rule, slower to fill
    here = make_app(NAME="Elm", DATA_DIR=str(tmp_path / "elm"))
    there = make_app(NAME="Oak", DATA_DIR=str(tmp_path / "oak"))
    poster = Visitor(here.test_client())
    post_id, code = poster.create(title="Help moving")
    reply_id, _ = reply_to(Visitor(here.test_client()), post_id, "I have a van")
    poster.unlock(code)
    poster.submit(f"/mine/replies/{reply_id}/accept", form_url="/mine")
    (tmp_path / "s").mkdir()
    exchange.merge(there.extensions["kiosk"].store, exchange.read_backup(_copy_of_backup(here, tmp_path / "s", "Elm")),
                   now=utcnow(), handle="t")
    for n in range(3):
        poster.submit("/mine/thread", message=f"ours {n}")
    lines = lines_of(_copy_of_backup(there, tmp_path, "Oak"))
    theirs = first_post(lines)["replies"][0]
    theirs["thread"] = [{"id": n, "author": "replier", "text": f"theirs {n}", "created": f"2026-01-0{n}T10:00:00Z"}
                        for n in range(1, 6)]
    folder = write_backup(tmp_path / "oak-copy", lines)
    store = here.extensions["kiosk"].store
    seen = exchange.preview(store, exchange.read_backup(folder), "merge")
    assert seen["not_kept"] == 2
    result = exchange.merge(store, exchange.read_backup(folder), now=utcnow(), handle="t")
    assert result["not_kept"] == 2 and result["updated"] == 1
    thread = next(r for r in opened(store.get_post(post_id), code)["replies"] if r["id"] == reply_id)["thread"]
    assert [m["text"] for m in thread if m["text"].startswith("ours")] == ["ours 0", "ours 1", "ours 2"]
    assert len(thread) == 6 and sorted(m["id"] for m in thread) == list(range(1, 7))
    again = exchange.merge(store, exchange.read_backup(folder), now=utcnow(), handle="t")
    assert again["updated"] == 0 and again["not_kept"] == 2


def test_doctor_names_the_newest_kept_copy_that_passes_the_checks(busy_app, stick, runner):
    store = busy_app.extensions["kiosk"].store
    backup = exchange.read_backup(_copy_of_backup(busy_app, stick, "Elm"))
    exchange.restore(store.data_dir, backup, now=utcnow(), handle="Heron", store=store)
    good = staging.kept_copies(store.data_dir)[0]
    bad = store.data_dir / staging.BACKUPS / "before-merge-2099-01-01_000000"
    bad.mkdir()
    (bad / "live.json").write_bytes(b"\0" * 4096)
    odd = store.data_dir / staging.BACKUPS / "before-restore\x1b]0;pwned\x07"
    shutil.copytree(good, odd)
    store.close()
    result = runner.invoke(kiosk_main, ["doctor", "--data", str(store.data_dir)])
    assert f"the newest good one: {good}" in result.output
    assert f"{bad} does not pass the checks" in result.output
    assert "\x1b" not in result.output and "pwned" not in result.output


def test_reading_a_backup_reads_its_own_file_only(good_lines, tmp_path):
    folder = write_backup(tmp_path / "big", good_lines)
    manifest = json.loads((folder / "manifest.json").read_text())
    with open(folder / "huge.bin", "wb") as fh:  # sparse: no disk space, but 256 MiB to read
        fh.truncate(256 * 2**20)
    for n in range(8):
        (folder / f"copy-{n}.csv").symlink_to(folder / "huge.bin")
        manifest["files"][f"copy-{n}.csv"] = "0" * 64
    (folder / "manifest.json").write_text(json.dumps(manifest))

    def read_so_far() -> int:
        return int(re.search(r"rchar: (\d+)", Path("/proc/self/io").read_text()).group(1))

    before = read_so_far()
    exchange.read_backup(folder)
    assert read_so_far() - before < 4 * (folder / "backup.jsonl").stat().st_size + 2**20


def _as_nobody(command: list[str]) -> list[str] | None:
    if os.geteuid() != 0:
        return command
    if not shutil.which("setpriv"):
        return None
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]


def test_a_backup_the_kiosk_may_not_read_gets_a_message_and_its_stick_still_lists(good_lines, tmp_path):
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="kiosk-perm-", dir="/tmp"))
    try:
        base.chmod(0o755)
        stick_folder = base / "STICK"
        write_backup(stick_folder / "Elm-2026-01-01_000000", good_lines)
        write_backup(stick_folder / "Elm-2026-01-02_000000", good_lines)
        locked = stick_folder / "Elm-2026-01-01_000000" / "backup.jsonl"
        (stick_folder / "private").mkdir(mode=0o700)
        for path in [stick_folder, *stick_folder.rglob("*")]:
            path.chmod(0o755 if path.is_dir() and path.name != "private" else 0o644)
        locked.chmod(0o000)
        (stick_folder / "private").chmod(0o000)
        data = base / "data"
        data.mkdir()
        if os.geteuid() == 0:
            os.chown(data, 65534, 65534)
        listing = _as_nobody([sys.executable, "-c", "import sys; from kiosk.core import usb; "
                              "print([p.name for p in usb.exports_on(sys.argv[1])])", str(stick_folder)])
        importing = _as_nobody([kiosk_command(), "import", "--from", str(locked.parent), "--replace", "--yes",
                                "--data", str(data)])
        if listing is None:
            pytest.skip("needs setpriv to drop root")
        listed = subprocess.run(listing, capture_output=True, text=True, timeout=60, env=kiosk_env())
        if "No module named" in listed.stderr:
            pytest.skip("nobody cannot read this checkout")
        assert listed.returncode == 0, listed.stderr
        assert "Elm-2026-01-01_000000" in listed.stdout and "Elm-2026-01-02_000000" in listed.stdout
        result = subprocess.run(importing, capture_output=True, text=True, timeout=60, env=kiosk_env())
        assert "Traceback" not in result.stderr and result.returncode == 1
        assert "cannot be read" in result.stderr and "backup.jsonl" in result.stderr
    finally:
        for path in [base, *base.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        shutil.rmtree(base)


def test_a_restore_repeated_over_a_damaged_audit_month_keeps_the_copy_holding_it(busy_app, stick, make_app, tmp_path):
    store = busy_app.extensions["kiosk"].store
    other = make_app(NAME="Oak", DATA_DIR=str(tmp_path / "oak"))
    Visitor(other.test_client()).create(title="Theirs")
    backup = exchange.read_backup(_copy_of_backup(other, stick, "Oak"))
    for _ in range(2):
        exchange.restore(store.data_dir, backup, now=utcnow(), handle="Heron", store=store)
    month = sorted((store.data_dir / "audit").glob("*.json"))[-1]
    month.write_text('{"audit": {"1": 5}}')  # this month's audit file rots
    exchange.restore(store.data_dir, backup, now=utcnow(), handle="Heron", store=store)
    assert any((copy / "audit" / month.name).read_text() == '{"audit": {"1": 5}}'
               for copy in staging.kept_copies(store.data_dir) if (copy / "audit" / month.name).is_file())


def test_a_closing_whose_accepted_reply_finds_no_room_closes_without_naming_it(make_app, tmp_path, monkeypatch):
    from kiosk.board import merging

    monkeypatch.setattr(merging, "MAX_REPLIES", 2)  # the real limit (200) is the same rule, slower to fill
    elm = make_app(NAME="Elm", DATA_DIR=str(tmp_path / "elm"))
    oak = make_app(NAME="Oak", DATA_DIR=str(tmp_path / "oak"))
    post_id, code = Visitor(elm.test_client()).create(title="Help moving")
    reply_to(Visitor(elm.test_client()), post_id, "A from Elm")
    (tmp_path / "s1").mkdir()
    exchange.merge(oak.extensions["kiosk"].store, exchange.read_backup(_copy_of_backup(elm, tmp_path / "s1", "Elm")),
                   now=utcnow(), handle="t")
    at_oak = Visitor(oak.test_client())
    their_reply, _ = reply_to(Visitor(oak.test_client()), post_id, "B from Oak")
    at_oak.unlock(code)
    at_oak.submit(f"/mine/replies/{their_reply}/accept", form_url="/mine")
    at_oak.submit("/mine/fulfil")
    reply_to(Visitor(elm.test_client()), post_id, "C from Elm")  # Elm's copy is full now
    (tmp_path / "s2").mkdir()
    folder = _copy_of_backup(oak, tmp_path / "s2", "Oak")
    store = elm.extensions["kiosk"].store
    result = exchange.merge(store, exchange.read_backup(folder), now=utcnow(), handle="t")
    post = opened(store.get_post(post_id), code)
    assert result["not_kept"] == 1 and post["status"] == "fulfilled" and post.get("matched_reply") is None
    assert sorted(r["message"] for r in post["replies"]) == ["A from Elm", "C from Elm"]
    (tmp_path / "s3").mkdir()
    exchange.read_backup(_copy_of_backup(elm, tmp_path / "s3", "Elm"))  # this kiosk's backups still restore
