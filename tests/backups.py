"""Full backups for the tests: encrypted, as the kiosk makes them now (with BACKUP_PASSPHRASE), and
plain, as kiosks made them before backups were encrypted (sticks in the field still hold those,
and the checks a backup goes through are the same once it is decrypted). Encrypting costs about a
second of scrypt, by age's own measure of the machine: tests about what a backup may hold or how
a merge decides use plain ones; tests about the backup itself use encrypted ones."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pty
import select
import signal
from pathlib import Path

import pyrage

from kiosk.core.times import utcnow
from kiosk.web import exchange
from kiosk.web.exchange.export import write_backup
from kiosk.web.feature import default_registry

BACKUP_PASSPHRASE = "a stick left on the bus"


def full_export(store, target, **options) -> Path:
    """A full backup as the kiosk makes it: backup.age, encrypted with BACKUP_PASSPHRASE."""
    options.setdefault("now", utcnow())
    return exchange.export(store, target, full=True, passphrase=BACKUP_PASSPHRASE, **options)


def plain_full_export(store, target, *, kiosk_name: str, now=None, registry=None) -> Path:
    """A full backup as kiosks wrote it before backups were encrypted: the anonymized export,
    backup.jsonl in plain beside it, and its checksum in the manifest."""
    registry = registry or default_registry()
    now = now or utcnow()
    made = exchange.export(store, target, registry=registry, kiosk_name=kiosk_name, now=now)
    out = io.BytesIO()
    write_backup(out, store, registry, kiosk_name, now)
    # Kiosks that wrote plain backups had no team key and no sealing mark: a plain backup with
    # either is refused as forged.
    every = out.getvalue().splitlines(keepends=True)
    kept = [line for line in every if json.loads(line).get("t") not in ("setting:team_key", "setting:sealed")]
    end = json.loads(kept[-1])
    end["lines"] -= len(every) - len(kept)  # the end line counts the lines
    kept[-1] = (json.dumps(end, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    out = io.BytesIO(b"".join(kept))
    (made / exchange.BACKUP).write_bytes(out.getvalue())
    (made / exchange.BACKUP).chmod(0o600)
    manifest = json.loads((made / exchange.MANIFEST).read_text())
    manifest["full"] = True
    manifest["files"][exchange.BACKUP] = hashlib.sha256(out.getvalue()).hexdigest()
    (made / exchange.MANIFEST).write_text(json.dumps(manifest, indent=2))
    return made


def read_backup(folder, registry=None):
    """A backup checked whole, with BACKUP_PASSPHRASE if it is encrypted."""
    return exchange.read_backup(folder, registry, BACKUP_PASSPHRASE)


def backup_bytes(folder, passphrase: str = BACKUP_PASSPHRASE) -> bytes:
    """The lines of a full backup, decrypted if it is encrypted."""
    folder = Path(folder)
    if (folder / exchange.AGE_BACKUP).exists():
        return pyrage.passphrase.decrypt((folder / exchange.AGE_BACKUP).read_bytes(), passphrase)
    return (folder / exchange.BACKUP).read_bytes()


def lines_of(folder) -> list[dict]:
    return [json.loads(line) for line in backup_bytes(folder).decode("utf-8").splitlines()]


def on_a_terminal(command: list[str], answers: list[str], cwd=None, env=None) -> tuple[int, str]:
    """Run ``command`` with a terminal of its own (as age and getpass want: they read a
    passphrase from /dev/tty, never from a pipe), typing each answer when a prompt ending in ": "
    appears. Returns the exit status and everything the terminal showed."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: exec at once (no Python code of the parent runs after a fork)
        try:
            if cwd:
                os.chdir(cwd)
            os.execvpe(command[0], command, env if env is not None else os.environ)
        finally:
            os._exit(127)
    shown, answered, pending = b"", 0, list(answers)
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], 120)
            if not ready:  # a bound against a hang, not a timing: the command waits for nothing else
                os.kill(pid, signal.SIGKILL)
                raise AssertionError(f"{command[0]} hung; the terminal showed {shown!r}")
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the command ended and closed the terminal
                break
            if not chunk:
                break
            shown += chunk
            if pending and shown[answered:].rstrip().endswith(b":"):  # a new prompt since the last answer
                os.write(fd, pending.pop(0).encode() + b"\n")
                answered = len(shown)
    finally:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), shown.decode("utf-8", "replace")
