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
    env.update({"KIOSK_SCRYPT_N": "1024", "KIOSK_PUBLIC_URL": "http://aid.lan"})
    env.update(extra)
    # The package under test, whether installed or run from the source tree.
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env


def serve_command(data_dir, port: int) -> list[str]:
    return [sys.executable, "-m", "kiosk.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--data", str(data_dir)]


class KioskServer:
    def __init__(self, data_dir, port: int | None = None):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> "KioskServer":
        self.proc = subprocess.Popen(
            serve_command(self.data_dir, self.port),
            env=kiosk_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stderr.read()}")
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

    def stop(self) -> None:
        self.kill(signal.SIGTERM)
        if self.proc:
            for stream in (self.proc.stdout, self.proc.stderr):
                if stream:
                    stream.close()


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
