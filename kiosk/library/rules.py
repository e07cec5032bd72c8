"""The tool library: shared items, loans against a ticket code, returns and overdue loans.

Plain functions over the store's record tables ``library_items`` and ``library_loans``.
A loan stores the item, the due date and the scrypt hash of the borrower's code: never a name,
never the code. On return the hash is dropped; the dates stay for the open numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from flask_babel import lazy_gettext as _l

from ..core import codes, counts, fields, text
from ..core.errors import BadCode, Invalid, Refused, TooManyTries
from ..core.store import Store
from ..core.times import iso

ITEMS = "library_items"
LOANS = "library_loans"

CATEGORIES = {
    "tools": _l("Tools"),
    "kitchen": _l("Kitchen"),
    "garden": _l("Garden"),
    "kids": _l("Kids"),
    "other": _l("Other"),
}
CONDITIONS = {
    "good": _l("Good"),
    "worn": _l("Worn"),
    "needs-repair": _l("Needs repair"),
}
LIMITS = {"name": 60, "notes": 300, "kept": 60}
TEXT_FIELDS = (("name", False), ("notes", True), ("kept", False))
DEFAULT_LOAN_DAYS = 14
MAX_LOAN_DAYS = 90


# -- items ------------------------------------------------------------------------------------


def check_item(form: Mapping) -> dict:
    """The item's fields, cleaned; raises Invalid with a message per bad field."""
    errors: dict = {}
    raw = {name: fields.one(form, name, errors) for name in ("category", "condition")}
    values: dict = {name: fields.clean(form, name, LIMITS[name], errors, multiline) for name, multiline in TEXT_FIELDS}
    if "name" not in errors and not text.visible(values["name"]):
        errors["name"] = _l("Write the item's name, for example “Cordless drill”.")
    for name, choices, missing in (
        ("category", CATEGORIES, _l("Choose a category.")),
        ("condition", CONDITIONS, _l("Choose the item's condition.")),
    ):
        value = raw[name].strip().lower()
        values[name] = value
        if name in errors:
            continue
        if not value:
            errors[name] = missing
        elif value not in choices:
            errors[name] = _l("Choose one of the options in the list.")
    if errors:
        raise Invalid(errors, values)
    return values


def add_item(store: Store, values: dict, now: dt.datetime) -> int:
    return store.add_record(ITEMS, {**values, "created": iso(now), "updated": iso(now)})


def edit_item(store: Store, item_id: int, values: dict, now: dt.datetime) -> None:
    if get_item(store, item_id) is None:
        raise Refused(_l("That item is not in the library."))
    store.update_record(ITEMS, item_id, {**values, "updated": iso(now)})


def get_item(store: Store, item_id: int) -> dict | None:
    return next((item for item in store.records(ITEMS) if item["_id"] == item_id), None)


def active_loans(store: Store) -> dict[int, dict]:
    """{item id: its open loan}."""
    return {loan["item"]: loan for loan in store.records(LOANS) if not loan.get("returned")}


def catalog(store: Store, category: str | None = None) -> list[dict]:
    """Items by category order and name, each with ``loan`` (its open loan or None)."""
    loans = active_loans(store)
    order = list(CATEGORIES)
    items = [
        {**item, "loan": _public_loan(loans.get(item["_id"]))}
        for item in store.records(ITEMS)
        if (category is None or item.get("category") == category) and not item.get("retired")
    ]
    items.sort(key=lambda i: (order.index(i["category"]) if i.get("category") in order else len(order), i["name"].casefold()))
    return items


def item_view(store: Store, item_id: int) -> dict | None:
    item = get_item(store, item_id)
    if item is None:
        return None
    return {**item, "loan": _public_loan(active_loans(store).get(item_id))}


def _public_loan(loan: dict | None) -> dict | None:
    """A loan without its hash: what pages may show."""
    if loan is None:
        return None
    return {key: value for key, value in loan.items() if key != "claim"}


# -- loans ------------------------------------------------------------------------------------


def default_due(today: dt.date) -> str:
    return (today + dt.timedelta(days=DEFAULT_LOAN_DAYS)).isoformat()


