"""Issue 16, point 2: a full backup is encrypted with a passphrase the volunteer chooses, in the age
format, so that Debian's `age -d` opens it too; a restore asks for it; a wrong passphrase or a
changed byte is refused with nothing changed; old plain backups still restore; the anonymized
export stays plain."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import pytest

from kiosk.cli import main as kiosk_main
from kiosk.core import usb
from kiosk.core.store import Store
from kiosk.core.times import utcnow
from kiosk.web import exchange

from backups import BACKUP_PASSPHRASE, full_export, on_a_terminal, plain_full_export, read_backup
from conftest import Visitor
from server import kiosk_command, kiosk_env
from test_coordinate import act
from test_exchange import all_posts, busy_app, confirmation, coord_on, data_bytes, look_then_confirm, stick  # noqa: F401

AGE = shutil.which("age")


def needs_age():
    if AGE is None:
        message = "Debian's age is not installed: bash deploy/bootstrap.sh --test installs it"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)  # CI must run these, never skip them
        pytest.skip(message)


@pytest.fixture
def coord(coord_on):  # noqa: F811  (test_exchange's: unlocked, with the stick's folder as the USB root)
    return coord_on


@pytest.fixture
def target(tmp_path, make_app):
    """Another kiosk's data folder, stopped, that refused restores must leave as it is."""
    app = make_app(DATA_DIR=str(tmp_path / "target"), NAME="Target")
    Visitor(app.test_client()).create(title="Already here")
    app.extensions["kiosk"].store.close()
    return tmp_path / "target"


