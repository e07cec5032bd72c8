"""Issue 6: export, backup, restore and merge through a folder standing in for a USB stick."""

from __future__ import annotations

import csv
import datetime as dt
import errno
import hashlib
import io
import json
import os
import re
from pathlib import Path

import pytest

from kiosk.core.times import utcnow
from kiosk.board import lifecycle
from kiosk.core import usb
from kiosk.web import audit, exchange, gate
from kiosk.web.csvfile import safe_cell
from kiosk.cli import main as kiosk_main
from kiosk.core.store import Store

from backups import BACKUP_PASSPHRASE, full_export, lines_of, plain_full_export, read_backup
from conftest import TEST_SCRYPT_N, Visitor, kiosk_in_namespace, needs_namespaces
from test_coordinate import PASSPHRASE, act, unlock
from test_replies import reply_to


def data_bytes(data_dir) -> dict:
    return {str(p.relative_to(data_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(data_dir).rglob("*.json"))}


@pytest.fixture
def stick(tmp_path):
    folder = tmp_path / "media" / "STICK"
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def busy_app(make_app):
    """A kiosk with open, matched and closed posts, a thread, a setting and a coordinator."""
    app = make_app(NAME="Elm Street Aid")
    poster, helper = Visitor(app.test_client()), Visitor(app.test_client())
    post_id, code = poster.create(title="Soup for two", details="Lentils, «merci», 😀")
    reply_id, _ = reply_to(helper, post_id, "I cook on Fridays")
    poster.unlock(code)
    poster.submit(f"/mine/replies/{reply_id}/accept", form_url="/mine")
    poster.submit("/mine/thread", message="A private word about Friday")
    closed_id, closed_code = poster.create(title="Old ladder")
    poster.unlock(closed_code)
    poster.submit("/mine/fulfil")
    poster.create("offer", title="مساعدة في الترجمة", category="translation")
    store = app.extensions["kiosk"].store
    gate.add(store, "Heron", PASSPHRASE, by="t", now=utcnow(), scrypt_n=TEST_SCRYPT_N)
    from kiosk.web import settings

    settings.change_category(store, "add", "", "Pet care")
    return app


def merge(store: Store, folder) -> dict:
    return exchange.merge(store, read_backup(folder), now=utcnow(), handle="Heron")


def restore(store: Store, folder):
    return exchange.restore(store.data_dir, read_backup(folder), now=utcnow(), handle="Heron", store=store)


def backup_lines(folder) -> list[dict]:
    return lines_of(folder)


def write_backup(folder, lines: list[dict]) -> Path:
    """A plain backup folder holding ``lines`` (as kiosks wrote them before backups were
    encrypted), with a manifest whose checksum fits (as a hostile or careless volunteer would
    make one)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = b"".join(json.dumps(line, ensure_ascii=False).encode() + b"\n" for line in lines)
    (folder / "backup.jsonl").write_bytes(data)
    (folder / "manifest.json").write_text(json.dumps({"schema": 2, "kind": "mutual-aid-kiosk-export",
                                                      "files": {"backup.jsonl": hashlib.sha256(data).hexdigest()}}))
    return folder


def all_posts(store: Store) -> dict:
    found = {p["id"]: p for p in store.live_posts()}
    for month in store.archived_months():
        found.update({p["id"]: p for p in store.archived_posts(month)})
    return found


def test_full_export_then_restore_into_an_empty_folder_gives_everything_back(busy_app, stick, tmp_path, runner):
    store = busy_app.extensions["kiosk"].store
    made = full_export(store, stick, kiosk_name="Elm Street Aid")
    before = all_posts(store)
    empty = tmp_path / "new-data"
    result = runner.invoke(kiosk_main, ["import", "--from", str(made), "--replace", "--yes", "--data", str(empty)],
                           input=BACKUP_PASSPHRASE + "\n")
    assert result.exit_code == 0, result.output
    restored = Store(empty)
    try:
        assert all_posts(restored) == before
        thread = next(p for p in all_posts(restored).values() if p.get("replies"))["replies"][0]["thread"]
        assert len(thread) == 1  # sealed to its tickets, which read it back (test_backup_encryption.py)
        assert restored.get_meta("settings") == store.get_meta("settings")
        assert gate.handles(restored) == ["Heron"]
        assert gate.verify(restored, "Heron", PASSPHRASE, TEST_SCRYPT_N).handle == "Heron"
        assert list((empty / "backups").iterdir()), "the data from before is kept"
    finally:
        restored.close()


def test_anonymized_export_holds_no_code_hash_and_no_thread_text(busy_app, stick):
    store = busy_app.extensions["kiosk"].store
    made = exchange.export(store, stick, kiosk_name="Elm", now=utcnow())
    names = sorted(p.name for p in made.iterdir())
    assert names == ["checkins.csv", "manifest.json", "network", "posts.csv", "summary.csv"]
    # network/ carries the kiosk's records for kiosks with no link (test_network_usb.py): what every
    # kiosk of a network holds anyway, post text, replies and messages sealed, and the tickets'
    # check data, so a post's ticket works at every kiosk (README, threat model). The spreadsheets
    # for the meeting hold none of it.
    sheets = b"".join(p.read_bytes() for p in made.iterdir() if p.is_file())
    records = b"".join(p.read_bytes() for p in (made / "network").rglob("*") if p.is_file())
    for raw in (sheets, records):
        assert b"A private word about Friday" not in raw and b"I cook on Fridays" not in raw
    for post in all_posts(store).values():
        secrets = [value for value in post["claim"].values() if isinstance(value, str) and len(value) >= 16]
        assert secrets and all(value.encode() not in sheets for value in secrets), post["claim"]  # salt, check, key
        assert all(value.encode() in records for value in secrets)  # as every kiosk of the network receives them
    assert b"scrypt" not in sheets and b"salt" not in sheets


def test_csv_round_trips_every_kind_of_text(make_app, stick):
    app = make_app()
    visitor = Visitor(app.test_client())
    tricky = {
        "accents": "Café, crème brûlée — señora Núñez",
        "emoji": "Soup 🍲 for 2 👩‍👧",
        "rtl": "أحتاج مساعدة في الترجمة",
        "quotes": 'She said "hello", then \'bye\'',
    }
    for title in tricky.values():
        visitor.create(title=title, details="line one\nline two, with a comma\n\"quoted\"", contact_ok="yes")
    made = exchange.export(app.extensions["kiosk"].store, stick, kiosk_name="K", now=utcnow())
    data = (made / "posts.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert {r["title"] for r in rows} == set(tricky.values())
    assert all(r["details"] == "line one\nline two, with a comma\n\"quoted\"" for r in rows)


def test_spreadsheet_formulas_are_neutralised(make_app, stick):
    app = make_app()
    visitor = Visitor(app.test_client())
    for title in ('=HYPERLINK("http://evil","click")', "+1+1", "-2", "@SUM(A1)"):
        visitor.create(title=title)
    made = exchange.export(app.extensions["kiosk"].store, stick, kiosk_name="K", now=utcnow())
    rows = list(csv.DictReader(io.StringIO((made / "posts.csv").read_text("utf-8-sig"), newline="")))
    assert sorted(r["title"] for r in rows) == sorted(["'=HYPERLINK(\"http://evil\",\"click\")", "'+1+1", "'-2", "'@SUM(A1)"])
    assert safe_cell("\tx") == "'\tx" and safe_cell("\rx") == "'\rx"


def test_folder_names_are_valid_on_fat32(make_app, stick):
    app = make_app()
    made = exchange.export(app.extensions["kiosk"].store, stick, kiosk_name='Café: "Main"/Hall*?<>|', now=utcnow())
    assert not re.search(r'[:<>"/\\|?*]', made.name) and len(made.name) < 100
    assert re.fullmatch(r"Caf-Main-Hall-\d{4}-\d\d-\d\d_\d{6}", made.name)


def test_merge_is_idempotent_and_the_newest_update_wins(make_app, tmp_path, stick):
    here = make_app(NAME="Here")
    other = make_app(NAME="There", DATA_DIR=str(tmp_path / "there"))
    local_id, _ = Visitor(here.test_client()).create(title="Ours")
    theirs_visitor = Visitor(other.test_client())
    their_id, their_code = theirs_visitor.create(title="Theirs, first version")
    other_store = other.extensions["kiosk"].store
    first = plain_full_export(other_store, stick, kiosk_name="There")

    store = here.extensions["kiosk"].store
    assert merge(store, first) == {"added": 1, "updated": 0, "renumbered": 0, "not_kept": 0}
    page = here.test_client().get(f"/p/{their_id}").get_data(as_text=True)
    assert "Theirs, first version" in page and "There" in page  # shows where it came from
    files = data_bytes(here.config["DATA_DIR"])
    assert merge(store, first) == {"added": 0, "updated": 0, "renumbered": 0, "not_kept": 0}
    assert data_bytes(here.config["DATA_DIR"]) == files

    # A newer edit over there wins; an older copy never overwrites a newer one.
    later = utcnow() + dt.timedelta(days=1)  # newer, and not beyond what a merge trusts
    lifecycle.edit(other_store, their_id, {"category": "food", "title": "Theirs, edited"}, now=later)
    second_stick = stick.parent / "STICK2"
    second_stick.mkdir()
    second = plain_full_export(other_store, second_stick, kiosk_name="There")
    assert merge(store, second) == {"added": 0, "updated": 1, "renumbered": 0, "not_kept": 0}
    assert merge(store, first) == {"added": 0, "updated": 0, "renumbered": 0, "not_kept": 0}
    assert store.get_post(their_id)["title"] == "Theirs, edited"
    assert store.get_post(local_id)["title"] == "Ours"


def _break(folder: Path, how: str) -> None:
    backup = folder / "backup.age" if (folder / "backup.age").exists() else folder / "backup.jsonl"
    manifest = json.loads((folder / "manifest.json").read_text())
    if how == "truncated":
        backup.write_bytes(backup.read_bytes()[:100])
    elif how == "edited" and backup.suffix == ".age":  # one bit of the encrypted text
        data = bytearray(backup.read_bytes())
        data[-100] ^= 1
        backup.write_bytes(bytes(data))
    elif how == "edited":
        backup.write_text(backup.read_text().replace("Soup for two", "Soup for ten"))
    elif how == "wrong-version":
        manifest["schema"] = 99
        (folder / "manifest.json").write_text(json.dumps(manifest))
    elif how == "missing-file":
        (folder / "summary.csv").unlink()
    elif how == "not-a-backup":
        (folder / "manifest.json").unlink()
    elif how == "garbage-manifest":
        (folder / "manifest.json").write_text("{nope")


@pytest.mark.parametrize("how,code", [
    ("truncated", "checksum"), ("edited", "checksum"), ("wrong-version", "version"),
    ("missing-file", "incomplete"), ("not-a-backup", "not-backup"), ("garbage-manifest", "not-backup"),
])
def test_bad_backups_are_refused_and_change_nothing(busy_app, stick, runner, tmp_path, how, code):
    store = busy_app.extensions["kiosk"].store
    made = full_export(store, stick, kiosk_name="Elm")
    _break(made, how)
    with pytest.raises(exchange.ExchangeError) as refused:
        read_backup(made)
    assert refused.value.code == code
    # Through the command line, on another data folder: a clear message, files untouched.
    target = tmp_path / "target"
    Visitor  # noqa: B018 - (the target gets one post so there is something to protect)
    target_store = Store(target)
    target_store.close()
    before = data_bytes(target)
    for mode in ("--replace", "--merge"):
        result = runner.invoke(kiosk_main, ["import", "--from", str(made), mode, "--yes", "--data", str(target)],
                               input=BACKUP_PASSPHRASE + "\n")
        assert result.exit_code == 1 and "kiosk: " in result.output
    assert data_bytes(target) == before


def test_anonymized_export_cannot_be_restored(busy_app, stick):
    made = exchange.export(busy_app.extensions["kiosk"].store, stick, kiosk_name="Elm", now=utcnow())
    with pytest.raises(exchange.ExchangeError) as refused:
        exchange.read_backup(made)
    assert refused.value.code == "no-full"


def test_a_full_stick_gives_a_clear_message_and_nothing_a_restore_would_take(busy_app, stick):
    class FillsUp(io.FileIO):
        """A file on a stick with 2 KB left."""

        room = [2048]

        def write(self, data):
            if len(data) > self.room[0]:
                raise OSError(errno.ENOSPC, "No space left on device")
            self.room[0] -= len(data)
            return super().write(data)

    with pytest.raises(exchange.ExchangeError) as refused:
        exchange.export(busy_app.extensions["kiosk"].store, stick, kiosk_name="Elm", now=utcnow(),
                        full=True, passphrase=BACKUP_PASSPHRASE, opener=lambda path: FillsUp(path, "xb"))
    assert refused.value.code == "full"
    assert list(stick.iterdir()) == []  # no half folder left behind
    assert usb.exports_on(str(stick)) == []


@needs_namespaces
def test_a_read_only_stick_says_so(busy_app, stick):
    """A stick with its lock switch on is mounted read-only (chmod would not stop root in CI)."""
    busy_app.extensions["kiosk"].store.close()
    result = kiosk_in_namespace('mount --bind "$STICK" "$STICK"; mount -o remount,bind,ro "$STICK"\n'
                                'printf "%s\\n" "$PASS" | kiosk export --full --to "$STICK" --data "$DATA"',
                                {"STICK": str(stick), "DATA": busy_app.config["DATA_DIR"], "PASS": BACKUP_PASSPHRASE})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the folder is read-only (a stick's lock switch?)" in result.stderr
    assert "safe to unplug" not in result.stdout


@needs_namespaces
def test_a_really_full_stick_says_so_and_leaves_nothing(busy_app, stick):
    busy_app.extensions["kiosk"].store.close()
    result = kiosk_in_namespace('mount -t tmpfs -o size=64k tmpfs "$STICK"\n'
                                'dd if=/dev/zero of="$STICK/photos" bs=4k count=14 2>/dev/null || true\n'
                                'printf "%s\\n" "$PASS" | kiosk export --full --to "$STICK" --data "$DATA" || status=$?\n'
                                'ls -A "$STICK"; exit "${status:-0}"',
                                {"STICK": str(stick), "DATA": busy_app.config["DATA_DIR"], "PASS": BACKUP_PASSPHRASE})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "full" in result.stderr.lower()
    assert result.stdout.split() == ["photos"]  # no half-written export folder left behind


def test_cli_export_works_beside_a_running_kiosk_and_reports_progress(busy_app, stick, runner):
    result = runner.invoke(kiosk_main, ["export", "--to", str(stick), "--full", "--data", busy_app.config["DATA_DIR"]],
                           input=BACKUP_PASSPHRASE + "\n")
    assert result.exit_code == 0, result.output
    assert "safe to unplug" in result.output and "posts: " in result.output and "encrypt: " in result.output
    assert "Keep the stick safe" in result.output
    assert len(usb.exports_on(str(stick))) == 1


def test_the_backup_on_the_stick_is_readable_only_by_its_owner(busy_app, stick):
    """FAT sticks are mounted umask=077; an ext4 stick keeps modes, so the files carry their own."""
    old = os.umask(0o022)
    try:
        made = full_export(busy_app.extensions["kiosk"].store, stick, kiosk_name="Elm")
    finally:
        os.umask(old)
    assert (made / "backup.age").stat().st_mode & 0o777 == 0o600
    assert (made / "posts.csv").stat().st_mode & 0o077 == 0


def test_sticks_are_found_with_label_and_free_space(stick):
    found = usb.find(str(stick.parent))
    assert [(s.label, s.writable) for s in found] == [("STICK", True)]
    assert found[0].free > 0


# -- on screen --------------------------------------------------------------------------------


@pytest.fixture
def coord_on(busy_app, stick):
    busy_app.config["USB_ROOTS"] = str(stick.parent)
    client = busy_app.test_client()
    assert unlock(client).status_code == 303
    return Visitor(client)


def wait_for_job(client, url: str) -> str:
    for _ in range(500):  # bounded; the export of a few posts takes milliseconds
        html = client.get(url).get_data(as_text=True)
        if "<progress" not in html:
            return html
        import time

        time.sleep(0.01)
    raise AssertionError("export did not finish")


def test_screen_export_shows_progress_and_says_when_it_is_safe_to_unplug(busy_app, coord_on, stick):
    page = coord_on.client.get("/coordinate/export").get_data(as_text=True)
    assert "STICK" in page and "free" in page and "SENSITIVE" in page
    response = act(coord_on, "/coordinate/export", stick=str(stick), full="yes", passphrase=BACKUP_PASSPHRASE,
                   passphrase_again=BACKUP_PASSPHRASE)
    assert response.status_code == 303
    html = wait_for_job(coord_on.client, response.headers["Location"])
    assert "safe to unplug" in html
    assert len(usb.exports_on(str(stick))) == 1
    assert read_backup(usb.exports_on(str(stick))[0]).counts["posts"] == 3
    assert ("Heron", "export") in [(e["handle"], e["action"]) for e in audit.trail(busy_app.extensions["kiosk"].store)]


def test_no_sealed_note_goes_on_a_stick_in_plain(busy_app, coord_on, stick):
    """Check-in notes are sealed to the coordinators and read on screen: even an unlocked
    coordinator's export carries only how many came each month (a stick is carried home, and lost)."""
    assert Visitor(busy_app.test_client()).submit("/check-in", working="Soup on Fridays").status_code == 303
    response = act(coord_on, "/coordinate/export", stick=str(stick))
    assert "safe to unplug" in wait_for_job(coord_on.client, response.headers["Location"])
    (folder,) = usb.exports_on(str(stick))
    assert all(b"Soup on Fridays" not in path.read_bytes() for path in folder.rglob("*") if path.is_file())
    rows = list(csv.reader(io.StringIO((folder / "checkins.csv").read_text("utf-8-sig"))))
    assert rows[0] == ["month", "notes"] and rows[1][1] == "1"
    assert "Soup on Fridays" in coord_on.client.get("/coordinate/check-ins").get_data(as_text=True)


def confirmation(preview) -> dict:
    """The confirm button's form, as the preview page holds it."""
    html = preview.get_data(as_text=True)
    return {name: re.search(rf'name="{name}" value="([^"]*)"', html).group(1) for name in ("digest", "key")}


def look_then_confirm(coord: Visitor, folder, mode: str, passphrase: str = BACKUP_PASSPHRASE):
    """What a coordinator does: pick the backup, type its passphrase, read what would change,
    confirm."""
    preview = act(coord, "/coordinate/import", folder=str(folder), mode=mode, passphrase=passphrase)
    assert preview.status_code == 200, preview.get_data(as_text=True)
    return act(coord, "/coordinate/import", folder=str(folder), mode=mode, confirm="yes", **confirmation(preview))


def test_screen_merge_previews_then_merges(busy_app, coord_on, stick, tmp_path, make_app):
    other = make_app(NAME="There", DATA_DIR=str(tmp_path / "there"))
    their_id, _ = Visitor(other.test_client()).create(title="From the other center")
    folder = full_export(other.extensions["kiosk"].store, stick, kiosk_name="There")
    asked = act(coord_on, "/coordinate/import", folder=str(folder), mode="merge")
    assert asked.status_code == 200 and 'name="passphrase"' in asked.get_data(as_text=True)
    preview = act(coord_on, "/coordinate/import", folder=str(folder), mode="merge", passphrase=BACKUP_PASSPHRASE)
    assert "Merging adds 1 posts" in preview.get_data(as_text=True)
    assert BACKUP_PASSPHRASE not in preview.get_data(as_text=True)
    assert busy_app.extensions["kiosk"].store.get_post(their_id) is None  # nothing yet
    done = act(coord_on, "/coordinate/import", folder=str(folder), mode="merge", confirm="yes", **confirmation(preview))
    assert done.status_code == 303
    assert busy_app.extensions["kiosk"].store.get_post(their_id)["title"] == "From the other center"


def test_a_confirmation_is_for_the_backup_seen_and_is_acted_on_once(busy_app, coord_on, stick, tmp_path):
    store = busy_app.extensions["kiosk"].store
    folder = full_export(store, stick, kiosk_name="Elm")
    preview = act(coord_on, "/coordinate/import", folder=str(folder), mode="replace", passphrase=BACKUP_PASSPHRASE)
    # Meanwhile, someone copies another backup over the one previewed.
    Visitor(busy_app.test_client()).create(title="Not what was seen")
    swapped = full_export(store, tmp_path, kiosk_name="Elm")
    for name in ("backup.age", "manifest.json"):
        (folder / name).write_bytes((swapped / name).read_bytes())
    before = data_bytes(busy_app.config["DATA_DIR"])
    refused = act(coord_on, "/coordinate/import", folder=str(folder), mode="replace", confirm="yes", **confirmation(preview))
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "not the one you looked at" in page and "Yes, restore" in page
    assert data_bytes(busy_app.config["DATA_DIR"]) == before
    # Confirmed after a second look: done once; the same confirmation sent again does nothing.
    again = confirmation(refused)
    cookie = coord_on.client.get_cookie("kiosk").value  # a double tap sends the same cookie twice
    assert act(coord_on, "/coordinate/import", folder=str(folder), mode="replace", confirm="yes", **again).status_code == 303
    after = data_bytes(busy_app.config["DATA_DIR"])
    coord_on.client.set_cookie("kiosk", cookie)
    repeat = act(coord_on, "/coordinate/import", folder=str(folder), mode="replace", confirm="yes", **again)
    # The restore locked every session (their keys belonged to the data from before): the double
    # tap meets the unlock page, and nothing happens twice.
    assert repeat.status_code == 303 and repeat.headers["Location"].endswith("/coordinate")
    assert data_bytes(busy_app.config["DATA_DIR"]) == after
    assert unlock(coord_on.client).status_code == 303
    after = data_bytes(busy_app.config["DATA_DIR"])
    repeat = act(coord_on, "/coordinate/import", folder=str(folder), mode="replace", confirm="yes", **again)
    assert repeat.status_code == 409 and "confirmed already" in repeat.get_data(as_text=True)
    assert data_bytes(busy_app.config["DATA_DIR"]) == after
    # A confirmation this browser was never shown is not acted on either: it has no passphrase.
    forged = act(coord_on, "/coordinate/import", folder=str(folder), mode="replace", confirm="yes",
                 digest=again["digest"], key="guessed")
    assert forged.status_code == 409 and 'name="passphrase"' in forged.get_data(as_text=True)
    odd = act(coord_on, "/coordinate/import", folder=str(folder), mode="replace", confirm="yes", digest="ü", key="é")
    assert odd.status_code == 409
    assert data_bytes(busy_app.config["DATA_DIR"]) == after


def test_screen_refuses_a_tampered_backup(busy_app, coord_on, stick):
    store = busy_app.extensions["kiosk"].store
    folder = full_export(store, stick, kiosk_name="Elm")
    _break(folder, "edited")
    before = data_bytes(busy_app.config["DATA_DIR"])
    response = act(coord_on, "/coordinate/import", folder=str(folder), mode="replace", passphrase=BACKUP_PASSPHRASE)
    assert response.status_code == 422 and "does not match its checksum" in response.get_data(as_text=True)
    assert data_bytes(busy_app.config["DATA_DIR"]) == before


def test_a_backup_with_good_checksums_but_bad_content_is_refused(busy_app, stick, tmp_path, runner):
    store = busy_app.extensions["kiosk"].store
    made = plain_full_export(store, stick, kiosk_name="Elm")
    lines = backup_lines(made)
    for breakage in ("no-status", "bad-id", "no-end"):
        broken = json.loads(json.dumps(lines))
        post = next(line for line in broken if line["t"] == "post")["post"]
        if breakage == "no-status":
            post.pop("status")
        elif breakage == "bad-id":
            post["id"] = "../x"
        else:
            broken.pop()
        folder = write_backup(stick.parent / f"broken-{breakage}", broken)
        with pytest.raises(exchange.ExchangeError) as refused:
            exchange.read_backup(folder)
        assert refused.value.code == "invalid", breakage


def test_hidden_posts_keep_their_text_out_of_the_spreadsheet(busy_app, stick):
    from kiosk.board import moderation

    store = busy_app.extensions["kiosk"].store
    post_id = next(p["id"] for p in store.live_posts() if p["status"] == "open")
    secret_title = store.get_post(post_id)["title"]
    moderation.hide(store, post_id, "personal data", "Heron", utcnow())
    made = exchange.export(store, stick, kiosk_name="Elm", now=utcnow())
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO((made / "posts.csv").read_text("utf-8-sig"), newline=""))}
    assert rows[post_id]["status"] == "hidden" and rows[post_id]["title"] == ""
    assert secret_title.encode() not in (made / "posts.csv").read_bytes()


