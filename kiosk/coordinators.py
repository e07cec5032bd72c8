"""Coordinators: handles and passphrases, the audit trail, the roster and the agreements.

A coordinator is a handle (a pseudonym, not a name) and a passphrase of at least 12
characters stored as a salted scrypt hash. There is no default passphrase anywhere: the first
coordinator is made on the command line. Every coordinator action is appended to the audit
trail (one file per month), which no screen can edit.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from . import codes, text
from .store import Store

MIN_PASSPHRASE = 12
MAX_PASSPHRASE = 200
HANDLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{1,29}")
AGREEMENTS_LIMIT = 10_000

ACTIONS = {
    "unlock": _l("unlocked coordinator mode"),
    "lock": _l("locked coordinator mode"),
    "hide": _l("hid a post"),
    "restore": _l("restored a post"),
    "dismiss": _l("dismissed a report"),
    "approve": _l("approved a thank-you line"),
    "reject": _l("declined a thank-you line"),
    "roster": _l("changed the roster"),
    "agreements": _l("edited the community agreements"),
    "settings": _l("changed the settings"),
    "category": _l("changed a category"),
    "add-coordinator": _l("added a coordinator"),
    "remove-coordinator": _l("removed a coordinator"),
    "export": _l("exported the data"),
    "restore-backup": _l("restored a backup"),
    "merge": _l("merged another kiosk's posts"),
    "event-new": _l("added a gathering"),
    "event-edit": _l("changed a gathering"),
    "event-cancel": _l("cancelled a gathering"),
    "library-add": _l("added a library item"),
    "library-edit": _l("edited a library item"),
    "lend": _l("lent a library item"),
    "return": _l("recorded a library return"),
    "library-retire": _l("retired a library item"),
    "survey": _l("saved the survey"),
    "survey-open": _l("opened the survey"),
    "survey-close": _l("closed the survey"),
    "survey-new": _l("started a new survey"),
    "clock": _l("set the kiosk's clock"),
}
# The kinds counted on the public transparency page.
MODERATION = ("hide", "restore", "dismiss", "approve", "reject")


class Refused(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def check_handle(handle: str) -> str:
    handle = text.normalize(handle or "")
    if not HANDLE.fullmatch(handle):
        raise Refused(_l("A handle has 2 to 30 letters, digits, spaces, dots, dashes or underscores."))
    return handle


def check_passphrase(passphrase: str) -> str:
    if len(passphrase or "") < MIN_PASSPHRASE:
        raise Refused(_l("A passphrase needs at least %(n)d characters.", n=MIN_PASSPHRASE))
    if len(passphrase) > MAX_PASSPHRASE:
        raise Refused(_l("A passphrase can have at most %(n)d characters.", n=MAX_PASSPHRASE))
    return passphrase


def _find(store: Store, handle: str) -> dict | None:
    wanted = handle.casefold()
    return next((c for c in store.records("coordinators") if c["handle"].casefold() == wanted), None)


def add(store: Store, handle: str, passphrase: str, *, by: str, now: dt.datetime, scrypt_n: int) -> str:
    handle = check_handle(handle)
    check_passphrase(passphrase)
    if _find(store, handle):
        raise Refused(_l("That handle is taken."))
    store.add_record(
        "coordinators",
        {"handle": handle, "hash": codes.hash_secret(passphrase, n=scrypt_n), "added": iso(now), "added_by": by},
    )
    return handle


def remove(store: Store, handle: str) -> None:
    found = _find(store, handle)
    if found is None:
        raise Refused(_l("There is no coordinator with that handle."))
    if len(store.records("coordinators")) <= 1:
        raise Refused(_l("The last coordinator cannot be removed."))
    store.remove_record("coordinators", found["_id"])


def handles(store: Store) -> list[str]:
    return sorted((c["handle"] for c in store.records("coordinators")), key=str.casefold)


def verify(store: Store, handle: str, passphrase: str, scrypt_n: int) -> str | None:
    """The handle as stored if the passphrase is right; the same cost either way."""
    found = _find(store, handle or "")
    if found is None or not passphrase:
        codes.burn_time(scrypt_n)
        return None
    if codes.verify_secret(passphrase, found["hash"]):
        return found["handle"]
    return None


def iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- audit trail ------------------------------------------------------------------------------


def log(store: Store, handle: str, action: str, target: str, now: dt.datetime, detail: str = "") -> None:
    store.append_audit({"at": iso(now), "handle": handle, "action": action, "target": target, "detail": detail})


def trail(store: Store, limit: int = 500) -> list[dict]:
    """Newest first, across months."""
    out: list[dict] = []
    for month in reversed(store.audit_months()):
        entries = store.audit_entries(month)
        out.extend(reversed(entries))
        if len(out) >= limit:
            break
    return out[:limit]


def monthly_counts(store: Store) -> list[tuple[str, dict]]:
    """[(YYYY-MM, {action: count})], newest month first: moderation only, no handles."""
    result = []
    for month in reversed(store.audit_months()):
        counts = Counter(e["action"] for e in store.audit_entries(month) if e["action"] in MODERATION)
        result.append((month, {action: counts.get(action, 0) for action in MODERATION}))
    return result


# -- roster ---------------------------------------------------------------------------------------


def week_key(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(key: str) -> dt.date:
    year, week = key.split("-W")
    return dt.date.fromisocalendar(int(year), int(week), 1)


def upcoming_weeks(today: dt.date, count: int = 8) -> list[str]:
    return [week_key(today + dt.timedelta(weeks=i)) for i in range(count)]


def roster(store: Store) -> dict:
    return store.get_meta("roster", {}) or {}


def on_duty(store: Store, today: dt.date) -> str | None:
    return roster(store).get("weeks", {}).get(week_key(today)) or None


def next_meeting(store: Store, now: dt.datetime) -> dict | None:
    meeting = roster(store).get("meeting") or {}
    when = meeting.get("when")
    if not when:
        return None
    try:
        moment = dt.datetime.fromisoformat(when)
    except ValueError:
        return None
    if moment.date() < now.date():
        return None
    return {"when": moment, "where": meeting.get("where", "")}


def save_roster(store: Store, weeks: dict, meeting_when: str, meeting_where: str, known: list[str]) -> None:
    errors = {}
    clean_weeks = {}
    for key, handle in weeks.items():
        if not re.fullmatch(r"\d{4}-W\d{2}", key):
            continue
        if handle and handle not in known:
            errors[key] = _l("Choose a coordinator from the list.")
        elif handle:
            clean_weeks[key] = handle
    when = (meeting_when or "").strip()
    if when:
        try:
            when = dt.datetime.fromisoformat(when).strftime("%Y-%m-%dT%H:%M")
        except ValueError:
            errors["meeting_when"] = _l("Write the date and time like 2026-12-03 18:30.")
    where = text.normalize(meeting_where or "")
    if len(where) > 80 or text.unsafe(where):
        errors["meeting_where"] = _l("Use one line of at most 80 characters.")
    if errors:
        raise Refused(next(iter(errors.values())))
    current = roster(store)
    kept = {k: v for k, v in current.get("weeks", {}).items() if k not in weeks}
    store.set_meta("roster", {"weeks": {**kept, **clean_weeks}, "meeting": {"when": when, "where": where}})


# -- community agreements -----------------------------------------------------------------------


def agreements(store: Store) -> str | None:
    """The coordinators' text, or None while the shipped default applies."""
    return store.get_meta("agreements") or None


