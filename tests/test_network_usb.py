"""Issue 18, point 5: a stick still works. Every export carries the network's records; a kiosk
with no link applies them from the import page (or ``kiosk network apply``), with the same
checks as Syncthing's copies, and applying them again changes nothing."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from kiosk.cli import main as kiosk_main
from kiosk.core import usb
from kiosk.core.times import utcnow
from kiosk.network import inbox
from kiosk.web import audit, exchange

from backups import full_export, read_backup
from conftest import Visitor, add_coordinator, unlock_coordinator
from network_kiosks import Kiosk, reply_at, started

NAMES = {"a": "Library", "b": "Church hall", "d": "Youth club"}


@pytest.fixture
def kiosks(tmp_path):
    """A and B linked (their folders copied both ways, as Syncthing does), D with no link."""
    with started(tmp_path, NAMES) as made:
        yield made["a"], made["b"], made["d"]


@pytest.fixture
def stick(tmp_path):
    folder = tmp_path / "media" / "STICK"
    folder.mkdir(parents=True)
    return folder


def files_of(data: Path) -> dict:
    """Every file of a data folder and its checksum (more than test_exchange's data_bytes: the
    journal and the network folder too)."""
    return {str(p.relative_to(data)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(data.rglob("*")) if p.is_file()}


def exported_to(d: Kiosk, a: Kiosk, b: Kiosk, stick: Path):
    """A linked A and B, B's export on the stick, and a coordinator at D with the stick in."""
    linked_network(a, b)
    return exchange.export(b.store, stick, kiosk_name="Church hall", now=utcnow()), coordinator_at(d, stick)


def linked_network(a: Kiosk, b: Kiosk) -> dict:
    """Posts at each, a reply written at B to A's post, accepted at A: B holds all of it."""
    post_id, code = a.visitor().create("request", title="Soup for the Tuesday supper", category="food")
    a.visitor().create("offer", title="Bread on Fridays", category="food")
    coats_id, _ = b.visitor().create("offer", title="Spare winter coats", category="tools-and-items")
    b.receive(a)
    reply_id, reply_code = reply_at(b.visitor(), post_id, "I can cook lentil soup for twelve")
    a.receive(b)
    poster = a.visitor()
    poster.unlock(code)
    assert poster.submit(f"/mine/replies/{reply_id}/accept", form_url="/mine").status_code == 303
    b.receive(a)
    assert b.post_of(a, post_id)["status"] == "matched"
    return {"post": post_id, "code": code, "coats": coats_id, "reply_code": reply_code}


def coordinator_at(kiosk: Kiosk, stick: Path) -> Visitor:
    kiosk.app.config["USB_ROOTS"] = str(stick.parent)
    add_coordinator(kiosk.app)
    client = kiosk.app.test_client()
    assert unlock_coordinator(client).status_code == 303
    return Visitor(client)


def act(coord: Visitor, **fields):
    return coord.submit("/coordinate/import", form_url="/coordinate/import", **fields)


def confirm_form(preview) -> dict:
    html = preview.get_data(as_text=True)
    return {name: re.search(rf'name="{name}" value="([^"]*)"', html).group(1) for name in ("digest", "key")}


def apply_through_the_screen(coord: Visitor, folder: Path) -> tuple[str, str]:
    """What a coordinator does: pick the export, read what would be applied, confirm.
    Returns (the preview's text, the message after)."""
    preview = act(coord, folder=str(folder), mode="network")
    assert preview.status_code == 200, preview.get_data(as_text=True)[:2000]
    done = act(coord, folder=str(folder), mode="network", confirm="yes", **confirm_form(preview))
    assert done.status_code == 303, done.get_data(as_text=True)[:2000]
    return preview.get_data(as_text=True), coord.client.get(done.headers["Location"]).get_data(as_text=True)


def test_an_export_carries_every_kiosks_records_in_whole_lines(kiosks, stick):
    a, b, d = kiosks
    linked_network(a, b)
    # Syncthing is still writing a line into A's folder at B: the export leaves it for next time.
    segment = next((b.peer_folder(a) / "records").glob("*.jsonl"))
    whole = segment.read_bytes()
    segment.write_bytes(whole + b'{"v":1,"kiosk":"half a li')
    made = exchange.export(b.store, stick, kiosk_name="Church hall", now=utcnow())
    for kiosk in (a, b):
        folder = made / "network" / kiosk.store.kiosk_id
        assert json.loads((folder / "kiosk.json").read_bytes())["kiosk"] == kiosk.store.kiosk_id
        assert list((folder / "records").glob("*.jsonl"))
    assert (made / "network" / a.store.kiosk_id / "records" / segment.name).read_bytes() == whole
    manifest = json.loads((made / "manifest.json").read_text())
    name = f"network/{a.store.kiosk_id}/records/{segment.name}"
    assert manifest["files"][name] == hashlib.sha256(whole).hexdigest()
    # A full backup with the records beside it still restores: the manifest's names with folders pass.
    full = full_export(b.store, stick.parent, kiosk_name="Church hall")
    assert (full / "network" / a.store.kiosk_id / "kiosk.json").is_file()
    assert read_backup(full).counts["posts"] == 3


