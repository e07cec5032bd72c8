"""Issue 18: the records kiosks share, carried here by copying folders as Syncthing or a stick
would (the real Syncthing runs in test_network_sync.py): a post at one kiosk on every board,
replies sealed on the way, tickets working at every kiosk, hides from the home, bad records
set aside, any order and any number of times."""

from __future__ import annotations

import json
import shutil

import pytest

from kiosk.core.store import Store
from kiosk.network import inbox

from conftest import Visitor, add_coordinator, unlock_coordinator
from network_kiosks import Kiosk, mirror, reply_at, started

NAMES = {"a": "Library", "b": "Church hall", "c": "School"}


@pytest.fixture
def kiosks(tmp_path):
    with started(tmp_path, NAMES) as made:
        yield made["a"], made["b"], made["c"]


def snapshot(kiosk: Kiosk) -> list:
    return sorted(json.dumps(p, sort_keys=True) for p in kiosk.store.live_posts())


def mesh(*kiosks: Kiosk) -> None:
    for kiosk in kiosks:
        kiosk.receive(*(k for k in kiosks if k is not kiosk))


def test_a_post_reply_fulfilment_and_hide_travel_between_three_kiosks(kiosks):
    a, b, c = kiosks
    post_id, code = a.visitor().create("request", title="Soup for the Tuesday supper", category="food")
    mesh(a, b, c)
    for other in (b, c):
        board = other.board()
        assert "Soup for the Tuesday supper" in board and "Library" in board
        # The printed number opens it at every kiosk (its QR code says /p/<number>).
        assert "Soup for the Tuesday supper" in other.app.test_client().get(f"/p/{post_id}").get_data(as_text=True)

    # A neighbor at the school answers; the poster reads it at the library, nobody else can.
    reply_id, reply_code = reply_at(c.visitor(), post_id, "I can cook lentil soup for twelve")
    mesh(a, b, c)
    for kiosk in (a, b, c):
        assert b"lentil soup" not in kiosk.folder_text()
    poster = a.visitor()
    poster.unlock(code)
    assert "I can cook lentil soup for twelve" in poster.client.get("/mine").get_data(as_text=True)

    # The poster accepts at the library and marks it fulfilled at the church hall, with the ticket.
    assert poster.submit(f"/mine/replies/{reply_id}/accept", form_url="/mine").status_code == 303
    mesh(a, b, c)
    at_b = b.visitor()
    at_b.unlock(code)
    assert at_b.submit("/mine/fulfil", form_url="/mine/fulfil").status_code in (302, 303)
    mesh(a, b, c)
    for kiosk in (a, b, c):
        assert kiosk.post_of(a, post_id)["status"] == "fulfilled", kiosk.svc.app_name if hasattr(kiosk.svc, "app_name") else kiosk
        assert "Soup for the Tuesday supper" not in kiosk.board()


def test_a_hide_by_the_home_hides_everywhere_and_a_local_hide_stays_local(kiosks):
    a, b, c = kiosks
    add_coordinator(a.app)
    add_coordinator(b.app)
    home_post, _ = a.visitor().create("request", title="Questions about the pram")
    other_post, _ = a.visitor().create("offer", title="Spare winter coats", category="tools-and-items")
    mesh(a, b, c)
    coordinator = a.app.test_client()
    unlock_coordinator(coordinator)
    hidden = Visitor(coordinator).submit(f"/coordinate/posts/{home_post}/hide", form_url="/coordinate",
                                         reason="A phone number")
    assert hidden.status_code in (302, 303), hidden.get_data(as_text=True)[:500]
    local = b.app.test_client()
    unlock_coordinator(local)
    Visitor(local).submit(f"/coordinate/posts/{other_post}/hide", form_url="/coordinate", reason="Not here")
    mesh(a, b, c)
    for kiosk in (a, b, c):
        assert "about the pram" not in kiosk.board()
    assert "Spare winter coats" not in b.board()
    assert "Spare winter coats" in a.board() and "Spare winter coats" in c.board()
    trail = b.app.test_client()
    unlock_coordinator(trail)
    log = trail.get("/coordinate/log").get_data(as_text=True)
    assert "Library" in log  # the home's hide, named by its kiosk


