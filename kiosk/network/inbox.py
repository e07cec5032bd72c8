"""Reading the other kiosks' records (their folders, as Syncthing received them, or carried on a
stick): each verified, then applied through the board's rules (``PostRules.travel``), or set
aside for the coordinators, never applied.

- Only whole lines of ``records/*.jsonl`` are read: a line still being written (by Syncthing,
  which renames whole files into place, or a copy cut short) has no newline yet and waits.
- A folder's kiosk is known by the key its first ``kiosk.json`` showed (pinned in the settings);
  a folder that later shows another key is refused whole until a coordinator accepts the key.
- Every line must be a record of that kiosk, signed by it, of the declared shape; what it asks
  must be the kind of change its kiosk may make (board/travel.py); the post it leads to must
  pass the same checks as a post in a backup. Otherwise it is set aside, with why.
- What is done (applied or set aside) is remembered per epoch and number, so a record is
  applied once however often it is read; a record whose post has not arrived yet waits, and is
  tried again at every pass, so records may arrive in any order.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import threading
from pathlib import Path

import msgspec
from flask_babel import lazy_gettext as _l

from ..core import codes
from ..core.changelog import ABOUT, PEERS, Refused, Waiting, network_dir, verify
from ..core.errors import StoreError
from ..core.origin import post_key
from ..core.schema import MAX_LIVE_POSTS
from ..core.times import iso, utcnow
from . import schema
from .folders import MAX_SEGMENT, about_of as _about, mtime as _mtime, segments as _segments

INBOX = "network_inbox"
REFUSED = "network_refused"
ROOM_FOR_OWN = 2_000  # open posts no other kiosk can take: visitors here can always post
BATCH = 50  # records applied under one hold of the store's lock: they share one disk sync
MAX_EXTRA = 10_000  # numbers done after a gap that is still open, kept per epoch (schema: 100,000)
log = logging.getLogger("kiosk.network")
_ONE_PASS = threading.Lock()  # the background loop and a stick never apply at once


def peers_dir(store) -> Path:
    return network_dir(store.data_dir) / PEERS


def apply_all(store, registry, now=None) -> dict:
    """Every peer folder this kiosk receives."""
    folder = peers_dir(store)
    folders = [p for p in sorted(folder.iterdir()) if p.is_dir() and not p.name.startswith(".")] \
        if folder.is_dir() else []
    return apply_folders(store, registry, folders, now)


def apply_folders(store, registry, folders: list[Path], now=None) -> dict:
    """Several kiosks' folders, read again while a pass applies something: a reply from one
    kiosk may have waited for its post from another, read after it."""
    total = {"applied": 0, "waiting": 0, "set_aside": 0}
    for _ in range(len(folders) + 1):
        found = {"applied": 0, "waiting": 0, "set_aside": 0}
        for peer in folders:
            for name, count in apply_folder(store, registry, peer, now).items():
                found[name] += count
        total["applied"] += found["applied"]
        total["set_aside"] += found["set_aside"]
        total["waiting"] = found["waiting"]
        if not found["waiting"] or not found["applied"]:
            break
    return total


def apply_folder(store, registry, folder: Path, now=None) -> dict:
    """One kiosk's folder: what is new in it applied, what is wrong set aside."""
    counts = {"applied": 0, "waiting": 0, "set_aside": 0}
    rules = registry.posts
    if rules is None or rules.travel is None or store.read_only:
        return counts
    now = now or utcnow()
    with _ONE_PASS:
        about = _about(folder)
        if about is None:
            return counts  # not (yet) a kiosk's folder: Syncthing may still be bringing kiosk.json
        if about.kiosk == store.kiosk_id:
            # Only this kiosk writes as itself: a folder that claims to (a peer's or a relay's
            # crafted folder) would otherwise be the "home" of every post made here.
            _refuse(store, about, ABOUT, None, _l("A folder that claims to be this kiosk: nothing from it is "
                                                  "applied."), now, "", once=True)
            return counts
        inbox = store.get_meta(INBOX) or {}
        if about.kiosk not in inbox and len(inbox) >= schema.MAX_PEERS:
            # The settings keep this many kiosks (one more would stop the next start).
            _refuse(store, about, ABOUT, None, _l("More kiosks than this kiosk keeps track of: nothing from this "
                                                  "one is applied."), now, "", once=True)
            return counts
        peer = inbox.get(about.kiosk) or {"kiosk": about.kiosk, "key": about.key}
        peer["name"] = about.name or peer.get("name", "")
        if peer["key"] != about.key:
            if peer.get("changed_key") != about.key:
                peer["changed_key"] = about.key
                _refuse(store, about, ABOUT, None, _l("This kiosk's folder shows another key than before: nothing "
                                                      "from it is applied until a coordinator accepts the new key."), now, "")
            _save(store, inbox, peer, now)
            return counts
        peer["changed_key"] = None
        pass_ = _Pass(store, rules, about, peer, now, counts, inbox)
        segments = _segments(folder, about)
        for path in segments:
            pass_.read(path)
        # What it remembers of files no longer there goes (a new epoch dropped them).
        peer["files"] = {name: seen for name, seen in peer["files"].items() if name in {p.name for p in segments}}
        peer["waiting"] = counts["waiting"]
        _save(store, inbox, peer, now)
    return counts


