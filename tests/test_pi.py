"""Issue 9 (the app's side): captive-portal answers, setting the clock on screen, kiosk doctor."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.core.times import utcnow
from kiosk.core import config, usb
from kiosk.web import audit as coordinators
from kiosk.cli import main as kiosk_main
from kiosk.core.store import LIVE_FILE

from conftest import PUBLIC_URL, Visitor, kiosk_in_namespace, needs_namespaces
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
    assert dt.timedelta(days=399) < kiosk_now - utcnow() < dt.timedelta(days=401)
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
    assert "Every data file passes its check" in result.output
    assert "A kiosk server is running" in result.output  # the test app holds the folder
    assert "localhost resolves" in result.output


@pytest.mark.damages_data
def test_doctor_finds_a_damaged_file_and_a_clock_behind(runner, make_app, monkeypatch, data_dir):
    app = make_app()
    app.extensions["kiosk"].clock.set(utcnow() + dt.timedelta(days=3))  # the kiosk saw a later time
    monkeypatch.setenv("KIOSK_PUBLIC_URL", "http://localhost:8080")
    # Beside the running kiosk: the time it saw is still only in its journal.
    result = runner.invoke(kiosk_main, ["doctor", "--data", str(data_dir)])
    assert "The clock is behind" in result.output
    app.extensions["kiosk"].store.close()
    (data_dir / LIVE_FILE).write_text('{"posts": {')
    result = runner.invoke(kiosk_main, ["doctor", "--data", str(data_dir)])
    assert result.exit_code == 1 and "is damaged" in result.output


# -- kiosk doctor on broken disks, for real: a read-only mount and a full one -----------------

def doctor_in_namespace(script: str, folder: Path, tmp_path: Path) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run `script` (which prepares $DIR), then kiosk doctor on $DIR, in a private mount namespace.
    Returns the result and what the data folder holds afterwards (the probe file must be gone)."""
    result = kiosk_in_namespace(f'{script}\nkiosk doctor --settings /dev/null --data "$DIR" || status=$?\n'
                                'echo "-- left:"; ls -A "$DIR"; exit "${status:-0}"',
                                {"DIR": str(folder), "KIOSK_PUBLIC_URL": "http://localhost:8080", "HOME": str(tmp_path)})
    report, _, left = result.stdout.partition("-- left:")
    result.stdout = report
    return result, left.split()


def doctor_on_a_small_disk(folder: Path, tmp_path: Path, size: str, fill: str):
    """Doctor on a copy of the data folder on a tmpfs of `size`, after dd wrote `fill` beside it."""
    disk = tmp_path / "card"
    disk.mkdir()
    return doctor_in_namespace(f'mount -t tmpfs -o size={size} tmpfs "{disk}"; cp -a "$DIR" "{disk}/data"; '
                               f'dd if=/dev/zero of="{disk}/filler" {fill} 2>/dev/null || true; DIR="{disk}/data"',
                               folder, tmp_path)


@pytest.fixture
def saved_folder(make_app, data_dir):
    """A data folder with a post in it, its server stopped."""
    app = make_app()
    Visitor(app.test_client()).create()
    app.extensions["kiosk"].store.close()
    return data_dir


