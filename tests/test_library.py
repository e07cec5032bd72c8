"""Issue 8, point 2: the tool library at /library, end to end through the test client."""

from __future__ import annotations

import datetime as dt
import json
import re

from kiosk.library import rules as library
from kiosk.web import audit as coordinators

from conftest import PUBLIC_URL, Visitor, claim_code, csrf_token
from test_coordinate import coord, team, trail_actions  # noqa: F401 (fixtures)
from test_qr import decode_svg

DRILL = {"name": "Cordless drill", "category": "tools", "condition": "good", "notes": "Two batteries.", "kept": "Shelf B"}


def today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def store_of(app):
    return app.extensions["kiosk"].store


def add(coord: Visitor, **fields) -> int:
    response = coord.submit("/library/new", **{**DRILL, **fields})
    assert response.status_code == 303, response.get_data(as_text=True)
    match = re.fullmatch(r"/library/(\d+)", response.headers["Location"])
    assert match
    return int(match.group(1))


def lend(coord: Visitor, item_id: int, due: str | None = None):
    fields = {} if due is None else {"due": due}
    page = coord.client.get(f"/library/{item_id}/lend").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form_key = re.search(r'name="form_key" value="([^"]+)"', page).group(1)
    default = re.search(r'name="due" type="date" value="([^"]*)"', page).group(1)
    data = {"csrf_token": token, "form_key": form_key, "due": default, **fields}
    return coord.client.post(f"/library/{item_id}/lend", data=data), data


def lend_and_read_code(coord: Visitor, item_id: int, due: str | None = None) -> str:
    response, _ = lend(coord, item_id, due)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Location"] == f"/library/{item_id}/lent"
    ticket = coord.client.get(response.headers["Location"])
    assert ticket.headers["Cache-Control"] == "no-store"
    code = claim_code(ticket.get_data(as_text=True))
    assert code
    return code


def all_bytes(data_dir) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file())


def stored_strings(data_dir) -> set:
    """Every string value in the data folder's JSON files."""
    found = set()

    def walk(node):
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            found.add(node)

    for path in data_dir.rglob("*.json"):
        walk(json.loads(path.read_text(encoding="utf-8")))
    return found


