"""This kiosk's records for the other kiosks of its network: its changes, one signed line each,
appended to files that Syncthing sends (or a stick carries) and nobody else writes.

    network/key                      the kiosk's Ed25519 signing key (never leaves the folder)
    network/outbox/kiosk.json        {"kiosk", "name", "key" (the verify key), "epoch"}
    network/outbox/records/E-000001.jsonl ...

A line is ``{"v", "kiosk", "epoch", "seq", "at", "kind", "post", "reply", "actor", "body",
"ticket", "sig"}``; ``sig`` signs the canonical JSON of everything else. Lines are only
appended, each fsynced before the change is answered, so a reader that takes only whole lines
(ending in a newline) never sees half a record, whatever Syncthing or a pulled plug left behind.
The epoch is new whenever the outbox is started afresh (a new card, a restore that brought
another kiosk's identity): readers keep what they applied per epoch, so numbers starting again
at 1 are never mistaken for records already seen.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
from pathlib import Path

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from .files import fsync_dir, load_json, write_atomic
from .times import iso, utcnow

NETWORK_DIR = "network"
OUTBOX = "outbox"
PEERS = "peers"
RECORDS = "records"
ABOUT = "kiosk.json"
KEY_FILE = "key"
VERSION = 1
SEGMENT_BYTES = 256 * 1024  # a segment once this long is never written again: Syncthing sends it once
MAX_LINE = 6 * 1024 * 1024  # one record: a post with every reply, sealed, as stored (store.MAX_RECORD_BYTES) and room
SEGMENT_PATTERN = r"^[a-z0-9]{8}-[0-9]{6}\.jsonl$"


class Waiting(Exception):
    """A record needs a post or a reply that has not arrived yet: tried again later."""


class Refused(Exception):
    """A record asks for what its kiosk may not: set aside for the coordinators, never applied."""


def canonical(data: dict) -> bytes:
    """The bytes a signature covers: the same on every kiosk for the same record."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode("ascii"))


def verify(record: dict, key: str) -> bool:
    """Whether ``record`` carries a good signature by ``key`` (a verify key, base64)."""
    sig = record.get("sig")
    if not isinstance(sig, str):
        return False
    try:
        VerifyKey(unb64(key)).verify(canonical({k: v for k, v in record.items() if k != "sig"}), unb64(sig))
    except (BadSignatureError, ValueError, TypeError, RecursionError):
        return False
    return True


def network_dir(data_dir: Path) -> Path:
    return Path(data_dir) / NETWORK_DIR


