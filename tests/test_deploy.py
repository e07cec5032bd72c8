"""Issue 9: the Raspberry Pi set-up in deploy/, run into a temporary folder (--root): no Pi, no
root, no network. Checks the files it installs, that a second run changes nothing, that the
settings file is never overwritten and that --dry-run writes nothing."""

from __future__ import annotations

import hashlib
import re
import os
import shlex
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
INSTALL = DEPLOY / "install.sh"
OPTIONS = ["--name", "Test", "--ssid", "TestNet", "--password", "secret123"]
FORBIDDEN = ("apt-get", "systemctl", "nmcli", "useradd", "chown", "udevadm", "usermod", "gpasswd", "raspi-config")


def install(root: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "SUDO_USER"}
    # Any machine-changing command that slipped past --root would be caught here.
    trap = root.parent / f"{root.name}-trap"
    trap.mkdir(exist_ok=True)
    for name in FORBIDDEN:
        fake = trap / name
        fake.write_text(f"#!/bin/sh\necho 'called {name}' >> '{trap}/calls'\nexit 1\n")
        fake.chmod(0o755)
    env["PATH"] = f"{trap}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(["bash", str(INSTALL), "--root", str(root), *extra], capture_output=True,
                            text=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (trap / "calls").exists(), (trap / "calls").read_text()
    return result


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Every file and folder under root: content hash (or link target) and mode."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        info = path.lstat()
        if path.is_symlink():
            found[rel] = ("link:" + os.readlink(path), 0)
        elif path.is_dir():
            found[rel] = ("dir", stat.S_IMODE(info.st_mode))
        else:
            found[rel] = (hashlib.sha256(path.read_bytes()).hexdigest(), stat.S_IMODE(info.st_mode))
    return found


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("pi") / "root"
    first = install(root, *OPTIONS)
    return root, first


def test_the_service_runs_the_app_as_kiosk_with_hardening(installed):
    root, _ = installed
    unit = (root / "etc/systemd/system/mutual-aid-kiosk.service").read_text()
    lines = {line.strip() for line in unit.splitlines()}
    for expected in [
        "ExecStart=/opt/mutual-aid-kiosk/venv/bin/kiosk serve --host 0.0.0.0 --port 80",
        "User=kiosk",
        "EnvironmentFile=/etc/mutual-aid-kiosk/kiosk.env",
        "AmbientCapabilities=CAP_NET_BIND_SERVICE",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/mutual-aid-kiosk /media/kiosk",
        "PrivateTmp=yes",
        "ProtectHome=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "Restart=on-failure",
        "StandardOutput=journal",
        "WantedBy=multi-user.target",
    ]:
        assert expected in lines, expected
    assert mode(root / "etc/systemd/system/mutual-aid-kiosk.service") == 0o644


def test_the_settings_file_holds_the_options_and_is_not_world_readable(installed):
    root, _ = installed
    env_file = root / "etc/mutual-aid-kiosk/kiosk.env"
    assert mode(env_file) == 0o640
    text = env_file.read_text()
    for line in ['KIOSK_PUBLIC_URL="http://aid.lan"', 'KIOSK_NAME="Test"', 'KIOSK_WIFI_SSID="TestNet"',
                 'KIOSK_WIFI_PASSWORD="secret123"', "KIOSK_TOUCHSCREEN=1",
                 "KIOSK_DATA_DIR=/var/lib/mutual-aid-kiosk", "KIOSK_USB_ROOTS=/media/kiosk"]:
        assert line in text.splitlines(), line
    assert "KIOSK_SCREEN_HOURS=" in text
    assert list((root / "etc/mutual-aid-kiosk").iterdir()) == [env_file]  # one config file


def test_folders_app_copy_and_helpers(installed):
    root, _ = installed
    assert mode(root / "var/lib/mutual-aid-kiosk") == 0o700
    assert (root / "media/kiosk").is_dir()
    app = root / "opt/mutual-aid-kiosk/app"
    assert (app / "pyproject.toml").is_file() and (app / "kiosk/cli/__init__.py").is_file()
    assert not (app / ".venv").exists() and not (app / "tests").exists()
    assert not list(app.rglob("__pycache__"))
    for helper in ["kiosk-hotspot", "kiosk-browser", "kiosk-screen-hours", "kiosk-usb-mount", "kiosk-set-time"]:
        assert mode(root / "usr/local/lib/mutual-aid-kiosk" / helper) == 0o755, helper
    assert "10.42.0.1 aid.lan" in (root / "etc/hosts").read_text()


