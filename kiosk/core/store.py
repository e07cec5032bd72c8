"""Durable storage: the store, the only place that works with TinyDB (with livedb.py, which
holds how its tables reach the disk). It keeps no domain rule: callers say which posts are live,
which month an archived post belongs to, and which ids records get.

The Pi's power can be pulled at any moment, Waitress serves on several threads, and one kiosk
may hold thousands of open posts (a network's shared board), so:
- TinyDB stays the query layer, over data kept parsed in memory (stock JSONStorage re-parses
  the file on every query); one process-wide lock (livedb.WriteLock) is held around every
  TinyDB call, since TinyDB is not thread-safe;
- a write costs what it changes, not what the live set holds: ``live.json`` is a snapshot and
  each change is one line appended to ``journal/`` (the rows it changed, whole, checksummed),
  fsynced before the caller is answered (journal.py). Rewriting and fsyncing the whole file at
  each change, as before, made a post at 5,000 open posts cost ~3 s under load;
- writers share their fsync (group commit): the lock covers the change in memory and its
  append, the sync comes after it is released, once for everyone who wrote meanwhile; so
  posting is bounded by the scrypt hashing, and readers never wait for a disk;
- a new snapshot is written in the background once the journal holds as much as the snapshot
  (livefile.py): written, fsynced, renamed over the old one, the folder fsynced, and only then
  the segments it covers deleted, so the folder is always the state before or after a write;
  a clean stop and every restore or merge fold the journal in first;
- a lock file (fcntl.flock) lets one server own one data folder;
- live posts sit in ``live.json``; archived ones in ``archive/YYYY-MM.json``, written whole
  when a post moves in (archive.py, with its index), so the history never slows a write;
- replies and their private threads live inside their post's document, so they move, and are
  erased, together with it;
- small record tables (reports, events, ...) and settings ("meta") live in ``live.json`` too;
  the audit trail is append-only, one file per month in ``audit/``;
- every file is checked against the schema the features declare before it is used
  (checkup.py), and a restore or merge replaces files in one committed step (staging.py).

Numbers: posts and replies share one space of short ids, unique on this kiosk. A record made
elsewhere keeps its origin (``home``, ``home_id``) and, when its number was taken here, the
numbers it was printed under (``aka``): ``holders`` finds every record a printed number may mean.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from tinydb import TinyDB
from tinydb.table import Document

from . import codes, staging
from .changelog import ChangeLog
from .livedb import DurableJSONStorage, WriteLock
from .livefile import MAX_LIVE_FILE, LiveFile  # noqa: F401  (MAX_LIVE_FILE: for the backup's limits)
from .archive import POSTS, ArchiveMonths, record_ids
from .audit_log import AUDIT_DIR, AuditTrail
from .checkup import check_audit, meta_id, note_repair, unusable
from .errors import StoreError
from .files import (ARCHIVE_DIR, LIVE_FILE, all_post_ids, dump_json, iter_json_files,  # noqa: F401
                    release_folder_lock, secret_key, sweep_temp_files, take_folder_lock)
from .records import RecordTables, _copy
from .schema import MAX_LIVE_POSTS, DataSchema
from .times import iso, utcnow

SECRET_FILE = "secret_key"
META = "meta"
KIOSK = "kiosk"  # the settings key of this kiosk's identity
MAX_RECORD_BYTES = 4 * 1024 * 1024  # one post with all its replies and threads, as stored


def _doc(post: dict) -> Document:
    return Document(post, doc_id=codes.post_id_to_int(post["id"]))


def _fits(post: dict) -> dict:
    if len(dump_json(post)) > MAX_RECORD_BYTES:
        raise StoreError("this post has grown too large to store")
    return post


class Store(LiveFile, ArchiveMonths, RecordTables, AuditTrail):
    """Posts, records, settings and the audit trail in one data folder. Every public method
    takes the lock."""

    def __init__(self, data_dir: str | os.PathLike, read_only: bool = False, schema: DataSchema | None = None,
                 check_all: bool = False):
        """``read_only``: for reading beside a running server (exports from the command line);
        it takes no lock, repairs nothing and refuses every write. ``schema``: the record types
        the features declare (web/feature.py); without it, only the files' shape is checked.
        ``check_all``: check every archive month, not only those changed since last time."""
        self.data_dir = Path(data_dir).resolve()
        self.read_only = read_only
        self.check_all = check_all
        self.frozen = False
        self.schema = schema or DataSchema()
        self._lock = WriteLock()
        self._lock_fd = None
        self._opened = False  # a start that failed half-way writes nothing at close
        self._memos: tuple[int, dict] = (-1, {})  # (version, values worked out at it)
        self._live = None
        self._archives = {}
        self._changes: ChangeLog | None = None
        # Goes up with every write, so caches of rendered pages know when they are stale.
        self.version = 0
        if read_only and not (self.data_dir / LIVE_FILE).is_file():
            raise StoreError(f"There is no kiosk data in {self.data_dir}.")
        try:
            if not read_only:
                self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
                self._lock_fd = take_folder_lock(self.data_dir)
            self._open()
        except OSError as exc:  # a file root took, a folder where a file goes, a failing disk
            self.close()
            raise unusable(self.data_dir, exc) from None
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:
        if not self.read_only:
            done = staging.recover(self.data_dir)
            if done:
                note_repair(self.data_dir, done, self.read_only)
            sweep_temp_files(self.data_dir, self.data_dir / ARCHIVE_DIR, self.data_dir / AUDIT_DIR)
            (self.data_dir / ARCHIVE_DIR).mkdir(exist_ok=True, mode=0o700)
        self._open_live()
        self._load_archive()
        audit = self.data_dir / AUDIT_DIR
        if audit.exists() or not self.read_only:
            audit.mkdir(exist_ok=True, mode=0o700)  # a file in its place stops the start here
            for name in sorted(os.listdir(audit)):  # listed, so a folder this user cannot read says so
                if name.endswith(".json") and not name.startswith("."):
                    check_audit(self.data_dir, audit / name, self.schema)
        if not self.read_only:
            self._finish_interrupted_moves()
            if self.get_meta(KIOSK) is None:
                self.set_meta(KIOSK, {"id": codes.new_kiosk_id(), "since": iso(utcnow())})
        self._bump()
        self._opened = True

    def freeze(self) -> None:
        """Refuse every write from now on (a restore or merge could not finish under this
        process: its memory may not match the files). The next start settles the files."""
        with self._lock:
            self.read_only = self.frozen = True
            for db in [self._live, *self._archives.values()]:
                if db is not None:
                    db.storage.read_only = True

    def reopen(self) -> None:
        """Read the folder afresh after its files were replaced (a restore or a merge)."""
        with self._lock:
            self.trim()
            self._close_live(checkpoint=False)
            self._open()

    def _open_db(self, path: Path, on_write=None, data=None) -> TinyDB:
        """An archive month (the live file is opened by livefile.py)."""
        return TinyDB(path, storage=DurableJSONStorage, read_only=self.read_only, on_write=on_write, data=data)

    @staticmethod
    def _document(value: dict, doc_id: int) -> Document:
        return Document(value, doc_id=doc_id)

    def _table(self, name: str):
        return self._live.table(name, cache_size=0)

    @property
    def _posts(self):
        return self._table(POSTS)

    def _bump(self) -> None:
        self.version += 1

    def close(self) -> None:
        self._close_live(checkpoint=self._opened)
        with self._lock:
            if self._archives:
                self.trim()
            if self._lock_fd is not None:
                release_folder_lock(self._lock_fd)
                self._lock_fd = None

    def secret_key(self) -> bytes:
        """The key that signs session cookies, made once per data folder."""
        with self._lock:
            try:
                return secret_key(self.data_dir / SECRET_FILE)
            except OSError as exc:
                raise unusable(self.data_dir, exc) from None

    @contextmanager
    def exclusive(self):
        """The store's lock, for a change made of many steps (a restore, a merge): nothing else
        reads or writes until it is released, and the files hold every change (no journal)."""
        with self._lock:
            self.checkpoint()
            yield self

    @contextmanager
    def batch(self):
        """Several writes made durable together: under the lock held throughout, they share one
        disk sync when it is let go (the network's records). Readers wait meanwhile: keep it short."""
        with self._lock:
            yield self

    @property
    def kiosk_id(self) -> str:
        """This kiosk's identity (made at its first start; a restore brings the backup's)."""
        identity = self.get_meta(KIOSK) or {}
        return identity.get("id") or codes.legacy_kiosk_id("")

    @property
    def changes(self) -> ChangeLog | None:
        """This kiosk's records for its network (core/changelog.py); None when read-only."""
        if self.read_only:
            return None
        if self._changes is None or self._changes.kiosk_id != self.kiosk_id:  # a restore brings another identity
            self._changes = ChangeLog(self.data_dir, self.kiosk_id)
        return self._changes

    # -- posts -----------------------------------------------------------------------------------

    def insert_post(self, post: dict) -> None:
        with self._lock:
            if self.id_taken(post["id"]):
                raise KeyError(f"post {post['id']} exists")
            if len(self._posts) >= MAX_LIVE_POSTS:
                raise StoreError("the board holds as many open posts as it can")
            self._posts.insert(_doc(_fits(post)))

    def id_taken(self, some_id: str) -> bool:
        """Whether a post or a reply, live or archived, has this id, or leads to one from
        another kiosk: a new record never takes a number that already means something."""
        with self._lock:
            return bool(self.holders(some_id))

    def holders(self, printed: str) -> list[tuple[str, str | None]]:
        """Every record a number may mean, as (post id, reply id or None): the post or reply
        with that id here, and those printed under it at another kiosk (their ``aka``)."""
        with self._lock:
            meant = [printed, *sorted(self._archived_aka.get(printed, ())), *sorted(self._live_aka.get(printed, ()))]
            found = [self._holder(local) for local in dict.fromkeys(meant)]
            return [h for h in found if h is not None]

    def _holder(self, local: str) -> tuple[str, str | None] | None:
        if local in self._index or self._posts.contains(doc_id=codes.post_id_to_int(local)):
            return local, None
        owner = self._reply_index.get(local) or self._owners.get(local)
        return (owner, local) if owner else None

    def find_reply_post(self, reply_id: str) -> dict | None:
        """The post (live or archived) that holds the reply with this id."""
        with self._lock:
            owner = self._owners.get(reply_id) or self._reply_index.get(reply_id)
            return self.get_post(owner) if owner else None

    def _table_of(self, post_id: str):
        """The table that holds the post, live or in its month's archive; None if none does."""
        if self._posts.contains(doc_id=codes.post_id_to_int(post_id)):
            return self._posts
        if post_id in self._index:
            return self._archive(self._index[post_id]).table(POSTS)
        return None

    def mutate_post(self, post_id: str, change: Callable[[dict], Any]) -> Any:
        """Run ``change`` on a copy of the post under the store's lock, then save the copy.

        ``change`` may raise to refuse (nothing is written); two changes to one post can never
        overwrite each other. Returns what ``change`` returned."""
        doc_id = codes.post_id_to_int(post_id)
        with self._lock:
            table = self._table_of(post_id)
            if table is None:
                raise KeyError(post_id)
            doc = _copy(table.get(doc_id=doc_id))
            result = change(doc)
            _fits(doc)

            def replace(stored: dict) -> None:
                stored.clear()
                stored.update(doc)

            table.update(replace, doc_ids=[doc_id])
            return result

    def is_live(self, post_id: str) -> bool:
        with self._lock:
            return self._posts.contains(doc_id=codes.post_id_to_int(post_id))

    def get_post(self, post_id: str) -> dict | None:
        """A live or archived post as a fresh dict, or None."""
        with self._lock:
            table = self._table_of(post_id)
            return _copy(table.get(doc_id=codes.post_id_to_int(post_id))) if table is not None else None

    def update_post(self, post_id: str, fields: dict) -> dict | None:
        """Change fields of a live or archived post; returns the updated post or None."""
        doc_id = codes.post_id_to_int(post_id)
        with self._lock:
            table = self._table_of(post_id)
            if table is None:
                return None
            table.update(fields, doc_ids=[doc_id])
            return _copy(table.get(doc_id=doc_id))

    def table_names(self) -> set[str]:
        with self._lock:
            return set(self._live.tables())

    def live_data(self) -> dict:
        """The live file's content as it is in memory (for the test-time schema check)."""
        with self._lock:
            return _copy(self._live.storage.read() or {})

    def live_posts(self) -> list[dict]:
        with self._lock:
            return [_copy(doc) for doc in self._posts.all()]

    def scan_live(self, pick: Callable[[dict], Any]) -> list:
        """``pick(post)`` for every live post, in stored order, without copying the posts:
        ``pick`` only reads, and returns what it needs (never the post itself)."""
        with self._lock:
            return [pick(doc) for doc in self._live.storage.read().get(POSTS, {}).values()]

    def get_posts(self, post_ids) -> list[dict]:
        """These posts (live or archived) as fresh dicts, in the order asked; missing ones left out."""
        with self._lock:
            found = (self.get_post(post_id) for post_id in post_ids)
            return [post for post in found if post is not None]

    def memo(self, name: Any, make: Callable[[], Any]) -> Any:
        """``make()``'s value, worked out once per store version: what pages derive from the
        posts (the board's order, counts). A write drops every value of the version before."""
        version, values = self._memos
        if version != self.version:
            version, values = self._memos = (self.version, {})
        if name not in values:
            # Worked out without the store's lock held throughout (a long count must not hold
            # up writers); computed twice at worst, by two pages at once.
            values[name] = make()
        return values[name]

    def count_live(self) -> int:
        with self._lock:
            return len(self._posts)

    def post_batches(self) -> Iterator[list[dict]]:
        """Live posts, then one archive month at a time: never the whole history in memory."""
        yield self.live_posts()
        for month in self.archived_months():
            yield self.archived_posts(month)
        self.trim()

    def put_posts(self, live: list[dict], archived: dict[str, list[dict]]) -> None:
        """Add many new posts (synthetic data for measuring): ``live`` into the live file,
        ``archived`` by month into the archive; one write per file touched."""
        with self._lock:
            if live:
                self._posts.insert_multiple(_doc(p) for p in live)
            for month, month_posts in sorted(archived.items()):
                self._index_posts(month, month_posts)
                self._archive(month).table(POSTS).insert_multiple(_doc(p) for p in month_posts)
            self.trim()

    def _rewrite_live(self, data: dict) -> None:
        """Write the whole live file as a new snapshot; TinyDB's tables are dropped from its
        cache so they hold no stale ids."""
        self._live.storage.write(data)
        self._live._tables.clear()

    # -- small settings ------------------------------------------------------------------------------

    def get_meta(self, key: str, default: Any = None) -> Any:
        with self._lock:
            doc = self._table(META).get(doc_id=meta_id(key))
            return default if doc is None else _copy(doc.get("value", default))

    def set_meta(self, key: str, value: Any) -> None:
        # A copy: the caller may go on changing its dict, which must not change the stored value
        # behind the journal's back (a second save of the same dict would look like no change).
        with self._lock:
            self._table(META).upsert(Document({"key": key, "value": _copy(value)}, doc_id=meta_id(key)))


__all__ = ["ARCHIVE_DIR", "LIVE_FILE", "META", "POSTS", "KIOSK", "Store", "all_post_ids", "iter_json_files"]