def test_records_apply_in_any_order_and_only_once(kiosks, tmp_path):
    a, b, c = kiosks
    post_id, code = a.visitor().create("offer", title="A ladder to lend", category="tools-and-items")
    mesh(a, b, c)
    reply_id, reply_code = reply_at(b.visitor(), post_id, "Could I borrow it on Saturday?")
    mesh(a, b, c)
    poster = a.visitor()
    poster.unlock(code)
    poster.submit(f"/mine/replies/{reply_id}/accept", form_url="/mine")
    poster.submit("/mine/thread", message="Come by at ten")
    # A fourth kiosk hears of the reply before the post exists there: the reply waits for it.
    d = Kiosk("Youth club", tmp_path / "d")
    try:
        first = d.receive(b)
        assert first["waiting"] >= 1 and first["applied"] == 0
        d.receive(a, b)
        post = d.post_of(a, post_id)
        assert post["status"] == "matched", (post, inbox.set_aside(d.store))
        assert len(post["replies"]) == 1 and len(post["replies"][0]["thread"]) == 1
        before = snapshot(d)
        again = d.receive(a, b)
        assert again == {"applied": 0, "waiting": 0, "set_aside": 0}
        assert snapshot(d) == before
        # The helper's ticket opens their side at the youth club, and their message reaches the poster.
        helper = d.visitor()
        helper.unlock(reply_code)
        assert "Come by at ten" in helper.client.get("/mine/thread").get_data(as_text=True)
        assert helper.submit("/mine/thread", message="See you at ten").status_code == 303
        a.receive(d)
        assert "See you at ten" in poster.client.get("/mine/thread").get_data(as_text=True)
    finally:
        d.store.close()


def test_a_record_changed_by_hand_is_set_aside_and_shown(kiosks):
    a, b, c = kiosks
    a.visitor().create("request", title="Help moving a sofa", category="home-repairs")
    b.receive(a)
    a.visitor().create("request", title="Winter tyres fitted", category="transportation")
    mirror(a.outbox, b.peer_folder(a))
    segment = next((b.peer_folder(a) / "records").glob("*.jsonl"))
    segment.write_bytes(segment.read_bytes().replace(b"Winter tyres fitted", b"Winter tyres for free"))
    counts = inbox.apply_all(b.store, b.svc.registry)
    assert counts["set_aside"] == 1 and counts["applied"] == 0
    assert "Winter tyres" not in b.board() and "Help moving a sofa" in b.board()
    refused = inbox.set_aside(b.store)
    assert refused[0]["name"] == "Library" and "signature" in refused[0]["why"]
    assert inbox.apply_all(b.store, b.svc.registry)["set_aside"] == 0  # told once, not at every pass