def dry_run(store, folder: Path) -> dict | None:
    """What ``apply_folder`` would find in one kiosk's folder, changing nothing (a stick's
    preview): {"kiosk", "name", "records" (whole lines), "new" (not yet applied or set aside
    here), "changed_key" (its key is not the one pinned: nothing of it would apply), "noted"
    (that new key is noted already for a coordinator to accept)}; None for a folder that shows
    no kiosk (no readable kiosk.json)."""
    about = _about(folder)
    if about is None:
        return None
    peer = (store.get_meta(INBOX) or {}).get(about.kiosk) or {}
    found = {"kiosk": about.kiosk, "name": about.name or peer.get("name", ""), "records": 0, "new": 0,
             "changed_key": bool(peer) and peer.get("key") != about.key, "noted": peer.get("changed_key") == about.key}
    check = _Pass(store, None, about, {**peer}, utcnow(), {}, {})
    for path in _segments(folder, about):
        stat = path.stat()
        if stat.st_size > MAX_SEGMENT:
            continue
        raw = path.read_bytes()
        seen = check.peer["files"].get(path.name)
        read_before = bool(seen) and seen[0] == seen[1] == stat.st_size and seen[2] == _mtime(stat)
        for line in raw[: raw.rfind(b"\n") + 1].splitlines():
            found["records"] += 1
            try:
                envelope = msgspec.json.decode(line, type=schema.Envelope)
            except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
                found["new"] += not read_before  # set aside at the first reading, then passed over
                continue
            found["new"] += not read_before and not check._done(envelope.epoch, envelope.seq)
    if found["changed_key"]:
        found["new"] = 0
    return found


def _msgid(why) -> str:
    """A lazy message's English text (its id), whatever language the pass runs in."""
    # Never str() a lazy message here: outside a request it would ask the session for a language.
    return why._args[0] if hasattr(why, "_args") else str(why)


def _save(store, inbox: dict, peer: dict, now: dt.datetime) -> None:
    peer["last_pass"] = iso(now)
    store.set_meta(INBOX, {**inbox, peer["kiosk"]: peer})


def _refuse(store, about, file: str, seq, why, now: dt.datetime, excerpt: str, detail: str = "",
            once: bool = False) -> None:
    """Kept with ``why`` in English (a message id: the page shows it in the reader's language);
    ``once``: not again while the same kiosk's same refusal is listed (a whole folder, every pass)."""
    found = store.get_meta(REFUSED) or []
    entry = {"kiosk": about.kiosk, "name": about.name, "file": file[:80], "seq": seq, "why": _msgid(why)[:300],
             "detail": detail[:300], "at": iso(now), "excerpt": excerpt[:300]}
    if once and any((e["kiosk"], e["file"], e["why"]) == (entry["kiosk"], entry["file"], entry["why"]) for e in found):
        return
    store.set_meta(REFUSED, [*found, entry][-schema.MAX_REFUSED:])


