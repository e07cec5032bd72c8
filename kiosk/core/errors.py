"""The four ideas the kiosk refuses with, one class each, used by every feature.

A view catches one of these and shows its message; nothing was stored when one is raised."""

from __future__ import annotations


class Invalid(Exception):
    """Form values that cannot be stored: ``errors`` maps each field to what to fix, and
    ``values`` holds what was typed, to show the form again."""

    def __init__(self, errors: dict, values: dict | None = None):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
        self.values = values or {}


class Refused(Exception):
    """A step the current state does not allow; ``message`` says why in plain words."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class BadCode(Exception):
    """A ticket or loan code that is wrong or points at nothing: one answer for every case, so
    the answer tells a guesser nothing."""


class TooManyTries(Exception):
    """Guessing is throttled: try again in ``wait_seconds``."""

    def __init__(self, wait_seconds: int):
        super().__init__(wait_seconds)
        self.wait_seconds = wait_seconds


class StoreError(RuntimeError):
    """A problem with the data folder that a person must act on; the message says what."""


class DataFolderInUse(StoreError):
    pass


class DataDamaged(StoreError):
    """A data file that cannot be used as it is: ``path`` names it; nothing was changed."""

    def __init__(self, message: str, path=None, problem: str = ""):
        super().__init__(message)
        self.path = path
        self.problem = problem  # what is wrong, without the advice around it