def test_the_stick_brings_the_network_to_an_unlinked_kiosk_once(kiosks, stick):
    a, b, d = kiosks
    made = linked_network(a, b)
    folder = exchange.export(b.store, stick, kiosk_name="Church hall", now=utcnow())
    coord = coordinator_at(d, stick)
    page = coord.client.get("/coordinate/import").get_data(as_text=True)
    assert "Apply the network records" in page and "never removes anything" in page
    assert "also carries the network records" in coord.client.get("/coordinate/export").get_data(as_text=True)
    before = files_of(d.data)
    preview, message = apply_through_the_screen(coord, folder)
    assert "Library: 3 records, 3 new here." in preview and "Church hall: 2 records, 2 new here." in preview
    assert "5 records applied, 0 waiting for a post not yet here, 0 set aside" in message
    assert files_of(d.data) != before
    board = d.board()  # the open posts, each with its home's name
    for text in ("Bread on Fridays", "Spare winter coats", "Library", "Church hall"):
        assert text in board, text
    page = d.app.test_client().get(f"/p/{made['post']}").get_data(as_text=True)  # matched: off the board
    assert "Soup for the Tuesday supper" in page and "Library" in page
    post = d.post_of(a, made["post"])
    assert post["status"] == "matched" and len(post["replies"]) == 1
    assert b"lentil soup" not in d.folder_text()  # the reply came sealed, as it was written
    helper = d.visitor()  # and the helper's ticket opens it at the youth club
    helper.unlock(made["reply_code"])
    assert "lentil soup" in helper.client.get("/mine").get_data(as_text=True)
    assert ("Heron", "apply-records") in [(e["handle"], e["action"]) for e in audit.trail(d.store)]

    # Again: nothing new, not one byte of the data folder changed.
    after = files_of(d.data)
    preview, message = apply_through_the_screen(coord, folder)
    assert "Nothing on this stick is new here" in preview
    assert "Nothing new was applied" in message
    assert files_of(d.data) == after
    assert inbox.set_aside(d.store) == []


def test_a_record_edited_by_hand_on_the_stick_is_set_aside_never_applied(kiosks, stick):
    a, b, d = kiosks
    linked_network(a, b)
    folder = exchange.export(b.store, stick, kiosk_name="Church hall", now=utcnow())
    segment = next((folder / "network" / b.store.kiosk_id / "records").glob("*.jsonl"))
    segment.write_bytes(segment.read_bytes().replace(b"Spare winter coats", b"Spare winter boots"))
    coord = coordinator_at(d, stick)
    preview, message = apply_through_the_screen(coord, folder)
    assert "1 set aside (see Network)" in message
    assert "Spare winter" not in d.board() and "Bread on Fridays" in d.board()
    refused = inbox.set_aside(d.store)
    assert refused[0]["name"] == "Church hall" and "signature" in refused[0]["why"]
    after = files_of(d.data)
    assert "Nothing new was applied" in apply_through_the_screen(coord, folder)[1]
    assert files_of(d.data) == after


def test_a_kiosk_whose_key_changed_on_the_stick_waits_for_a_coordinator(kiosks, stick):
    a, b, d = kiosks
    folder, coord = exported_to(d, a, b, stick)
    apply_through_the_screen(coord, folder)
    about = folder / "network" / a.store.kiosk_id / "kiosk.json"
    shown = json.loads(about.read_bytes())
    about.write_text(json.dumps({**shown, "key": b.store.changes.key}))  # a key that is not A's
    a.visitor().create("request", title="Chairs for the meeting", category="tools-and-items")
    b.receive(a)
    shutil.copytree(b.peer_folder(a) / "records", folder / "network" / a.store.kiosk_id / "records", dirs_exist_ok=True)
    preview, message = apply_through_the_screen(coord, folder)
    assert "its key is not the one this kiosk knows" in preview and "Nothing new was applied" in message
    assert "Chairs for the meeting" not in d.board()
    assert [p["changed_key"] for p in inbox.peer_status(d.store) if p["kiosk"] == a.store.kiosk_id] == [b.store.changes.key]


