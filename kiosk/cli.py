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
    from .memory import tune_malloc

    tune_malloc()  # before any thread starts, see memory.py
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


DATA_HELP = "Data folder (default: KIOSK_DATA_DIR, read from kiosk.env on an installed kiosk; else ./data)."


def _settings(settings_file: str | None = None) -> tuple[dict, list[tuple[str, str]]]:
    """The settings as the service sees them: defaults, then the installed settings file
    (/etc/mutual-aid-kiosk/kiosk.env, when it is there), then ``KIOSK_*`` environment variables.
    So on the Pi ``sudo -u kiosk kiosk export --to ...`` finds the data folder by itself.
    Also returns what became of the file, as doctor results."""
    from . import config as config_module
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
    click.echo(f"QR codes point to {app.config['PUBLIC_URL']}")
    _serve(app, host, port)


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--posts", "count", default=40, show_default=True, type=click.IntRange(0, 1000))
def demo(host: str, port: int, count: int) -> None:
    """Serve a throwaway data folder filled with sample posts."""
    from .demo import add_demo_coordinator, add_sample_posts

    folder = tempfile.mkdtemp(prefix="kiosk-demo-")
    # Stopping with SIGTERM (systemd, kill, a test) must also remove the throwaway folder.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        public = os.environ.get("KIOSK_PUBLIC_URL") or f"http://{socket.gethostname()}.local:{port}"
        app = _make_app({"DATA_DIR": folder, "PUBLIC_URL": public})
        with app.app_context():
            add_sample_posts(app, count)
            passphrase = add_demo_coordinator(app)
        click.echo(f"Demo kiosk with {count} sample posts (data in {folder}, removed on exit).")
        click.echo(f"Coordinator mode for this demo only: handle Demo, passphrase {passphrase}")
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


@main.group()
def coordinator() -> None:
    """Add, list and remove coordinators (the server must be stopped: it holds the folder)."""


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


def _open_store(data_dir: str | None):
    from .store import Store

    folder = data_dir or _installed_settings()["DATA_DIR"]
    try:
        return Store(folder)
    except StoreError as exc:
        click.echo(f"kiosk: {exc}", err=True)
        sys.exit(1)


NO_ARGUMENT = (
    "kiosk: never give a passphrase on the command line (it would stay in the shell history "
    "and the process list). Run the command and type it when asked, or pipe it in."
)


def _scrypt_n() -> int:
    from .codes import DEFAULT_SCRYPT_N

    value = _settings()[0]["SCRYPT_N"]
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 1 else DEFAULT_SCRYPT_N


@coordinator.command("add", context_settings={"ignore_unknown_options": True})
@click.argument("handle")
@click.argument("extra", nargs=-1, type=click.UNPROCESSED)
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None, help=DATA_HELP)
def coordinator_add(handle: str, extra: tuple, data_dir: str | None) -> None:
    """Add a coordinator HANDLE; the passphrase is read from standard input or a prompt."""
    from . import coordinators
    from .clock import wall_now

    if extra:
        click.echo(NO_ARGUMENT, err=True)
        sys.exit(2)
    if sys.stdin.isatty():
        passphrase = click.prompt("Passphrase (at least 12 characters)", hide_input=True, confirmation_prompt=True)
    else:
        passphrase = sys.stdin.readline().rstrip("\r\n")
    store = _open_store(data_dir)
    try:
        added = coordinators.add(store, handle, passphrase, by="(command line)", now=wall_now(), scrypt_n=_scrypt_n())
        coordinators.log(store, "(command line)", "add-coordinator", added, wall_now())
    except coordinators.Refused as refused:
        click.echo(f"kiosk: {refused.message}", err=True)
        sys.exit(1)
    finally:
        store.close()
    click.echo(f"Coordinator {added} added.")


@coordinator.command("list")
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None, help=DATA_HELP)
def coordinator_list(data_dir: str | None) -> None:
    """List the coordinators' handles."""
    from . import coordinators

    store = _open_store(data_dir)
    try:
        for handle in coordinators.handles(store):
            click.echo(handle)
    finally:
        store.close()


@coordinator.command("remove")
@click.argument("handle")
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None, help=DATA_HELP)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def coordinator_remove(handle: str, data_dir: str | None, yes: bool) -> None:
    """Remove the coordinator HANDLE."""
    from . import coordinators
    from .clock import wall_now

    if not yes and not click.confirm(f"Remove coordinator {handle}?"):
        sys.exit(1)
    store = _open_store(data_dir)
    try:
        coordinators.remove(store, handle)
        coordinators.log(store, "(command line)", "remove-coordinator", handle, wall_now())
    except coordinators.Refused as refused:
        click.echo(f"kiosk: {refused.message}", err=True)
        sys.exit(1)
    finally:
        store.close()
    click.echo(f"Coordinator {handle} removed.")


