"""Durable storage: the only module that imports TinyDB. It keeps no domain rule: callers say
which posts are live, which month an archived post belongs to, and which ids records get.

The Pi's power can be pulled at any moment and Waitress serves on several threads, so:
- one process-wide lock is held around every TinyDB call (TinyDB is not thread-safe);
- the parsed document stays in memory (stock JSONStorage re-parses the file on every query);
- a write goes to a temp file, is fsynced, replaces the old file with os.replace, and the
  folder is fsynced, so a file is always the old or the new version, never torn (files.py);
- a lock file (fcntl.flock) lets one server own one data folder;
- live posts sit in ``live.json``; archived ones in ``archive/YYYY-MM.json``, so the cost of
  a write follows the live set, not the history. ``archive/index.json`` maps each archived
  post id to its month, and each of its reply ids to the post id (idindex.py);
- replies and their private threads live inside their post's document, so they move, and are
  erased, together with it;
- small record tables (reports, events, ...) and settings ("meta") live in ``live.json`` too;
  the audit trail is append-only, one file per month in ``audit/``.
"""

from __future__ import annotations

import os
import threading
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document

from . import codes
from .errors import StoreError
from .files import (ARCHIVE_DIR, LIVE_FILE, all_post_ids, dump_json, iter_json_files, load_json,  # noqa: F401
                    release_folder_lock, secret_key, sweep_temp_files, take_folder_lock, write_atomic)
from .audit_log import AUDIT_DIR, AuditTrail
from .idindex import index_bytes, posts_index, read_index, replies_index, valid_month
from .records import RecordTables, _copy

INDEX_FILE = "index.json"
SECRET_FILE = "secret_key"
POSTS, META = "posts", "meta"


class DurableJSONStorage(Storage):
    """TinyDB storage that keeps the parsed data in memory and writes atomically and durably."""

    def __init__(self, path: str | os.PathLike, read_only: bool = False, on_write=None, data=None):
        self.path = Path(path)
        self.read_only = read_only
        self.on_write = on_write
        self._data = load_json(self.path) if data is None else data

    def read(self):
        return self._data

    def write(self, data) -> None:
        if self.read_only:
            raise StoreError("this data folder was opened read-only")
        try:
            write_atomic(self.path, dump_json(data))
        except BaseException:
            # TinyDB changed the dict we handed out before calling write(); the file still
            # holds the last good version, so go back to it.
            self._data = load_json(self.path)
            raise
        self._data = data
        if self.on_write:
            self.on_write()

    def close(self) -> None:
        pass


def _open_db(path: Path, read_only: bool = False, on_write=None, data=None) -> TinyDB:
    return TinyDB(path, storage=DurableJSONStorage, read_only=read_only, on_write=on_write, data=data)


def _doc(post: dict) -> Document:
    return Document(post, doc_id=codes.post_id_to_int(post["id"]))