def test_network_usb_and_screen_files(installed):
    root, _ = installed
    dns = (root / "etc/NetworkManager/dnsmasq-shared.d/kiosk.conf").read_text()
    assert "address=/aid.lan/10.42.0.1" in dns
    assert "address=/#/10.42.0.1" in dns  # captive-portal checks reach the kiosk
    rule = (root / "etc/udev/rules.d/90-mutual-aid-kiosk-usb.rules").read_text()
    assert 'ENV{ID_BUS}!="usb"' in rule and 'ATTRS{removable}!="1"' in rule
    assert "mutual-aid-kiosk-usb@%k.service" in rule
    assert (root / "etc/systemd/system/mutual-aid-kiosk-usb@.service").is_file()
    mount = (root / "usr/local/lib/mutual-aid-kiosk/kiosk-usb-mount").read_text()
    assert "umask=077" in mount and "/boot/firmware" in mount
    [autostart] = list(root.glob("home/*/.config/labwc/autostart"))
    assert "kiosk-browser http://localhost/" in autostart.read_text()
    browser = (root / "usr/local/lib/mutual-aid-kiosk/kiosk-browser").read_text()
    for flag in ["--kiosk", "--noerrdialogs", "--disable-infobars", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--overscroll-history-navigation=0", "--check-for-update-interval=31536000"]:
        assert flag in browser, flag
    hotspot = (root / "usr/local/lib/mutual-aid-kiosk/kiosk-hotspot").read_text()
    for part in ["802-11-wireless.band bg", "ipv4.addresses 10.42.0.1/24", "wifi-sec.key-mgmt wpa-psk"]:
        assert part in hotspot, part


def test_syncthing_runs_as_kiosk_on_this_machine_only_and_the_kiosk_finds_it(installed):
    """Issue 18: Syncthing carries the records between kiosks; its GUI and API stay on
    loopback, and the kiosk reads the API key from the home the unit gives it."""
    from kiosk.core.config import read_env_file

    root, first = installed
    path = root / "etc/systemd/system/kiosk-syncthing.service"
    assert mode(path) == 0o644
    unit = path.read_text()
    lines = {line.strip() for line in unit.splitlines()}
    for expected in ["User=kiosk", "Group=kiosk", "StateDirectory=mutual-aid-kiosk-syncthing", "StateDirectoryMode=0700",
                     "NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/mutual-aid-kiosk/network",
                     "PrivateTmp=yes", "ProtectHome=yes", "UMask=0077", "Restart=on-failure",
                     "WantedBy=multi-user.target"]:
        assert expected in lines, expected
    [start] = [line.split("=", 1)[1] for line in unit.splitlines() if line.startswith("ExecStart=")]
    words = systemd_command(start)
    assert words[:2] == ["/usr/bin/syncthing", "serve"]
    for flag in ["--home=/var/lib/mutual-aid-kiosk-syncthing", "--no-browser", "--no-restart", "--no-upgrade",
                 "--no-default-folder", "--gui-address=http://127.0.0.1:8384"]:
        assert flag in words, flag
    [prepare] = [line for line in unit.splitlines() if line.startswith("ExecStartPre=") and "network prepare" in line]
    assert "--home /var/lib/mutual-aid-kiosk-syncthing --gui 127.0.0.1:8384" in prepare
    settings = read_env_file(root / "etc/mutual-aid-kiosk/kiosk.env")
    assert settings["KIOSK_SYNCTHING_URL"] == "http://127.0.0.1:8384"
    assert settings["KIOSK_SYNCTHING_HOME"] == "/var/lib/mutual-aid-kiosk-syncthing"
    assert mode(root / "var/lib/mutual-aid-kiosk/network") == 0o700
    assert "(skipped with --root: systemctl enable mutual-aid-kiosk.service kiosk-syncthing.service" in first.stdout
    assert "(skipped with --root: systemctl restart kiosk-syncthing.service" in first.stdout
    assert "syncthing" in re.search(r"packages=\(([^)]*)\)", INSTALL.read_text()).group(1)
    assert "syncthing" in re.search(r"packages\+=\(([^)]*)\)", (DEPLOY / "bootstrap.sh").read_text()).group(1)


def test_machine_commands_are_skipped_and_said_so(installed):
    _, first = installed
    out = first.stdout
    for skipped in ["(skipped with --root: apt-get", "(skipped with --root: useradd", "(skipped with --root: chown",
                    "(skipped with --root: systemctl enable mutual-aid-kiosk.service",
                    "(skipped with --root: python3 -m venv", "(skipped with --root: kiosk-hotspot"]:
        assert skipped in out, skipped


def test_a_second_run_changes_nothing_and_keeps_an_edited_settings_file(tmp_path):
    root = tmp_path / "root"
    install(root, *OPTIONS)
    before = snapshot(root)
    second = install(root, *OPTIONS)
    assert snapshot(root) == before
    assert "kept the existing /etc/mutual-aid-kiosk/kiosk.env" in second.stdout
    assert "wrote " not in second.stdout and "copied " not in second.stdout

    env_file = root / "etc/mutual-aid-kiosk/kiosk.env"
    edited = env_file.read_text().replace('KIOSK_NAME="Test"', 'KIOSK_NAME="Elm Street Aid"')
    env_file.write_text(edited)
    env_file.chmod(0o640)
    install(root, "--name", "Other", "--ssid", "OtherNet", "--password", "different1")
    assert env_file.read_text() == edited


def test_an_update_shows_settings_a_newer_version_reads_and_changes_nothing(tmp_path):
    from kiosk.core.config import read_env_file

    root = tmp_path / "root"
    install(root, *OPTIONS)
    env_file = root / "etc/mutual-aid-kiosk/kiosk.env"
    # An installation from before KIOSK_SCREEN_HOURS and KIOSK_USB_ROOTS, edited by hand and
    # saved without a final line break; one setting written with spaces, as systemd allows.
    old = "".join(line for line in env_file.read_text().splitlines(keepends=True)
                  if not line.startswith(("KIOSK_SCREEN_HOURS=", "KIOSK_USB_ROOTS=")))
    old = old.replace('KIOSK_NAME="Test"', 'KIOSK_NAME="Elm Street Aid"')
    old = old.replace("KIOSK_TOUCHSCREEN=1", "KIOSK_TOUCHSCREEN = 0").rstrip("\n")
    env_file.write_text(old)
    env_file.chmod(0o640)
    before = read_env_file(env_file)
    update = install(root, *OPTIONS)
    text = env_file.read_text()
    assert text.startswith(old + "\n")  # nothing already there changed, the last line intact
    assert read_env_file(env_file) == before  # what the service reads is the same
    shown = [line for line in text[len(old):].splitlines() if line.startswith("#KIOSK")]
    assert shown == ["#KIOSK_USB_ROOTS=/media/kiosk", '#KIOSK_SCREEN_HOURS="1-7 08:00-21:00"']
    assert "showed the new setting KIOSK_SCREEN_HOURS in it, commented out" in update.stdout
    assert "KIOSK_TOUCHSCREEN" not in update.stdout and mode(env_file) == 0o640
    snap = snapshot(root)
    install(root, *OPTIONS)
    assert snapshot(root) == snap


def systemd_command(line: str) -> list[str]:
    """An Exec line's words as systemd makes them: %% and $$ are a literal % and $."""
    return [word.replace("$$", "$") for word in shlex.split(line.replace("%%", "%"))]


@pytest.mark.parametrize(("hours", "moment", "expected"), [
    ("1-5 09:00-18:00", "2026-03-07 11:00", "off"),  # the schedule from kiosk.env applies
    ("1-5 09:00-18:00", "2026-03-02 11:00", "on"),
    (None, "2026-03-07 03:00", "on"),                 # none set: always on
])
def test_the_service_publishes_the_screen_schedule_for_the_desktop_user(installed, tmp_path, hours, moment, expected):
    """The desktop user cannot read kiosk.env; the service copies the schedule to /run."""
    from kiosk.core.config import read_env_file

    root, _ = installed
    unit = (root / "etc/systemd/system/mutual-aid-kiosk.service").read_text()
    assert "RuntimeDirectory=mutual-aid-kiosk-screen" in unit and "RuntimeDirectoryMode=0755" in unit
    [pre] = [line.split("=", 1)[1].lstrip("-+") for line in unit.splitlines()
             if line.startswith("ExecStartPre=") and "screen" in line]
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    env = {k: v for k, v in read_env_file(root / "etc/mutual-aid-kiosk/kiosk.env").items()
           if k != "KIOSK_SCREEN_HOURS"}
    if hours is not None:
        env["KIOSK_SCREEN_HOURS"] = hours
    command = [w.replace("/run/mutual-aid-kiosk-screen", str(run_dir)) for w in systemd_command(pre)]
    subprocess.run(command, env={**env, "PATH": os.environ["PATH"]}, check=True)
    published = run_dir / "hours"
    assert mode(published) == 0o644
    assert published.read_text() == f"{hours or ''}\n"
    result = subprocess.run(["bash", str(root / "usr/local/lib/mutual-aid-kiosk/kiosk-screen-hours"), "--at", moment],
                            capture_output=True, text=True, check=True,
                            env={**os.environ, "KIOSK_SCREEN_HOURS_FILE": str(published)})
    assert result.stdout.strip() == expected


def test_the_kiosk_service_tidies_folders_left_by_sticks_pulled_out_in_a_power_cut(installed, tmp_path):
    root, _ = installed
    unit = (root / "etc/systemd/system/mutual-aid-kiosk.service").read_text()
    assert "ExecStartPre=-+/usr/local/lib/mutual-aid-kiosk/kiosk-usb-mount tidy" in unit.splitlines()
    base = tmp_path / "media-kiosk"
    (base / "OLDSTICK").mkdir(parents=True)  # empty, nothing mounted: left by a power cut
    (base / "NOTES").mkdir()
    (base / "NOTES" / "keep.txt").write_text("not empty: never removed")
    subprocess.run(["bash", str(DEPLOY / "usb/kiosk-usb-mount.sh"), "tidy"], check=True,
                   env={**os.environ, "KIOSK_USB_BASE": str(base)})
    assert sorted(p.name for p in base.iterdir()) == ["NOTES"]


def test_the_screen_stays_on_until_the_schedule_is_published(tmp_path):
    result = subprocess.run(["bash", str(DEPLOY / "screen/kiosk-screen-hours.sh"), "--at", "2026-03-08 03:00"],
                            capture_output=True, text=True, check=True,
                            env={**os.environ, "KIOSK_SCREEN_HOURS_FILE": str(tmp_path / "missing")})
    assert result.stdout.strip() == "on"


def test_the_desktop_user_is_not_given_the_kiosk_group(installed):
    """In that group it could read the Wi-Fi password and the data."""
    _, first = installed
    assert "usermod" not in first.stdout and "kiosk group" not in first.stdout


def test_dry_run_writes_nothing(tmp_path):
    root = tmp_path / "root"
    result = install(root, "--dry-run", *OPTIONS)
    assert not root.exists()
    assert "(dry run, would write /etc/mutual-aid-kiosk/kiosk.env" in result.stdout
    # ...nor into an existing installation.
    install(root, *OPTIONS)
    before = snapshot(root)
    install(root, "--dry-run", "--name", "Other")
    assert snapshot(root) == before


def test_bad_options_are_refused(tmp_path):
    for bad in (["--password", "short"], ["--public-url", "http://aid.lan/path"], ["--bogus"]):
        result = subprocess.run(["bash", str(INSTALL), "--root", str(tmp_path / "r"), *bad],
                                capture_output=True, text=True, check=False)
        assert result.returncode != 0, bad
        assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("script", sorted(DEPLOY.rglob("*.sh")), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_script_parses(script):
    subprocess.run(["bash", "-n", str(script)], check=True)


# Shell scripts named as the commands they stand in for (deploy/arm64/stand-ins/nmcli) too.
SHELL_SCRIPTS = sorted(p for p in DEPLOY.rglob("*") if p.is_file() and (
    p.suffix == ".sh" or (not p.suffix and p.read_bytes()[:40].startswith((b"#!/bin/bash", b"#!/bin/sh", b"#!/usr/bin/env bash")))))


@pytest.mark.skipif(not shutil.which("shellcheck"), reason="shellcheck is not installed")
@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_script_passes_shellcheck(script):
    result = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(("moment", "expected"), [
    ("2026-03-02 09:30", "on"),    # Monday, open
    ("2026-03-02 18:00", "off"),   # the end is not included
    ("2026-03-07 09:30", "off"),   # Saturday, before opening
    ("2026-03-07 10:30", "on"),    # Saturday morning
    ("2026-03-08 12:00", "off"),   # Sunday, closed
])
def test_the_screen_schedule(moment, expected):
    result = subprocess.run(["bash", str(DEPLOY / "screen/kiosk-screen-hours.sh"), "--at", moment,
                             "--hours", "1-5 09:00-18:00; 6 10:00-14:00"],
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == expected


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
@pytest.mark.parametrize(("unit", "program", "as_name"), [
    ("mutual-aid-kiosk.service", "/opt/mutual-aid-kiosk/venv/bin/kiosk", "mutual-aid-kiosk.service"),
    ("mutual-aid-kiosk-usb@.service", "/usr/local/lib/mutual-aid-kiosk/kiosk-usb-mount",
     "mutual-aid-kiosk-usb@sda1.service"),
    ("kiosk-syncthing.service", "/usr/bin/syncthing", "kiosk-syncthing.service"),
])
def test_the_units_verify(tmp_path, unit, program, as_name):
    # verify insists that ExecStart's program exists: point it at a stand-in (no venv here).
    fake = tmp_path / "program"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    text = (DEPLOY / "systemd" / unit).read_text()
    assert program in text
    copy = tmp_path / as_name
    # ...and so every helper the unit runs (the kiosk unit tidies /media/kiosk first).
    text = text.replace(program, str(fake)).replace("/usr/local/lib/mutual-aid-kiosk/kiosk-usb-mount", str(fake))
    text = text.replace("/opt/mutual-aid-kiosk/venv/bin/kiosk", str(fake))  # Syncthing's unit prepares with it
    copy.write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(copy)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "Unknown" not in result.stderr and "ignoring" not in result.stderr, result.stderr


# -- issue 17: waiting for another apt (a Pi's first boot runs its own updates) -----------------

LOCK_OPTION = "DPkg::Lock::Timeout=600"
# A stand-in for apt-get that behaves as apt does with its locks: with -o DPkg::Lock::Timeout=N
# it waits up to N seconds for dpkg's lock, without it it fails at once ("Could not get lock");
# "update" first takes the package lists' lock, which never waits, whatever the option (apt 2.6,
# checked by hand: another process holding /var/lib/apt/lists/lock fails it at once).
FAKE_APT = """#!/bin/bash
echo "$*" >> "$CALLS"
all=" $* "
case "$all" in *" update "*)
  flock -n "$LOCK.lists" true || { echo "E: Could not get lock $LOCK.lists. It is held by process 1 (apt-get)" >&2; exit 100; } ;;
esac
wait=0
while [ $# -gt 0 ]; do
  if [ "$1" = -o ] && [[ "$2" == DPkg::Lock::Timeout=* ]]; then wait=${2#*=}; fi
  shift
done
if [ "$wait" -gt 0 ]; then
  echo waiting >> "$CALLS.state"
  flock -w "$wait" "$LOCK" true || exit 100
else
  flock -n "$LOCK" true || { echo "E: Could not get lock $LOCK" >&2; exit 100; }
fi
# After installing, stop the script: the virtual environment is not what these tests are about.
case "$all" in *" install "*) exit 42 ;; esac
"""


def fake_machine(tmp_path: Path) -> tuple[dict, Path]:
    """A copy of bootstrap.sh, apt-get as above, every package missing, sudo that just runs."""
    checkout = tmp_path / "checkout"
    (checkout / "deploy").mkdir(parents=True)
    shutil.copy(DEPLOY / "bootstrap.sh", checkout / "deploy" / "bootstrap.sh")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    scripts = {"apt-get": FAKE_APT, "dpkg-query": "#!/bin/sh\nexit 1\n", "sudo": '#!/bin/sh\nexec "$@"\n'}
    for name, body in scripts.items():
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "CALLS": str(tmp_path / "calls"),
           "LOCK": str(tmp_path / "lock-frontend")}
    return env, checkout


@pytest.mark.skipif(not shutil.which("flock"), reason="flock (util-linux) is not installed")
def test_bootstrap_waits_for_another_apt_instead_of_failing(tmp_path):
    import fcntl
    import time

    env, checkout = fake_machine(tmp_path)
    calls, state = tmp_path / "calls", tmp_path / "calls.state"
    with open(tmp_path / "lock-frontend", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # "another apt is running"
        run = subprocess.Popen(["bash", str(checkout / "deploy/bootstrap.sh")], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while not state.exists() and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)  # polling until apt-get waits, not a timing assertion
        assert run.poll() is None, "bootstrap gave up while another apt held the lock: " + run.communicate()[0]
        fcntl.flock(held, fcntl.LOCK_UN)  # the other apt is done
        output = run.communicate(timeout=60)[0]
    assert run.returncode == 42, output  # got the lock, installed, and stopped where the fake stops it
    lines = calls.read_text().splitlines()
    assert [" update " in f" {line} " for line in lines] == [True, False] and " install " in lines[1], lines
    assert all(LOCK_OPTION in line for line in lines), lines
    assert "Could not get lock" not in output


def test_every_apt_get_in_deploy_waits_for_the_lock(tmp_path):
    calls = [line for path in DEPLOY.rglob("*.sh") for line in path.read_text().splitlines()
             if re.search(r"^\s*[^#\"]*\bapt-get\b", line) and "note " not in line]
    assert len(calls) >= 4, calls
    assert all(LOCK_OPTION in line or "wait_for_lock" in line for line in calls), calls
    # install.sh says what it would run: the option is there.
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "dpkg-query").write_text("#!/bin/sh\nexit 1\n")
    (fake / "dpkg-query").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["bash", str(INSTALL), "--dry-run", *OPTIONS], capture_output=True, text=True,
                            env=env, timeout=120, check=False)
    assert f"would run: apt-get -o {LOCK_OPTION} update" in result.stdout, result.stdout + result.stderr
    assert f"apt-get -o {LOCK_OPTION} install -y" in result.stdout


@pytest.mark.skipif(not shutil.which("flock"), reason="flock (util-linux) is not installed")
def test_bootstrap_waits_while_another_apt_updates_the_package_lists(tmp_path):
    """apt-daily runs "apt-get update" on a Pi's first boot: its lists lock is not covered by
    DPkg::Lock::Timeout, so bootstrap tries again until it is free instead of failing."""
    import fcntl
    import time

    env, checkout = fake_machine(tmp_path)
    calls = tmp_path / "calls"
    with open(tmp_path / "lock-frontend.lists", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # "apt-daily is updating"
        run = subprocess.Popen(["bash", str(checkout / "deploy/bootstrap.sh")], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while (not calls.exists() or calls.read_text().count(" update") < 2) and run.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.05)  # polling until it has tried twice, not a timing assertion
        assert run.poll() is None, "bootstrap gave up while another apt updated: " + run.communicate()[0]
        fcntl.flock(held, fcntl.LOCK_UN)  # the other apt is done
        output = run.communicate(timeout=60)[0]
    assert run.returncode == 42, output  # updated, installed, and stopped where the fake stops it
    assert "waiting for it to finish" in output and "Could not get lock" not in output, output
    assert " install " in calls.read_text().splitlines()[-1]


def test_bootstrap_stops_at_once_when_update_fails_for_another_reason(tmp_path):
    env, checkout = fake_machine(tmp_path)
    (tmp_path / "bin" / "apt-get").write_text('#!/bin/sh\necho "$*" >> "$CALLS"\n'
                                             'echo "E: Failed to fetch http://deb.debian.org" >&2\nexit 100\n')
    result = subprocess.run(["bash", str(checkout / "deploy/bootstrap.sh")], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 1 and "Failed to fetch" in result.stderr, result.stdout + result.stderr
    assert (tmp_path / "calls").read_text().count("update") == 1