class _Pass:
    """One reading of one kiosk's folder."""

    def __init__(self, store, rules, about, peer: dict, now: dt.datetime, counts: dict, inbox: dict):
        self.store, self.rules, self.about, self.peer, self.now, self.counts = store, rules, about, peer, now, counts
        self.inbox = inbox
        peer.setdefault("epochs", {})
        peer.setdefault("files", {})

    def read(self, path: Path) -> None:
        try:
            stat = path.stat()
            seen = self.peer["files"].get(path.name)
            if seen and seen[0] == seen[1] == stat.st_size and seen[2] == _mtime(stat):
                return  # read to its end before, unchanged since
            if stat.st_size > MAX_SEGMENT:
                self.peer["files"][path.name] = [stat.st_size, stat.st_size, _mtime(stat)]
                _refuse(self.store, self.about, path.name, None, _l("A file larger than any kiosk writes: it was "
                                                                   "not read."), self.now, f"{stat.st_size} bytes")
                self.counts["set_aside"] += 1
                return
            raw = path.read_bytes()
        except OSError:
            return
        whole = raw[: raw.rfind(b"\n") + 1]  # a line without its newline is still arriving
        done_to, offset, blocked = 0, 0, False
        lines = whole.splitlines(keepends=True)
        for start in range(0, len(lines), BATCH):
            # A batch's writes, and what the pass remembers of them, reach the disk in one sync.
            with self.store.batch():
                for line in lines[start:start + BATCH]:
                    finished = self._line(path.name, line)
                    offset += len(line)
                    if not finished:
                        blocked = True
                    elif not blocked:
                        done_to = offset
                self.peer["files"][path.name] = [done_to, stat.st_size if done_to == len(raw) else len(whole),
                                                 _mtime(stat)]
                _save(self.store, self.inbox, self.peer, self.now)

    def _done(self, epoch: str, seq: int) -> bool:
        done = self.peer["epochs"].get(epoch) or {}
        return seq <= done.get("upto", 0) or seq in (done.get("extra") or ())

    def _mark(self, epoch: str, seq: int) -> None:
        done = self.peer["epochs"].setdefault(epoch, {"upto": 0, "extra": []})
        extra = set(done.get("extra") or ()) | {seq}
        upto = done.get("upto", 0)
        while upto + 1 in extra:
            upto += 1
            extra.discard(upto)
        # A kiosk that skips numbers on purpose must not grow this past what the settings keep:
        # the oldest fall off (a record read again is applied again, to the same result).
        done.update(upto=upto, extra=sorted(extra)[-MAX_EXTRA:])

    def _line(self, file: str, line: bytes) -> bool:
        """Whether this line is done with (applied or set aside) rather than waiting."""
        try:
            record = msgspec.json.decode(line)
            envelope = msgspec.convert(record, schema.Envelope)
        except (msgspec.ValidationError, msgspec.DecodeError, RecursionError) as exc:
            return self._set_aside(file, None, _l("Not a record of the kiosk's network."), line, detail=str(exc))
        if self._done(envelope.epoch, envelope.seq):
            return True
        if envelope.kiosk != self.about.kiosk or not file.startswith(envelope.epoch):
            return self._set_aside(file, envelope.seq, _l("A record of another kiosk in this kiosk's folder."), line,
                                   envelope)
        if not verify(record, self.peer["key"]):
            return self._set_aside(file, envelope.seq, _l("Its signature does not match its content: it was "
                                                          "changed after its kiosk wrote it."), line, envelope)
        try:
            self._apply(record)
        except Waiting:
            self.counts["waiting"] += 1
            return False
        except Refused as exc:
            why, detail = (exc.args + ("",))[:2]
            return self._set_aside(file, envelope.seq, why, line, envelope, detail=str(detail))
        except StoreError as exc:
            return self._set_aside(file, envelope.seq, _l("This kiosk could not store it."), line, envelope,
                                   detail=str(exc))
        except OSError:
            raise  # the disk, not the record: the next pass tries again
        except Exception as exc:  # noqa: BLE001 - a record no rule foresaw must not stop every pass after it
            log.warning("network: a record of %s could not be applied: %r", self.about.kiosk, exc)
            return self._set_aside(file, envelope.seq, _l("Not a record of the kiosk's network."), line, envelope,
                                   detail=type(exc).__name__)
        self._mark(envelope.epoch, envelope.seq)
        self.counts["applied"] += 1
        self.peer["applied"] = self.peer.get("applied", 0) + 1
        self.peer["last_record"] = max(self.peer.get("last_record") or "", envelope.at)
        return True

    def _set_aside(self, file: str, seq, why, line: bytes, envelope=None, detail: str = "") -> bool:
        # What the record is about, never what it says: a record set aside may hold words that
        # should never have been written down here (promise 8).
        about = f"{envelope.kind} {'/'.join(envelope.post)}" if envelope is not None else f"{len(line)} bytes"
        _refuse(self.store, self.about, file, seq, why, self.now, about, detail)
        if envelope is not None:
            self._mark(envelope.epoch, envelope.seq)
        self.counts["set_aside"] += 1
        self.peer["set_aside"] = self.peer.get("set_aside", 0) + 1
        return True

    def _apply(self, record: dict) -> None:
        local = _find(self.store, record["post"])
        if local is None:
            self._add(record)
            return
        result: dict = {}

        def change(doc: dict) -> None:
            after = self.rules.travel(doc, record, self._numbers(), self.now)
            if after is not None:
                _check(self.rules, after)
                _no_copied_tickets(self.store, doc, after)
                result["post"] = after
                doc.clear()
                doc.update(after)

        self.store.mutate_post(local, change)
        after = result.get("post")
        if after is not None:
            month = self.rules.place(after)
            if month and self.store.is_live(local):
                self.store.archive_post(local, {}, month)
            self._audit(record, after)

    def _add(self, record: dict) -> None:
        post = self.rules.travel(None, record, self._numbers(), self.now)
        if post is None:
            return
        _check(self.rules, post)
        _no_copied_tickets(self.store, None, post)
        month = self.rules.place(post)
        if not month and self.store.count_live() >= MAX_LIVE_POSTS - ROOM_FOR_OWN:
            raise Refused(_l("This kiosk's board is nearly full: the room left is kept for posts made here."))
        try:
            if month:
                self.store.put_posts([], {month: [post]})
            else:
                self.store.insert_post(post)
        except KeyError:
            raise Waiting() from None  # its number was taken meanwhile: next pass

    def _numbers(self):
        used: set[str] = set()

        def number(printed: str) -> str:
            # Lazily: the printed number is free almost always, and making the 1,000 spares
            # up front (SystemRandom) cost ~25 ms a record.
            for candidate in itertools.chain([printed], (codes.new_post_id() for _ in range(1000))):
                if candidate not in used and not self.store.id_taken(candidate):
                    used.add(candidate)
                    return candidate
            raise StoreError("no free number")

        return number

    def _audit(self, record: dict, post: dict) -> None:
        if record["kind"] == "hide":
            self.store.append_audit({"at": iso(self.now), "handle": f"{self.about.name or self.about.kiosk}"[:40],
                                     "action": "hide" if post.get("hidden") else "restore", "target": post["id"],
                                     "detail": f"by the coordinators of the post's home kiosk ({self.about.kiosk})"})


