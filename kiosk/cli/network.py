"""``kiosk network prepare``: a Syncthing home made safe before Syncthing's first start (the
kiosk-syncthing unit runs it first), so not even its first minute reaches beyond the network."""

from __future__ import annotations

import sys

import click

from . import main


@main.group()
def network() -> None:
    """Several kiosks, one board: this machine's Syncthing."""


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
