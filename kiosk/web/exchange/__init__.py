"""Export, backup, restore and merge through a folder (usually on a USB stick), built from
what features declare: their record tables and settings, how posts travel, and their files.
Part of ``web``: may import ``core`` and the registry, never a feature.

An export is a folder named for the kiosk and the time (FAT32-safe), holding every feature's
files (posts.csv, summary.csv, checkins.csv, survey.csv: anonymized, in plain for the meeting),
with --full also backup.age (everything a restore needs, one checked record a line: lines.py,
encrypted with a passphrase the volunteer chooses: agefile.py), and manifest.json (the SHA-256 of
each file, nothing private: an age file authenticates itself, the checksum names a changed file
before any passphrase is asked and lets the screen see that the stick changed), written last. The folder is built under a hidden
".partial-" name and renamed only once every file is fsynced, so a stick that fills up or is
pulled out never holds a half export that looks whole. A restore or a merge reads a backup
whole and checks it (backup.py) before it builds anything, then builds and commits the new data
in one step (restore.py, build.py, core/staging.py).
"""

from .agefile import AGE_BACKUP, HeldPassphrases, new_passphrase
from .backup import Backup, read_backup
from .export import MANIFEST, ExchangeError, export, fat32_name
from .lines import BACKUP, OLD_BACKUP, SCHEMA
from .restore import merge, preview, restore

__all__ = ["AGE_BACKUP", "BACKUP", "MANIFEST", "OLD_BACKUP", "SCHEMA", "Backup", "ExchangeError", "HeldPassphrases",
           "export", "fat32_name", "merge", "new_passphrase", "preview", "read_backup", "restore"]