class Store(RecordTables, AuditTrail):
    """Posts, records, settings and the audit trail in one data folder. Every public method
    takes the lock."""

    ARCHIVE_CACHE = 1  # archive months kept parsed at once; bounded so memory stays small

    def __init__(self, data_dir: str | os.PathLike, read_only: bool = False):
        """``read_only``: for reading beside a running server (exports from the command line);
        it takes no lock, repairs nothing and refuses every write."""
        self.data_dir = Path(data_dir).resolve()
        self.read_only = read_only
        self._lock = threading.RLock()
        self._lock_fd = None
        self._live = None
        self._archives: OrderedDict[str, TinyDB] = OrderedDict()
        # Goes up with every write, so caches of rendered pages know when they are stale.
        self.version = 0
        if read_only and not (self.data_dir / LIVE_FILE).is_file():
            raise StoreError(f"There is no kiosk data in {self.data_dir}.")
        if not read_only:
            self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._lock_fd = take_folder_lock(self.data_dir)
        try:
            if not read_only:
                sweep_temp_files(self.data_dir, self.data_dir / ARCHIVE_DIR, self.data_dir / AUDIT_DIR)
                (self.data_dir / ARCHIVE_DIR).mkdir(exist_ok=True, mode=0o700)
            self._live = _open_db(self.data_dir / LIVE_FILE, read_only, self._bump)
            self._index_path = self.data_dir / ARCHIVE_DIR / INDEX_FILE
            self._index, self._reply_index = read_index(self._index_path)
            if not read_only:
                self._finish_interrupted_moves()
        except BaseException:
            self.close()
            raise

    def _table(self, name: str):
        return self._live.table(name, cache_size=0)

    @property
    def _posts(self):
        return self._table(POSTS)

    def _bump(self) -> None:
        self.version += 1

    def trim(self) -> None:
        """Let go of parsed archive months (after a sweep through them)."""
        with self._lock:
            for db in self._archives.values():
                db.close()
            self._archives.clear()

    def close(self) -> None:
        with self._lock:
            self.trim()
            if self._live is not None:
                self._live.close()
                self._live = None
            if self._lock_fd is not None:
                release_folder_lock(self._lock_fd)
                self._lock_fd = None

    def secret_key(self) -> bytes:
        """The key that signs session cookies, made once per data folder."""
        with self._lock:
            return secret_key(self.data_dir / SECRET_FILE)

    # -- posts -----------------------------------------------------------------------

    def insert_post(self, post: dict) -> None:
        with self._lock:
            if self.id_taken(post["id"]):
                raise KeyError(f"post {post['id']} exists")
            self._posts.insert(_doc(post))

    def id_taken(self, some_id: str) -> bool:
        """Whether a post or a reply, live or archived, already has this id."""
        with self._lock:
            if some_id in self._index or some_id in self._reply_index:
                return True
            if self._posts.contains(doc_id=codes.post_id_to_int(some_id)):
                return True
            return self._live_reply_owner(some_id) is not None

    def _live_reply_owner(self, reply_id: str) -> str | None:
        for doc in self._posts.all():
            for reply in doc.get("replies") or ():
                if reply.get("id") == reply_id:
                    return doc["id"]
        return None

    def find_reply_post(self, reply_id: str) -> dict | None:
        """The post (live or archived) that holds the reply with this id."""
        with self._lock:
            owner = self._live_reply_owner(reply_id) or self._reply_index.get(reply_id)
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

            def replace(stored: dict) -> None:
                stored.clear()
                stored.update(doc)

            table.update(replace, doc_ids=[doc_id])
            return result

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

    def live_posts(self) -> list[dict]:
        with self._lock:
            return [_copy(doc) for doc in self._posts.all()]

    def count_live(self) -> int:
        with self._lock:
            return len(self._posts)

    def count_archived(self) -> int:
        with self._lock:
            return len(self._index)

    def post_batches(self) -> Iterator[list[dict]]:
        """Live posts, then one archive month at a time: never the whole history in memory."""
        yield self.live_posts()
        for month in self.archived_months():
            yield self.archived_posts(month)
        self.trim()

    def archive_post(self, post_id: str, fields: dict, month: str) -> dict | None:
        """Apply ``fields`` and move a live post into the archive file of ``month`` (YYYY-MM).

        Order matters for power cuts: archive file, then index, then removal from the live
        file. A cut in between leaves the post in both places, which start-up repairs.
        """
        doc_id = codes.post_id_to_int(post_id)
        with self._lock:
            doc = self._posts.get(doc_id=doc_id)
            if doc is None:
                return None
            moved = {**doc, **fields}
            self._archive(month).table(POSTS).upsert(Document(moved, doc_id=doc_id))
            self._index_posts(month, [moved])
            write_atomic(self._index_path, index_bytes(self._index, self._reply_index))
            self._posts.remove(doc_ids=[doc_id])
            return _copy(moved)

    def _index_posts(self, month: str, month_posts: Iterable[dict]) -> None:
        for p in month_posts:
            self._index[p["id"]] = month
            for reply in p.get("replies") or ():
                self._reply_index[reply["id"]] = p["id"]

    def _write_index(self) -> None:
        write_atomic(self._index_path, index_bytes(self._index, self._reply_index))
        self._bump()

    def put_posts(self, live: list[dict], archived: dict[str, list[dict]]) -> None:
        """Insert or replace many whole posts (a merge, or synthetic data): ``live`` into the
        live file, ``archived`` by month into the archive; one write per file touched."""
        ids = {p["id"] for p in live} | {p["id"] for month_posts in archived.values() for p in month_posts}
        if not ids:
            return
        with self._lock:
            live_ids = [codes.post_id_to_int(i) for i in ids if self._posts.contains(doc_id=codes.post_id_to_int(i))]
            if live_ids:
                self._posts.remove(doc_ids=live_ids)
            by_month: dict[str, list[int]] = {}
            for post_id in ids:
                month = self._index.pop(post_id, None)
                if month:
                    by_month.setdefault(month, []).append(codes.post_id_to_int(post_id))
            for month, doc_ids in by_month.items():
                table = self._archive(month).table(POSTS)
                table.remove(doc_ids=[d for d in doc_ids if table.contains(doc_id=d)])
            if by_month:
                for reply_id in [r for r, owner in self._reply_index.items() if owner in ids]:
                    self._reply_index.pop(reply_id)
            if live:
                self._posts.insert_multiple(_doc(p) for p in live)
            for month, month_posts in sorted(archived.items()):
                self._archive(month).table(POSTS).insert_multiple(_doc(p) for p in month_posts)
                self._index_posts(month, month_posts)
            self._write_index()
            self.trim()

    def replace_everything(self, live: list[dict], archive: dict[str, list[dict]], tables: dict[str, list[dict]],
                           meta: dict[str, Any], audit: dict[str, list[dict]]) -> None:
        """Restore: posts, records and settings become these. The audit trail is never
        replaced: these entries join the ones here. The caller has checked every part."""
        if not all(valid_month(m) for m in [*archive, *audit]):
            raise StoreError("bad month in a restore")
        with self._lock:
            self.trim()
            folder = self.data_dir / ARCHIVE_DIR
            for path in folder.glob("*.json") if folder.is_dir() else ():
                path.unlink()
            self._index, self._reply_index = posts_index(), replies_index()
            for month, month_posts in archive.items():
                self._archive(month).table(POSTS).insert_multiple(_doc(p) for p in month_posts)
                self._index_posts(month, month_posts)
            self._write_index()
            self.trim()
            for month, entries in audit.items():
                self._append_audit(month, entries)
            # The live file last, in one write: posts, records and settings together.
            # Tables the restore does not name are kept as they are, never erased.
            data = {name: rows for name, rows in (self._live.storage.read() or {}).items() if name not in tables}
            data[POSTS] = {str(codes.post_id_to_int(p["id"])): p for p in live}
            for name, rows in tables.items():
                data[name] = {str(n): row for n, row in enumerate(rows, 1)}
            data[META] = {str(_meta_id(k)): {"key": k, "value": v} for k, v in meta.items() if v is not None}
            self._rewrite_live(data)

    def _rewrite_live(self, data: dict) -> None:
        """Write the whole live file, then open it afresh so TinyDB's tables hold no stale ids."""
        self._live.storage.write(data)
        self._live.close()
        self._live = _open_db(self.data_dir / LIVE_FILE, self.read_only, self._bump, data=data)

    def archived_months(self) -> list[str]:
        with self._lock:
            return sorted(self._index.distinct_values())

    def archived_posts(self, month: str) -> list[dict]:
        with self._lock:
            if month not in self._index.distinct_values():
                return []
            return [_copy(doc) for doc in self._archive(month).table(POSTS).all()]

    def update_archived_month(self, month: str, fields_by_id: dict[str, dict]) -> None:
        """Change many posts of one archive month in one write (retention sweeps)."""
        if not fields_by_id:
            return
        with self._lock:
            table = self._archive(month).table(POSTS)
            keys = [k for k in (codes.post_id_to_int(i) for i in fields_by_id) if table.contains(doc_id=k)]
            if keys:
                table.update(lambda doc: doc.update(fields_by_id[doc["id"]]), doc_ids=keys)

    def _archive(self, month: str) -> TinyDB:
        db = self._archives.get(month)
        if db is None:
            if not valid_month(month):
                raise StoreError(f"bad archive month {month!r}")
            db = _open_db(self.data_dir / ARCHIVE_DIR / f"{month}.json", self.read_only, self._bump)
            self._archives[month] = db
            while len(self._archives) > self.ARCHIVE_CACHE:
                self._archives.popitem(last=False)[1].close()
        else:
            self._archives.move_to_end(month)
        return db

    def _finish_interrupted_moves(self) -> None:
        leftovers = [doc.doc_id for doc in self._posts.all() if doc.get("id") in self._index]
        if leftovers:
            self._posts.remove(doc_ids=leftovers)

    # -- small settings ------------------------------------------------------------------

    def get_meta(self, key: str, default: Any = None) -> Any:
        with self._lock:
            doc = self._table(META).get(doc_id=_meta_id(key))
            return default if doc is None else _copy(doc.get("value", default))

    def set_meta(self, key: str, value: Any) -> None:
        with self._lock:
            self._table(META).upsert(Document({"key": key, "value": value}, doc_id=_meta_id(key)))


def _meta_id(key: str) -> int:
    # Stable small integer per key so the meta table can be addressed directly.
    return zlib.crc32(key.encode()) + 1
