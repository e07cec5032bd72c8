"""``kiosk network prepare``: a Syncthing home made safe before Syncthing's first start (the
kiosk-syncthing unit runs it first), so not even its first minute reaches beyond the network.
``kiosk network export DIR`` and ``kiosk network apply DIR``: the network's records carried
on a stick by hand, to a kiosk with no link (the same files every export carries, and the same
checks and memory as Syncthing's copies: kiosk/network/stick.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..core.changelog import ABOUT, NETWORK_DIR
from ..core.clock import wall_now
from ..network import stick
from ..web.feature import default_registry
from . import DATA_HELP, _installed_settings, _open_store, main, plain

STICK_MESSAGES = {
    "gone": "that folder is not there, or cannot be read (was the stick pulled out?)",
    "broken": "a kiosk's folder there has no readable kiosk.json, or it names another kiosk (was the copy cut "
              "short?); nothing was applied: copy the records again",
    "empty": "there are no records of other kiosks there: nothing to apply",
}


@main.group()
def network() -> None:
    """Several kiosks, one board: this machine's Syncthing, and the records on a stick."""


@network.command()
@click.option("--home", required=True, type=click.Path(file_okay=False), help="Syncthing's home folder.")
@click.option("--gui", "gui_address", default="127.0.0.1:8384", show_default=True,
              help="Where Syncthing's GUI and REST API listen (this machine only).")
def prepare(home: str, gui_address: str) -> None:
    """Make Syncthing's keys and config.xml if missing, and set it to keep to the network."""
    from ..core import config as config_module
    from ..network.syncthing import prepare_home
    from . import _settings

    settings = _settings()[0]
    scratch = dict(settings)
    try:
        config_module.check_network(scratch)
    except config_module.ConfigError as exc:
        click.echo(f"kiosk: {exc}", err=True)
        sys.exit(1)
    host = gui_address.rsplit(":", 1)[0].strip("[]")
    if not config_module.is_loopback_host(host) or host == "0.0.0.0":
        click.echo("kiosk: --gui must be an address of this machine only, like 127.0.0.1:8384", err=True)
        sys.exit(1)
    prepare_home(home, gui_address, scratch["SYNC_LISTEN"].split(","), scratch["SYNC_LOCAL_DISCOVERY"])
    click.echo(f"Syncthing's home {home} is ready: GUI on {gui_address} only, no global discovery, relays or reports.")


@network.command("export")
@click.argument("target", type=click.Path(file_okay=False))
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None, help=DATA_HELP)
def network_export(target: str, data_dir: str | None) -> None:
    """Write the records of this kiosk and of every kiosk it hears from into TARGET/network/
    (works beside a running kiosk: it only reads)."""
    folder = Path(data_dir or _installed_settings()["DATA_DIR"])
    if not (folder / "live.json").is_file():
        click.echo(f"kiosk: there is no kiosk data in {folder}", err=True)
        sys.exit(1)
    if not Path(target).is_dir():
        click.echo(f"kiosk: {target} is not a folder (is the stick plugged in and mounted?)", err=True)
        sys.exit(1)
    try:
        written = stick.write_tree(folder, Path(target))
    except OSError as exc:
        click.echo(f"kiosk: writing to {target} failed ({exc.strerror or exc}); was the stick pulled out, or is "
                   "it full or read-only?", err=True)
        sys.exit(1)
    click.echo(f"Wrote the records of {written['kiosks']} kiosk(s), {written['files']} file(s), into "
               f"{Path(target) / NETWORK_DIR}. It is safe to unplug the stick (unmount it first).")


@network.command("apply")
@click.argument("source", type=click.Path(file_okay=False))
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None, help=DATA_HELP)
def network_apply(source: str, data_dir: str | None) -> None:
    """Apply the other kiosks' records in SOURCE/network/ (an export folder, or what kiosk
    network export wrote), or in SOURCE itself if it is one kiosk's folder. Safe to repeat;
    the server must be stopped (it holds the data folder: on screen, use /coordinate/import)."""
    folder = Path(source)
    if not (folder / NETWORK_DIR).is_dir() and not (folder / ABOUT).is_file():
        click.echo(f"kiosk: {source} holds no network records (no network/ folder, no kiosk.json)", err=True)
        sys.exit(1)
    store = _open_store(data_dir)  # takes the folder's lock: refuses beside a running server
    try:
        seen = stick.look(store, folder)
        for kiosk in seen["kiosks"]:
            name = plain(kiosk["name"] or kiosk["kiosk"])
            if kiosk["changed_key"]:
                click.echo(f"{name}: its key is not the one this kiosk knows for it; nothing from it is applied "
                           "until a coordinator accepts the new key.")
            else:
                click.echo(f"{name}: {kiosk['records']} record(s), {kiosk['new']} new here.")
        done = stick.carry_in(store, default_registry(), folder, wall_now(), "(command line)")
    except stick.StickError as exc:
        click.echo(f"kiosk: {STICK_MESSAGES.get(exc.code, exc.code)}" + (f" ({plain(exc.detail)})" if exc.detail else ""),
                   err=True)
        sys.exit(1)
    finally:
        store.close()
    if not done["new"]:
        click.echo("Nothing new was applied: every record there was here already, or waits for a coordinator to "
                   "accept a kiosk's new key.")
        return
    click.echo(f"{done['applied']} record(s) applied, {done['waiting']} waiting for a post not yet here, "
               f"{done['set_aside']} set aside (the coordinators' Network page lists them).")
    if done["cut"]:
        click.echo("kiosk: the folder went away while its records were read (a stick pulled out?): what was read "
                   "is applied; apply again to finish.", err=True)
        sys.exit(1)
