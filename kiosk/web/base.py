"""The kiosk's own pieces, declared like a feature's: its pages (web/screen.py), the team of
coordinators, the on-screen settings and the clock, and the session keys every visit may hold."""

from __future__ import annotations

from typing import Literal

from . import gate, schema, screen, sealing
from .feature import Feature, Setting, Table


FEATURE = Feature(
    name="kiosk",
    blueprints=(screen.bp,),
    tables=(Table(gate.TABLE, schema.Coordinator),),
    settings=(Setting("settings", schema.Settings), Setting("clock", schema.Clock), Setting(gate.TEAM_KEY, schema.Key),
              Setting(sealing.SEALED, Literal[1])),
    session_keys=("lang", "form_key", "coord", "_flashes"),
    private_endpoints=("screen.flyer",),
)
