"""Export, backup, restore and merge through a folder (usually on a USB stick), built from
what features declare: their record tables and settings, how posts travel, and their files.
Part of ``web``: may import ``core`` and the registry, never a feature.

An export is a folder named for the kiosk and the time (FAT32-safe), holding every feature's
files (posts.csv, summary.csv, checkins.csv, survey.csv: anonymized), with --full also
backup.json (everything a restore needs, with a schema version), and manifest.json (the
SHA-256 of each file), written last. The folder is built under a hidden ".partial-" name and
renamed only once every file is fsynced, so a stick that fills up or is pulled out never holds
a half export that looks whole.
"""

from .backup import BACKUP, MANIFEST, SCHEMA, backup_posts, check_document, read_backup
from .export import ExchangeError, export, fat32_name
from .restore import merge, preview, restore

__all__ = ["BACKUP", "MANIFEST", "SCHEMA", "ExchangeError", "backup_posts", "check_document", "export",
           "fat32_name", "merge", "preview", "read_backup", "restore"]