class ChangeLog:
    """The outbox of one data folder. Thread-safe; every ``add`` is on disk when it returns."""

    def __init__(self, data_dir: Path, kiosk_id: str, name: str = ""):
        self.root = network_dir(data_dir)
        self.folder = self.root / OUTBOX
        self.kiosk_id = kiosk_id
        self._lock = threading.Lock()
        self._signer = self._signing_key()
        self.key = b64(bytes(self._signer.verify_key))
        self.epoch, self._seq, self._segment = self._open(name)
        self.fresh = self._seq == 0  # nothing sent in this epoch yet: the kiosk's posts are sent whole first

    def _signing_key(self) -> SigningKey:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.root / KEY_FILE
        try:
            seed = bytes.fromhex(path.read_text().strip())
        except (FileNotFoundError, ValueError):
            seed = b""
        if len(seed) != 32:
            seed = secrets.token_bytes(32)
            write_atomic(path, seed.hex().encode())
        return SigningKey(seed)

    def _open(self, name: str) -> tuple[str, int, Path]:
        (self.folder / RECORDS).mkdir(parents=True, exist_ok=True, mode=0o700)
        about = load_json(self.folder / ABOUT) if (self.folder / ABOUT).is_file() else None
        if not isinstance(about, dict) or about.get("kiosk") != self.kiosk_id or about.get("key") != self.key:
            # Another identity or key (a restore, a new card): a new epoch, whose first upkeep
            # sends the posts afresh and deletes the records left (travel.keep_outbox).
            about = {"kiosk": self.kiosk_id, "name": name, "key": self.key, "epoch": secrets.token_hex(4),
                     "since": iso(utcnow())}
            write_atomic(self.folder / ABOUT, canonical(about), mode=0o644)
        elif name and about.get("name") != name:
            about["name"] = name
            write_atomic(self.folder / ABOUT, canonical(about), mode=0o644)
        epoch = about["epoch"]
        segments = sorted(self.folder.joinpath(RECORDS).glob(f"{epoch}-*.jsonl"))
        if not segments:
            return epoch, 0, self.folder / RECORDS / f"{epoch}-000001.jsonl"
        # A cut between creating a segment and writing to it leaves it empty: the numbers go on
        # from the segment before.
        seq = next((n for n in (_last_seq(s) for s in reversed(segments)) if n), 0)
        return epoch, seq, segments[-1]

    def restart(self) -> None:
        """A new epoch: the caller sends every post again, then ``drop_old`` deletes the records
        before it (so text that retention erased here leaves the other kiosks' folders too)."""
        with self._lock:
            about = load_json(self.folder / ABOUT) or {}
            self.epoch = secrets.token_hex(4)
            write_atomic(self.folder / ABOUT, canonical({**about, "kiosk": self.kiosk_id, "key": self.key,
                                                          "epoch": self.epoch, "since": iso(utcnow())}), mode=0o644)
            self._seq, self._segment = 0, self.folder / RECORDS / f"{self.epoch}-000001.jsonl"
            self.fresh = True

    def drop_old(self) -> int:
        """Delete the segments of earlier epochs; returns how many."""
        with self._lock:
            old = [p for p in (self.folder / RECORDS).glob("*.jsonl") if not p.name.startswith(f"{self.epoch}-")]
            for path in old:
                path.unlink(missing_ok=True)
            if old:
                fsync_dir(self.folder / RECORDS)
            self.fresh = False
            return len(old)

    def since(self) -> str | None:
        """When this epoch began (None: before epochs were dated)."""
        about = load_json(self.folder / ABOUT) or {}
        return about.get("since")

    def rename(self, name: str) -> None:
        """The kiosk's name as its peers show it (the setting can change)."""
        with self._lock:
            about = load_json(self.folder / ABOUT) or {}
            if about.get("name") != name:
                write_atomic(self.folder / ABOUT, canonical({**about, "name": name}), mode=0o644)

    def add(self, kind: str, post: list, body: dict, *, actor: str = "kiosk", reply: list | None = None,
            ticket_signer=None, at: str | None = None) -> dict:
        """Append one record; ``ticket_signer`` (a ticket's SigningKey) signs what the ticket
        holder asked for, so the post's home can tell it came from them."""
        return self.add_many([(kind, post, body, {"actor": actor, "reply": reply, "ticket_signer": ticket_signer,
                                                   "at": at})])[0]

    def add_many(self, changes: list[tuple]) -> list[dict]:
        """Append records [(kind, post, body, {actor, reply, ticket_signer, at})] with one fsync
        per segment (a kiosk's whole board sent at once)."""
        records = []
        for kind, post, body, extra in changes:
            reply = extra.get("reply")
            record = {"v": VERSION, "kind": kind, "post": list(post), "reply": list(reply) if reply else None,
                      "actor": extra.get("actor") or "kiosk", "body": body, "at": extra.get("at") or iso(utcnow())}
            if extra.get("ticket_signer") is not None:
                record["ticket"] = b64(extra["ticket_signer"].sign(canonical(ticket_statement(record))).signature)
            records.append(record)
        with self._lock:
            lines = []
            for record in records:
                self._seq += 1
                record.update(kiosk=self.kiosk_id, epoch=self.epoch, seq=self._seq)
                record["sig"] = b64(self._signer.sign(canonical(record)).signature)
                lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
            self._append(lines)
        return records

    def _append(self, lines: list[bytes]) -> None:
        """Whole lines, a segment at a time, each fsynced before the next is begun."""
        size = self._segment.stat().st_size if self._segment.exists() else 0
        batch: list[bytes] = []
        for line in lines:
            if batch and size + len(line) > SEGMENT_BYTES or not batch and size and size + len(line) > SEGMENT_BYTES:
                self._write(batch)
                number = int(self._segment.stem.split("-")[1]) + 1
                self._segment = self._segment.with_name(f"{self.epoch}-{number:06d}.jsonl")
                batch, size = [], 0
            batch.append(line)
            size += len(line)
        self._write(batch)

    def _write(self, batch: list[bytes]) -> None:
        if not batch:
            return
        new = not self._segment.exists()
        fd = os.open(self._segment, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(b"".join(batch))
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        if new:
            fsync_dir(self._segment.parent)


def ticket_statement(record: dict) -> dict:
    """What a ticket's signature covers: the change, not which kiosk carried it."""
    return {k: record.get(k) for k in ("kind", "post", "reply", "actor", "body", "at")}


def verify_ticket(record: dict, key: str | None) -> bool:
    if not key or not isinstance(record.get("ticket"), str):
        return False
    try:
        VerifyKey(unb64(key)).verify(canonical(ticket_statement(record)), unb64(record["ticket"]))
    except (BadSignatureError, ValueError, TypeError, RecursionError):
        return False
    return True


def _last_seq(segment: Path) -> int:
    """The number of the last whole record in a segment (a cut may have left half a line: it
    is cut off, so the next record starts on a line of its own)."""
    raw = segment.read_bytes()
    if raw and not raw.endswith(b"\n"):
        whole = raw[: raw.rfind(b"\n") + 1]
        with open(segment, "r+b") as fh:
            fh.truncate(len(whole))
            os.fsync(fh.fileno())
        raw = whole
    lines = raw.splitlines()
    for line in reversed(lines):
        try:
            return int(json.loads(line)["seq"])
        except (ValueError, KeyError, TypeError):
            continue
    return 0
