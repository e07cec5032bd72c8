"""Sealing what an older version stored in plain (promise 8): at the first start of this version,
and after every restore or merge (a backup from before may bring plain text).

Each feature seals its own records (``Feature.sealers``); here they are run in turn, after the
coordinators' hashes become checks with the team's key (gate.upgrade), and then the plain text
is made to leave every file: the journal is folded into a new live.json, archive months are
rewritten by the sealers, and the copies kept before restores or merges that predate sealing
that hold plain text are deleted (they are whole old data folders). Temp files are swept at every start.
"""

from __future__ import annotations

import logging
import re
import shutil
from dataclasses import dataclass

from ..core import keys, staging
from ..core.store import Store
from . import gate

SEALED = keys.SEALED_MARK
log = logging.getLogger("kiosk")


@dataclass
class Sealed:
    texts: int  # texts sealed
    coordinators: int  # coordinators whose hash became a check and a wrapped team key
    copies: int  # old kept copies deleted

    def line(self) -> str:
        return (f"Sealed {self.texts} private text(s) stored in plain by an older version; {self.coordinators} "
                f"coordinator(s) now unlock the team's key; {self.copies} old kept copy(ies) deleted.")


def seal_plain(store: Store, registry) -> Sealed | None:
    """Seal everything still plain; None when the data is marked sealed already (a restored
    backup brings its own mark, or none if it is older; a merge commits its data unmarked)."""
    if store.read_only or store.get_meta(SEALED) == 1:
        return None
    coordinators = gate.upgrade(store)
    team = gate.team_public(store)
    texts = sum(sealer(store, team) for sealer in registry.sealers)
    store.checkpoint()  # the journal's lines held the plain rows: folded into a new live.json
    copies, stuck = _delete_plain_copies(store)
    # Marked done only now: a power cut before this runs everything again (each step is
    # idempotent), and so does a kept copy that could not be deleted, at every start until it is.
    if not stuck:
        store.set_meta(SEALED, 1)
        store.checkpoint()
    done = Sealed(texts, coordinators, copies)
    if texts or coordinators or copies:
        log.warning("%s", done.line())
    return done


# What only a version before sealing wrote: a reply's, a note's or an answer's words in plain (in
# the compact JSON the store writes). A sealed record keeps these fields empty.
_PLAIN = re.compile(rb'"(?:message|available|working|change|note|q[1-9])":"[^"]|'
                    rb'"author":"(?:poster|replier)","text":"[^"]')


def _delete_plain_copies(store: Store) -> tuple[int, int]:
    """Copies kept before restores or merges whose files hold plain private text: deleted.
    Returns (deleted, could not be deleted)."""
    gone = stuck = 0
    for copy in staging.kept_copies(store.data_dir):
        files = [copy / "live.json", *(copy / "journal").glob("*.log"), *(copy / "archive").glob("*.json")]
        if any(_holds_plain(path) for path in files):
            try:
                shutil.rmtree(copy)
                gone += 1
            except OSError as exc:
                log.error("%s holds private text in plain and could not be deleted (%s): delete it by hand", copy, exc)
                stuck += 1
    return gone, stuck


def _holds_plain(path) -> bool:
    try:
        return bool(_PLAIN.search(path.read_bytes()))
    except OSError:
        return False
