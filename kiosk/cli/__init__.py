"""The ``kiosk`` command (click): serve, demo and doctor here; coordinators in team.py;
seed, export and import in data.py; the network's records on a stick in network.py. It may import every layer."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
import tempfile

import click

from .. import create_app
from ..core.config import ConfigError
from ..core.errors import StoreError

# Waitress's default body limit is 1 GiB; nothing the kiosk accepts is near 1 MiB.
MAX_BODY = 1024 * 1024


def _make_app(overrides: dict):
    from .memory import give_back_freed, tune_malloc

    tune_malloc()  # before any thread starts, see memory.py
    try:
        app = create_app(overrides)
    except (StoreError, ConfigError) as exc:
        click.echo(f"kiosk: {exc}", err=True)
        sys.exit(1)
    give_back_freed()
    return app


def _serve(app, host: str, port: int) -> None:
    import signal

    from waitress import serve

    def stop(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the stop short
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt  # out of Waitress's loop, into the clean stop below

    # systemd stops the service with SIGTERM, a person with Ctrl-C: a clean stop folds the
    # journal into live.json, and a second signal does not cut it short.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
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
    except KeyboardInterrupt:
        pass
    finally:
        app.extensions["kiosk"].store.close()


DATA_HELP = "Data folder (default: KIOSK_DATA_DIR, read from kiosk.env on an installed kiosk; else ./data)."


def _settings(settings_file: str | None = None) -> tuple[dict, list[tuple[str, str]]]:
    """The settings as the service sees them: defaults, then the installed settings file
    (/etc/mutual-aid-kiosk/kiosk.env, when it is there), then ``KIOSK_*`` environment variables.
    So on the Pi ``sudo -u kiosk kiosk export --to ...`` finds the data folder by itself.
    Also returns what became of the file, as doctor results."""
    from ..core import config as config_module
    from .doctor import OK, PROBLEM

    settings: dict = dict(config_module.DEFAULTS)
    notes: list[tuple[str, str]] = []
    path = settings_file or config_module.SETTINGS_FILE
    if settings_file or os.path.exists(path):
        try:
            config_module.load_env(settings, config_module.read_env_file(path))
            notes.append((OK, f"Settings read from {path}."))
        except OSError as exc:
            notes.append((PROBLEM, f"The settings file {path} cannot be read ({exc.strerror or exc}): "
                                   "run the command as the kiosk's user: sudo -u kiosk ..."))
        except UnicodeDecodeError:
            notes.append((PROBLEM, f"The settings file {path} is not plain text (UTF-8): "
                                   "open it in a text editor and save it again."))
    config_module.load_env(settings, os.environ)
    return settings, notes


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
    from ..web.settings import setting_of

    sealed = app.extensions["kiosk"].sealed_at_start
    if sealed is not None and (sealed.texts or sealed.coordinators or sealed.copies):
        click.echo(sealed.line())
    click.echo(f"QR codes point to {setting_of(app.config, app.extensions['kiosk'].store, 'PUBLIC_URL')}")
    if app.config["NETWORK"]:
        from ..network import loop

        loop.start(app)  # configures Syncthing and applies the other kiosks' records (KIOSK_NETWORK=0: off)
        click.echo(f"Other kiosks' records: through Syncthing at {app.config['SYNCTHING_URL']}, "
                   f"every {app.config['NETWORK_EVERY_SECONDS']} s")
    _serve(app, host, port)


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--posts", "count", default=40, show_default=True, type=click.IntRange(0, 1000))
@click.option("--phone", is_flag=True, help="The plain view, as on a phone: no on-screen keyboard, no idle reset.")
def demo(host: str, port: int, count: int, phone: bool) -> None:
    """Serve a throwaway data folder filled with sample posts, gatherings, the tool library, a
    survey and a roster; as the touchscreen (on-screen keyboard, idle reset) unless --phone."""
    from .demo import add_demo_coordinator, add_sample_posts
    from .demodata import add_demo_world

    folder = tempfile.mkdtemp(prefix="kiosk-demo-")
    # Stopping with SIGTERM (systemd, kill, a test) must also remove the throwaway folder.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        public = os.environ.get("KIOSK_PUBLIC_URL") or f"http://{socket.gethostname()}.local:{port}"
        # Kiosk mode applies to this machine's own browser only (localhost), as on the Pi.
        app = _make_app({"DATA_DIR": folder, "PUBLIC_URL": public, "TOUCHSCREEN": not phone})
        with app.app_context():
            made = add_sample_posts(app, count)
            passphrase = add_demo_coordinator(app)
            add_demo_world(app, made)
        click.echo(f"Demo kiosk with {count} sample posts (data in {folder}, removed on exit).")
        click.echo(f"Coordinator mode for this demo only: handle Demo, passphrase {passphrase}")
        if phone:
            click.echo("Plain view (as on a phone): no on-screen keyboard, no idle reset.")
        else:
            click.echo(f"Touchscreen view on this machine: on-screen keyboard, back to the start page after "
                       f"{app.config['IDLE_SECONDS']} s untouched. For the plain view: kiosk demo --phone")
        click.echo(f"Open http://localhost:{port}/ on this machine, or {public}/ from a phone.")
        _serve(app, host, port)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@main.command()
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None,
              help="Data folder (default: the settings file's KIOSK_DATA_DIR, else ./data).")
@click.option("--settings", "settings_file", type=click.Path(dir_okay=False), default=None,
              help="The installed settings file (default: /etc/mutual-aid-kiosk/kiosk.env, if there).")
def doctor(data_dir: str | None, settings_file: str | None) -> None:
    """Check the data folder and its disk, the clock, the kiosk's name on the network, the
    service, USB sticks and the printer. Exit status 1 when something needs fixing."""
    from .doctor import PROBLEM, WARN, check

    settings, results = _settings(settings_file)
    results += check(settings, data_dir or settings["DATA_DIR"])
    for level, message in results:
        click.echo(f"{level:8} {message}")
    problems = sum(level == PROBLEM for level, _ in results)
    warnings = sum(level == WARN for level, _ in results)
    click.echo(f"\n{problems} problem(s), {warnings} warning(s).")
    if problems:
        sys.exit(1)


def _installed_settings() -> dict:
    """The settings for commands that read or write the data: stops with the reason when the
    installed settings file cannot be read (else they would quietly use ./data)."""
    from .doctor import PROBLEM

    settings, notes = _settings()
    for level, message in notes:
        if level == PROBLEM:
            click.echo(f"kiosk: {message}", err=True)
            sys.exit(1)
    return settings


def as_its_owner(folder) -> None:
    """Commands that write the data run as the user who owns it: root writing there (a
    forgotten ``sudo -u kiosk``) would leave files the kiosk cannot read."""
    import pwd

    try:
        owner = os.stat(folder).st_uid
    except OSError:
        return
    if os.geteuid() == 0 and owner != 0:
        try:
            name = pwd.getpwuid(owner).pw_name
        except KeyError:
            name = str(owner)
        click.echo(f"kiosk: the data folder {folder} belongs to the user {name}: run this as that user "
                   f"(sudo -u {name} ...), so its files stay readable by the kiosk. Nothing was changed.", err=True)
        sys.exit(1)


def plain(text) -> str:
    """Text from a backup or a stick, safe to print: no control characters (a terminal would act
    on escape sequences)."""
    return "".join(ch if ch.isprintable() else "?" for ch in str(text))


def _open_store(data_dir: str | None):
    from ..core.store import Store
    from ..web.feature import default_registry

    folder = data_dir or _installed_settings()["DATA_DIR"]
    as_its_owner(folder)
    try:
        return Store(folder, schema=default_registry().schema)
    except StoreError as exc:
        click.echo(f"kiosk: {exc}", err=True)
        sys.exit(1)



from . import data, network, team  # noqa: E402,F401  (their commands join the group)


if __name__ == "__main__":  # pragma: no cover
    main()
