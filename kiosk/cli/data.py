"""``kiosk seed``, ``kiosk export`` and ``kiosk import``: data in and out of a data folder."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..core import staging
from ..core.clock import wall_now
from ..core.errors import DataDamaged, Refused, StoreError
from ..core.files import release_folder_lock, take_folder_lock
from ..core.store import Store
from ..web import exchange
from ..web.feature import Registry, discover
from . import DATA_HELP, _installed_settings, as_its_owner, main, plain


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
    as_its_owner(data_dir)
    try:
        store = Store(data_dir, schema=_registry().schema)
    except StoreError as exc:
        click.echo(f"kiosk: {exc}", err=True)
        sys.exit(1)
    try:
        seed(store, live, archived, wall_now(), retain_days=None if keep_text else 30)
    finally:
        store.close()
    click.echo(f"Seeded {live} open and {archived} closed posts into {data_dir} in {time.monotonic() - started:.1f} s.")


NOT_KEPT = ("{n} replies or messages of theirs do not fit (a post or a conversation here is full): this kiosk's "
            "stay, and theirs stay on the other kiosk.")


def _exchange_message(exc) -> str:
    messages = {
        "no-target": "that folder does not exist",
        "read-only": "the folder is read-only (a stick's lock switch?)",
        "full": "the stick is full; nothing was left on it",
        "write-failed": "writing failed (was the stick pulled out?); nothing was left that a restore would take",
        "exists": "an export with that name is already there; try again in a second",
        "not-backup": "this folder is not a kiosk export (no readable manifest.json)",
        "incomplete": "this backup is incomplete",
        "checksum": "this backup was changed after it was made (a checksum does not match)",
        "version": "this backup comes from another version of the kiosk",
        "too-large": "this backup is larger than a kiosk's data can be; nothing was read from it",
        "invalid": "this backup holds data the kiosk cannot use; nothing was changed",
        "no-full": "this is an anonymized export, not a full backup: it cannot restore or merge",
        "unreadable": "a file of the backup cannot be read (is the stick damaged, or was it pulled out? "
                      "run as the kiosk's user?); nothing was changed",
        "staging": "the new data could not be written in the data folder (is the disk full? kiosk doctor says); "
                   "nothing was changed",
        "result": "the restored or merged data would not pass the kiosk's own checks; nothing was changed",
        "passphrase": "this backup is encrypted: it needs its passphrase",
        "wrong-passphrase": "that passphrase does not open this backup (or the backup was changed after it was "
                            "made); nothing was changed",
        "damaged": "this backup was changed or damaged after it was made (it does not decrypt); nothing was changed",
        "not-age": "this is not a backup encrypted by a kiosk; nothing was changed",
        "forged": "this backup is not encrypted, yet only a kiosk that encrypts every full backup writes what it "
                  "holds: someone made or changed it; nothing was changed",
        "too-costly": "opening this backup needs more memory than this machine has free (MiB needed in brackets; "
                      "its passphrase was set up on a faster machine): open it there, or with age -d; nothing was changed",
        "backup-too-large": "the full backup would be larger than a kiosk can encrypt (MiB in brackets); "
                            "nothing was left on the stick",
    }
    detail = exc.detail.english() if hasattr(exc.detail, "english") else exc.detail
    return f"kiosk: {messages.get(exc.code, exc.code)}" + (f" ({plain(detail)})" if detail else "")


def _passphrase(prompt: str, twice: bool) -> str:
    """A passphrase typed at the terminal (``twice``: asked again, and refused if it differs),
    or one line of standard input; never an argument, which the shell history would keep."""
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        return exchange.new_passphrase(line, line) if twice else line
    first = click.prompt(prompt, hide_input=True, err=True)
    return exchange.new_passphrase(first, click.prompt("The same passphrase again", hide_input=True, err=True)) if twice else first


@main.command("export")
@click.option("--to", "target", required=True, type=click.Path(file_okay=False), help="Where to write (a stick).")
@click.option("--full", is_flag=True, help="Also write backup.age: everything, SENSITIVE, encrypted with a "
              "passphrase typed twice (or one line of standard input).")
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None, help=DATA_HELP)
def export_command(target: str, full: bool, data_dir: str | None) -> None:
    """Export posts.csv and summary.csv (anonymized), and with --full an encrypted backup, into a new folder."""
    settings = _installed_settings()
    folder = data_dir or settings["DATA_DIR"]
    try:
        passphrase = _passphrase("Passphrase for the backup (at least 12 characters)", twice=True) if full else None
    except Refused as refused:
        click.echo(f"kiosk: {refused.message}", err=True)
        sys.exit(1)
    try:
        store = Store(folder, read_only=True, schema=_registry().schema)  # works beside a running server
    except StoreError as exc:
        click.echo(f"kiosk: {exc}", err=True)
        sys.exit(1)

    def progress(what: str, done: int, total: int) -> None:
        if what != "done":
            click.echo(f"\r{what}: {done}/{total}", nl=False, err=True)

    name = (store.get_meta("settings") or {}).get("NAME") or settings["NAME"]
    try:
        made = exchange.export(store, target, registry=_registry(), kiosk_name=name, now=wall_now(), full=full,
                               passphrase=passphrase, progress=progress)
    except exchange.ExchangeError as exc:
        click.echo("", err=True)
        click.echo(_exchange_message(exc), err=True)
        sys.exit(1)
    finally:
        store.close()
    click.echo("", err=True)
    if full:
        click.echo("backup.age holds everything, including private conversations, encrypted: it opens only with "
                   "the passphrase (kiosk import, or age -d). Keep the stick safe, and the passphrase elsewhere.")
    click.echo(f"Written to {made}. It is safe to unplug the stick (unmount it first).")


@main.command("import")
@click.option("--from", "source", required=True, type=click.Path(file_okay=False),
              help="An export folder, or a copy kept in the data folder's backups/.")
@click.option("--replace", is_flag=True, help="Restore: the backup replaces all data.")
@click.option("--merge", is_flag=True, help="Merge another kiosk's posts in.")
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
    registry = _registry()
    backup = _read_backup(source, registry)
    folder = Path(data_dir or _installed_settings()["DATA_DIR"]).resolve()
    as_its_owner(folder)
    if not (folder / "live.json").exists():
        if mode == "merge":  # a mistyped --data would merge into a new, empty kiosk
            click.echo(f"kiosk: there is no kiosk data in {folder} to merge into", err=True)
            sys.exit(1)
        click.echo(f"There is no kiosk data in {folder} yet: the backup is restored into a new data folder there.")
    store, lock = _open_for_import(folder, registry, mode)
    try:
        click.echo(f"Backup of {plain(backup.header['name'])} made {backup.header['created']}: "
                   f"{backup.counts['posts']} posts.")
        if backup.unencrypted:
            click.echo("This backup is not encrypted (it was made before backups were): anyone who has the stick "
                       "can read it. Once it is in, make a new full backup (encrypted) and delete this one.")
        _what_would_change(store, backup, mode, registry)
        if not yes and not click.confirm("Go on?"):
            sys.exit(1)
        if mode == "replace":
            kept = exchange.restore(folder, backup, registry, now=wall_now(), handle="(command line)", store=store)
            click.echo("Restored." + (f" The data from before is kept in {kept}." if kept else ""))
        else:
            result = exchange.merge(store, backup, registry, now=wall_now(), handle="(command line)")
            click.echo(f"Merged: {result['added']} added ({result['renumbered']} under new numbers), "
                       f"{result['updated']} updated.")
            if result["not_kept"]:
                click.echo(NOT_KEPT.format(n=result["not_kept"]))
    except exchange.ExchangeError as exc:  # the stick changed since it was checked, or the disk is full
        click.echo(_exchange_message(exc), err=True)
        sys.exit(1)
    except StoreError as exc:
        click.echo(f"kiosk: {exc}", err=True)
        sys.exit(1)
    finally:
        if store is not None:
            store.close()
        if lock is not None:
            release_folder_lock(lock)


def _read_backup(source: str, registry):
    """The backup checked whole; an encrypted one after asking for its passphrase (only once
    the rest of the folder passed its checks)."""
    try:
        try:
            return exchange.read_backup(source, registry)
        except exchange.ExchangeError as exc:
            if exc.code != "passphrase":
                raise
        return exchange.read_backup(source, registry, _passphrase("Passphrase of the backup", twice=False))
    except exchange.ExchangeError as exc:
        click.echo(_exchange_message(exc), err=True)
        sys.exit(1)


def _what_would_change(store, backup, mode: str, registry) -> None:
    if store is None:
        click.echo("The data here is damaged: it will be kept in the data folder's backups/ and replaced.")
        return
    seen = exchange.preview(store, backup, mode, registry)
    if mode == "replace":
        click.echo(f"This kiosk has {seen['posts_now']} posts now; all of its data will be replaced "
                   "(the data from before is kept in the data folder's backups/).")
        if not seen["same_kiosk"]:
            click.echo(f"This backup was made by another kiosk ({plain(seen['kiosk'])}, {seen['kiosk_id']}): this kiosk "
                       "takes over its identity. Do that only to replace it; to combine two kiosks, --merge.")
        return
    click.echo(f"Merging adds {seen['merge_new']} posts ({seen['renumbered']} under new numbers, as "
               f"theirs are taken here) and updates {seen['merge_newer']}.")
    if seen["not_kept"]:
        click.echo(NOT_KEPT.format(n=seen["not_kept"]))


def _open_for_import(folder: Path, registry, mode: str):
    """(store, None), or for a restore over damaged data (None, the folder's lock)."""
    try:
        return Store(folder, schema=registry.schema), None
    except DataDamaged as exc:
        if mode != "replace":
            click.echo(f"kiosk: {exc}", err=True)
            sys.exit(1)
    except StoreError as exc:
        click.echo(f"kiosk: {exc}", err=True)
        sys.exit(1)
    lock = take_folder_lock(folder)
    staging.recover(folder)
    return None, lock
