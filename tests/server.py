"""A real ``kiosk serve`` in a child process, and a tiny cookie-keeping HTTP client for it."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
READY_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def kiosk_env(**extra) -> dict:
    env = dict(os.environ)
    # No network loop (kiosk/network/loop.py) unless a test asks for it with KIOSK_NETWORK="1".
    env.update({"KIOSK_SCRYPT_N": "1024", "KIOSK_PUBLIC_URL": "http://aid.lan", "KIOSK_NETWORK": "0"})
    env.update(extra)
    return env


def kiosk_command() -> str:
    """The installed console script, as `pip install .` made it (what people run)."""
    script = Path(sys.executable).parent / "kiosk"
    if not script.exists():
        raise RuntimeError(f"no kiosk command next to {sys.executable}: pip install . first")
    return str(script)


def serve_command(data_dir, port: int) -> list[str]:
    return [kiosk_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--data", str(data_dir)]


class KioskServer:
    def __init__(self, data_dir, port: int | None = None, **env):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.env = env
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "KioskServer":
        import tempfile

        # A file, not a pipe: an unread pipe would block a chatty server.
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            serve_command(self.data_dir, self.port),
            env=kiosk_env(**self.env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()}")
            try:
                status, _, _ = Browser(self.port).get("/healthz")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)  # polling for readiness, not a timing assertion
        raise RuntimeError("server did not answer /healthz in time")

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def stop(self) -> None:
        self.kill(signal.SIGTERM)
        if self.proc:
            self.log.close()


class Browser:
    """Keeps one keep-alive connection and the session cookie, like a phone's browser."""

    def __init__(self, port: int, timeout: float = 30):
        self.port = port
        self.timeout = timeout
        self.cookie = None
        self.conn = None

    def request(self, method: str, path: str, body: str | None = None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
        if self.cookie:
            headers["Cookie"] = self.cookie
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("kiosk="):
                self.cookie = value.split(";", 1)[0]
        return response.status, dict(response.getheaders()), data.decode("utf-8", "replace")

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, fields: dict):
        from urllib.parse import urlencode

        return self.request("POST", path, urlencode(fields))

    def token(self, path: str) -> str:
        status, _, html = self.get(path)
        assert status == 200
        return TOKEN.search(html).group(1)
