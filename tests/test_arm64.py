"""Issue 19: the kiosk on the Raspberry Pi's own architecture. deploy/arm64-check.sh installs it
into an arm64 Debian 12 root under QEMU and takes a visitor's path there (the slow test); the
check's own pieces are tried here, on this machine: the visitor's HTTP client against a real
server, the wheel check on this machine's (x86) environment, the systemctl stand-in reading
the real units, and install.sh's choice of the Chromium package."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from server import KioskServer

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
CHECK = DEPLOY / "arm64-check.sh"
HERE = DEPLOY / "arm64"


def run(*command, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in command], capture_output=True, text=True, check=False, **kwargs)


def stand_in_systemctl():
    loader = importlib.machinery.SourceFileLoader("systemctl_stand_in", str(HERE / "stand-ins" / "systemctl"))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_kiosk_installs_serves_and_keeps_its_data_in_an_arm64_debian_root():
    if os.geteuid() != 0:
        pytest.skip("the arm64 check mounts and chroots: it runs as root (as CI does)")
    probe = run("bash", CHECK, "--can-run", timeout=60)
    if probe.returncode == 3:
        pytest.skip(probe.stderr.strip())
    assert probe.returncode == 0, probe.stdout + probe.stderr
    # Its own session: if it runs over time, the whole check (QEMU, the services) is stopped.
    check = subprocess.Popen(["bash", str(CHECK)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        out, err = check.communicate(timeout=3600)
    except subprocess.TimeoutExpired:
        os.killpg(check.pid, signal.SIGKILL)
        out, err = check.communicate()
    assert check.returncode == 0, out[-8000:] + err[-4000:]
    for line in [
        "aarch64, Debian GNU/Linux 12 (bookworm)",
        "pynacl", "pyrage", "msgspec", "shared libraries, all AArch64",
        "no file changed",
        "a visitor posts a need at http://aid.lan/", "My ticket opens the post with that code",
        "Syncthing answers at 127.0.0.1:8384", "Syncthing keeps to the network", "0 problem(s)",
        "backup.age", "Merged: 1 added", "/board shows 2 post(s)",
        "inside (arm64 under QEMU): scrypt n=2^13:", "posting round trip: median",
        "arm64-check: passed",
    ]:
        assert line in out, line
    assert "http://aid.lan/p/" in out or "(not read: rsvg-convert and zbarimg are missing" in out


def test_the_check_needs_root_and_says_what_its_options_are(tmp_path):
    assert "--cache DIR" in run("bash", CHECK, "--help").stdout
    wrong = run("bash", CHECK, "--cache")
    assert wrong.returncode == 2 and "--cache needs a value" in wrong.stderr
    assert run("bash", CHECK, "--frsh").returncode == 2
    if os.geteuid() != 0:
        refused = run("bash", CHECK, "--cache", tmp_path)
        assert refused.returncode == 2 and "run it as root" in refused.stderr
        assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("options", [["--cache", "/"], ["--cache", "/var/lib"], ["--cache", ""],
                                     ["--mirror", "ftp://mirror.example/debian"], ["--mirror", "http://x/;rm -rf /"]])
def test_a_cache_or_mirror_that_could_do_harm_is_refused_before_anything_runs(options):
    result = run("bash", CHECK, *options)
    assert result.returncode == 2 and "arm64-check: --" in result.stderr, result.stderr
    assert "Step 1" not in result.stdout


def test_a_folder_the_check_did_not_make_is_never_deleted(tmp_path):
    if os.geteuid() != 0 or run("bash", CHECK, "--can-run", timeout=60).returncode != 0:
        pytest.skip("the arm64 check runs as root where binfmt_misc can be mounted")
    precious = tmp_path / "base-bookworm-arm64"
    precious.mkdir()
    (precious / "notes.txt").write_text("a volunteer's notes")
    (tmp_path / ".lock").touch()  # in a cache of the check's own
    result = run("bash", CHECK, "--cache", tmp_path, timeout=600)
    assert result.returncode == 1 and "is not a root this check made: not deleting it" in result.stderr
    assert (precious / "notes.txt").read_text() == "a volunteer's notes"


def test_a_folder_already_holding_files_is_not_taken_as_the_cache(tmp_path):
    """--cache /opt or --cache ~ would have put the check's roots (two gigabytes, one of them
    named "root") and logs among what is there."""
    if os.geteuid() != 0 or run("bash", CHECK, "--can-run", timeout=60).returncode != 0:
        pytest.skip("the arm64 check runs as root where binfmt_misc can be mounted")
    (tmp_path / "notes.txt").write_text("a volunteer's notes")
    result = run("bash", CHECK, "--cache", tmp_path, timeout=60)
    assert result.returncode == 2 and "already holds other files" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_the_visitors_path_over_http_against_a_real_kiosk(tmp_path):
    server = KioskServer(tmp_path / "data").start()
    try:
        walked = run(sys.executable, HERE / "visit.py", server.url, "--title", "Soup on Friday",
                     "--qr-to", tmp_path / "qr.svg", "--wait", "30")
        assert walked.returncode == 0, walked.stdout + walked.stderr
        assert "My ticket opens the post with that code" in walked.stdout
        post_id = walked.stdout.split("POST-ID ")[1].strip()
        assert f"/p/{post_id} shows it" in walked.stdout
        assert (tmp_path / "qr.svg").read_bytes().lstrip().startswith((b"<?xml", b"<svg"))
        seen = run(sys.executable, HERE / "visit.py", server.url, "--board-has", "Soup on Friday", "--wait", "30")
        assert seen.returncode == 0 and "/board shows 1 post(s)" in seen.stdout
        missing = run(sys.executable, HERE / "visit.py", server.url, "--board-has", "A bicycle", "--wait", "30")
        assert missing.returncode == 1 and "/board does not show ['A bicycle']" in missing.stderr
    finally:
        server.stop()


def test_a_kiosk_that_never_answers_fails_the_visit_with_its_address():
    from server import free_port

    port = free_port()
    result = run(sys.executable, HERE / "visit.py", f"http://127.0.0.1:{port}", "--wait", "1")
    assert result.returncode == 1 and f"did not answer at http://127.0.0.1:{port}/" in result.stderr


def test_a_service_that_stopped_at_its_start_fails_the_visit_at_once_not_after_the_wait(tmp_path):
    """The app failing to start on port 80: the visit said so only when its 600 s wait ran out."""
    from server import free_port

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "systemctl").write_text("#!/bin/sh\necho inactive\nexit 3\n")  # what is-active says of it
    (bin_dir / "systemctl").chmod(0o755)
    port = free_port()
    result = run(sys.executable, HERE / "visit.py", f"http://127.0.0.1:{port}", "--wait", "3000",
                 "--unit", "mutual-aid-kiosk.service", env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
                 timeout=120)
    assert result.returncode == 1
    assert f"mutual-aid-kiosk.service stopped before it answered at http://127.0.0.1:{port}/" in result.stderr


def test_the_script_edited_while_it_runs_carries_on_as_it_was_read(tmp_path):
    """Bash reads a script as it goes: saved in place during the check's minutes, the check ran
    whatever lines then stood at its place in the file (here: a syntax error at step 4)."""
    script = tmp_path / "deploy" / "arm64-check.sh"
    script.parent.mkdir()
    shutil.copytree(HERE, tmp_path / "deploy" / "arm64")
    shutil.copy(CHECK, script)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # The first command the check runs, `id -u`, saves another script over it, as an editor would.
    (bin_dir / "id").write_text(f"#!/bin/sh\nprintf 'echo EDITED; exit 7\\n%.0s' $(seq 9000) > '{script}'\necho 0\n")
    (bin_dir / "id").chmod(0o755)
    result = run("bash", script, "--can-run", env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
                 timeout=60)
    assert "EDITED" not in result.stdout and result.returncode in (0, 3), result.stdout + result.stderr
    assert "arm64 programs" in result.stdout + result.stderr


def test_a_cache_others_could_change_is_refused_before_anything_runs(tmp_path):
    """Root chroots into the cache and runs what it holds: a folder another user made (a
    careless --cache /tmp/arm64) would let that user run anything as root."""
    if os.geteuid() != 0 or run("bash", CHECK, "--can-run", timeout=60).returncode != 0:
        pytest.skip("the arm64 check runs as root where binfmt_misc can be mounted")
    planted = tmp_path / "planted"
    planted.mkdir()
    os.chown(planted, 4321, 4321)
    open_parent = tmp_path / "open"
    open_parent.mkdir()
    open_parent.chmod(0o777)
    not_sudo = {k: v for k, v in os.environ.items() if k != "SUDO_UID"}
    for cache, why in [(planted, f"{planted} belongs to user 4321"),
                       (open_parent / "cache", f"{open_parent} can be written by others")]:
        result = run("bash", CHECK, "--cache", cache, timeout=60, env=not_sudo)
        assert result.returncode == 2 and "is not safe for root to run from" in result.stderr and why in result.stderr
        assert "Step 1" not in result.stdout and not (cache / ".lock").exists() and not (cache / "logs").exists()
    assert run(sys.executable, HERE / "rootfiles.py", "safe", planted, "4321").returncode == 0  # the user who ran sudo


def test_a_second_check_on_the_same_cache_names_what_holds_it_and_touches_nothing(tmp_path):
    """A killed check's processes could still be ending: the refusal says which ones."""
    import fcntl

    if os.geteuid() != 0 or run("bash", CHECK, "--can-run", timeout=60).returncode != 0:
        pytest.skip("the arm64 check runs as root where binfmt_misc can be mounted")
    (tmp_path / "root").mkdir()
    with open(tmp_path / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = run("bash", CHECK, "--cache", tmp_path, timeout=60)
    assert result.returncode == 1 and f"another check is running with {tmp_path}" in result.stderr
    assert str(os.getpid()) in result.stderr and "Step 1" not in result.stdout and "FAILED" not in result.stderr
    assert (tmp_path / "root").is_dir()


def test_what_is_mounted_under_the_cache_is_named(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting needs root")
    (tmp_path / "root" / "proc").mkdir(parents=True)
    assert run(sys.executable, HERE / "rootfiles.py", "mounts", tmp_path).returncode == 0
    assert run("mount", "-t", "tmpfs", "tmpfs", tmp_path / "root" / "proc").returncode == 0
    try:
        found = run(sys.executable, HERE / "rootfiles.py", "mounts", tmp_path)
        assert found.returncode == 1 and f"mounted: {tmp_path}/root/proc" in found.stdout
    finally:
        run("umount", tmp_path / "root" / "proc")


def test_the_wheel_check_refuses_an_environment_built_for_another_machine(tmp_path):
    import sysconfig

    if os.uname().machine == "aarch64":
        pytest.skip("this machine's own environment is arm64")
    here = run(sys.executable, HERE / "rootfiles.py", "wheels", sysconfig.get_paths()["purelib"])
    assert here.returncode == 1 and "NOT FOR ARM64" in here.stdout and "NOT AArch64" in here.stdout


def test_the_wheel_check_takes_an_arm64_environment(tmp_path):
    site = tmp_path / "site-packages"
    (site / "tiny-1.0.dist-info").mkdir(parents=True)
    (site / "tiny-1.0.dist-info" / "WHEEL").write_text("Wheel-Version: 1.0\nTag: cp311-cp311-manylinux_2_17_aarch64\n")
    (site / "tiny").mkdir()
    header = bytearray(64)
    header[:4], header[18:20] = b"\x7fELF", (183).to_bytes(2, "little")  # e_machine: AArch64
    (site / "tiny" / "_speed.cpython-311-aarch64-linux-gnu.so").write_bytes(bytes(header))
    result = run(sys.executable, HERE / "rootfiles.py", "wheels", site)
    assert result.returncode == 0, result.stdout
    assert "tiny-1.0: cp311-cp311-manylinux_2_17_aarch64 (aarch64 wheel)" in result.stdout
    assert "1 shared libraries, all AArch64" in result.stdout


def test_a_second_snapshot_of_an_unchanged_folder_compares_equal_and_a_change_is_named(tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "kiosk.env").write_text("KIOSK_NAME=A\n")
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    run(sys.executable, HERE / "rootfiles.py", "snapshot", root, first)
    run(sys.executable, HERE / "rootfiles.py", "snapshot", root, second)
    assert run(sys.executable, HERE / "rootfiles.py", "compare", first, second).returncode == 0
    (root / "etc" / "kiosk.env").chmod(0o600)
    run(sys.executable, HERE / "rootfiles.py", "snapshot", root, second)
    changed = run(sys.executable, HERE / "rootfiles.py", "compare", first, second)
    assert changed.returncode == 1 and "changed: /etc/kiosk.env" in changed.stdout


def test_the_speed_line_times_the_kiosks_own_scrypt_cost():
    from kiosk.core.codes import DEFAULT_SCRYPT_N

    loader = importlib.machinery.SourceFileLoader("speed", str(HERE / "speed.py"))
    speed = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(speed)
    assert speed.N == DEFAULT_SCRYPT_N
    assert "scrypt n=2^13:" in run(sys.executable, HERE / "speed.py").stdout


def test_the_systemctl_stand_in_reads_the_units_lines_as_systemd_does():
    systemctl = stand_in_systemctl()
    kiosk = systemctl.service_section(str(DEPLOY / "systemd" / "mutual-aid-kiosk.service"))
    prefixes, words = systemctl.command_words(kiosk["ExecStartPre"][0])
    assert prefixes == "-" and words[:2] == ["/bin/sh", "-c"]
    # systemd undoes C escapes in and out of quotes: "\n" reaches sh as a line break.
    assert words[2] == 'umask 022; printf "%s\n" "${KIOSK_SCREEN_HOURS-}" > /run/mutual-aid-kiosk-screen/hours'
    assert systemctl.command_words(kiosk["ExecStartPre"][1])[0] == "-+"  # as root, may fail
    assert systemctl.command_words(kiosk["ExecStart"][0])[1][-4:] == ["--host", "0.0.0.0", "--port", "80"]
    assert systemctl.as_user(["kiosk"], kiosk, "kiosk", "kiosk", root=False)[:6] == [
        "setpriv", "--reuid=kiosk", "--regid=kiosk", "--init-groups", "--inh-caps=+net_bind_service",
        "--ambient-caps=+net_bind_service"]
    syncthing = systemctl.service_section(str(DEPLOY / "systemd" / "kiosk-syncthing.service"))
    assert syncthing["StateDirectory"] == ["mutual-aid-kiosk-syncthing"]
    assert "STNORESTART=1" in syncthing["Environment"][0]
    for line in ["/usr/bin/thing --instance=%i", "/usr/bin/thing $HOME", "@/usr/bin/thing thing", ":/bin/echo $$",
                 "/bin/echo one ; /bin/echo two", "/bin/sh -c 'unbalanced"]:
        with pytest.raises(systemctl.Unsupported):  # systemd would run something else: the check stops
            systemctl.command_words(line)


def test_the_stand_in_lets_a_service_write_only_where_its_unit_lets_it(tmp_path):
    """ProtectSystem=strict, ReadWritePaths=, PrivateTmp=, ProtectHome= as systemd applies them:
    a service writing anywhere else passed the check and failed on the Pi."""
    if os.geteuid() != 0:
        pytest.skip("mount namespaces need root")
    systemctl = stand_in_systemctl()
    kiosk = systemctl.service_section(str(DEPLOY / "systemd" / "mutual-aid-kiosk.service"))
    outside_tmp = Path("/run") / f"arm64-check-sandbox-{os.getpid()}"  # not in /tmp: that is the service's own
    allowed = outside_tmp / "data"
    allowed.mkdir(parents=True)
    kiosk["ReadWritePaths"], kiosk["RuntimeDirectory"] = [str(allowed)], []
    probe = f"""touch {allowed}/ok && echo data-written
                touch {outside_tmp}/no || echo beside-refused
                touch /etc/arm64-check-probe || echo etc-refused
                [ -z "$(find /tmp /root -mindepth 1)" ] && echo tmp-and-root-empty"""
    try:
        result = run(*systemctl.sandbox(["/bin/sh", "-c", probe], kiosk))
        assert result.stdout.split() == ["data-written", "beside-refused", "etc-refused", "tmp-and-root-empty"]
        assert (allowed / "ok").exists() and not Path("/etc/arm64-check-probe").exists()
    finally:
        shutil.rmtree(outside_tmp)


def test_the_stand_in_splits_exec_lines_as_systemd_does():
    split = stand_in_systemctl().split_words
    assert split('a"b c"d \\s \\x41 \\q e\\ f  ""  \'x\\ty\'') == ["ab cd", " ", "A", "\\q", "e f", "", "x\ty"]
    assert split("/bin/sh -c 'echo a ; echo b'") == ["/bin/sh", "-c", "echo a ; echo b"]  # quoted: one word


def test_the_stand_in_reads_the_settings_file_as_systemd_does(tmp_path):
    env_file = tmp_path / "kiosk.env"
    env_file.write_text('# a comment\nKIOSK_NAME="Elm \\"Street\\" Aid"\nKIOSK_SCREEN_HOURS="1-7 08:00-21:00"\n'
                        "KIOSK_TOUCHSCREEN=1\n\n; another\n")
    assert stand_in_systemctl().environment_file(str(env_file)) == {
        "KIOSK_NAME": 'Elm "Street" Aid', "KIOSK_SCREEN_HOURS": "1-7 08:00-21:00", "KIOSK_TOUCHSCREEN": "1"}


def test_a_settings_file_edited_by_hand_is_read_as_systemd_reads_it(tmp_path):
    """The volunteer edits kiosk.env by hand. systemd quotes only where a value starts, so an
    apostrophe in a name is just a letter (the stand-in used to stop at it: "No closing quotation")."""
    env_file = tmp_path / "kiosk.env"
    env_file.write_text("KIOSK_NAME=Elm Street's Aid   \nKIOSK_WIFI_PASSWORD=\"pa$$word\\$\"\n"
                        "KIOSK_PUBLIC_URL = http://aid.lan\nKIOSK_SCREEN_HOURS='1-5 08:00-17:00' # not a comment\n"
                        "KIOSK_PRINTER=a\\\nb\n# an old line, ended with a backslash: \\\nKIOSK_LANGUAGES=en\n")
    assert stand_in_systemctl().environment_file(str(env_file)) == {
        "KIOSK_NAME": "Elm Street's Aid", "KIOSK_WIFI_PASSWORD": "pa$$word$", "KIOSK_PUBLIC_URL": "http://aid.lan",
        "KIOSK_SCREEN_HOURS": "1-5 08:00-17:00# not a comment",  # after a closing quote, blanks are skipped
        "KIOSK_PRINTER": "ab"}


@pytest.mark.parametrize(("policy", "expected"), [
    ("chromium-browser:\n  Installed: (none)\n  Candidate: 1:120.0.6099-rpt1\n", "chromium-browser"),
    # Debian: the name is known (another package refers to it) but nothing can be installed.
    ("chromium-browser:\n  Installed: (none)\n  Candidate: (none)\n", "chromium"),
])
def test_install_picks_the_chromium_package_this_system_can_install(tmp_path, policy, expected):
    """Found in the arm64 root: Debian knows the name chromium-browser with nothing behind it,
    and `apt-cache show` accepted it, so apt-get install failed there."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # This machine's commands, less any Chromium (the tests' own is installed here).
    for folder in os.environ["PATH"].split(os.pathsep):
        for program in Path(folder).glob("*") if Path(folder).is_dir() else []:
            if program.name not in ("chromium", "chromium-browser") and not (bin_dir / program.name).exists():
                (bin_dir / program.name).symlink_to(program)
    for name, body in {"dpkg-query": "exit 1", "apt-cache": f"printf '{policy}'"}.items():
        (bin_dir / name).unlink(missing_ok=True)
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    result = run("bash", DEPLOY / "install.sh", "--dry-run", "--password", "secret123",
                 env={**os.environ, "PATH": str(bin_dir)}, timeout=120)
    install = [line for line in result.stdout.splitlines() if "install -y" in line]
    assert install and install[0].rstrip(")").split()[-1] == expected, result.stdout + result.stderr