def save_agreements(store: Store, body: str) -> None:
    body = text.normalize(body or "", multiline=True)
    if len(body) > AGREEMENTS_LIMIT:
        raise Refused(_l("Use at most %(limit)d characters; this has %(count)d.", limit=AGREEMENTS_LIMIT, count=len(body)))
    if text.unsafe(body, multiline=True):
        raise Refused(_l("Remove the invisible control characters from this text."))
    store.set_meta("agreements", body)


_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _inline(line: str) -> Markup:
    # Escape first, then allow only **bold**: typed HTML always shows as text.
    return Markup(_BOLD.sub(r"<strong>\1</strong>", str(escape(line))))


def render(body: str) -> Markup:
    """Simple formatting: "# " headings, "- " lists, blank lines between paragraphs, **bold**."""
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if paragraph:
            out.append("<p>" + "<br>".join(str(_inline(p)) for p in paragraph) + "</p>")
            paragraph.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for raw in body.split("\n"):
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("# ") or line.startswith("## "):
            flush()
            out.append(f"<h2>{_inline(line.lstrip('#').strip())}</h2>")
        elif line.startswith("- ") or line.startswith("* "):
            if paragraph:
                flush()
            items.append(line[2:])
        else:
            if items:
                flush()
            paragraph.append(line)
    flush()
    return Markup("\n".join(out))