@pytest.mark.parametrize("how", ["no-kiosk-json", "garbage-kiosk-json", "another-kiosks-name"])
def test_a_stick_folder_without_a_good_kiosk_json_is_refused_whole(kiosks, stick, how):
    a, b, d = kiosks
    linked_network(a, b)
    folder = exchange.export(b.store, stick, kiosk_name="Church hall", now=utcnow())
    theirs = folder / "network" / a.store.kiosk_id
    if how == "no-kiosk-json":
        (theirs / "kiosk.json").unlink()
    elif how == "garbage-kiosk-json":
        (theirs / "kiosk.json").write_text("{nope")
    else:
        theirs.rename(folder / "network" / "ZZZZZZZZZZ")
    coord = coordinator_at(d, stick)
    before = files_of(d.data)
    refused = act(coord, folder=str(folder), mode="network")
    assert refused.status_code == 422
    assert "no readable kiosk.json" in refused.get_data(as_text=True) and "Nothing was applied" in refused.get_data(as_text=True)
    assert files_of(d.data) == before


def test_a_stick_taken_out_after_the_preview_is_said_so(kiosks, stick):
    a, b, d = kiosks
    folder, coord = exported_to(d, a, b, stick)
    preview = act(coord, folder=str(folder), mode="network")
    before = files_of(d.data)
    shutil.rmtree(stick)
    gone = act(coord, folder=str(folder), mode="network", confirm="yes", **confirm_form(preview))
    assert gone.status_code == 409 and "no longer there" in gone.get_data(as_text=True)
    assert files_of(d.data) == before
    assert usb.exports_on(str(stick)) == []


def test_a_confirmation_for_a_stick_that_changed_shows_the_preview_again(kiosks, stick):
    a, b, d = kiosks
    folder, coord = exported_to(d, a, b, stick)
    preview = act(coord, folder=str(folder), mode="network")
    b.visitor().create("request", title="A lift to the clinic", category="transportation")
    shutil.rmtree(folder / "network")
    shutil.copytree(exchange.export(b.store, stick.parent, kiosk_name="Church hall", now=utcnow()) / "network",
                    folder / "network")
    again = act(coord, folder=str(folder), mode="network", confirm="yes", **confirm_form(preview))
    assert again.status_code == 409 and "not the ones you looked at" in again.get_data(as_text=True)
    assert "Church hall: 3 records, 3 new here." in again.get_data(as_text=True)
    assert "A lift to the clinic" not in d.board()


def test_the_command_line_carries_the_records_too(kiosks, tmp_path, runner):
    a, b, d = kiosks
    made = linked_network(a, b)
    carried = tmp_path / "carried"
    carried.mkdir()
    result = runner.invoke(kiosk_main, ["network", "export", str(carried), "--data", str(b.data)])
    assert result.exit_code == 0, result.output
    assert "2 kiosk(s)" in result.output
    assert (carried / "network" / a.store.kiosk_id / "kiosk.json").is_file()
    # Beside a running kiosk (D's app holds its folder), apply refuses and changes nothing.
    before = files_of(d.data)
    busy = runner.invoke(kiosk_main, ["network", "apply", str(carried), "--data", str(d.data)])
    assert busy.exit_code == 1 and "kiosk: " in busy.output
    assert files_of(d.data) == before
    # A kiosk that is stopped: applied once, then nothing new.
    e_data = tmp_path / "e"
    Kiosk("Food bank", e_data).store.close()
    first = runner.invoke(kiosk_main, ["network", "apply", str(carried), "--data", str(e_data)])
    assert first.exit_code == 0, first.output
    assert "Library: 3 record(s), 3 new here." in first.output
    assert "5 record(s) applied, 0 waiting for a post not yet here, 0 set aside" in first.output
    after = files_of(e_data)
    second = runner.invoke(kiosk_main, ["network", "apply", str(carried), "--data", str(e_data)])
    assert second.exit_code == 0 and "Nothing new was applied" in second.output
    assert files_of(e_data) == after
    # One kiosk's folder alone works as well (a peer folder copied by hand).
    alone = runner.invoke(kiosk_main, ["network", "apply", str(carried / "network" / a.store.kiosk_id),
                                       "--data", str(e_data)])
    assert alone.exit_code == 0 and "Nothing new was applied" in alone.output
    e = Kiosk("Food bank", e_data)
    try:
        assert "Bread on Fridays" in e.board() and "Spare winter coats" in e.board()
        assert e.post_of(a, made["post"])["status"] == "matched"
    finally:
        e.store.close()


def test_an_export_of_a_kiosk_with_no_network_still_works(make_app, stick):
    app = make_app(NAME="Alone")
    Visitor(app.test_client()).create(title="Soup for one")
    made = exchange.export(app.extensions["kiosk"].store, stick, kiosk_name="Alone", now=utcnow())
    assert [p.name for p in (made / "network").iterdir()] == [app.extensions["kiosk"].store.kiosk_id]
    with pytest.raises(exchange.ExchangeError) as refused:
        exchange.read_backup(made)
    assert refused.value.code == "no-full"
