"""``kiosk coordinator add|list|remove``: the team, from the command line (the first
coordinator is made here: there is no default passphrase)."""

from __future__ import annotations

import sys

import click

from ..core.errors import Refused
from ..web.audit import log

from . import DATA_HELP, _open_store, _settings, main

@main.group()
def coordinator() -> None:
    """Add, list and remove coordinators (the server must be stopped: it holds the folder)."""


NO_ARGUMENT = (
    "kiosk: never give a passphrase on the command line (it would stay in the shell history "
    "and the process list). Run the command and type it when asked, or pipe it in."
)


def _scrypt_n() -> int:
    from ..core.codes import DEFAULT_SCRYPT_N

    value = _settings()[0]["SCRYPT_N"]
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 1 else DEFAULT_SCRYPT_N


@coordinator.command("add", context_settings={"ignore_unknown_options": True})
@click.argument("handle")
@click.argument("extra", nargs=-1, type=click.UNPROCESSED)
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None, help=DATA_HELP)
def coordinator_add(handle: str, extra: tuple, data_dir: str | None) -> None:
    """Add a coordinator HANDLE; the passphrase is read from standard input or a prompt."""
    from ..web import gate as coordinators
    from ..core.clock import wall_now

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
        log(store, "(command line)", "add-coordinator", added, wall_now())
    except Refused as refused:
        click.echo(f"kiosk: {refused.message}", err=True)
        sys.exit(1)
    finally:
        store.close()
    click.echo(f"Coordinator {added} added.")


@coordinator.command("list")
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None, help=DATA_HELP)
def coordinator_list(data_dir: str | None) -> None:
    """List the coordinators' handles."""
    from ..web import gate as coordinators

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
    from ..web import gate as coordinators
    from ..core.clock import wall_now

    if not yes and not click.confirm(f"Remove coordinator {handle}?"):
        sys.exit(1)
    store = _open_store(data_dir)
    try:
        coordinators.remove(store, handle)
        log(store, "(command line)", "remove-coordinator", handle, wall_now())
    except Refused as refused:
        click.echo(f"kiosk: {refused.message}", err=True)
        sys.exit(1)
    finally:
        store.close()
    click.echo(f"Coordinator {handle} removed.")


