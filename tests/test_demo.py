"""Issue 17, item 6: a newcomer's demo. ``kiosk demo`` (a real child process, as the README's
quick start runs it) shows the touchscreen: on-screen keyboard and idle reset on this machine,
``--phone`` the plain view; its data leaves no page of the README's table empty."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from server import Browser, free_port, kiosk_command, kiosk_env

README = Path(__file__).resolve().parent.parent / "README.md"
# What a page says when it has nothing to show.
EMPTY = ('class="empty"', "Nothing yet.", "There is no survey", "The library is empty", "No notes yet.",
         "No gatherings are planned", "No rides planned", "Nothing to count yet")


def readme_paths() -> list[tuple[str, bool]]:
    """Every address in the first column of the README's table of pages, and whether its row
    says it takes a POST."""
    table = README.read_text(encoding="utf-8").split("## Pages", 1)[1].split("\n## ", 1)[0]
    found = []
    for line in table.splitlines():
        if line.startswith("| `"):
            found += [(path, "POST" in line) for path in re.findall(r"`(/[^`]*)`", line.split("|")[1])]
    return found


class Demo:
    def __init__(self, *args: str):
        self.port = free_port()
        self.proc = subprocess.Popen([kiosk_command(), "demo", "--host", "127.0.0.1", "--port", str(self.port), *args],
                                     env=kiosk_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if Browser(self.port).get("/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)  # waiting for the port to open, not a timing assertion
        self.stop()
        raise AssertionError(f"the demo did not answer: {self.output}")

    def stop(self) -> None:
        self.proc.terminate()
        self.output = self.proc.communicate(timeout=30)[0]


@pytest.fixture(scope="module")
def demo():
    running = Demo()
    yield running
    running.stop()


def follow(browser: Browser, path: str):
    """GET, following the kiosk's own redirects (a page that needs a ticket leads to /mine)."""
    for _ in range(5):
        status, headers, body = browser.get(path)
        if status not in (301, 302, 303, 307):
            return status, headers, body, path
        path = re.sub(r"^https?://[^/]+", "", headers["Location"])
    raise AssertionError(f"{path}: too many redirects")


def concrete(path: str, post_id: str) -> str:
    path = re.sub(r"\[.*?\]", "", path)  # optional parts
    if path.startswith(("/events/", "/library/")):
        path = path.replace("<id>", "1")
    return path.replace("<id>", post_id).replace("<reply id>", post_id).replace("<n>", "1")


def test_every_page_of_the_readme_has_something_to_show(demo):
    passphrase = re.search(r"passphrase (\S+)", demo_output_so_far(demo)).group(1)
    reader, coordinator = Browser(demo.port), Browser(demo.port)
    token = re.search(r'name="csrf_token" value="([^"]+)"', coordinator.get("/coordinate")[2]).group(1)
    assert coordinator.post("/coordinate", {"csrf_token": token, "handle": "Demo",
                                            "passphrase": passphrase})[0] == 303
    board = reader.get("/board")[2]
    post_id = re.search(r'href="/p/([A-Z0-9]+)"', board).group(1)
    seen = 0
    for path, posts in readme_paths():
        url = concrete(path, post_id)
        status, headers, body, final = follow(coordinator if url.startswith("/coordinate") else reader, url)
        if final == "/coordinate" and url != final:  # a coordinators' page outside /coordinate
            status, headers, body, final = follow(coordinator, url)
        if status in (404, 405) and posts:  # a POST-only address, as its row says
            continue
        assert status == 200, (url, status, final)
        seen += 1
        if "text/html" in headers.get("Content-Type", ""):
            said = [marker for marker in EMPTY if marker in body]
            assert not said, f"{url} ({final}) says it is empty: {said}"
    assert seen >= 35


def demo_output_so_far(demo: Demo) -> str:
    """The demo's first lines (it prints the passphrase before serving)."""
    if not hasattr(demo, "head"):
        demo.head = ""
        while "Open http" not in demo.head:
            demo.head += demo.proc.stdout.readline()
    return demo.head


def test_the_demo_is_the_touchscreen_with_the_keyboard_and_idle_reset(demo):
    status, _, start = Browser(demo.port).get("/")
    assert status == 200
    assert 'id="osk"' in start and "touch.js" in start
    assert 'id="idle-reset"' in start and re.search(r'data-idle="\d+"', start)
    text = demo_output_so_far(demo)
    assert "kiosk demo --phone" in text and "on-screen keyboard" in text
    # The start page tells who is on duty and the next meeting, as the agreements promise.
    assert "On duty this week:" in start and "Next meeting:" in start and "Coming up" in start


def test_phone_shows_the_plain_view():
    phone = Demo("--phone")
    try:
        status, _, start = Browser(phone.port).get("/")
        assert status == 200
        assert 'id="osk"' not in start and "touch.js" not in start and "data-idle" not in start
        assert "On duty this week:" in start
    finally:
        phone.stop()
    assert "Plain view" in phone.output
