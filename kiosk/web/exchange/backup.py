"""Reading a backup back: the manifest, the checksums, then every line against the schema the
features declare, whole, before anything is written. A refusal names the line, the record and
the field, and changes nothing.

Four kinds of source are read, all as the same stream of checked lines (lines.py):
- an export folder with ``backup.age`` (this version's full backup: the lines of backup.jsonl,
  encrypted with a passphrase, agefile.py), decrypted whole into memory once;
- an export folder with ``backup.jsonl`` (the same lines in plain, from before backups were
  encrypted: sticks in the field still hold them);
- an export folder with ``backup.json`` (schema 1, from before kiosk identities), read whole,
  so held to a smaller size;
- a data folder, such as a copy kept in ``backups/`` before a restore or a merge.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Iterator, Literal, Optional

import msgspec
from flask_babel import lazy_gettext as _l
from msgspec import Meta

from ...core import codes, keys
from ...core.errors import StoreError
from ...core.times import iso
from ...core.schema import MAX_AUDIT_MONTH, MAX_LIVE_POSTS, MAX_MONTH_POSTS, MAX_POSTS, Problem, Record, problem_from
from ..feature import default_registry
from .agefile import AGE_BACKUP, MAX_AGE_BYTES, decrypt
from .export import MANIFEST, ExchangeError
from .lines import (BACKUP, MAX_BACKUP_BYTES, MAX_LINE, MAX_LIVE_BYTES, MAX_MONTH_BYTES, MAX_OLD_BACKUP_BYTES,
                    MAX_POST_BYTES, OLD_BACKUP, LineTypes, backup_lines, tag_of)
from .old import old_lines

MAX_SEQUENTIAL_ID = 2**53 - 2**20  # room for the rows that come after it, below 2**53 (RowId)
# A file of the export, maybe in subfolders (the network's records: network/<kiosk>/records/...);
# every part starts with a letter or digit, so no name leads out of the folder or to a hidden file.
FileName = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}(/[A-Za-z0-9][A-Za-z0-9._-]{0,99}){0,3}$")]
MAX_FILES = 10_000  # the network's records: up to 64 kiosks, each some dozens of segments
MAX_MANIFEST = 2 * 1024 * 1024  # as many names with their checksums


class Manifest(Record):
    schema: Literal[1, 2]
    kind: Literal["mutual-aid-kiosk-export"]
    files: Annotated[dict[FileName, Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")]], Meta(max_length=MAX_FILES)]
    kiosk: Annotated[str, Meta(max_length=200)] = ""
    kiosk_id: Optional[str] = None
    created: Annotated[str, Meta(max_length=40)] = ""
    full: bool = False


class Backup:
    """A backup that passed every check: ``header`` (the kiosk's id and name, when it was made),
    ``counts``, and ``lines()``, which reads and checks the source again (a stick can change;
    an encrypted backup is read from its decrypted copy in memory, which cannot)."""

    def __init__(self, folder: Path, kind: str, registry, digest: str = "", plain: bytes | None = None):
        self.folder, self.kind, self.registry = folder, kind, registry
        self.digest = digest  # the manifest's SHA-256 of the file read: checked on every read
        self.plain = plain  # kind "age": the decrypted lines
        self.types = _types(registry)
        self.header: dict = {}
        self.counts: dict[str, int] = {}

    @property
    def unencrypted(self) -> bool:
        """A full backup on a stick that anyone holding the stick can read (made before backups
        were encrypted): the volunteer is told so."""
        return self.kind in ("jsonl", "old")

    def lines(self) -> Iterator[dict]:
        """Every line as plain data, each checked; raises ExchangeError at the first bad one, or
        at the end if the file is no longer the one the manifest names (changed since the
        preview): before anything that was read is committed."""
        check = _Checker(self.registry)
        digest = hashlib.sha256()
        try:
            for number, raw, plain in self._raw(digest):
                yield check.line(number, raw, plain, self.types)
        except OSError as exc:  # the stick, not the kiosk: never "the kiosk could not write"
            raise ExchangeError("unreadable", _file_of(exc, self.folder)) from None
        check.finish()
        if self.digest and self.kind != "age" and digest.hexdigest() != self.digest:
            raise ExchangeError("checksum", BACKUP if self.kind == "jsonl" else OLD_BACKUP)
        self.header, self.counts = check.header, check.counts

    def _raw(self, digest) -> Iterator[tuple[int, bytes | None, dict | None]]:
        if self.kind == "age":
            yield from _jsonl(io.BytesIO(self.plain), digest)
        elif self.kind == "jsonl":
            with open(self.folder / BACKUP, "rb") as fh:
                yield from _jsonl(fh, digest)
        elif self.kind == "old":
            lines = old_lines(self.folder / OLD_BACKUP, self.registry, digest)
            yield from ((n, None, line) for n, line in enumerate(lines, 1))
        else:
            yield from ((n, None, line) for n, line in enumerate(_folder_lines(self.folder, self.registry), 1))


@lru_cache(maxsize=16)
def _types(registry) -> LineTypes:
    # Keyed by the registry itself (held by the cache), so a new one never gets another's types.
    return LineTypes(registry.schema)


def read_backup(folder, registry=None, passphrase: str | None = None) -> Backup:
    """Check a backup whole and return it; raises ExchangeError("not-backup" | "incomplete" |
    "checksum" | "version" | "no-full" | "too-large" | "invalid" | "unreadable"), and for an
    encrypted one "passphrase" (none given: ask for it) or agefile.decrypt's refusals."""
    folder = Path(folder)
    try:
        return _read_backup(folder, registry or default_registry(), passphrase)
    except OSError as exc:  # a file the kiosk may not read, a stick pulled out, a failing one
        raise ExchangeError("unreadable", _file_of(exc, folder)) from None


def _file_of(exc: OSError, folder: Path) -> str:
    return Path(exc.filename).name[:255] if isinstance(exc.filename, str) and exc.filename else folder.name[:255]


def _read_backup(folder: Path, registry, passphrase: str | None) -> Backup:
    if folder.is_dir() and not (folder / MANIFEST).is_file() and (folder / "live.json").is_file():
        backup = Backup(folder, "data", registry)
    else:
        files = _manifest(folder)
        if AGE_BACKUP in files:
            if passphrase is None:
                raise ExchangeError("passphrase", AGE_BACKUP)
            backup = Backup(folder, "age", registry, files[AGE_BACKUP], _decrypted(folder, files[AGE_BACKUP], passphrase))
        elif BACKUP in files:
            backup = Backup(folder, "jsonl", registry, files[BACKUP])
        elif OLD_BACKUP in files:
            if (folder / OLD_BACKUP).stat().st_size > MAX_OLD_BACKUP_BYTES:
                raise ExchangeError("too-large", OLD_BACKUP)
            backup = Backup(folder, "old", registry, files[OLD_BACKUP])
        else:
            raise ExchangeError("no-full", str(folder))
        if backup.kind != "age" and (folder / AGE_BACKUP).exists():
            raise ExchangeError("forged", AGE_BACKUP)  # the manifest hides the encrypted backup beside it
    for line in backup.lines():
        # Only a version that encrypts every full backup writes these: in plain, the file was
        # made or changed by someone else (to plant coordinators or a team key of theirs).
        if backup.kind in ("jsonl", "old") and line.get("t") in _SEALING_ONLY:
            raise ExchangeError("forged", BACKUP if backup.kind == "jsonl" else OLD_BACKUP)
    return backup


_SEALING_ONLY = {f"setting:{keys.SEALED_MARK}", "setting:team_key"}


def _decrypted(folder: Path, digest: str, passphrase: str) -> bytes:
    """backup.age decrypted, from the bytes whose checksum was checked (the file can change)."""
    data = (folder / AGE_BACKUP).read_bytes()
    if hashlib.sha256(data).hexdigest() != digest:
        raise ExchangeError("checksum", AGE_BACKUP)
    return decrypt(data, passphrase)


def _manifest(folder: Path) -> dict[str, str]:
    """The manifest's files, each present, within the size limit and matching its checksum."""
    path = folder / MANIFEST
    if not os.path.isdir(folder) or not path.is_file():
        raise ExchangeError("not-backup", str(folder))
    if path.stat().st_size > MAX_MANIFEST:
        raise ExchangeError("not-backup", MANIFEST)
    try:
        manifest = msgspec.json.decode(path.read_bytes(), type=Manifest)
    except msgspec.ValidationError as exc:
        if "schema" in str(exc) and "Invalid enum value" in str(exc):
            raise ExchangeError("version", MANIFEST) from None
        raise ExchangeError("not-backup", MANIFEST) from None
    except msgspec.DecodeError:
        raise ExchangeError("not-backup", MANIFEST) from None
    # Every file listed is there, within the limit; only the one a restore reads is hashed
    # (the others, spreadsheets for people, are never read here: hashing them all would let a
    # stick listing one huge file many times keep the kiosk busy for minutes).
    read = next((name for name in (AGE_BACKUP, BACKUP, OLD_BACKUP) if name in manifest.files), None)
    for name, digest in manifest.files.items():
        target = folder / name
        if not target.is_file():
            raise ExchangeError("incomplete", name)
        if target.stat().st_size > (MAX_AGE_BYTES if name == AGE_BACKUP else MAX_BACKUP_BYTES):
            raise ExchangeError("too-large", name)
        if name == read and _sha256(target) != digest:
            raise ExchangeError("checksum", name)
    return manifest.files


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _jsonl(fh, digest) -> Iterator[tuple[int, bytes, None]]:
    number = 0
    while True:
        raw = fh.readline(MAX_LINE + 1)
        if not raw:
            return
        digest.update(raw)
        number += 1
        if len(raw) > MAX_LINE:
            raise ExchangeError("invalid", Problem(_where(number, None), "", _l("is longer than %(n)s MiB", n=MAX_LINE // 2**20)))
        yield number, raw, None


def _folder_lines(folder: Path, registry) -> Iterator[dict]:
    from ...core.store import Store

    try:
        store = Store(folder, read_only=True, schema=registry.schema)
    except StoreError as exc:
        raise ExchangeError("invalid", Problem(str(folder), "", str(exc))) from None
    try:
        name = (store.get_meta("settings") or {}).get("NAME") or "kiosk"
        made = dt.datetime.fromtimestamp((folder / "live.json").stat().st_mtime, dt.timezone.utc)
        yield from backup_lines(store, registry, name=name[:60], created=iso(made), version="")
    finally:
        store.close()


def _where(number: int, plain: Any) -> str:
    """Which line, and which record it holds, for a message (in the reader's language on the
    screen): "line 2 (post K7Q2M)", "line 9 (events, row 3)"."""
    line = str(_l("line %(n)s", n=number))
    if not isinstance(plain, dict) or not isinstance(plain.get("t"), str):
        return line
    kind = plain["t"][:40]
    if kind == "post" and isinstance(plain.get("post"), dict):
        record = _l("post %(id)s", id=str(plain["post"].get("id"))[:10])
    elif kind.startswith("table:"):
        record = _l("%(table)s, row %(n)s", table=kind[6:], n=str(plain.get("id"))[:20])
    elif kind.startswith("setting:"):
        record = _l("setting %(key)s", key=kind[8:])
    else:
        record = kind
    return f"{line} ({record})"


def _plain(raw: bytes) -> Any:
    """A line as plain data, only to name its record in a message (never deeper than a refusal)."""
    try:
        return msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return None


class _Checker:
    """What no single line can show: order, counts, numbers used twice, references."""

    def __init__(self, registry):
        self.registry = registry
        self.header: dict = {}
        self.counts: dict[str, int] = {"posts": 0, "replies": 0, "audit": 0}
        self.months: dict[str, int] = {}  # posts by where they go ("live" or a month)
        self.sizes: dict[str, int] = {}  # and their bytes
        self.audit_months: dict[str, int] = {}
        self.ids = bytearray(len(codes.ID_ALPHABET) ** codes.ID_LENGTH // 8 + 1)  # posts and replies: 3 MB
        self.rows: dict[str, set[int]] = {name: set() for name in registry.tables}
        self.settings: set[str] = set()
        self.ended = False
        self.number = 0

    def line(self, number: int, raw: bytes | None, plain: Any, types: LineTypes) -> dict:
        """Check one line (typed first: the types stop nesting and sizes before anything else
        reads the line); returns it as plain data."""
        self.number = number
        try:
            typed = types.decoder.decode(raw) if raw is not None else msgspec.convert(plain, types.union)
            if raw is not None:
                plain = msgspec.json.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            problem = problem_from(exc, _where(number, _plain(raw) if raw is not None else plain))
            # The record is named already: its field is the path inside it.
            problem.field = re.sub(r"^(?:post|row|value|entry)(?:\.|$)", "", problem.field)
            raise ExchangeError("invalid", problem) from None
        except RecursionError:
            self._bad(_where(number, None), "", _l("is nested too deeply"))
        where = _where(number, plain)
        kind = tag_of(typed)
        if self.ended:
            self._bad(where, "", _l("comes after the end line"))
        if (number == 1) != (kind == "kiosk"):
            self._bad(where, "t", _l("a backup starts with its kiosk line, once"))
        if kind == "kiosk":
            self.header = {"id": typed.id, "name": typed.name, "created": typed.created, "since": typed.since}
        elif kind == "post":
            self._post(where, plain["post"], len(raw) if raw is not None else len(msgspec.json.encode(plain)))
        elif kind.startswith("table:"):
            self._row(where, kind[6:], typed.id, plain["row"])
        elif kind.startswith("setting:"):
            if kind in self.settings:
                self._bad(where, "t", _l("this setting comes twice"))
            self.settings.add(kind)
        elif kind == "audit":
            self.counts["audit"] += 1
            month = typed.entry.at[:7]
            self.audit_months[month] = self.audit_months.get(month, 0) + 1
            if self.audit_months[month] > MAX_AUDIT_MONTH:
                self._bad(where, "", _l("more audit entries for %(month)s than a month holds", month=month))
        elif kind == "end":
            if typed.lines != number:
                self._bad(where, "lines", _l("says %(said)s lines, the backup has %(n)s", said=typed.lines, n=number))
            self.ended = True
        return plain

    def _bad(self, where: str, field: str, what: str):
        raise ExchangeError("invalid", Problem(where, field, what))

    def _post(self, where: str, post: dict, size: int) -> None:
        self.counts["posts"] += 1
        month = self.registry.posts.place(post) if self.registry.posts else None
        place = month or "live"
        self.months[place] = self.months.get(place, 0) + 1
        self.sizes[place] = self.sizes.get(place, 0) + size
        if size > MAX_POST_BYTES:
            self._bad(where, "", _l("the post with its replies is larger than the kiosk keeps one"))
        if (self.months.get("live", 0) > MAX_LIVE_POSTS or self.counts["posts"] > MAX_POSTS
                or self.months[place] > MAX_MONTH_POSTS
                or self.sizes[place] > (MAX_LIVE_BYTES if month is None else MAX_MONTH_BYTES)):
            self._bad(where, "", _l("the backup holds more posts than a kiosk can"))
        replies = post.get("replies") or []
        self.counts["replies"] += len(replies)
        for some_id in [post["id"], *(r["id"] for r in replies)]:
            n = codes.post_id_to_int(some_id)
            if self.ids[n >> 3] & (1 << (n & 7)):
                self._bad(where, "id", _l("the number %(id)s is used twice", id=some_id))
            self.ids[n >> 3] |= 1 << (n & 7)
        problem = self.registry.posts.check(post) if self.registry.posts and self.registry.posts.check else None
        if problem:
            self._bad(where, "", problem)

    def _row(self, where: str, table: str, number: int, row: dict) -> None:
        taken = self.rows[table]
        if number in taken:
            self._bad(where, "id", _l("row %(n)s of %(table)s comes twice", n=number, table=table))
        if len(taken) >= self.registry.tables[table].max_rows:
            self._bad(where, "", _l("%(table)s holds more rows than a kiosk can", table=table))
        taken.add(number)
        if number > MAX_SEQUENTIAL_ID and not self.registry.tables[table].random_ids:
            self._bad(where, "id", _l("is higher than the numbers the kiosk gives its rows"))
        for field, other in self.registry.tables[table].refs:
            value = row.get(field)
            if other == "posts":
                found = isinstance(value, str) and self._has_id(value)
            else:
                found = value in self.rows.get(other, ())
            if not found:
                self._bad(where, field, _l("refers to %(value)s, which is not in the backup", value=repr(value)[:40]))

    def _has_id(self, some_id: str) -> bool:
        normalized = codes.normalize_post_id(some_id)
        if normalized != some_id:
            return False
        n = codes.post_id_to_int(some_id)
        return bool(self.ids[n >> 3] & (1 << (n & 7)))

    def finish(self) -> None:
        if not self.ended:
            self._bad(_where(self.number + 1, None), "", _l("the backup ends early (no end line): it was cut short"))
        self.counts["live"] = self.months.get("live", 0)
        self.counts["months"] = len(self.months) - ("live" in self.months)
        self.counts["archived"] = self.counts["posts"] - self.counts["live"]
        self.counts.update({f"table:{name}": len(rows) for name, rows in self.rows.items()})
