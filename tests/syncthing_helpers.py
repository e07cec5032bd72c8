"""Real Syncthing processes for tests (Debian's /usr/bin/syncthing), on loopback only.

    st = start_syncthing(tmp_path, "a")     # home in tmp_path/"syncthing-a", free ports, API answering
    st.url, st.apikey, st.device_id, st.home, st.listen
    st.client()                              # kiosk.network.syncthing.Client for it
    st.config(**more)                        # the kiosk settings that point at it (SYNCTHING_*, SYNC_*)
    st.stop() / st.kill()                    # SIGTERM and wait / SIGKILL (a crash); start_again() reuses the home
    pair(a, b)                               # each knows the other as a device, at its loopback address
    wait_for(predicate, timeout=30, what="") # polls with a deadline, returns the predicate's value

Each instance listens for other devices on 127.0.0.1:<free port> only, with local discovery off
(test instances must not find each other, or anything else on the machine, by broadcast), and
with global discovery, relays, NAT, usage and crash reports off from the first start
(``safe=False`` leaves Syncthing's own defaults for those, to prove the kiosk turns them off)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kiosk.network.syncthing import Client, SyncthingError, prepare_home

SYNCTHING = shutil.which("syncthing") or "/usr/bin/syncthing"
needs_syncthing = pytest.mark.skipif(not os.path.exists(SYNCTHING),
                                     reason="syncthing is not installed (bash deploy/bootstrap.sh --test installs it)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 30, what: str = "", every: float = 0.1):
    """Poll ``predicate`` until it returns something true, with a deadline (no timing asserted)."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (SyncthingError, OSError) as exc:
            last_error, value = exc, None
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"gave up waiting {timeout:.0f} s for {what or predicate}" +
                         (f" (last error: {last_error})" if last_error else ""))


@dataclass
class Syncthing:
    name: str
    home: Path
    gui_port: int
    listen_port: int
    apikey: str = ""
    device_id: str = ""
    process: subprocess.Popen | None = None
    log: Path = field(init=False)

    def __post_init__(self):
        self.log = self.home.parent / f"syncthing-{self.name}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.gui_port}"

    @property
    def listen(self) -> str:
        return f"tcp://127.0.0.1:{self.listen_port}"

    def client(self, timeout: float = 4.0) -> Client:
        return Client(self.url, self.apikey, timeout=timeout)

    def config(self, **more) -> dict:
        """Kiosk settings for an app that uses this Syncthing."""
        return {"SYNCTHING_URL": self.url, "SYNCTHING_APIKEY": self.apikey, "SYNCTHING_HOME": str(self.home),
                "SYNC_LISTEN": self.listen, "SYNC_LOCAL_DISCOVERY": False, **more}

    def start_again(self, timeout: float = 30) -> "Syncthing":
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [SYNCTHING, "serve", f"--home={self.home}", "--no-browser", "--no-restart", "--no-upgrade",
                 "--no-default-folder", "--skip-port-probing", f"--gui-address={self.url}",
                 f"--gui-apikey={self.apikey}"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                # STMONITORED: Syncthing itself, without its monitor process. The monitor starts
                # Syncthing in a process group of its own, so a SIGKILL to the monitor (kill())
                # would leave Syncthing running after the test.
                env={**os.environ, "STMONITORED": "1", "STNODEFAULTFOLDER": "1", "STNOUPGRADE": "1",
                     "HOME": str(self.home)})
        try:
            self.device_id = wait_for(self._answers, timeout, f"Syncthing {self.name} to answer at {self.url}")
        except AssertionError:
            self.kill()
            raise AssertionError(f"Syncthing {self.name} did not start; its log:\n{self.log.read_text()[-3000:]}")
        return self

    def _answers(self):
        if self.process.poll() is not None:
            raise AssertionError(f"Syncthing {self.name} exited ({self.process.returncode}):\n"
                                 f"{self.log.read_text()[-3000:]}")
        return self.client(timeout=1).my_id()

    def stop(self, timeout: float = 20) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def start_syncthing(tmp_path: Path, name: str, safe: bool = True, timeout: float = 30) -> Syncthing:
    """A fresh Syncthing home in tmp_path/syncthing-<name>, started and answering."""
    home = Path(tmp_path) / f"syncthing-{name}"
    st = Syncthing(name, home, free_port(), free_port())
    st.apikey = prepare_home(home, f"127.0.0.1:{st.gui_port}", [st.listen], local_discovery=False, safe=safe,
                             syncthing=SYNCTHING)
    return st.start_again(timeout)


def pair(a: Syncthing, b: Syncthing) -> None:
    """Each one knows the other as a device, at its loopback address (no discovery needed).
    Kiosks pair through their network page instead; this is for tests of Syncthing alone."""
    for one, other in ((a, b), (b, a)):
        one.client().put_device({"deviceID": other.device_id, "name": other.name, "addresses": [other.listen]})


@pytest.fixture
def syncthing_factory(tmp_path):
    """start(name, safe=True) -> Syncthing; every one started is killed at the end."""
    started: list[Syncthing] = []

    def start(name: str, safe: bool = True) -> Syncthing:
        st = start_syncthing(tmp_path, name, safe=safe)
        started.append(st)
        return st

    yield start
    for st in started:
        st.kill()
