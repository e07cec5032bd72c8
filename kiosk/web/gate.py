"""Who is a coordinator, and the gate in front of every coordinator page.

A coordinator is a handle (a pseudonym, not a name) and a passphrase of at least 12
characters stored as a salted scrypt hash in the ``coordinators`` table. There is no default
passphrase anywhere: the first coordinator is made on the command line. After unlocking, the
session holds only a random key; the server remembers whose it is, with a monotonic clock, and
forgets it after COORDINATOR_IDLE_MINUTES."""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import NamedTuple

from nacl.public import PrivateKey

from flask import current_app, g, redirect, session, url_for
from flask_babel import lazy_gettext as _l

from ..core import codes, keys, text
from ..core.errors import Refused
from ..core.store import Store
from ..core.times import iso
from .services import services

TABLE = "coordinators"
TEAM_KEY = "team_key"  # a setting: the public half of the coordinators' key pair (keys.py)
MIN_PASSPHRASE = 12
MAX_PASSPHRASE = 200
HANDLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{1,29}")


def check_handle(handle: str) -> str:
    handle = text.normalize(handle or "")
    if not HANDLE.fullmatch(handle):
        raise Refused(_l("A handle has 2 to 30 letters, digits, spaces, dots, dashes or underscores."))
    return handle


def check_passphrase(passphrase: str) -> str:
    if len(passphrase or "") < MIN_PASSPHRASE:
        raise Refused(_l("A passphrase needs at least %(n)d characters.", n=MIN_PASSPHRASE))
    if len(passphrase) > MAX_PASSPHRASE:
        raise Refused(_l("A passphrase can have at most %(n)d characters.", n=MAX_PASSPHRASE))
    return passphrase



def _find(store: Store, handle: str) -> dict | None:
    wanted = handle.casefold()
    return next((c for c in store.records(TABLE) if c["handle"].casefold() == wanted), None)


def team_public(store: Store) -> str | None:
    """The key that check-in notes, survey free text and report notes are sealed to; None
    before the first coordinator exists."""
    return store.get_meta(TEAM_KEY) or None


def add(store: Store, handle: str, passphrase: str, *, by: str, now: dt.datetime, scrypt_n: int,
        team: PrivateKey | None = None) -> str:
    """Add a coordinator. The team's private key (from an unlocked coordinator) is wrapped for
    the new passphrase; the first coordinator makes the team's key pair."""
    handle = check_handle(handle)
    check_passphrase(passphrase)
    if _find(store, handle):
        raise Refused(_l("That handle is taken."))
    members = store.records(TABLE)
    first = not members
    stored = team_public(store)
    if team is None:
        if not first and any(c.get("wrapped") for c in members):
            raise Refused(_l("Your passphrase does not open the team's key: a coordinator whose passphrase does adds newcomers."))
        # The first coordinator, or a team whose key no passphrase opens any more (old data
        # mixed in): a new key, for the notes from now on.
        team = keys.new_team_key()
    elif stored and keys.team_public(team) != stored:  # never another key than the team's
        raise Refused(_l("Your passphrase opens another key than the team's: lock, then unlock again."))
    check, wrapped = keys.wrap_for(passphrase, team, scrypt_n)
    store.add_record(TABLE, {"handle": handle, "hash": check, "wrapped": wrapped, "added": iso(now), "added_by": by})
    if keys.team_public(team) != stored:
        store.set_meta(TEAM_KEY, keys.team_public(team))
    return handle


def remove(store: Store, handle: str) -> None:
    found = _find(store, handle)
    if found is None:
        raise Refused(_l("There is no coordinator with that handle."))
    team = store.records(TABLE)
    if len(team) <= 1:
        raise Refused(_l("The last coordinator cannot be removed."))
    if found.get("wrapped") and not any(c.get("wrapped") for c in team if c["_id"] != found["_id"]):
        # Nobody left could open the team's key: every note sealed to it, and every new one, lost.
        raise Refused(_l("%(handle)s is the last coordinator whose passphrase opens the team's key: add another coordinator first.",
                         handle=found["handle"]))
    store.remove_record(TABLE, found["_id"])


def handles(store: Store) -> list[str]:
    return sorted((c["handle"] for c in store.records(TABLE)), key=str.casefold)


class Unlocked(NamedTuple):
    handle: str
    team: PrivateKey | None  # the team's private key, kept only while unlocked


def verify(store: Store, handle: str, passphrase: str, scrypt_n: int) -> Unlocked | None:
    """The coordinator as stored, with the team's key, if the passphrase is right; the same
    cost either way."""
    found = _find(store, text.normalize(handle or ""))  # " Heron" typed with a space is Heron
    if found is None or not passphrase:
        codes.burn_time(scrypt_n)
        return None
    right, team = keys.open_team(passphrase, found["hash"], found.get("wrapped"))
    return Unlocked(found["handle"], team) if right else None


def upgrade(store: Store) -> int:
    """Coordinators stored before keys (their hash the scrypt output itself): the team's key
    pair is made and wrapped with each of those outputs, which then leave the files."""
    old = [c for c in store.records(TABLE) if c["hash"].get("hash")]
    if not old:
        return 0
    # A team key whose private half only others' passphrases open (a backup mixing both kinds):
    # the old ones get a check only, and another coordinator adds them again to read notes.
    team = None if team_public(store) else keys.new_team_key()
    for found in old:
        check, wrapped = keys.rewrap_legacy(found["hash"], team) if team else (keys.check_only(found["hash"]), None)
        store.update_record(TABLE, found["_id"], {"hash": check, "wrapped": wrapped})
    if team is not None:
        store.set_meta(TEAM_KEY, keys.team_public(team))
    return len(old)


# -- the gate -----------------------------------------------------------------------------------


def current_handle() -> str | None:
    """The coordinator this browser unlocked as, if still a coordinator and not idle too long."""
    key = session.get("coord")
    if not key:
        return None
    idle = current_app.config["COORDINATOR_IDLE_MINUTES"] * 60
    found = services().coord_unlocks.use(str(key), idle)
    if found is not None and found.handle not in handles(services().store):
        services().coord_unlocks.lock(str(key))  # removed (or restored away) since unlocking
        return None
    return found.handle if found is not None else None


def team_key() -> PrivateKey | None:
    """The team's private key while this browser's coordinator mode is unlocked."""
    key = session.get("coord")
    found = services().coord_unlocks.use(str(key), current_app.config["COORDINATOR_IDLE_MINUTES"] * 60) if key else None
    return found.team if found is not None else None


def to_unlock():
    session.pop("coord", None)
    return redirect(url_for(services().registry.unlock), code=303)


def require():
    """Before a coordinator page: None once unlocked, else the redirect to the unlock page.
    The page is never cached, and ``g.handle`` names the coordinator for the audit trail and
    the navigation."""
    g.handle = current_handle()
    g.private = True
    return None if g.handle is not None else to_unlock()


def coordinator_required(view):
    """Only after unlocking: anyone else is sent to the unlock page (see ``require``)."""

    @functools.wraps(view)
    def gated(*args, **kwargs):
        return require() or view(*args, **kwargs)

    gated.coordinators_only = True  # for the test that every such page turns visitors away
    return gated