@main.command("seed")
@click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False), help="Data folder to fill.")
@click.option("--live", default=500, show_default=True, type=click.IntRange(0, 100_000), help="Open posts.")
@click.option("--archived", default=0, show_default=True, type=click.IntRange(0, 1_000_000), help="Closed posts.")
@click.option("--keep-text", is_flag=True, help="Old closed posts keep their text (as with a very long retention).")
def seed_command(data_dir: str, live: int, archived: int, keep_text: bool) -> None:
    """Fill a data folder with synthetic posts, for measuring (never on a real kiosk)."""
    import time

    from .clock import wall_now
    from .seed import seed
    from .store import Store

    started = time.monotonic()
    try:
        store = Store(data_dir)
    except StoreError as exc:
        click.echo(f"kiosk: {exc}", err=True)
        sys.exit(1)
    try:
        seed(store, live, archived, wall_now(), retain_days=None if keep_text else 30)
    finally:
        store.close()
    click.echo(f"Seeded {live} open and {archived} closed posts into {data_dir} in {time.monotonic() - started:.1f} s.")


def _exchange_message(exc) -> str:
    from .exchange import ExchangeError

    messages = {
        "no-target": "that folder does not exist",
        "read-only": "the folder is read-only (a stick's lock switch?)",
        "full": "the stick is full; nothing was left on it",
        "write-failed": "writing failed (was the stick pulled out?); nothing was left that a restore would take",
        "exists": "an export with that name is already there; try again in a second",
        "not-backup": "this folder is not a kiosk export (no manifest.json)",
        "incomplete": "this backup is incomplete",
        "checksum": "this backup was changed after it was made (a checksum does not match)",
        "version": "this backup comes from another version of the kiosk",
        "invalid": "this backup holds data the kiosk cannot use; nothing was changed",
        "no-full": "this is an anonymized export, not a full backup: it cannot restore or merge",
    }
    assert isinstance(exc, ExchangeError)
    return f"kiosk: {messages.get(exc.code, exc.code)}" + (f" ({exc.detail})" if exc.detail else "")


@main.command("export")
@click.option("--to", "target", required=True, type=click.Path(file_okay=False), help="Where to write (a stick).")
@click.option("--full", is_flag=True, help="Also write backup.json: everything, SENSITIVE.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None, help=DATA_HELP)
def export_command(target: str, full: bool, data_dir: str | None) -> None:
    """Export posts.csv and summary.csv (anonymized), and with --full a backup, into a new folder."""
    from . import exchange
    from .clock import wall_now
    from .store import Store

    settings = _installed_settings()
    folder = data_dir or settings["DATA_DIR"]
    try:
        store = Store(folder, read_only=True)  # works beside a running server
    except StoreError as exc:
        click.echo(f"kiosk: {exc}", err=True)
        sys.exit(1)

    def progress(what: str, done: int, total: int) -> None:
        if what != "done":
            click.echo(f"\r{what}: {done}/{total}", nl=False, err=True)

    name = (store.get_meta("settings") or {}).get("NAME") or settings["NAME"]
    try:
        made = exchange.export(store, target, kiosk_name=name, now=wall_now(), full=full, progress=progress)
    except exchange.ExchangeError as exc:
        click.echo("", err=True)
        click.echo(_exchange_message(exc), err=True)
        sys.exit(1)
    finally:
        store.close()
    click.echo("", err=True)
    if full:
        click.echo("backup.json holds everything, including private conversations: keep the stick safe.")
    click.echo(f"Written to {made}. It is safe to unplug the stick (unmount it first).")


@main.command("import")
@click.option("--from", "source", required=True, type=click.Path(file_okay=False), help="An export folder.")
@click.option("--replace", "mode", flag_value="replace", help="Restore: the backup replaces all data.")
@click.option("--merge", "mode", flag_value="merge", help="Merge another kiosk's posts in by id.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None, help=DATA_HELP)
def import_command(source: str, mode: str | None, yes: bool, data_dir: str | None) -> None:
    """Restore (--replace) or merge (--merge) a full backup; the server must be stopped."""
    from pathlib import Path

    from . import exchange
    from .clock import wall_now

    if mode is None:
        click.echo("kiosk: say --replace (restore) or --merge", err=True)
        sys.exit(2)
    try:
        document = exchange.read_backup(source)
    except exchange.ExchangeError as exc:
        click.echo(_exchange_message(exc), err=True)
        sys.exit(1)
    store = _open_store(data_dir)
    try:
        seen = exchange.preview(store, document)
        click.echo(f"Backup of {seen['kiosk']} made {seen['created']}: {seen['posts_in_backup']} posts.")
        if mode == "replace":
            click.echo(f"This kiosk has {seen['posts_now']} posts now; all of its data will be replaced "
                       "(a copy is kept in the data folder's backups/ first).")
        else:
            click.echo(f"Merging adds {seen['merge_new']} posts and updates {seen['merge_newer']}.")
        if not yes and not click.confirm("Go on?"):
            sys.exit(1)
        if mode == "replace":
            kept = Path(store.data_dir) / "backups"
            kept.mkdir(exist_ok=True, mode=0o700)
            name = (store.get_meta("settings") or {}).get("NAME") or "kiosk"
            copy = exchange.restore(store, document, kept, wall_now(), name)
            from . import coordinators

            coordinators.log(store, "(command line)", "restore-backup", document.get("created", ""), wall_now())
            click.echo(f"Restored. The previous data is kept in {copy}.")
        else:
            result = exchange.merge(store, document)
            from . import coordinators

            coordinators.log(store, "(command line)", "merge", document.get("kiosk", ""), wall_now(),
                             f"{result['added']} added, {result['updated']} updated")
            click.echo(f"Merged: {result['added']} added, {result['updated']} updated.")
    finally:
        store.close()


if __name__ == "__main__":  # pragma: no cover
    main()