@needs_namespaces
def test_doctor_on_a_read_only_data_folder(saved_folder, tmp_path):
    result, left = doctor_in_namespace('mount --bind "$DIR" "$DIR"; mount -o remount,bind,ro "$DIR"',
                                       saved_folder, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "is on a disk that is read-only now: posts cannot be saved" in result.stdout
    assert "Every data file passes its check" in result.stdout  # the data is still there to back up
    assert "1 problem(s)" in result.stdout


@needs_namespaces
def test_doctor_on_a_full_disk(saved_folder, tmp_path):
    result, left = doctor_on_a_small_disk(saved_folder, tmp_path, "2m", "bs=64k")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "is full: posts cannot be saved" in result.stdout
    assert "Every data file passes its check" in result.stdout
    assert "live.json" in left and not [name for name in left if name.startswith(".doctor-")]


@needs_namespaces
def test_doctor_warns_when_space_runs_low(saved_folder, tmp_path):
    """Low, not yet full: saves still work, but not for long."""
    result, left = doctor_on_a_small_disk(saved_folder, tmp_path, "40m", "bs=1M count=20")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "is writable" in result.stdout
    assert re.search(r"Only 1\d MB free on the disk holding the data folder: saves will soon fail", result.stdout)
    assert "live.json" in left and not [name for name in left if name.startswith(".doctor-")]


# -- kiosk doctor and the rest of the machine, with stand-ins for systemctl and lpstat ---------

def stand_in(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(0o755)


@pytest.fixture(autouse=True)
def fake_bin(tmp_path, monkeypatch):
    """Doctor sees a laptop: a systemctl that knows no kiosk service (whatever this machine has
    installed; conftest hides its settings file); a test may put other stand-ins here."""
    folder = tmp_path / "bin"
    folder.mkdir()
    stand_in(folder, "systemctl", 'echo "Failed to get unit file state for $2: No such file or directory" >&2; exit 1')
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("KIOSK_PUBLIC_URL", "http://localhost:8080")
    return folder


def run_doctor(runner, folder, *extra):
    return runner.invoke(kiosk_main, ["doctor", "--settings", "/dev/null", "--data", str(folder), *extra])


@pytest.mark.parametrize("enabled, active, expected, ok", [
    ("enabled", "active", "The kiosk service starts at boot and is running.", True),
    ("disabled", "inactive", "The kiosk service is disabled: it will not start at boot. "
                             "Fix: sudo systemctl enable --now mutual-aid-kiosk", False),
    ("enabled", "failed", "The kiosk service is not running. Fix: sudo systemctl restart mutual-aid-kiosk", False),
])
def test_doctor_checks_the_service(saved_folder, runner, fake_bin, enabled, active, expected, ok):
    stand_in(fake_bin, "systemctl",
             f'case "$1 $2" in "is-enabled mutual-aid-kiosk.service") echo {enabled}; [ {enabled} = enabled ];; '
             f'"is-active mutual-aid-kiosk.service") echo {active}; [ {active} = active ];; *) exit 9;; esac')
    result = run_doctor(runner, saved_folder)
    assert expected in result.output
    assert (result.exit_code == 0) is ok, result.output


@pytest.mark.parametrize("answer, code, expected, ok", [
    ("printer Front is idle.  enabled since Tue 24 Nov 2026", 0, "The printer Front is ready", True),
    ("printer Front disabled since Tue 24 Nov 2026 - Paper out", 0, "The printer Front is stopped", False),
    ('lpstat: Invalid destination name in list "Front".', 1, "The printer Front is not known to the print service", False),
])
def test_doctor_checks_the_printer(saved_folder, runner, fake_bin, monkeypatch, answer, code, expected, ok):
    stand_in(fake_bin, "systemctl", "echo enabled; exit 0")
    stand_in(fake_bin, "lp", "exit 0")
    stand_in(fake_bin, "lpstat", f"echo '{answer}'; exit {code}")
    monkeypatch.setenv("KIOSK_PRINTER", "Front")
    result = run_doctor(runner, saved_folder)
    assert expected in result.output
    assert (result.exit_code == 0) is ok, result.output


def test_doctor_finds_a_usb_stick(saved_folder, runner, fake_bin, monkeypatch, tmp_path):
    monkeypatch.setattr(usb, "_mounts", lambda: [])  # whatever sticks this machine has in
    result = run_doctor(runner, saved_folder)
    assert "No USB stick is plugged in" in result.output and result.exit_code == 0
    # The folder where sticks are mounted (/media/kiosk on the Pi), with none plugged in.
    (tmp_path / "media").mkdir()
    monkeypatch.setenv("KIOSK_USB_ROOTS", str(tmp_path / "media"))
    result = run_doctor(runner, saved_folder)
    assert "No USB stick is plugged in" in result.output and "USB stick media" not in result.output
    (tmp_path / "media" / "BACKUPS").mkdir()
    result = run_doctor(runner, saved_folder)
    assert re.search(r"USB stick BACKUPS found, [\d,]+ MB free\.", result.output)


def test_doctor_reads_the_installed_settings_file(saved_folder, runner, tmp_path, monkeypatch):
    """With sudo -u kiosk the environment is empty: the settings come from kiosk.env."""
    for name in [n for n in os.environ if n.startswith("KIOSK_")]:
        monkeypatch.delenv(name)
    settings = tmp_path / "kiosk.env"
    settings.write_text(f'# comment\nKIOSK_PUBLIC_URL="http://localhost:8080"\nKIOSK_DATA_DIR={saved_folder}\n'
                        'KIOSK_NAME="Elm \\"Street\\" Aid"\nKIOSK_WIFI_PASSWORD="12345678"\n')
    result = runner.invoke(kiosk_main, ["doctor", "--settings", str(settings)])
    assert f"Settings read from {settings}." in result.output
    assert f"The data folder {saved_folder} is writable." in result.output
    assert "localhost resolves on this machine." in result.output
    settings.write_bytes(b"KIOSK_NAME=\xff\xfe\n")
    result = runner.invoke(kiosk_main, ["doctor", "--settings", str(settings)])
    assert result.exit_code == 1 and f"The settings file {settings} is not plain text" in result.output


def test_settings_files_are_read_as_systemd_reads_them(tmp_path):
    settings = tmp_path / "kiosk.env"
    settings.write_text('# a comment\n; another\n\nKIOSK_NAME="Elm \\"Street\\" \\\\ Aid"\n'
                        "KIOSK_WIFI_SSID='Elm \"Aid\"'\nKIOSK_EXPIRE_DAYS=14\n  KIOSK_PRINTER = Front \n"
                        'KIOSK_WIFI_PASSWORD="a\\b\\$c"\n')
    pairs = config.read_env_file(settings)
    assert pairs == {"KIOSK_NAME": 'Elm "Street" \\ Aid', "KIOSK_WIFI_SSID": 'Elm "Aid"',
                     "KIOSK_EXPIRE_DAYS": "14", "KIOSK_PRINTER": "Front",
                     "KIOSK_WIFI_PASSWORD": "a\\b$c"}  # systemd keeps a backslash before b
    loaded: dict = {}
    config.load_env(loaded, {**pairs, "KIOSK_WIFI_PASSWORD": "12345678", "OTHER": "x"})
    assert loaded == {"NAME": 'Elm "Street" \\ Aid', "WIFI_SSID": 'Elm "Aid"', "EXPIRE_DAYS": 14,
                      "PRINTER": "Front", "WIFI_PASSWORD": "12345678"}


def test_commands_on_an_installed_kiosk_find_its_data_folder_and_name(saved_folder, runner, tmp_path, monkeypatch):
    """On the Pi, sudo -u kiosk kiosk export --to ... needs no --data: kiosk.env says where."""
    for name in [n for n in os.environ if n.startswith("KIOSK_")]:
        monkeypatch.delenv(name)
    settings = tmp_path / "kiosk.env"
    settings.write_text(f'KIOSK_NAME="Elm Street Aid"\nKIOSK_DATA_DIR={saved_folder}\n')
    monkeypatch.setattr(config, "SETTINGS_FILE", str(settings))
    stick = tmp_path / "STICK"
    stick.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # ./data would be the wrong folder
    result = runner.invoke(kiosk_main, ["export", "--to", str(stick)])
    assert result.exit_code == 0, result.output
    [made] = list(stick.iterdir())
    assert made.name.startswith("Elm-Street-Aid-")
    assert len((made / "posts.csv").read_text(encoding="utf-8-sig").splitlines()) == 2  # header and the post
    assert not (elsewhere / "data").exists()


def test_commands_stop_when_the_installed_settings_cannot_be_read(runner, tmp_path, monkeypatch):
    """Else they would quietly make and use ./data instead of the kiosk's folder."""
    settings = tmp_path / "kiosk.env"
    settings.write_bytes(b"KIOSK_DATA_DIR=\xff\n")
    monkeypatch.setattr(config, "SETTINGS_FILE", str(settings))
    monkeypatch.chdir(tmp_path)
    stick = tmp_path / "STICK"
    stick.mkdir()
    for command in (["export", "--to", str(stick)], ["coordinator", "list"]):
        result = runner.invoke(kiosk_main, command)
        assert result.exit_code == 1 and "is not plain text" in result.output, command
    assert not (tmp_path / "data").exists() and not list(stick.iterdir())


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("setpriv"), reason="needs setpriv to drop root")
def test_doctor_run_by_a_user_who_may_not_open_the_folder_says_so(saved_folder, tmp_path):
    """sudo forgotten: a report, not a Python traceback."""
    saved_folder.chmod(0o700)
    tmp_path.chmod(0o755)
    command = [sys.executable, "-c", "from kiosk.cli import main; main()", "doctor", "--settings", "/dev/null",
               "--data", str(saved_folder)]
    if os.geteuid() == 0:  # drop to nobody, who does not own the folder
        drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        if subprocess.run([*drop, sys.executable, "-c", "import kiosk.cli"], capture_output=True).returncode:
            pytest.skip("nobody cannot read this checkout (it lives in a private folder)")
        command = [*drop, *command]
    else:
        saved_folder.chmod(0o000)
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60,
                                env={**os.environ, "KIOSK_PUBLIC_URL": "http://localhost:8080"})
    finally:
        saved_folder.chmod(0o700)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1
    assert "This user may not open the data folder" in result.stdout and "sudo -u kiosk" in result.stdout