def _check(rules, post: dict) -> None:
    try:
        msgspec.convert(post, rules.schema)
    except msgspec.ValidationError as exc:
        raise Refused(_l("The post it leads to is not a valid post."), str(exc)) from None
    problem = rules.check(post) if rules.check else None
    if problem:
        raise Refused(_l("The post it leads to is not a valid post."), str(problem))


def _no_copied_tickets(store, before: dict | None, after: dict) -> None:
    """A post or reply new here may not carry the ticket check of another one printed under the
    same number: a code tries every record under its number, so a copy could open instead."""
    known = {r["id"] for r in (before or {}).get("replies") or ()}
    new = ([after] if before is None else []) + [r for r in after.get("replies") or () if r["id"] not in known]
    for record in new:
        check = (record.get("claim") or {}).get("check")
        for post_id, reply_id in store.holders(record.get("home_id") or record["id"]) if check else ():
            other = store.get_post(post_id) or {}
            if reply_id is not None:
                other = next((r for r in other.get("replies") or () if r["id"] == reply_id), {})
            if (other.get("claim") or {}).get("check") == check:
                raise Refused(_l("A ticket copied from another post or reply."))


def _find(store, key: list) -> str | None:
    """This kiosk's number of the post made at ``key`` = [home, number there]."""
    for post_id, reply_id in store.holders(key[1]):
        if reply_id is None:
            post = store.get_post(post_id)
            if post is not None and list(post_key(post)[:2]) == list(key):
                return post_id
    return None


def peer_status(store) -> list[dict]:
    inbox = store.get_meta(INBOX) or {}
    return [{"kiosk": p["kiosk"], "name": p.get("name", ""), "applied": p.get("applied", 0),
             "waiting": p.get("waiting", 0), "set_aside": p.get("set_aside", 0),
             "last_record": p.get("last_record"), "last_pass": p.get("last_pass"),
             "changed_key": p.get("changed_key")} for p in sorted(inbox.values(), key=lambda p: p.get("name", ""))]


def set_aside(store) -> list[dict]:
    return list(reversed(store.get_meta(REFUSED) or []))


def accept_key(store, kiosk: str) -> bool:
    """A coordinator trusts the new key a kiosk's folder shows (a kiosk set up again): its
    records are read afresh under it."""
    inbox = store.get_meta(INBOX) or {}
    peer = inbox.get(kiosk)
    if not peer or not peer.get("changed_key"):
        return False
    peer.update(key=peer["changed_key"], changed_key=None, files={})
    store.set_meta(INBOX, {**inbox, kiosk: peer})
    return True