def session_bytes(client) -> bytes:
    """The signed session cookie's payload, decoded as Flask writes it."""
    import base64
    import zlib

    value = client.get_cookie("kiosk").value
    payload = value.split(".")[1 if value.startswith(".") else 0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return zlib.decompress(raw) if value.startswith(".") else raw


def check_loan(app, code: str):
    borrower = Visitor(app.test_client())
    return borrower.submit("/library/loan", code=code)


def test_add_list_and_show_an_item(team, coord):
    item_id = add(coord)
    add(coord, name="Big soup pot", category="kitchen", condition="worn", notes="", kept="")
    reader = team.test_client()
    catalog = reader.get("/library")
    assert catalog.status_code == 200 and "Set-Cookie" not in catalog.headers
    html = catalog.get_data(as_text=True)
    assert "Cordless drill" in html and "Big soup pot" in html and html.count("available") >= 2
    assert ' style="' not in html and "<style" not in html
    kitchen = reader.get("/library?category=kitchen").get_data(as_text=True)
    assert "Big soup pot" in kitchen and "Cordless drill" not in kitchen
    page = reader.get(f"/library/{item_id}")
    assert "Set-Cookie" not in page.headers
    text = page.get_data(as_text=True)
    assert "Two batteries." in text and "Shelf B" in text and 'class="ticket library-label"' in text
    assert ' style="' not in text and "<style" not in text
    assert reader.get("/library/999").status_code == 404
    assert trail_actions(team)[:2] == [("Heron", "library-add"), ("Heron", "library-add")]


def test_edit_an_item(team, coord):
    item_id = add(coord)
    form = coord.client.get(f"/library/{item_id}/edit").get_data(as_text=True)
    assert 'value="Cordless drill"' in form
    response = coord.submit(f"/library/{item_id}/edit", **{**DRILL, "condition": "needs-repair", "notes": "Chuck is loose."})
    assert response.status_code == 303
    item = library.get_item(store_of(team), item_id)
    assert item["condition"] == "needs-repair" and item["notes"] == "Chuck is loose."
    assert trail_actions(team)[0] == ("Heron", "library-edit")


def test_bad_item_values_get_a_message_and_store_nothing(team, coord, data_dir):
    item_id = add(coord)
    before = library.get_item(store_of(team), item_id)
    cases = [
        ({"name": "x" * 61}, "name", "at most 60"),
        ({"name": "   "}, "name", "name"),
        ({"name": "Drill\u202e"}, "name", "invisible"),
        ({"category": "weapons"}, "category", "Choose one of the options"),
        ({"category": ""}, "category", "Choose a category"),
        ({"condition": "broken"}, "condition", "Choose one of the options"),
        ({"condition": ""}, "condition", "condition"),
        ({"notes": "n" * 301}, "notes", "at most 300"),
        ({"kept": "k" * 61}, "kept", "at most 60"),
        ({"kept": "line\nbreak"}, "kept", "one line"),
    ]
    for url in ("/library/new", f"/library/{item_id}/edit"):
        for fields, field, message in cases:
            snapshot = all_bytes(data_dir / "live.json") if (data_dir / "live.json").exists() else None
            response = coord.submit(url, **{**DRILL, **fields})
            html = response.get_data(as_text=True)
            assert response.status_code == 422, (url, fields)
            error = re.search(rf'<p class="error" id="{field}-error">([^<]+)</p>', html)
            assert error and message.lower() in error.group(1).lower(), (url, fields, html[:0])
            assert len(library.catalog(store_of(team))) == 1
            assert library.get_item(store_of(team), item_id) == before
            if snapshot is not None:
                assert all_bytes(data_dir / "live.json") == snapshot
    assert [a for _, a in trail_actions(team)].count("library-add") == 1
    assert "library-edit" not in [a for _, a in trail_actions(team)]


def test_lend_shows_the_code_once_and_stores_only_its_hash(team, coord, data_dir):
    item_id = add(coord)
    form = coord.client.get(f"/library/{item_id}/lend").get_data(as_text=True)
    default_due = (today() + dt.timedelta(days=14)).isoformat()
    assert f'value="{default_due}"' in form
    code = lend_and_read_code(coord, item_id)
    loan_id, words = code.split("-", 1)
    assert len(words.split("-")) == 4
    # Shown once: reloading the ticket shows no code.
    again = coord.client.get(f"/library/{item_id}/lent").get_data(as_text=True)
    assert claim_code(again) is None and words not in again
    # The data files hold the due date and a hash, never the code.
    raw = all_bytes(data_dir)
    assert words.encode() not in raw and code.encode() not in raw
    # Each word alone is not stored as a value either (a word may also be a
    # key's name, such as "salt", so keys are not compared).
    values = stored_strings(data_dir)
    for word in words.split("-"):
        assert word not in values
    loans = store_of(team).records(library.LOANS)
    assert len(loans) == 1
    assert set(loans[0]) == {"_id", "id", "item", "claim", "lent", "due", "returned"}
    assert loans[0]["due"] == default_due and loans[0]["claim"]["alg"] == "scrypt"
    # The catalog shows when it is due; the audit trail has the loan.
    catalog = team.test_client().get("/library").get_data(as_text=True)
    assert "lent, due" in catalog
    assert trail_actions(team)[0] == ("Heron", "lend")
    # The session cookie carries no code either.
    assert words.encode() not in session_bytes(coord.client)
    # A lent item cannot be lent again.
    response, _ = lend(coord, item_id)
    assert response.status_code == 422 and "already lent" in response.get_data(as_text=True)
    assert len(store_of(team).records(library.LOANS)) == 1


def test_a_double_tap_on_lend_makes_one_loan(team, coord):
    item_id = add(coord)
    first, data = lend(coord, item_id)
    second = coord.client.post(f"/library/{item_id}/lend", data=data)
    assert first.status_code == second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    assert claim_code(coord.client.get(first.headers["Location"]).get_data(as_text=True))
    assert len(store_of(team).records(library.LOANS)) == 1


def test_bad_due_dates_store_nothing(team, coord):
    item_id = add(coord)
    for due, message in [
        ((today() + dt.timedelta(days=91)).isoformat(), "90 days"),
        ((today() - dt.timedelta(days=1)).isoformat(), "90 days"),
        ("next week", "year-month-day"),
        ("2025-02-30", "year-month-day"),
        ("", "year-month-day"),
    ]:
        response, _ = lend(coord, item_id, due)
        assert response.status_code == 422, due
        error = re.search(r'<p class="error" id="due-error">([^<]+)</p>', response.get_data(as_text=True))
        assert error and message in error.group(1), due
        assert store_of(team).records(library.LOANS) == []
    assert "lend" not in [a for _, a in trail_actions(team)]
    lend_and_read_code(coord, item_id, (today() + dt.timedelta(days=90)).isoformat())


def test_borrower_checks_the_loan_by_code_and_return_ends_it(team, coord):
    item_id = add(coord)
    due = (today() + dt.timedelta(days=7)).isoformat()
    code = lend_and_read_code(coord, item_id, due)
    found = check_loan(team, code)
    html = found.get_data(as_text=True)
    assert found.status_code == 200 and "Cordless drill" in html and "Due back on" in html
    assert found.headers["Cache-Control"] == "no-store"
    # Forgiving of case and separators, as a ticket typed by hand.
    assert "Cordless drill" in check_loan(team, code.upper().replace("-", " ")).get_data(as_text=True)
    loan_id = code.split("-", 1)[0]
    generic = "That code does not match a loan."
    for wrong in (f"{loan_id}-acorn-bloom-civic-dwarf", "ZZZZZ-acorn-bloom-civic-dwarf", "nonsense", ""):
        response = check_loan(team, wrong)
        assert response.status_code == 403 and generic in response.get_data(as_text=True)
        assert "Cordless drill" not in response.get_data(as_text=True)

    # Return: a confirmation step first.
    confirm = coord.client.get(f"/library/{item_id}/return")
    assert confirm.status_code == 200 and 'name="confirm" value="yes"' in confirm.get_data(as_text=True)
    unconfirmed = coord.submit(f"/library/{item_id}/return")
    assert unconfirmed.status_code == 422
    assert library.item_view(store_of(team), item_id)["loan"] is not None
    done = coord.submit(f"/library/{item_id}/return", confirm="yes")
    assert done.status_code == 303
    assert library.item_view(store_of(team), item_id)["loan"] is None
    assert "available" in team.test_client().get(f"/library/{item_id}").get_data(as_text=True)
    assert trail_actions(team)[0] == ("Heron", "return")
    # The hash is gone with the return, so the old code opens nothing.
    assert store_of(team).records(library.LOANS)[0]["claim"] is None
    assert check_loan(team, code).status_code == 403
    # Lending again works and gives a new code.
    assert lend_and_read_code(coord, item_id) != code


def test_overdue_loans_for_the_queue(team, coord):
    drill = add(coord)
    pot = add(coord, name="Big soup pot", category="kitchen")
    ladder = add(coord, name="Ladder")
    lend_and_read_code(coord, drill, (today() + dt.timedelta(days=3)).isoformat())
    lend_and_read_code(coord, pot, (today() + dt.timedelta(days=10)).isoformat())
    lend_and_read_code(coord, ladder, (today() + dt.timedelta(days=1)).isoformat())
    store = store_of(team)
    now = dt.datetime.now(dt.timezone.utc)
    assert library.overdue(store, now) == []
    assert library.overdue(store, now + dt.timedelta(days=3)) == [
        {"item": ladder, "name": "Ladder", "due": (today() + dt.timedelta(days=1)).isoformat(), "loan": library.active_loans(store)[ladder]["id"]}
    ]
    assert coord.submit(f"/library/{ladder}/return", confirm="yes").status_code == 303
    late = library.overdue(store, now + dt.timedelta(days=30))
    assert [(e["name"], e["item"]) for e in late] == [("Cordless drill", drill), ("Big soup pot", pot)]


def test_non_coordinators_are_refused(team, coord, data_dir):
    item_id = add(coord)
    before = all_bytes(data_dir / "live.json")
    stranger = team.test_client()
    token = csrf_token(stranger, "/library/loan")
    fields = {"csrf_token": token, **DRILL, "name": "Stolen", "due": today().isoformat(), "confirm": "yes"}
    for url in ("/library/new", f"/library/{item_id}/edit", f"/library/{item_id}/lend",
                f"/library/{item_id}/lent", f"/library/{item_id}/return"):
        for method in ("GET", "POST"):
            response = stranger.open(url, method=method, data=fields)
            if method == "POST" and url.endswith("/lent"):
                assert response.status_code == 405
                continue
            assert response.status_code == 303 and response.headers["Location"] == "/coordinate", (method, url)
    assert all_bytes(data_dir / "live.json") == before
    assert store_of(team).records(library.LOANS) == []
    # The public pages offer no coordinator buttons to strangers.
    assert "/library/new" not in stranger.get("/library").get_data(as_text=True)
    assert f"/library/{item_id}/lend" not in stranger.get(f"/library/{item_id}").get_data(as_text=True)
    # A locked coordinator is a stranger again.
    assert coord.submit("/coordinate/lock", form_url="/coordinate").status_code == 303
    assert coord.client.get("/library/new").headers["Location"] == "/coordinate"


def test_the_qr_label_decodes_to_the_public_url(team, coord, tmp_path):
    item_id = add(coord)
    # The touchscreen talks to localhost; the label must point at the public name.
    page = team.test_client().get(f"/library/{item_id}", base_url="http://localhost:8080").get_data(as_text=True)
    label = page.split('class="ticket library-label"', 1)[1]
    svg = re.search(r"<svg\b.*?</svg>", label, re.S).group(0)
    assert decode_svg(svg.encode(), tmp_path) == f"{PUBLIC_URL}/library/{item_id}"
    assert f"{PUBLIC_URL}/library/{item_id}" in label


def test_audit_labels_are_coordinator_actions(team, coord):
    item_id = add(coord)
    lend_and_read_code(coord, item_id)
    coord.submit(f"/library/{item_id}/return", confirm="yes")
    entries = coordinators.trail(store_of(team))
    assert [e["action"] for e in entries[:3]] == ["return", "lend", "library-add"]
    assert all(e["target"] == f"item {item_id}" for e in entries[:3])


def test_retiring_an_item_asks_first_and_refuses_while_lent(team, coord):  # noqa: F811
    item_id = add(coord, name="Old ladder")
    lend_and_read_code(coord, item_id)
    coord.submit(f"/library/{item_id}/retire", form_url=f"/library/{item_id}/retire", confirm="yes")
    assert "Old ladder" in coord.client.get("/library").get_data(as_text=True)  # still lent: refused
    coord.submit(f"/library/{item_id}/return", form_url=f"/library/{item_id}/return", confirm="yes")
    asked = coord.client.get(f"/library/{item_id}/retire").get_data(as_text=True)
    assert "Retire this item?" in asked
    assert coord.submit(f"/library/{item_id}/retire", confirm="yes").status_code == 303
    assert "Old ladder" not in team.test_client().get("/library").get_data(as_text=True)
    assert ("Heron", "library-retire") in trail_actions(team)
