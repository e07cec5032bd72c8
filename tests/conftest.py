"""Fixtures in the shape of Flask's tutorial: ``app``, ``client`` and ``runner``, on a real
temporary data folder, with CSRF protection switched on as in production."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from kiosk import create_app
from kiosk.core.store import Store
from kiosk.cli import main as kiosk_main

# Tests use a cheaper scrypt so 1,600 posts hash in seconds; the algorithm is the same.
TEST_SCRYPT_N = 1024
COORD_PASSPHRASE = "correct horse battery staple"


def add_coordinator(app, handle: str = "Heron", passphrase: str = COORD_PASSPHRASE) -> str:
    """The kiosk's first coordinator, made as `kiosk coordinator add` makes it: notes for the
    coordinators (check-ins, survey free text, reports) are sealed to the team's key it makes."""
    from kiosk.core.times import utcnow
    from kiosk.web import gate

    return gate.add(app.extensions["kiosk"].store, handle, passphrase, by="test", now=utcnow(), scrypt_n=TEST_SCRYPT_N)


def opened(post: dict, *ticket_codes: str) -> dict:
    """``post`` as the holder of any of ``ticket_codes`` reads it: the sealed words their keys
    open filled in (replies and threads are sealed to the post's and the reply's tickets)."""
    from kiosk.board import replies
    from kiosk.core import codes, keys

    for code in ticket_codes:
        words = codes.split_ticket_code(code)[1]
        for record in (post, *(post.get("replies") or ())):
            key = keys.open_ticket(words, record["claim"]) if record.get("claim") else None
            if key is not None:
                post = replies.opened(post, key)
                break
    return post


def unlock_coordinator(client, handle: str = "Heron", passphrase: str = COORD_PASSPHRASE):
    token = csrf_token(client, "/coordinate")
    return client.post("/coordinate", data={"csrf_token": token, "handle": handle, "passphrase": passphrase})
PUBLIC_URL = "http://aid.lan"

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
CODE = re.compile(r'class="claim-code"[^>]*>([^<]+)<')


@pytest.fixture(autouse=True)
def no_installed_settings(tmp_path, monkeypatch):
    """Commands read /etc/mutual-aid-kiosk/kiosk.env when it is there: not in tests, even on a
    machine where the kiosk is installed."""
    from kiosk.core import config

    monkeypatch.setattr(config, "SETTINGS_FILE", str(tmp_path / "no-such-settings.env"))


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def make_app(data_dir, request):
    made = []

    def factory(**overrides):
        config = {
            "TESTING": True,
            "DATA_DIR": str(data_dir),
            "SCRYPT_N": TEST_SCRYPT_N,
            "PUBLIC_URL": PUBLIC_URL,
            **overrides,
        }
        app = create_app(config)
        made.append(app)
        return app

    yield factory
    for app in made:
        svc = app.extensions["kiosk"]
        svc.store.close()
        # Whatever the test made the kiosk write must pass the checks of its next start (unless
        # the test damaged the files on purpose).
        if (svc.store.data_dir / "live.json").is_file() and not request.node.get_closest_marker("damages_data"):
            Store(svc.store.data_dir, read_only=True, schema=svc.registry.schema, check_all=True).close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def kiosk_cli(runner):
    def invoke(*args, **kwargs):
        return runner.invoke(kiosk_main, list(args), catch_exceptions=False, **kwargs)

    return invoke


def csrf_token(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, url
    match = TOKEN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def claim_code(html: str) -> str | None:
    match = CODE.search(html)
    return match.group(1).strip() if match else None


class Visitor:
    """A person at the screen: fills forms the way the browser would, CSRF token included."""

    def __init__(self, client):
        self.client = client

    def submit(self, url: str, form_url: str | None = None, **fields):
        token = csrf_token(self.client, form_url or url)
        return self.client.post(url, data={"csrf_token": token, **fields})

    def post(self, kind: str = "request", **fields):
        form = {"category": "food", "title": "Soup for two", **fields}
        return self.submit(f"/new/{kind}", **form)

    def create(self, kind: str = "request", **fields) -> tuple[str, str]:
        """Post and read the ticket; returns (post id, ticket code)."""
        response = self.post(kind, **fields)
        assert response.status_code == 303, response.get_data(as_text=True)
        ticket = self.client.get(response.headers["Location"])
        code = claim_code(ticket.get_data(as_text=True))
        assert code, "the ticket page shows no code"
        return response.headers["Location"].rsplit("/", 1)[1], code

    def unlock(self, code: str):
        return self.submit("/mine", code=code)


@pytest.fixture
def visitor(client):
    return Visitor(client)


# -- real broken disks: a user and mount namespace (unshare) lets a test mount a small tmpfs or
# a read-only bind mount without touching the machine (root could write through chmod 0555).

def _namespaces_work() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"], capture_output=True)
    return probe.returncode == 0


needs_namespaces = pytest.mark.skipif(not _namespaces_work(), reason="this machine allows no user namespaces")

# The shell function `kiosk` runs this checkout's kiosk command with the tests' Python.
KIOSK_FUNCTION = 'kiosk() { "$PYTHON" -c "from kiosk.cli import main; main()" "$@"; }\n'


def kiosk_in_namespace(script: str, env: dict) -> subprocess.CompletedProcess:
    """Run the shell `script` (mounts, then `kiosk ...`) in a private mount namespace."""
    return subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "bash", "-euc", KIOSK_FUNCTION + script],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env, "PYTHON": sys.executable})
