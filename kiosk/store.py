"""Durable storage: the only module that imports TinyDB.

The Pi's power can be pulled at any moment and Waitress serves on several threads, so:
- one process-wide lock is held around every TinyDB call (TinyDB is not thread-safe);
- the parsed document stays in memory (stock JSONStorage re-parses the file on every query);
- a write goes to a temp file, is fsynced, replaces the old file with os.replace, and the
  folder is fsynced, so a file is always the old or the new version, never torn;
- a lock file (fcntl.flock) lets one server own one data folder;
- live posts sit in ``live.json``; closed ones move to ``archive/YYYY-MM.json``, so the cost of
  a write follows the live set, not the history. ``archive/index.json`` maps each archived
  post id to its month, and each of its reply ids to the post id.
- replies and their private threads live inside their post's document, so they move, and are
  erased, together with it.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from array import array
from bisect import bisect_left
import secrets
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document

from . import codes

LIVE_FILE = "live.json"
ARCHIVE_DIR = "archive"
INDEX_FILE = "index.json"
AUDIT_DIR = "audit"
LOCK_FILE = "kiosk.lock"
SECRET_FILE = "secret_key"


class StoreError(RuntimeError):
    """A problem with the data folder that a person must act on; the message says what."""


class DataFolderInUse(StoreError):
    pass


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, payload: bytes, mode: int = 0o600) -> None:
    """Write ``payload`` so that ``path`` is always either the old or the new content."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        view = memoryview(payload)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def dump_json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def load_json(path: Path) -> Any:
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        return None
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise StoreError(
            f"The data file {path} is damaged ({exc}). Nothing was changed; "
            "restore it from a backup or move it aside."
        ) from exc


class IdIndex:
    """A map from short ids to a small value, kept as two sorted arrays of 32-bit numbers.

    The archive index holds every archived post and reply (tens of thousands after a few
    years); as a dict that costs ~150 bytes an entry, here 8, so the kiosk stays small on a Pi.
    """

    def __init__(self, encode, decode, items=()):
        self._encode, self._decode = encode, decode
        self._keys, self._vals = array("I"), array("I")
        ordered = True
        for k, v in items:  # the file is written in order, so usually no sort is needed
            number = codes.post_id_to_int(k)
            if self._keys and number <= self._keys[-1]:
                ordered = False
            self._keys.append(number)
            self._vals.append(encode(v))
        if not ordered:
            pairs = sorted(zip(self._keys, self._vals))
            self._keys = array("I", (k for k, _ in pairs))
            self._vals = array("I", (v for _, v in pairs))

    def _find(self, key: str) -> tuple[int, int, bool]:
        number = codes.post_id_to_int(key) if codes.normalize_post_id(key) == key else -1
        i = bisect_left(self._keys, number) if number >= 0 else 0
        return number, i, number >= 0 and i < len(self._keys) and self._keys[i] == number

    def __contains__(self, key) -> bool:
        return isinstance(key, str) and self._find(key)[2]

    def get(self, key, default=None):
        if not isinstance(key, str):
            return default
        _, i, found = self._find(key)
        return self._decode(self._vals[i]) if found else default

    def __getitem__(self, key):
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value) -> None:
        number, i, found = self._find(key)
        if found:
            self._vals[i] = self._encode(value)
        else:
            self._keys.insert(i, number)
            self._vals.insert(i, self._encode(value))

    def pop(self, key, default=None):
        _, i, found = self._find(key)
        if not found:
            return default
        value = self._decode(self._vals[i])
        del self._keys[i]
        del self._vals[i]
        return value

    def __len__(self) -> int:
        return len(self._keys)

    def items(self):
        for number, value in zip(self._keys, self._vals):
            yield codes.int_to_post_id(number), self._decode(value)

    def distinct_values(self) -> set:
        return {self._decode(v) for v in set(self._vals)}