def flip(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 1
    path.write_bytes(bytes(data))


def swap(path: Path, at: int) -> None:
    """Another base64 character in the file's header, so that it still reads as age."""
    data = bytearray(path.read_bytes())
    data[at] = ord("B") if data[at] == ord("A") else ord("A")
    path.write_bytes(bytes(data))


def mend_checksum(folder: Path) -> None:
    """What a careful forger does after changing backup.age: the manifest's checksum made to fit."""
    import hashlib

    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["backup.age"] = hashlib.sha256((folder / "backup.age").read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_debian_age_decrypts_a_full_backup_and_nothing_private_is_plain_on_the_stick(busy_app, stick, tmp_path):
    needs_age()
    store = busy_app.extensions["kiosk"].store
    made = full_export(store, stick, kiosk_name="Elm")
    assert sorted(p.name for p in made.iterdir()) == ["backup.age", "checkins.csv", "manifest.json", "network",
                                                      "posts.csv", "summary.csv"]  # network/: test_network_usb.py
    # As a volunteer would by hand: age asks for the passphrase on the terminal.
    status, shown = on_a_terminal([AGE, "--decrypt", "--output", str(tmp_path / "backup.jsonl"),
                                   str(made / "backup.age")], [BACKUP_PASSPHRASE])
    assert status == 0, shown
    plain = (tmp_path / "backup.jsonl").read_bytes()
    assert plain == read_backup(made).plain  # what the kiosk restores
    lines = [json.loads(line) for line in plain.decode("utf-8").splitlines()]
    assert lines[0]["t"] == "kiosk" and lines[0]["id"] == store.kiosk_id and lines[-1] == {"t": "end", "lines": len(lines)}
    assert sorted(line["post"]["title"] for line in lines if line["t"] == "post") == \
        sorted(p["title"] for p in all_posts(store).values())
    # No record of the backup is anywhere on the stick in plain: not in backup.age, not beside it.
    on_stick = b"".join(p.read_bytes() for p in made.rglob("*") if p.is_file())
    assert b"mutual-aid-kiosk-backup" not in on_stick
    for line in plain.splitlines()[1:-1]:
        assert line not in on_stick


def test_the_anonymized_export_stays_plain(busy_app, stick):
    store = busy_app.extensions["kiosk"].store
    made = exchange.export(store, stick, kiosk_name="Elm", now=utcnow())
    assert not (made / "backup.age").exists() and not (made / "backup.jsonl").exists()
    assert json.loads((made / "manifest.json").read_text())["full"] is False
    assert "Soup for two" in (made / "posts.csv").read_text("utf-8-sig")  # a spreadsheet, for the meeting
    with pytest.raises(exchange.ExchangeError) as refused:
        exchange.read_backup(made)
    assert refused.value.code == "no-full"
    # Beside a full backup the spreadsheets are the same plain files.
    full = full_export(store, stick.parent, kiosk_name="Elm")
    assert (full / "posts.csv").read_text("utf-8-sig") == (made / "posts.csv").read_text("utf-8-sig")


def test_a_restore_on_screen_asks_for_the_passphrase_then_brings_the_data_back(busy_app, coord, stick):
    store = busy_app.extensions["kiosk"].store
    made = full_export(store, stick, kiosk_name="Elm")
    before = all_posts(store)
    Visitor(busy_app.test_client()).create(title="Posted after the backup")
    asked = act(coord, "/coordinate/import", folder=str(made), mode="replace")
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'type="password"' in page and "encrypted" in page
    assert "What would change" not in page  # the preview comes after the passphrase
    done = look_then_confirm(coord, made, "replace")
    assert done.status_code == 303
    assert all_posts(store) == before


def test_a_wrong_passphrase_or_a_changed_byte_is_refused_and_changes_nothing(busy_app, coord, stick, target, runner):
    store = busy_app.extensions["kiosk"].store
    made = full_export(store, stick, kiosk_name="Elm")
    here, there = data_bytes(store.data_dir), data_bytes(target)

    def refused_everywhere(expected: str, passphrase: str = BACKUP_PASSPHRASE, cli: bool = True) -> str:
        """On screen and on the command line (each decryption costs a second of scrypt)."""
        response = act(coord, "/coordinate/import", folder=str(made), mode="replace", passphrase=passphrase)
        page = response.get_data(as_text=True)
        assert response.status_code == 422 and expected in page
        if cli:
            result = runner.invoke(kiosk_main, ["import", "--from", str(made), "--replace", "--yes", "--data",
                                                str(target)], input=passphrase + "\n")
            assert result.exit_code == 1 and "kiosk: " in result.output, result.output
        assert data_bytes(store.data_dir) == here and data_bytes(target) == there
        return page

    page = refused_everywhere("That passphrase does not open this backup", "not the passphrase, sorry")
    assert 'name="passphrase"' in page  # asked again, to type it right
    original = (made / "backup.age").read_bytes()
    flip(made / "backup.age", len(original) - 100)  # one bit of the encrypted text
    refused_everywhere("does not match its checksum")
    mend_checksum(made)  # age's own authentication refuses it
    refused_everywhere("was changed or damaged after it was made")
    (made / "backup.age").write_bytes(original)
    swap(made / "backup.age", original.index(b"scrypt ") + 12)  # the passphrase's salt
    mend_checksum(made)
    refused_everywhere("does not open this backup", cli=False)


def test_two_different_passphrases_or_a_short_one_write_nothing(busy_app, coord, stick, tmp_path):
    for first, second, message in (("a long passphrase here", "a long passphrase HERE", "not the same"),
                                   ("short one", "short one", "at least 12 characters")):
        response = act(coord, "/coordinate/export", stick=str(stick), full="yes", passphrase=first,
                       passphrase_again=second)
        page = response.get_data(as_text=True)
        assert response.status_code == 422 and message in page
        assert first not in page
    assert list(stick.iterdir()) == []
    data = busy_app.config["DATA_DIR"]
    command = [kiosk_command(), "export", "--full", "--to", str(stick), "--data", data]
    status, shown = on_a_terminal(command, ["a long passphrase here", "another long passphrase"], env=kiosk_env())
    assert status == 1 and "not the same" in shown and "another long passphrase" not in shown  # typed unseen
    assert list(stick.iterdir()) == []
    status, shown = on_a_terminal(command, [BACKUP_PASSPHRASE, BACKUP_PASSPHRASE], env=kiosk_env())
    assert status == 0 and "safe to unplug" in shown, shown
    assert BACKUP_PASSPHRASE not in shown
    assert read_backup(usb.exports_on(str(stick))[0]).counts["posts"] == 3


def test_the_passphrase_is_kept_nowhere_but_in_memory(busy_app, coord, stick, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    svc = busy_app.extensions["kiosk"]
    secret = "only in memory, never on disk"
    started = act(coord, "/coordinate/export", stick=str(stick), full="yes", passphrase=secret, passphrase_again=secret)
    assert started.status_code == 303 and secret not in started.headers["Location"]
    job_id = started.headers["Location"].rsplit("/", 1)[1]
    from test_exchange import wait_for_job

    assert "safe to unplug" in wait_for_job(coord.client, started.headers["Location"])
    assert secret not in json.dumps(svc.jobs.get(job_id), default=str)
    made = usb.exports_on(str(stick))[0]
    preview = act(coord, "/coordinate/import", folder=str(made), mode="merge", passphrase=secret)
    assert preview.status_code == 200 and secret not in preview.get_data(as_text=True)
    cookie = coord.client.get_cookie("kiosk").value
    session = busy_app.session_interface.get_signing_serializer(busy_app).loads(cookie)
    assert secret not in json.dumps(session)
    key = confirmation(preview)["key"]
    assert svc.jobs.passphrases.get(key) == secret  # until the confirmation, on the server only
    done = act(coord, "/coordinate/import", folder=str(made), mode="merge", confirm="yes", **confirmation(preview))
    assert done.status_code == 303 and svc.jobs.passphrases.get(key) is None
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    assert secret not in caplog.text


def test_an_old_plain_full_backup_still_restores_and_the_volunteer_is_told(busy_app, coord, stick, tmp_path, runner):
    store = busy_app.extensions["kiosk"].store
    old = plain_full_export(store, stick, kiosk_name="Elm")
    before = all_posts(store)
    preview = act(coord, "/coordinate/import", folder=str(old), mode="replace")  # no passphrase asked
    assert preview.status_code == 200 and "This backup is not encrypted" in preview.get_data(as_text=True)
    done = act(coord, "/coordinate/import", folder=str(old), mode="replace", confirm="yes", **confirmation(preview))
    assert done.status_code == 303 and all_posts(store) == before
    result = runner.invoke(kiosk_main, ["import", "--from", str(old), "--replace", "--yes", "--data",
                                        str(tmp_path / "fresh")])
    assert result.exit_code == 0 and "not encrypted" in result.output, result.output
    restored = Store(tmp_path / "fresh")
    try:
        assert all_posts(restored) == before
    finally:
        restored.close()
    # A new full backup of it is encrypted: the preview of that one says nothing of the kind.
    new = full_export(store, stick.parent, kiosk_name="Elm")
    preview = act(coord, "/coordinate/import", folder=str(new), mode="merge", passphrase=BACKUP_PASSPHRASE)
    assert "not encrypted" not in preview.get_data(as_text=True)


def test_a_stick_that_asks_for_a_huge_scrypt_cost_or_is_no_age_file_is_refused_at_once(busy_app, stick):
    made = full_export(busy_app.extensions["kiosk"].store, stick, kiosk_name="Elm")
    data = (made / "backup.age").read_bytes()
    head = data[:200]
    factor = exchange.agefile.work_factor(head)
    assert factor is not None and 10 <= factor <= exchange.agefile.MAX_WORK_FACTOR
    # 1 GiB and more than a kiosk would ever pick (a crafted header): refused before any work.
    (made / "backup.age").write_bytes(data.replace(f" {factor}\n".encode(), b" 21\n", 1))
    mend_checksum(made)
    with pytest.raises(exchange.ExchangeError) as refused:
        read_backup(made)
    assert refused.value.code == "too-costly"
    (made / "backup.age").write_bytes(data.replace(f" {factor}\n".encode(), b" 40\n", 1))  # no age file asks that
    mend_checksum(made)
    with pytest.raises(exchange.ExchangeError) as refused:
        read_backup(made)
    assert refused.value.code == "damaged"
    (made / "backup.age").write_bytes(b"age-encryption.org/v1\n-> X25519 abc\n" + data[100:])
    mend_checksum(made)
    with pytest.raises(exchange.ExchangeError) as refused:
        read_backup(made)
    assert refused.value.code == "not-age"


def test_a_thief_with_the_stick_reads_nothing_and_its_restore_gives_every_thread_back(make_app, tmp_path, runner):
    """After a realistic day (test_sealed.a_day): the stick with the full backup holds none of
    the private sentences in any encoding; restored on a new kiosk, every thread opens with its
    tickets and the notes with a coordinator's passphrase."""
    from conftest import unlock_coordinator
    from test_sealed import CLOSED_THREAD, HELPER_SAYS, POSTER_SAYS, SURVEY_TEXT, WORKING, a_day, leaks, read_as

    app = make_app(NAME="Elm", WRITE_BUDGET_SCALE=0)
    codes = a_day(app)
    stick = tmp_path / "stick"
    stick.mkdir()
    made = full_export(app.extensions["kiosk"].store, stick, kiosk_name="Elm")
    assert leaks(stick) == []
    result = runner.invoke(kiosk_main, ["import", "--from", str(made), "--replace", "--yes", "--data",
                                        str(tmp_path / "new-pi")], input=BACKUP_PASSPHRASE + "\n")
    assert result.exit_code == 0, result.output
    restored = make_app(DATA_DIR=str(tmp_path / "new-pi"))
    for who in ("poster", "helper"):
        thread = read_as(restored, codes[who], "/mine/thread")
        assert POSTER_SAYS in thread and HELPER_SAYS in thread
    assert CLOSED_THREAD in read_as(restored, codes["soup_helper"], "/mine/thread")
    coordinator = restored.test_client()
    assert unlock_coordinator(coordinator).status_code == 303
    assert WORKING in coordinator.get("/coordinate/check-ins").get_data(as_text=True)
    assert SURVEY_TEXT in coordinator.get("/survey/results").get_data(as_text=True)
