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
@click.option("--by", "by", default=None, metavar="HANDLE",
              help="An existing coordinator, whose passphrase is asked first (needed once the team has one).")
def coordinator_add(handle: str, extra: tuple, data_dir: str | None, by: str | None) -> None:
    """Add a coordinator HANDLE; the passphrase is read from standard input or a prompt.

    Notes for coordinators are sealed to the team's key, which each coordinator's passphrase
    unwraps: once a team exists, one of them (--by) unlocks it for the newcomer. Piped in,
    the first line is --by's passphrase and the second the new one."""
    from ..web import gate as coordinators
    from ..core.clock import wall_now

    if extra:
        click.echo(NO_ARGUMENT, err=True)
        sys.exit(2)
    store = _open_store(data_dir)
    try:
        team = _unlock_team(store, by)
        passphrase = _read_passphrase("Passphrase for the new coordinator (at least 12 characters)", confirm=True)
        added = coordinators.add(store, handle, passphrase, by=by or "(command line)", now=wall_now(),
                                 scrypt_n=_scrypt_n(), team=team)
        log(store, by or "(command line)", "add-coordinator", added, wall_now())
    except Refused as refused:
        click.echo(f"kiosk: {refused.message}", err=True)
        sys.exit(1)
    finally:
        store.close()
    click.echo(f"Coordinator {added} added.")


def _read_passphrase(prompt: str, confirm: bool = False) -> str:
    if sys.stdin.isatty():
        return click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return sys.stdin.readline().rstrip("\r\n")


def _unlock_team(store, by: str | None):
    """The team's private key, from --by's passphrase; None for the first coordinator."""
    from ..web import gate as coordinators

    if not coordinators.handles(store):
        return None
    if not by:
        raise Refused("the team has coordinators already: name one with --by HANDLE, whose passphrase unlocks "
                      "the team's key for the newcomer")
    found = coordinators.verify(store, by, _read_passphrase(f"Passphrase of {by}"), _scrypt_n())
    if found is None:
        raise Refused(f"the handle {by} and that passphrase do not match")
    if found.team is None:
        raise Refused(f"{by} cannot open the team's key: ask another coordinator")
    return found.team


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


