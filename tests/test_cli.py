"""The ``kiosk`` command: help, the demo data, and the demo server answering."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.web import settings
from kiosk.cli.demo import add_sample_posts

from server import Browser, free_port, kiosk_command, kiosk_env


def test_help_lists_the_commands(kiosk_cli):
    result = kiosk_cli("--help")
    assert result.exit_code == 0
    assert "serve" in result.output and "demo" in result.output


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "kiosk"
    assert script.exists() or shutil.which("kiosk"), "pip install . should create the kiosk command"


def test_sample_posts_cover_every_category_and_both_kinds(app):
    with app.app_context():
        made = add_sample_posts(app, 40)
    assert len(made) == 40
    assert {p["category"] for p in made} == set(settings.CATEGORIES)
    assert {p["kind"] for p in made} == {"request", "offer"}
    assert {"en", "es", "ar"} <= {p["lang"] for p in made}  # every offered language
    board = app.test_client().get("/board").get_data(as_text=True)
    assert "40 open posts" in board


def test_kiosk_demo_serves_a_living_board(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [kiosk_command(), "demo", "--host", "127.0.0.1", "--port", str(port)],
        env=kiosk_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status, _, html = Browser(port).get("/board")
                break
            except OSError:
                time.sleep(0.1)  # waiting for the port to open
        assert status == 200, proc.stderr.read() if proc.poll() is not None else "no answer"
        assert "40 open posts" in html
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert f"http://localhost:{port}/" in out
    folder = re.search(r"data in (\S+), removed on exit", out).group(1)
    assert not Path(folder).exists(), "the demo folder must go away when the demo stops"


def test_bad_setting_stops_with_a_clear_message(tmp_path):
    env = kiosk_env(KIOSK_EXPIRE_DAYS="soon")
    result = subprocess.run(
        [kiosk_command(), "serve", "--port", str(free_port()), "--data", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "KIOSK_EXPIRE_DAYS must be a whole number" in result.stderr


def test_timezone_setting_is_checked(tmp_path):
    env = kiosk_env(KIOSK_TIMEZONE="Mars/Olympus")
    result = subprocess.run(
        [kiosk_command(), "serve", "--port", str(free_port()), "--data", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0 and "KIOSK_TIMEZONE must be a zone" in result.stderr


def test_events_follow_the_centers_time_zone(make_app):
    app = make_app(TIMEZONE="America/Chicago")
    assert app.config["BABEL_DEFAULT_TIMEZONE"] == "America/Chicago"


@pytest.mark.parametrize("name,value,words", [
    ("WRITE_BUDGET_SCALE", "lots", "KIOSK_WRITE_BUDGET_SCALE must be a number from 0 to 1000"),
    ("WRITE_BUDGET_SCALE", "-1", "KIOSK_WRITE_BUDGET_SCALE must be a number from 0 to 1000"),
    ("WRITE_BUDGET_SCALE", "true", "KIOSK_WRITE_BUDGET_SCALE must be a number from 0 to 1000"),
    ("PAGE_CACHE", "maybe", "KIOSK_PAGE_CACHE must be 1 or 0"),
])
def test_bad_budget_and_cache_settings_stop_with_a_clear_message(tmp_path, monkeypatch, name, value, words):
    from kiosk import create_app
    from kiosk.core.config import ConfigError

    monkeypatch.setenv(f"KIOSK_{name}", value)
    with pytest.raises(ConfigError, match=words):
        create_app({"DATA_DIR": str(tmp_path / "data")})
    assert not (tmp_path / "data").exists()  # nothing made, nothing stored
