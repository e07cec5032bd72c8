"""Sealing what an older version stored in plain (promise 8): at the first start of this version,
and after every restore or merge (a backup from before may bring plain text).

Each feature seals its own records (``Feature.sealers``); here they are run in turn, after the
coordinators' hashes become checks with the team's key (gate.upgrade), and then the plain text
is made to leave every file: the journal is folded into a new live.json, archive months are
rewritten by the sealers, and the copies kept before restores or merges that predate sealing
are deleted (they are whole old data folders, in plain). Temp files are swept at every start.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass

from ..core import staging
from ..core.errors import StoreError
from ..core.files import load_json
from ..core.store import Store
from . import gate

SEALED = "sealed"  # a setting: 1 once everything this kiosk holds is sealed
log = logging.getLogger("kiosk")


@dataclass
class Sealed:
    texts: int  # texts sealed
    coordinators: int  # coordinators whose hash became a check and a wrapped team key
    copies: int  # old kept copies deleted

    def line(self) -> str:
        return (f"Sealed {self.texts} private text(s) stored in plain by an older version; {self.coordinators} "
                f"coordinator(s) now unlock the team's key; {self.copies} old kept copy(ies) deleted.")


def seal_plain(store: Store, registry, *, force: bool = False) -> Sealed | None:
    """Seal everything still plain; None when the kiosk was sealed already (unless ``force``)."""
    if store.read_only or (not force and store.get_meta(SEALED) == 1):
        return None
    coordinators = gate.upgrade(store)
    team = gate.team_public(store)
    texts = sum(sealer(store, team) for sealer in registry.sealers)
    store.set_meta(SEALED, 1)
    store.checkpoint()  # the journal's lines held the plain rows: folded into a new live.json
    copies = _delete_plain_copies(store)
    done = Sealed(texts, coordinators, copies)
    if texts or coordinators or copies:
        log.warning("%s", done.line())
    return done


def _delete_plain_copies(store: Store) -> int:
    gone = 0
    for copy in staging.kept_copies(store.data_dir):
        try:
            meta = (load_json(copy / "live.json") or {}).get("meta") or {}
        except (OSError, ValueError, StoreError):
            meta = {}
        if not any(isinstance(d, dict) and d.get("key") == SEALED and d.get("value") == 1 for d in meta.values()):
            shutil.rmtree(copy, ignore_errors=True)
            gone += 1
    return gone
