"""The ``kiosk`` command: serve, demo (later: export, import, qr, doctor)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
import tempfile

import click

from . import create_app
from .config import ConfigError
from .store import StoreError

# Waitress's default body limit is 1 GiB; nothing the kiosk accepts is near 1 MiB.
MAX_BODY = 1024 * 1024


def _make_app(overrides: dict):
    try:
        return create_app(overrides)
    except (StoreError, ConfigError) as exc:
        click.echo(f"kiosk: {exc}", err=True)
        sys.exit(1)


def _serve(app, host: str, port: int) -> None:
    from waitress import serve

    # No access log is configured: Waitress writes none unless asked (DESIGN promise 3).
    serve(
        app,
        host=host,
        port=port,
        threads=8,
        ident="kiosk",
        max_request_body_size=MAX_BODY,
        clear_untrusted_proxy_headers=True,
        expose_tracebacks=False,
    )


@click.group()
@click.version_option(package_name="mutual-aid-kiosk")
def main() -> None:
    """Mutual Aid Kiosk: needs and offers on the local network."""


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Data folder (default: KIOSK_DATA_DIR or ./data).",
)
def serve(host: str, port: int, data_dir: str | None) -> None:
    """Run the kiosk with Waitress."""
    overrides = {"DATA_DIR": data_dir} if data_dir else {}
    app = _make_app(overrides)
    click.echo(f"Mutual Aid Kiosk serving on http://{host}:{port}/ with data in {app.config['DATA_DIR']}")
    click.echo(f"QR codes point to {app.config['PUBLIC_URL']}")
    _serve(app, host, port)


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--posts", "count", default=40, show_default=True, type=click.IntRange(0, 1000))
def demo(host: str, port: int, count: int) -> None:
    """Serve a throwaway data folder filled with sample posts."""
    from .demo import add_sample_posts

    folder = tempfile.mkdtemp(prefix="kiosk-demo-")
    # Stopping with SIGTERM (systemd, kill, a test) must also remove the throwaway folder.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        public = os.environ.get("KIOSK_PUBLIC_URL") or f"http://{socket.gethostname()}.local:{port}"
        app = _make_app({"DATA_DIR": folder, "PUBLIC_URL": public})
        with app.app_context():
            add_sample_posts(app, count)
        click.echo(f"Demo kiosk with {count} sample posts (data in {folder}, removed on exit).")
        click.echo(f"Open http://localhost:{port}/ on this machine, or {public}/ from a phone.")
        _serve(app, host, port)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":  # pragma: no cover
    main()
