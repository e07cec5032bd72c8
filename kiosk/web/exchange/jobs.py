"""Exports run in the background, so the screen can show their progress; each job is kept for
an hour (cachetools' TTLCache), long enough to read its result, and then forgotten. A full
backup's passphrase goes to its thread only; a restore's waits for its confirmation in
``passphrases`` (agefile.HeldPassphrases)."""

from __future__ import annotations

import threading
import uuid
from typing import Callable

from cachetools import TTLCache

from .agefile import HeldPassphrases
from .export import ExchangeError, export

JOBS_KEPT = 64


class ExportJobs:
    def __init__(self, ttl: float = 3600):
        self._jobs: TTLCache = TTLCache(JOBS_KEPT, ttl)
        self._lock = threading.Lock()
        self.passphrases = HeldPassphrases()  # the other thing the stick screens keep between requests

    def running(self) -> bool:
        """Whether an export is being written (a restore or merge must wait: the export would
        hold part of the old data and part of the new)."""
        with self._lock:
            return any(job["state"] == "running" for job in self._jobs.values())

    def get(self, job_id: str) -> dict | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return dict(job) if job else None

    def _update(self, job_id: str, **changes) -> None:
        with self._lock:
            if job_id in self._jobs:
                self._jobs[job_id] = {**self._jobs[job_id], **changes}

    def start(self, store, target: str, *, registry, kiosk_name: str, now, full: bool, label: str,
              when_done: Callable[[str], None], passphrase: str | None = None) -> str:
        """Export into ``target`` in a thread; ``when_done(folder name)`` runs after success.
        ``passphrase`` (a full backup's) stays in the thread's memory, never in the job."""
        job_id = uuid.uuid4().hex
        with self._lock:
            self._jobs[job_id] = {"state": "running", "what": "posts", "done": 0, "total": 1, "full": full,
                                  "stick": label}

        def progress(what: str, done: int, total: int) -> None:
            self._update(job_id, what=what, done=done, total=max(total, 1))

        def run() -> None:
            try:
                made = export(store, target, registry=registry, kiosk_name=kiosk_name, now=now, full=full,
                              passphrase=passphrase, progress=progress)
            except ExchangeError as exc:
                self._update(job_id, state="failed", error=exc)
                return
            except Exception as exc:  # noqa: BLE001 - reported on screen, never lost silently
                self._update(job_id, state="failed", error=ExchangeError("write-failed", str(exc)))
                return
            when_done(made.name)
            self._update(job_id, state="done", folder=made.name)

        threading.Thread(target=run, name=f"export-{job_id[:6]}", daemon=True).start()
        return job_id