def test_merge_keeps_local_moderation_and_local_replies(make_app, tmp_path, stick):
    from kiosk.board import moderation

    here = make_app(NAME="Here")
    other = make_app(NAME="There", DATA_DIR=str(tmp_path / "there"))
    their_id, _ = Visitor(other.test_client()).create(title="Shared post")
    other_store, store = other.extensions["kiosk"].store, here.extensions["kiosk"].store
    first = plain_full_export(other_store, stick, kiosk_name="There")
    merge(store, first)
    moderation.hide(store, their_id, "reported here", "Heron", utcnow())
    later = utcnow() + dt.timedelta(days=1)  # newer, and not beyond what a merge trusts
    lifecycle.edit(other_store, their_id, {"category": "food", "title": "Shared post, edited"}, now=later)
    second_stick = stick.parent / "S2"
    second_stick.mkdir()
    second = plain_full_export(other_store, second_stick, kiosk_name="There")
    assert merge(store, second) == {"added": 0, "updated": 1, "renumbered": 0, "not_kept": 0}
    merged = store.get_post(their_id)
    assert merged["title"] == "Shared post, edited" and merged["hidden"]["reason"] == "reported here"
    assert merged["merged_from"] == "There"


def test_restore_keeps_the_audit_trail(busy_app, stick, tmp_path):
    store = busy_app.extensions["kiosk"].store
    audit.log(store, "Heron", "hide", "OLD01", utcnow())
    made = full_export(store, stick, kiosk_name="Elm")
    audit.log(store, "Heron", "export", made.name, utcnow())  # after the backup
    restore(store, made)
    actions = [(e["action"], e["target"]) for e in audit.trail(store)]
    assert ("export", made.name) in actions and ("hide", "OLD01") in actions
    assert actions.count(("hide", "OLD01")) == 1