def test_half_a_record_waits_until_it_is_whole(kiosks):
    a, b, c = kiosks
    a.visitor().create("request", title="Someone to read letters with", category="translation")
    segment = next((a.outbox / "records").glob("*.jsonl"))
    whole = segment.read_bytes()
    target = b.peer_folder(a)
    mirror(a.outbox, target)
    cut = next(target.rglob("*.jsonl"))
    for size in (1, len(whole) // 2, len(whole) - 1):
        cut.write_bytes(whole[:size])
        assert inbox.apply_all(b.store, b.svc.registry) == {"applied": 0, "waiting": 0, "set_aside": 0}
    cut.write_bytes(whole)
    assert inbox.apply_all(b.store, b.svc.registry)["applied"] == 1
    assert "Someone to read letters with" in b.board()


def test_a_kiosk_cannot_change_another_kiosks_post_without_its_ticket(kiosks):
    from kiosk.board import lifecycle

    a, b, c = kiosks
    post_id, code = a.visitor().create("request", title="Bread on Fridays", category="food")
    b.receive(a)
    # The church hall's kiosk withdraws the library's post with no ticket (a bug, or a kiosk misused).
    local = inbox._find(b.store, [a.store.kiosk_id, post_id])
    lifecycle.close(b.store, local, "withdrawn")
    counts = a.receive(b)
    assert counts["set_aside"] == 1
    assert a.store.get_post(post_id)["status"] == "open"
    assert "without its ticket" in inbox.set_aside(a.store)[0]["why"]


def test_erased_text_leaves_the_records_too(kiosks):
    import datetime as dt

    from kiosk.board import lifecycle
    from kiosk.core.times import utcnow

    a, b, c = kiosks
    post_id, code = a.visitor().create("request", title="Pram for a newborn", category="tools-and-items")
    poster = a.visitor()
    poster.unlock(code)
    poster.submit("/mine/withdraw", form_url="/mine/withdraw")
    b.receive(a)
    assert b"Pram for a newborn" in b"".join(p.read_bytes() for p in b.peer_folder(a).rglob("*.jsonl"))
    # A year on, the library's upkeep erases the post's text (promise 7) and starts its records afresh.
    later = utcnow() + dt.timedelta(days=400)
    lifecycle.upkeep(a.store, later, {"EXPIRE_DAYS": 14, "RETAIN_DAYS": 90}.get, 24)
    b.receive(a)
    assert b"Pram for a newborn" not in b"".join(p.read_bytes() for p in a.outbox.rglob("*.jsonl"))
    assert b"Pram for a newborn" not in b"".join(p.read_bytes() for p in b.peer_folder(a).rglob("*.jsonl"))
    assert b.post_of(a, post_id)["erased"]


def test_a_kiosk_with_a_new_key_is_refused_until_a_coordinator_accepts_it(kiosks, tmp_path):
    a, b, c = kiosks
    a.visitor().create("request", title="Help with a tax form", category="translation")
    b.receive(a)
    # The library's card is replaced: same kiosk (restored from its backup), a new signing key.
    a.store.close()
    shutil.rmtree(a.data / "network")
    a2 = Kiosk("Library", a.data)
    try:
        a2.visitor().create("request", title="Bicycle pump", category="tools-and-items")
        counts = b.receive(a2)
        assert counts["applied"] == 0 and "Bicycle pump" not in b.board()
        add_coordinator(b.app)
        coordinator = b.app.test_client()
        unlock_coordinator(coordinator)
        page = coordinator.get("/coordinate/network").get_data(as_text=True)
        assert "another key than before" in page
        shown = Visitor(coordinator).submit("/coordinate/network/accept-key", form_url="/coordinate/network",
                                            kiosk=a2.store.kiosk_id)
        assert shown.status_code == 303
        b.receive(a2)
        assert "Bicycle pump" in b.board() and "Help with a tax form" in b.board()
    finally:
        a2.store.close()
        a.store = Store(a.data, schema=a.svc.registry.schema)  # for the fixture's closing checks


def test_set_aside_records_are_shown_to_coordinators_in_their_language(kiosks):
    a, b, c = kiosks
    a.visitor().create("request", title="Wool for knitting", category="other")
    mirror(a.outbox, b.peer_folder(a))
    segment = next((b.peer_folder(a) / "records").glob("*.jsonl"))
    segment.write_bytes(segment.read_bytes().replace(b"Wool", b"Gold"))
    b.receive()
    add_coordinator(b.app)
    coordinator = b.app.test_client()
    unlock_coordinator(coordinator)
    page = coordinator.get("/coordinate/network").get_data(as_text=True)
    assert "Library" in page and "changed after its kiosk wrote it" in page
    Visitor(coordinator).submit("/lang", form_url="/coordinate/network", lang="es", next="/coordinate/network")
    page = coordinator.get("/coordinate/network").get_data(as_text=True)
    assert "changed after its kiosk wrote it" not in page


def test_plain_private_words_and_old_scrypt_outputs_never_travel(kiosks):
    """A record with a reply's words in plain is refused (promise 8), and an old claim's scrypt
    output (which gives the ticket's key) is never written into a record."""
    from kiosk.board import travel

    a, b, c = kiosks
    post_id, code = a.visitor().create("request", title="Lift to the market", category="transportation")
    mesh(a, b, c)
    reply_at(c.visitor(), post_id, "I go on Saturdays")
    post = a.store.get_post(post_id)
    legacy = {**post, "claim": {**post["claim"], "hash": "ab" * 32}}
    assert "hash" not in json.dumps(travel.shareable(legacy))
    # A kiosk misusing its outbox: a reply whose words are in plain.
    local = c.post_of(a, post_id)
    reply = {**travel.shareable(local)["replies"][0], "message": "call 0612345678", "home_id": "QQQQQ", "id": "QQQQQ"}
    c.store.changes.add("reply", [a.store.kiosk_id, post_id], reply, actor="replier", reply=[c.store.kiosk_id, "QQQQQ"])
    counts = b.receive(c)
    assert counts["set_aside"] == 1
    stored = b"".join(p.read_bytes() for p in b.data.rglob("*") if p.is_file() and "network" not in p.parts)
    assert b"0612345678" not in stored
    assert "not sealed" in inbox.set_aside(b.store)[0]["why"]


def test_only_the_home_expires_a_post_and_a_silent_homes_posts_go_away_later(kiosks):
    import datetime as dt

    from kiosk.board import lifecycle
    from kiosk.core.times import utcnow

    a, b, c = kiosks
    post_id, _ = a.visitor().create("request", title="Seedlings for the garden", category="other")
    b.receive(a)
    local = inbox._find(b.store, [a.store.kiosk_id, post_id])
    # Past the expiry: the church hall leaves the library's post to the library...
    assert lifecycle.expire_due(b.store, utcnow() + dt.timedelta(days=20), 14) == 0
    assert b.store.get_post(local)["status"] == "open"
    # ...which expires it and tells the others.
    assert lifecycle.expire_due(a.store, utcnow() + dt.timedelta(days=20), 14) == 1
    c.receive(a)
    assert c.post_of(a, post_id)["status"] == "expired"
    # A library that never speaks again: its post is put away at the church hall a month later,
    # without a word to the others (only a home speaks for its posts).
    assert lifecycle.expire_due(b.store, utcnow() + dt.timedelta(days=50), 14) == 1
    assert b.store.get_post(local)["status"] == "expired"
    assert c.receive(b)["set_aside"] == 0