def check_due(form: Mapping, today: dt.date) -> str:
    """The due date as YYYY-MM-DD, from today up to MAX_LOAN_DAYS ahead; raises Invalid."""
    errors: dict = {}
    raw = fields.one(form, "due", errors).strip()
    if not errors:
        try:
            due = dt.date.fromisoformat(raw) if len(raw) == 10 else None
        except ValueError:
            due = None
        if due is None:
            errors["due"] = _l("Give the date as year-month-day, for example %(example)s.", example=default_due(today))
        elif not today <= due <= today + dt.timedelta(days=MAX_LOAN_DAYS):
            errors["due"] = _l("Choose a date from today to %(days)d days ahead.", days=MAX_LOAN_DAYS)
    if errors:
        raise Invalid(errors, {"due": raw[:10]})
    return due.isoformat()


def _new_loan_id(store: Store) -> str:
    taken = {loan.get("id") for loan in store.records(LOANS)}
    while True:
        loan_id = codes.new_post_id()
        if loan_id not in taken:
            return loan_id


def lend(store: Store, item_id: int, due: str, now: dt.datetime, scrypt_n: int,
         lang: str = "en") -> tuple[dict, str]:
    """Record a loan; returns (loan without hash, the borrower's ticket code). The code is
    not stored anywhere: show it once."""
    if get_item(store, item_id) is None:
        raise Refused(_l("That item is not in the library."))
    if item_id in active_loans(store):
        raise Refused(_l("This item is already lent. Record its return first."))
    loan_id = _new_loan_id(store)
    secret = codes.new_secret_words(lang)
    loan = {
        "id": loan_id,
        "item": item_id,
        "claim": codes.hash_secret(codes.secret_key(secret), n=scrypt_n),
        "lent": iso(now),
        "due": due,
        "returned": None,
    }
    store.add_record(LOANS, loan)
    return _public_loan(loan), codes.make_ticket_code(loan_id, secret)


def return_item(store: Store, item_id: int, now: dt.datetime) -> dict:
    """Close the item's open loan; the hash goes, the dates stay."""
    loan = active_loans(store).get(item_id)
    if loan is None:
        raise Refused(_l("This item is not lent out."))
    store.update_record(LOANS, loan["_id"], {"returned": iso(now), "claim": None})
    return _public_loan(loan)


def retire_item(store: Store, item_id: int, now: dt.datetime) -> None:
    """Take an item out of the catalog (lost, broken, given away); its loans stay for the
    statistics, and its printed label still opens a page that says so."""
    if item_id in active_loans(store):
        raise Refused(_l("This item is lent out. Record its return first."))
    store.update_record(ITEMS, item_id, {"retired": iso(now)})


def find_loan(store: Store, throttle, raw_code: str, scrypt_n: int) -> tuple[dict, dict]:
    """(open loan, item) for a borrower's code; raises BadCode or TooManyTries. ``throttle``
    counts this client's guesses (an unknown loan number is a guess too)."""
    parts = codes.split_ticket_code(raw_code)
    loan_id = parts[0] if parts else None
    wait = throttle.attempt()
    if wait:
        raise TooManyTries(wait)
    loan = next((l for l in store.records(LOANS) if l.get("id") == loan_id and l.get("claim")), None) if loan_id else None
    if loan is None:
        codes.burn_time(scrypt_n)
        raise BadCode()
    if not codes.verify_secret(parts[1], loan["claim"]):
        raise BadCode()
    item = get_item(store, loan["item"])
    if item is None:
        raise BadCode()
    throttle.succeeded()
    return _public_loan(loan), item




def lent_by_month(store: Store) -> dict[str, int]:
    """Loans per month they began, for the open numbers."""
    return counts.per_month(str(loan["lent"])[:7] for loan in store.records(LOANS) if loan.get("lent"))


def is_overdue(loan: dict, now: dt.datetime) -> bool:
    return loan["due"] < now.date().isoformat()


def overdue(store: Store, now: dt.datetime) -> list[dict]:
    """Open loans past their due date, oldest first: [{item, name, due, loan}] for the queue."""
    names = {item["_id"]: item["name"] for item in store.records(ITEMS)}
    late = [
        {"item": loan["item"], "name": names.get(loan["item"], ""), "due": loan["due"], "loan": loan["id"]}
        for loan in active_loans(store).values()
        if is_overdue(loan, now)
    ]
    return sorted(late, key=lambda entry: (entry["due"], entry["name"]))
