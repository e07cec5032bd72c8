"""Whole kiosks for the network's end-to-end tests and benchmark: a real Syncthing
(syncthing_helpers.py) beside a real ``kiosk serve`` (server.py) with its network loop on,
driven over HTTP the way people drive it.

    node = Node(tmp_path, "a", "Library")   # Syncthing started, a coordinator made, kiosk not yet
    node.start()                            # `kiosk serve` with KIOSK_NETWORK=1 against that Syncthing
    coord = node.coordinator()              # a Browser unlocked as coordinator
    node.pair_with(other)                   # on /coordinate/network, as a coordinator would
    node.stop() / node.start_again()        # both processes
    with node.store() as store: ...         # the data, read beside the running server

Every process is started in the Node and stopped by ``close()`` (SIGKILL for what is left)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
from pathlib import Path

from kiosk.core.changelog import SEGMENT_PATTERN
from kiosk.core.store import Store

from server import Browser, KioskServer, kiosk_command, kiosk_env
from syncthing_helpers import Syncthing, start_syncthing, wait_for

ROOT = Path(__file__).resolve().parents[1]
PASSPHRASE = "correct horse battery staple"
HANDLE = "Heron"
CODE = re.compile(r'class="claim-code"[^>]*>([^<]+)<')
DEVICE = re.compile(r'id="device-id"[^>]*>(.*?)</p>', re.S)
SEGMENT = re.compile(SEGMENT_PATTERN)


def node_env(**extra) -> dict:
    """The servers run this checkout's code, whatever the venv's editable install points at
    (a worktree, a clean clone in CI)."""
    path = os.environ.get("PYTHONPATH", "")
    return kiosk_env(PYTHONPATH=os.pathsep.join([str(ROOT), *([path] if path else [])]), **extra)


class Node:
    def __init__(self, tmp_path: Path, key: str, name: str, every: int = 1, coordinator: bool = True,
                 data: Path | None = None):
        self.key, self.name = key, name
        self.data = data or tmp_path / f"data-{key}"
        self.st: Syncthing = start_syncthing(tmp_path, key)
        self.server: KioskServer | None = None
        self.every = every
        self.port = None
        if coordinator:
            self._add_coordinator()

    # -- processes -------------------------------------------------------------------------------

    def env(self) -> dict:
        config = {f"KIOSK_{k}": (("1" if v else "0") if isinstance(v, bool) else str(v))
                  for k, v in self.st.config().items()}
        return {**config, "KIOSK_NETWORK": "1", "KIOSK_NETWORK_EVERY_SECONDS": str(self.every),
                "KIOSK_NAME": self.name, "KIOSK_WRITE_BUDGET_SCALE": "0",
                "PYTHONPATH": node_env()["PYTHONPATH"]}

    def _add_coordinator(self) -> None:
        """`kiosk coordinator add`, as the person setting the kiosk up runs it."""
        done = subprocess.run([kiosk_command(), "coordinator", "add", HANDLE, "--data", str(self.data)],
                              input=PASSPHRASE + "\n", text=True, capture_output=True, env=node_env(), timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr

    def start(self) -> "Node":
        self.server = KioskServer(self.data, port=self.port, **self.env()).start()
        self.port = self.server.port
        return self

    def stop_kiosk(self) -> None:
        if self.server is not None:
            self.server.stop()

    def kill_kiosk(self) -> None:
        if self.server is not None:
            self.server.kill()

    def stop(self) -> None:
        self.stop_kiosk()
        self.st.stop()

    def start_again(self) -> None:
        self.st.start_again()
        self.start()

    def close(self) -> None:
        for end in (self.kill_kiosk, self.st.kill):
            with contextlib.suppress(Exception):
                end()

    # -- what a coordinator and a visitor do -----------------------------------------------------

    @property
    def kiosk_id(self) -> str:
        return wait_for(lambda: json.loads((self.outbox / "kiosk.json").read_text())["kiosk"], 30,
                        f"{self.name}'s outbox")

    @property
    def outbox(self) -> Path:
        return self.data / "network" / "outbox"

    def peer_folder(self, other: "Node") -> Path:
        return self.data / "network" / "peers" / other.kiosk_id

    def browser(self) -> Browser:
        return Browser(self.port)

    def submit(self, browser: Browser, url: str, form_url: str | None = None, **fields):
        token = browser.token(form_url or url)
        return browser.post(url, {"csrf_token": token, **fields})

    def coordinator(self) -> Browser:
        browser = self.browser()
        status, headers, _ = self.submit(browser, "/coordinate", handle=HANDLE, passphrase=PASSPHRASE)
        assert status == 303, f"unlocking {self.name}: {status}"
        return browser

    def device_id_on_page(self, coordinator: Browser) -> str:
        status, _, html = coordinator.get("/coordinate/network")
        assert status == 200
        return DEVICE.search(html).group(1).replace("<wbr>", "")

    def pair_with(self, coordinator: Browser, other: "Node", device: str) -> None:
        status, headers, html = self.submit(coordinator, "/coordinate/network/add", "/coordinate/network",
                                            device=device, name=other.name, address=other.st.listen)
        assert status == 303, html[:2000]

    def post(self, browser: Browser | None = None, kind: str = "request", **fields) -> tuple[str, str]:
        """A post made on the form; returns (its number, its ticket's code)."""
        browser = browser or self.browser()
        form = {"category": "food", "title": "Soup for two", **fields}
        status, headers, html = self.submit(browser, f"/new/{kind}", **form)
        assert status == 303, html[:2000]
        location = headers.get("Location") or headers.get("location")
        code = CODE.search(browser.get(location)[2]).group(1).strip()
        return location.rsplit("/", 1)[1], code

    def reply(self, post_id: str, message: str) -> tuple[str, str]:
        browser = self.browser()
        status, headers, html = self.submit(browser, f"/p/{post_id}/reply", message=message)
        assert status == 303, html[:2000]
        location = headers.get("Location") or headers.get("location")
        code = CODE.search(browser.get(location)[2]).group(1).strip()
        return location.rsplit("/", 1)[1], code

    def unlock(self, code: str) -> Browser:
        browser = self.browser()
        status, _, html = self.submit(browser, "/mine", code=code)
        assert status in (302, 303), html[:2000]
        return browser

    def board(self) -> str:
        status, _, html = self.browser().get("/board")
        assert status == 200
        return html

    def live_count(self) -> int:
        return json.loads(self.browser().get("/healthz")[2])["live_posts"]

    # -- the data ------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def store(self):
        store = Store(self.data, read_only=True)
        try:
            yield store
        finally:
            store.close()

    def folder_bytes(self) -> bytes:
        return b"".join(p.read_bytes() for p in self.data.rglob("*") if p.is_file())


def pair_all(nodes: list[Node]) -> None:
    """Each kiosk's coordinator adds every other kiosk on /coordinate/network, with the device id
    read from that kiosk's own network page (and its listening address: no discovery here)."""
    coordinators = {node.key: node.coordinator() for node in nodes}
    devices = {node.key: node.device_id_on_page(coordinators[node.key]) for node in nodes}
    for node in nodes:
        assert devices[node.key] == node.st.device_id
        for other in nodes:
            if other is not node:
                node.pair_with(coordinators[node.key], other, devices[other.key])


def posts_by_origin(store: Store) -> dict:
    """Every post a kiosk holds, live or archived, by (home kiosk, number there)."""
    from kiosk.core.origin import post_key

    found: dict = {}
    posts = list(store.live_posts())
    for month in store.archived_months():
        posts.extend(store.archived_posts(month))
    for post in posts:
        found.setdefault(tuple(post_key(post)[:2]), []).append(post)
    return found


def segment_names(folder: Path) -> list[str]:
    records = folder / "records"
    return sorted(p.name for p in records.iterdir()) if records.is_dir() else []