def test_import_refuses_both_replace_and_merge(runner, tmp_path):
    result = runner.invoke(kiosk_main, ["import", "--from", str(tmp_path), "--replace", "--merge", "--yes",
                                        "--data", str(tmp_path / "data")])
    assert result.exit_code == 2 and "not both" in result.output
    assert not (tmp_path / "data").exists()


def test_the_preview_counts_posts_that_get_new_numbers_in_words_that_fit_one(busy_app, coord_on, stick, tmp_path):
    from test_data_safety import first_post, with_end

    store = busy_app.extensions["kiosk"].store
    lines = lines_of(plain_full_export(store, tmp_path, kiosk_name="Elm"))
    lines[0]["id"] = "ZZZZZZZZZZ"  # another kiosk, whose one post has a number this kiosk uses
    theirs = {"t": "post", "post": {**first_post(lines), "home": "ZZZZZZZZZZ"}}
    write_backup(stick / "Oak-2026-01-01_000000", with_end([line for line in lines if line["t"] != "post"] + [theirs]))
    preview = act(coord_on, "/coordinate/import", folder=str(stick / "Oak-2026-01-01_000000"), mode="merge")
    assert "1 new post gets a new number here" in preview.get_data(as_text=True)
    from test_screen import choose

    choose(coord_on.client, "es", "/coordinate", page="/coordinate")
    preview = act(coord_on, "/coordinate/import", folder=str(stick / "Oak-2026-01-01_000000"), mode="merge")
    assert "1 publicación nueva recibe un número nuevo aquí" in preview.get_data(as_text=True)