@lru_cache(maxsize=None)
def _month_code(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def _month_text(number: int) -> str:
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def _posts_index(items=()) -> IdIndex:
    return IdIndex(_month_code, _month_text, items)


def _replies_index(items=()) -> IdIndex:
    return IdIndex(codes.post_id_to_int, codes.int_to_post_id, items)


_INDEX_ENTRY = re.compile(rb'"([0-9A-Z]{5})"\s*:\s*"([0-9A-Z-]{5,7})"')


def _read_index(path: Path) -> tuple[IdIndex, IdIndex]:
    """Read index.json without building a dict of every entry (a peak of many megabytes)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return _posts_index(), _replies_index()
    split = raw.find(b'"replies"')
    posts_part, replies_part = (raw[:split], raw[split:]) if split >= 0 else (raw, b"")
    posts = _posts_index((m[1].decode(), m[2].decode()) for m in _INDEX_ENTRY.finditer(posts_part))
    replies = _replies_index((m[1].decode(), m[2].decode()) for m in _INDEX_ENTRY.finditer(replies_part))
    if raw.strip() and not raw.strip().startswith(b"{"):
        raise StoreError(f"The data file {path} is damaged. Nothing was changed; restore it from a backup.")
    return posts, replies


def _index_bytes(posts: IdIndex, replies: IdIndex) -> bytes:
    out = ['{"posts":{', ",".join(f'"{k}":"{v}"' for k, v in posts.items()), '},"replies":{',
           ",".join(f'"{k}":"{v}"' for k, v in replies.items()), "}}"]
    return "".join(out).encode("ascii")


class DurableJSONStorage(Storage):
    """TinyDB storage that keeps the parsed data in memory and writes atomically and durably."""

    def __init__(self, path: str | os.PathLike, read_only: bool = False, on_write=None):
        self.path = Path(path)
        self.read_only = read_only
        self.on_write = on_write
        self._data = load_json(self.path)

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


def _open_db(path: Path, read_only: bool = False, on_write=None) -> TinyDB:
    return TinyDB(path, storage=DurableJSONStorage, read_only=read_only, on_write=on_write)


class Store:
    """Posts and small settings in one data folder. Every public method takes the lock."""

    ARCHIVE_CACHE = 1  # archive months kept parsed at once; bounded so memory stays small

    def __init__(self, data_dir: str | os.PathLike, read_only: bool = False):
        """``read_only``: for reading beside a running server (exports from the command line);
        it takes no lock, repairs nothing and refuses every write."""
        self.data_dir = Path(data_dir).resolve()
        self.read_only = read_only
        self._lock = threading.RLock()
        self._lock_fd = None
        # Goes up with every write, so caches of rendered pages know when they are stale.
        self.version = 0
        if read_only and not (self.data_dir / LIVE_FILE).is_file():
            raise StoreError(f"There is no kiosk data in {self.data_dir}.")
        if not read_only:
            self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._lock_fd = self._take_folder_lock()
        try:
            if not read_only:
                self._sweep_temp_files()
                (self.data_dir / ARCHIVE_DIR).mkdir(exist_ok=True, mode=0o700)
            self._live = _open_db(self.data_dir / LIVE_FILE, read_only, self._bump)
            self._posts = self._live.table("posts", cache_size=0)
            self._meta = self._live.table("meta", cache_size=0)
            self._index_path = self.data_dir / ARCHIVE_DIR / INDEX_FILE
            self._index, self._reply_index = _read_index(self._index_path)
            self._archives: OrderedDict[str, TinyDB] = OrderedDict()
            if not read_only:
                self._finish_interrupted_moves()
        except BaseException:
            self.close()
            raise

    def trim(self) -> None:
        """Let go of parsed archive months (after a sweep through them)."""
        with self._lock:
            for db in self._archives.values():
                db.close()
            self._archives.clear()

    def _bump(self) -> None:
        self.version += 1

    # -- the folder ------------------------------------------------------------------

    def _take_folder_lock(self) -> int:
        path = self.data_dir / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DataFolderInUse(
                f"Another kiosk server is already using the data folder {self.data_dir}. "
                "Stop it first, or start this one with a different --data folder."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return fd

    def _sweep_temp_files(self) -> None:
        # A power cut during a write can leave a temp file; the real file is intact.
        for folder in (self.data_dir, self.data_dir / ARCHIVE_DIR, self.data_dir / AUDIT_DIR):
            if folder.is_dir():
                for tmp in folder.glob(".*.tmp-*"):
                    tmp.unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            for db in list(getattr(self, "_archives", {}).values()):
                db.close()
            if getattr(self, "_live", None) is not None:
                self._live.close()
                self._live = None
            if self._lock_fd is not None:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                os.close(self._lock_fd)
                self._lock_fd = None

    def secret_key(self) -> bytes:
        """The key that signs session cookies, made once per data folder."""
        path = self.data_dir / SECRET_FILE
        with self._lock:
            try:
                key = path.read_bytes()
            except FileNotFoundError:
                key = b""
            if len(key) < 32:
                key = secrets.token_hex(32).encode()
                write_atomic(path, key)
            return key

    # -- posts -----------------------------------------------------------------------

    def insert_post(self, post: dict) -> None:
        doc_id = codes.post_id_to_int(post["id"])
        with self._lock:
            if self.id_taken(post["id"]):
                raise KeyError(f"post {post['id']} exists")
            self._posts.insert(Document(post, doc_id=doc_id))

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

    def _table_of(self, post_id: str, doc_id: int):
        """The table that holds the post, live or in its month's archive; None if none does.
        The caller holds the lock."""
        if self._posts.contains(doc_id=doc_id):
            return self._posts
        if post_id in self._index:
            return self._archive(self._index[post_id]).table("posts")
        return None

    def mutate_post(self, post_id: str, change: Callable[[dict], Any]) -> Any:
        """Run ``change`` on a copy of the post under the store's lock, then save the copy.

        ``change`` may raise to refuse (nothing is written); two changes to one post can never
        overwrite each other. Returns what ``change`` returned."""
        doc_id = codes.post_id_to_int(post_id)
        with self._lock:
            table = self._table_of(post_id, doc_id)
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
        doc_id = codes.post_id_to_int(post_id)
        with self._lock:
            doc = self._posts.get(doc_id=doc_id)
            if doc is None and post_id in self._index:
                doc = self._archive(self._index[post_id]).table("posts").get(doc_id=doc_id)
            return _copy(doc)

    def update_post(self, post_id: str, fields: dict) -> dict | None:
        """Change fields of a live or archived post; returns the updated post or None."""
        doc_id = codes.post_id_to_int(post_id)
        with self._lock:
            table = self._table_of(post_id, doc_id)
            if table is None:
                return None
            table.update(fields, doc_ids=[doc_id])
            return _copy(table.get(doc_id=doc_id))

    def live_posts(self) -> list[dict]:
        with self._lock:
            return [_copy(doc) for doc in self._posts.all()]

    def count_live(self) -> int:
        with self._lock:
            return len(self._posts)

    def count_archived(self) -> int:
        with self._lock:
            return len(self._index)

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
            archive = self._archive(month).table("posts")
            archive.upsert(Document(moved, doc_id=doc_id))
            self._index[post_id] = month
            for reply in moved.get("replies") or ():
                self._reply_index[reply["id"]] = post_id
            write_atomic(self._index_path, _index_bytes(self._index, self._reply_index))
            self._posts.remove(doc_ids=[doc_id])
            return _copy(moved)

    def _write_index(self) -> None:
        write_atomic(self._index_path, _index_bytes(self._index, self._reply_index))
        self._bump()

    def _remove_anywhere(self, post_id: str) -> None:
        doc_id = codes.post_id_to_int(post_id)
        if self._posts.contains(doc_id=doc_id):
            self._posts.remove(doc_ids=[doc_id])
        month = self._index.pop(post_id, None)
        if month:
            table = self._archive(month).table("posts")
            if table.contains(doc_id=doc_id):
                table.remove(doc_ids=[doc_id])
            for reply_id in [r for r, owner in self._reply_index.items() if owner == post_id]:
                self._reply_index.pop(reply_id)
            self._write_index()

    def put_posts(self, new_posts: list[dict]) -> None:
        """Insert or replace many whole posts (a merge): one write per file touched."""
        if not new_posts:
            return
        with self._lock:
            ids = {p["id"] for p in new_posts}
            live_ids = [codes.post_id_to_int(i) for i in ids if self._posts.contains(doc_id=codes.post_id_to_int(i))]
            if live_ids:
                self._posts.remove(doc_ids=live_ids)
            by_month: dict[str, list[int]] = {}
            for post_id in ids:
                month = self._index.pop(post_id, None)
                if month:
                    by_month.setdefault(month, []).append(codes.post_id_to_int(post_id))
            for month, doc_ids in by_month.items():
                table = self._archive(month).table("posts")
                table.remove(doc_ids=[d for d in doc_ids if table.contains(doc_id=d)])
            stale = [r for r, owner in self._reply_index.items() if owner in ids]
            for reply_id in stale:
                self._reply_index.pop(reply_id)
            live = [p for p in new_posts if p["status"] in ("open", "matched")]
            if live:
                self._posts.insert_multiple(Document(p, doc_id=codes.post_id_to_int(p["id"])) for p in live)
            archived: dict[str, list[dict]] = {}
            for p in new_posts:
                if p["status"] not in ("open", "matched"):
                    archived.setdefault((p.get("closed") or p["updated"])[:7], []).append(p)
            for month, month_posts in archived.items():
                self._archive(month).table("posts").insert_multiple(
                    Document(p, doc_id=codes.post_id_to_int(p["id"])) for p in month_posts
                )
                for p in month_posts:
                    self._index[p["id"]] = month
                    for reply in p.get("replies") or ():
                        self._reply_index[reply["id"]] = p["id"]
            self._write_index()
            self.trim()

    def put_post(self, post: dict) -> None:
        """Insert or replace a whole post (merging another kiosk's): open and matched posts
        go to the live file, closed ones to the archive month of their closing."""
        doc_id = codes.post_id_to_int(post["id"])
        with self._lock:
            self._remove_anywhere(post["id"])
            if post["status"] in ("open", "matched"):
                self._posts.insert(Document(post, doc_id=doc_id))
                return
            month = (post.get("closed") or post["updated"])[:7]
            self._archive(month).table("posts").upsert(Document(post, doc_id=doc_id))
            self._index[post["id"]] = month
            for reply in post.get("replies") or ():
                self._reply_index[reply["id"]] = post["id"]
            self._write_index()

    def bulk_insert_live(self, new_posts: list[dict]) -> None:
        """Many new open posts in one write (synthetic data for measuring)."""
        with self._lock:
            self._posts.insert_multiple(Document(p, doc_id=codes.post_id_to_int(p["id"])) for p in new_posts)

    def bulk_archive(self, by_month: dict[str, list[dict]]) -> None:
        """Many closed posts, one write per month and one for the index."""
        with self._lock:
            for month, month_posts in sorted(by_month.items()):
                table = self._archive(month).table("posts")
                table.insert_multiple(Document(p, doc_id=codes.post_id_to_int(p["id"])) for p in month_posts)
                for p in month_posts:
                    self._index[p["id"]] = month
                    for reply in p.get("replies") or ():
                        self._reply_index[reply["id"]] = p["id"]
            self._write_index()

    def replace_everything(self, document: dict) -> None:
        """Restore: the live file, the archive, records, settings and audit become the backup's."""
        with self._lock:
            for db in list(self._archives.values()):
                db.close()
            self._archives.clear()
            folder = self.data_dir / ARCHIVE_DIR
            for path in folder.glob("*.json") if folder.is_dir() else ():
                path.unlink()
            self._index, self._reply_index = _posts_index(), _replies_index()
            for month, month_posts in (document.get("archive") or {}).items():
                if not _valid_month(month):
                    raise StoreError(f"bad archive month {month!r}")
                docs = [Document(p, doc_id=codes.post_id_to_int(p["id"])) for p in month_posts]
                self._archive(month).table("posts").insert_multiple(docs)
                for p in month_posts:
                    self._index[p["id"]] = month
                    for reply in p.get("replies") or ():
                        self._reply_index[reply["id"]] = p["id"]
            self._write_index()
            # The audit trail is never replaced: the backup's entries join the ones here.
            for month, entries in (document.get("audit") or {}).items():
                if _valid_month(month) and entries:
                    folder = self.data_dir / AUDIT_DIR
                    folder.mkdir(exist_ok=True, mode=0o700)
                    db = _open_db(folder / f"{month}.json")
                    table = db.table("audit")
                    have = {json.dumps(e, sort_keys=True) for e in table.all()}
                    table.insert_multiple(e for e in entries if json.dumps(e, sort_keys=True) not in have)
                    db.close()
            # The live file last, in one write: posts, records and settings together.
            tables = {"posts": {str(codes.post_id_to_int(p["id"])): p for p in document.get("live") or []}}
            for name, rows in (document.get("records") or {}).items():
                tables[name] = {str(n): row for n, row in enumerate(rows, 1)}
            tables["meta"] = {
                str(_meta_id(key)): {"key": key, "value": value}
                for key, value in (document.get("meta") or {}).items()
                if value is not None
            }
            self._live.storage.write(tables)
            for table in self._live._tables.values():  # TinyDB caches ids and queries per table
                table.clear_cache()
                table._next_id = None

    def archived_months(self) -> list[str]:
        with self._lock:
            return sorted(self._index.distinct_values())

    def archived_posts(self, month: str) -> list[dict]:
        with self._lock:
            if month not in self._index.distinct_values():
                return []
            return [_copy(doc) for doc in self._archive(month).table("posts").all()]

    def update_archived_month(self, month: str, fields_by_id: dict[str, dict]) -> None:
        """Change many posts of one archive month in one write (retention sweeps)."""
        if not fields_by_id:
            return
        with self._lock:
            table = self._archive(month).table("posts")
            keys = [codes.post_id_to_int(i) for i in fields_by_id]
            keys = [k for k in keys if table.contains(doc_id=k)]

            def apply(doc: dict) -> None:
                doc.update(fields_by_id[doc["id"]])

            if keys:
                table.update(apply, doc_ids=keys)  # one file write for the whole month

    def _archive(self, month: str) -> TinyDB:
        db = self._archives.get(month)
        if db is None:
            if not _valid_month(month):
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

    # -- records: reports and thank-you lines, small tables in the live file ----------------

    def add_record(self, table: str, doc: dict) -> int:
        with self._lock:
            return self._live.table(table, cache_size=0).insert(doc)

    def add_unlinkable_record(self, table: str, doc: dict) -> None:
        """Store a record under a random id, with the table kept in id order, so neither its
        number nor its place in the file tells when it came (anonymous survey answers)."""
        with self._lock:
            tables = dict(self._live.storage.read() or {})
            rows = dict(tables.get(table) or {})
            while True:
                key = str(secrets.randbelow(2**53) + 1)
                if key not in rows:
                    break
            rows[key] = doc
            tables[table] = dict(sorted(rows.items(), key=lambda item: int(item[0])))
            self._live.storage.write(tables)
            self._live.table(table, cache_size=0).clear_cache()
            self._live.table(table, cache_size=0)._next_id = None

    def records(self, table: str) -> list[dict]:
        with self._lock:
            return [{**_copy(doc), "_id": doc.doc_id} for doc in self._live.table(table, cache_size=0).all()]

    def update_record(self, table: str, record_id: int, fields: dict) -> None:
        with self._lock:
            self._live.table(table, cache_size=0).update(fields, doc_ids=[record_id])

    def clear_records(self, table: str) -> None:
        """Every record of a small table at once (a finished survey's answers)."""
        with self._lock:
            self._live.table(table, cache_size=0).truncate()

    def remove_record(self, table: str, record_id: int) -> None:
        with self._lock:
            self._live.table(table, cache_size=0).remove(doc_ids=[record_id])

    # -- the audit trail: append-only, one file per month ---------------------------------

    def append_audit(self, entry: dict) -> None:
        month = entry["at"][:7]
        if not _valid_month(month):
            raise StoreError(f"bad audit time {entry['at']!r}")
        with self._lock:
            folder = self.data_dir / AUDIT_DIR
            folder.mkdir(exist_ok=True, mode=0o700)
            db = _open_db(folder / f"{month}.json")
            try:
                db.table("audit").insert(entry)
            finally:
                db.close()

    def audit_months(self) -> list[str]:
        with self._lock:
            folder = self.data_dir / AUDIT_DIR
            return sorted(p.stem for p in folder.glob("*.json") if _valid_month(p.stem)) if folder.is_dir() else []

    def audit_entries(self, month: str) -> list[dict]:
        if not _valid_month(month):
            return []
        with self._lock:
            data = load_json(self.data_dir / AUDIT_DIR / f"{month}.json") or {}
            return [_copy(doc) for doc in (data.get("audit") or {}).values()]

    # -- small settings ------------------------------------------------------------------

    def get_meta(self, key: str, default: Any = None) -> Any:
        with self._lock:
            doc = self._meta.get(doc_id=_meta_id(key))
            return default if doc is None else doc.get("value", default)

    def set_meta(self, key: str, value: Any) -> None:
        with self._lock:
            self._meta.upsert(Document({"key": key, "value": value}, doc_id=_meta_id(key)))


def _meta_id(key: str) -> int:
    # Stable small integer per key so the meta table can be addressed directly.
    import zlib

    return zlib.crc32(key.encode()) + 1


def _valid_month(month: str) -> bool:
    return len(month) == 7 and month[4] == "-" and month[:4].isdigit() and month[5:].isdigit()


def _copy(doc) -> dict | None:
    # Hand out deep copies so callers can never change the in-memory database by accident.
    if doc is None:
        return None
    return _deep(doc)


def _deep(value):
    if isinstance(value, dict):
        return {k: _deep(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep(v) for v in value]
    return value


def iter_json_files(data_dir: Path) -> Iterator[Path]:
    """Every data file, for tests and tools that check the folder as a whole."""
    data_dir = Path(data_dir)
    yield from sorted(data_dir.glob("*.json"))
    yield from sorted((data_dir / ARCHIVE_DIR).glob("*.json"))


def all_post_ids(files: Iterable[Path]) -> set[str]:
    ids: set[str] = set()
    for path in files:
        data = load_json(path) or {}
        for doc in (data.get("posts") or {}).values():
            ids.add(doc["id"])
    return ids
