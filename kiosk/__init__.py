"""Mutual Aid Kiosk: a privacy-first board of needs and offers on the local network.

Three layers, each a package: ``core`` (storage, clock, codes, text), ``web`` (the factory and
what every page shares) and one package per feature (``board``, ``community``, ``coordinate``,
``events``, ``library``, ``survey``); ``cli`` is the ``kiosk`` command. README: Code map.
"""

from __future__ import annotations

__version__ = "0.1.0"


def create_app(test_config: dict | None = None, features=None):
    from .web.factory import create_app as make

    return make(test_config, features)


def run_upkeep(app, max_months: int = 3) -> None:
    from .web.factory import run_upkeep as run

    run(app, max_months)
