"""``kiosk seed``, ``kiosk export`` and ``kiosk import``: data in and out of a data folder."""

from __future__ import annotations

import sys

import click

from ..core.clock import wall_now
from ..core.errors import StoreError
from ..core.store import Store
from ..web import exchange
from ..web.audit import log
from ..web.feature import Registry, discover
from . import DATA_HELP, _installed_settings, _open_store, main


def _registry() -> Registry:
    """Every feature's declarations, as the running kiosk has them."""
    return Registry(discover())

@main.command("seed")
@click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False), help="Data folder to fill.")
@click.option("--live", default=500, show_default=True, type=click.IntRange(0, 100_000), help="Open posts.")
@click.option("--archived", default=0, show_default=True, type=click.IntRange(0, 1_000_000), help="Closed posts.")
@click.option("--keep-text", is_flag=True, help="Old closed posts keep their text (as with a very long retention).")
def seed_command(data_dir: str, live: int, archived: int, keep_text: bool) -> None:
    """Fill a data folder with synthetic posts, for measuring (never on a real kiosk)."""
    import time

    from .seed import seed

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
    return f"kiosk: {messages.get(exc.code, exc.code)}" + (f" ({exc.detail})" if exc.detail else "")


@main.command("export")
@click.option("--to", "target", required=True, type=click.Path(file_okay=False), help="Where to write (a stick).")
@click.option("--full", is_flag=True, help="Also write backup.json: everything, SENSITIVE.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None, help=DATA_HELP)
def export_command(target: str, full: bool, data_dir: str | None) -> None:
    """Export posts.csv and summary.csv (anonymized), and with --full a backup, into a new folder."""
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
        made = exchange.export(store, target, registry=_registry(), kiosk_name=name, now=wall_now(), full=full,
                               progress=progress)
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
@click.option("--replace", is_flag=True, help="Restore: the backup replaces all data.")
@click.option("--merge", is_flag=True, help="Merge another kiosk's posts in by id.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None, help=DATA_HELP)
def import_command(source: str, replace: bool, merge: bool, yes: bool, data_dir: str | None) -> None:
    """Restore (--replace) or merge (--merge) a full backup; the server must be stopped."""
    if replace and merge:
        click.echo("kiosk: say either --replace (restore) or --merge, not both", err=True)
        sys.exit(2)
    mode = "replace" if replace else "merge" if merge else None
    if mode is None:
        click.echo("kiosk: say --replace (restore) or --merge", err=True)
        sys.exit(2)
    try:
        registry = _registry()
        document = exchange.read_backup(source, registry)
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
            name = (store.get_meta("settings") or {}).get("NAME") or "kiosk"
            copy = exchange.restore(store, document, wall_now(), name, registry)
            log(store, "(command line)", "restore-backup", document.get("created", ""), wall_now())
            click.echo(f"Restored. The previous data is kept in {copy}.")
        else:
            result = exchange.merge(store, document, registry)
            log(store, "(command line)", "merge", document.get("kiosk", ""), wall_now(),
                             f"{result['added']} added, {result['updated']} updated")
            click.echo(f"Merged: {result['added']} added, {result['updated']} updated.")
    finally:
        store.close()


