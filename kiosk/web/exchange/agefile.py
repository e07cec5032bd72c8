"""The full backup encrypted with a passphrase the volunteer chooses, in the age format
(age-encryption.org/v1 with one scrypt recipient) through pyrage, so that Debian's ``age -d``
opens it as well as the kiosk. age authenticates what it encrypts: a wrong passphrase, a changed
byte or a cut file fails to decrypt, and nothing is read from it.

pyrage's passphrase functions take and give whole byte strings (no streams), so an encrypted
backup is held in memory: it is limited to MAX_AGE_BYTES, and an export refuses to write a larger
one (a backup the kiosk could not read back is no backup). age picks the scrypt work factor by
timing the machine that encrypts (about a second there); a file asking for more than age itself
accepts, or for more memory than this machine has free, is refused before any work is done, so a
crafted stick cannot make the kiosk allocate gigabytes.
"""

from __future__ import annotations

import re
import threading

import pyrage
from cachetools import TTLCache
from flask_babel import lazy_gettext as _l

from ...core.errors import Refused
from .export import ExchangeError

AGE_BACKUP = "backup.age"
MAX_AGE_BYTES = 256 * 1024 * 1024  # held whole, with its decrypted copy: 4.7 x the bench kiosk's 54 MB
MAX_WORK_FACTOR = 22  # what Debian's age accepts at most (scrypt N = 2**22: 4 GiB): more is no age file
# What a kiosk opens at most: age picks ~1 s of this machine's work at encryption (2**19 on a fast
# VM, less on a Pi), so more is a crafted header that would hold 1 GiB and many seconds.
MAX_OPENED_FACTOR = 20
_DECRYPTING = threading.Lock()  # one at a time: two previews must not each take the memory
HELD_SECONDS = 600  # how long a previewed backup's passphrase waits for the confirmation
_HEADER = re.compile(rb"age-encryption\.org/v1\n-> scrypt [A-Za-z0-9+/]{22} ([1-9][0-9]?)\n[A-Za-z0-9+/]{43}\n--- ")


def new_passphrase(first: str, second: str) -> str:
    """The passphrase for a new backup, typed twice, at least as strong as a coordinator's."""
    from ..gate import check_passphrase  # here: gate needs services, which import this package

    if first != second:
        raise Refused(_l("The two passphrases are not the same. Nothing was written: type the same passphrase twice."))
    return check_passphrase(first)


def encrypt(plain: bytes, passphrase: str) -> bytes:
    return pyrage.passphrase.encrypt(plain, passphrase)


def work_factor(head: bytes) -> int | None:
    """log2 of scrypt's N that a file encrypted with a passphrase asks for (it needs 1 KiB of
    memory per N: age's r is 8), or None when it is not such an age file."""
    match = _HEADER.match(head)
    return int(match.group(1)) if match else None


def memory_free() -> int:
    """Bytes this machine can give without swapping (MemAvailable), or a lot where unknown."""
    try:
        with open("/proc/meminfo", "rb") as fh:
            for line in fh:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 1 << 62


def decrypt(data: bytes, passphrase: str) -> bytes:
    """The backup's lines, or ExchangeError: "not-age", "too-costly" (detail: the MiB it needs),
    "wrong-passphrase" (or the header was changed: age cannot tell them apart), "damaged"."""
    factor = work_factor(data[:200])
    if factor is None:
        raise ExchangeError("not-age", AGE_BACKUP)
    if factor > MAX_WORK_FACTOR:
        raise ExchangeError("damaged", AGE_BACKUP)
    need = 1024 << factor
    if factor > MAX_OPENED_FACTOR or need + 2 * len(data) > memory_free():
        raise ExchangeError("too-costly", str(need >> 20))
    try:
        with _DECRYPTING:
            return pyrage.passphrase.decrypt(data, passphrase)
    except pyrage.DecryptError as exc:
        if str(exc).startswith("Decryption failed"):  # no recipient opened: the passphrase
            raise ExchangeError("wrong-passphrase", AGE_BACKUP) from None
        raise ExchangeError("damaged", AGE_BACKUP) from None


class HeldPassphrases:
    """A previewed backup's passphrase, kept until the confirmation under the preview's one-time
    key: in this process's memory only (never the session cookie, a form, a URL or a file), for
    HELD_SECONDS at most, and forgotten when the confirmation is acted on."""

    def __init__(self, ttl: float = HELD_SECONDS):
        self._held: TTLCache = TTLCache(16, ttl)
        self._lock = threading.Lock()

    def keep(self, key: str, passphrase: str) -> None:
        with self._lock:
            self._held[key] = passphrase

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._held.get(key) if key else None

    def drop(self, key: str | None) -> None:
        with self._lock:
            self._held.pop(key, None)

    def clear(self) -> None:
        """Coordinator mode was locked: nothing typed in it waits any longer."""
        with self._lock:
            self._held.clear()
