"""Issue 18 under attack: what a hostile or broken peer kiosk can put in the folders it sends
or relays (any bytes, records signed with its own key), and what the kiosk must still do:
never let it change this kiosk's posts, set aside what it cannot apply without stopping the
others, and never store what its own next start would refuse."""

from __future__ import annotations

import os

from kiosk.core import codes
from kiosk.core.changelog import ChangeLog
from kiosk.core.store import Store
from kiosk.network import inbox

from network_kiosks import mirror, started
from test_network_records import kiosks  # noqa: F401  (the fixture)


def crafted(tmp_path, kiosk_id: str, name: str = "Mallory") -> ChangeLog:
    """A peer's outbox with its own key, made to say whatever the test wants."""
    return ChangeLog(tmp_path / f"crafted-{kiosk_id}", kiosk_id, name)


def test_a_folder_claiming_to_be_this_kiosk_changes_none_of_its_posts(kiosks, tmp_path):
    a, b, c = kiosks
    post_id, _ = b.visitor().create("request", title="Soup on Sundays", category="food")
    before = b.store.get_post(post_id)
    # A paired kiosk offers a folder whose kiosk.json names the church hall itself, signed
    # with the peer's own key: as the "home", it would hide and withdraw the hall's posts.
    fake = crafted(tmp_path, b.store.kiosk_id)
    home = [b.store.kiosk_id, post_id]
    fake.add("hide", home, {"hidden": {"at": "2026-01-01T00:00:00Z", "reason": "spam", "by": "x"}})
    fake.add("state", home, {"status": "withdrawn", "closed": "2026-01-01T00:00:00Z", "matched": None,
                             "created": before["created"], "updated": before["updated"], "matched_reply": None,
                             "replies": {}}, actor="kiosk")
    mirror(fake.folder, b.data / "network" / "peers" / codes.new_kiosk_id())
    inbox.apply_all(b.store, b.svc.registry)
    inbox.apply_all(b.store, b.svc.registry)
    assert b.store.get_post(post_id) == before
    assert "Soup on Sundays" in b.board()
    refused = inbox.set_aside(b.store)
    assert len(refused) == 1 and "claims to be this kiosk" in refused[0]["why"]  # said once, not every pass
    assert b.store.kiosk_id not in (b.store.get_meta(inbox.INBOX) or {})


def test_a_record_no_rule_foresaw_is_set_aside_and_the_others_still_apply(kiosks, tmp_path):
    """A poison record (deep JSON, a body of the wrong shape) must be set aside once, never
    stop the pass: before, it raised out of apply_all at every pass, and no folder after it
    (nor any record after it in its folder) was ever applied again."""
    a, b, c = kiosks
    odd = "2222222222"  # sorts before the library's folder
    fake = crafted(tmp_path, odd)
    fake.add("post", [odd, "22222"], {"home": odd, "home_id": "22222", "id": "22222", "replies": [1]})
    fake.add("post", [odd, "22223"], {"home": odd, "home_id": "22223", "id": "22223", "replies": [{"home": odd}]})
    fake.add("post", [odd, "22224"], {"home": odd, "home_id": "22224", "id": "22224", "title": 5})
    segment = next((fake.folder / "records").glob("*.jsonl"))
    with open(segment, "ab") as fh:
        fh.write(b"[" * 5000 + b"]" * 5000 + b"\n")
    mirror(fake.folder, b.data / "network" / "peers" / odd)
    a.visitor().create("request", title="Firewood for the winter", category="other")
    counts = b.receive(a)
    assert counts["applied"] == 1 and counts["set_aside"] == 4, (counts, inbox.set_aside(b.store))
    assert "Firewood for the winter" in b.board()
    assert b.receive(a) == {"applied": 0, "waiting": 0, "set_aside": 0}  # set aside once, not retried


def reopened(kiosk) -> None:
    """The kiosk's next start: every setting checked against its schema, as `kiosk serve` does."""
    Store(kiosk.data, read_only=True, schema=kiosk.svc.registry.schema, check_all=True).close()


def test_a_flood_of_kiosk_folders_never_stops_the_next_start(kiosks, tmp_path):
    """A relaying kiosk offers folders for 70 kiosks (each a Syncthing folder kiosk-<id>):
    the settings keep 64, and the 65th made live.json fail its own check at the next start
    (DataDamaged: the kiosk would not start again)."""
    a, b, c = kiosks
    for _ in range(70):
        kiosk_id = codes.new_kiosk_id()
        mirror(crafted(tmp_path, kiosk_id).folder, b.data / "network" / "peers" / kiosk_id)
    a.visitor().create("request", title="Chairs for the hall", category="other")
    assert b.receive(a)["applied"] == 1
    assert "Chairs for the hall" in b.board()
    reopened(b)


def test_file_times_and_sizes_a_peer_chooses_never_stop_the_next_start(kiosks, tmp_path):
    """Syncthing keeps the times a peer gives its files: one before 1970 was stored as a
    negative number that the settings' own check refuses at the next start. A file larger
    than any kiosk writes is not read into memory."""
    from kiosk.network.folders import MAX_SEGMENT

    a, b, c = kiosks
    a.visitor().create("request", title="Seeds to share", category="other")
    mirror(a.outbox, b.peer_folder(a))
    segment = next((b.peer_folder(a) / "records").glob("*.jsonl"))
    os.utime(segment, ns=(-10**18, -10**18))
    huge = segment.with_name(segment.name[:9] + "999999.jsonl")
    with open(huge, "wb") as fh:
        fh.truncate(MAX_SEGMENT + 1)  # sparse: no disk used
    counts = inbox.apply_all(b.store, b.svc.registry)
    assert counts["applied"] == 1 and counts["set_aside"] == 1, inbox.set_aside(b.store)
    assert "larger than any kiosk writes" in inbox.set_aside(b.store)[0]["why"]
    assert inbox.apply_all(b.store, b.svc.registry) == {"applied": 0, "waiting": 0, "set_aside": 0}
    reopened(b)


def test_a_kiosk_that_skips_numbers_never_grows_what_the_inbox_keeps_past_its_schema(kiosks, tmp_path):
    """Every other number of an epoch left out: the numbers done after the gap were kept
    without end (the settings' check allows 100,000, then refuses the next start)."""
    a, b, c = kiosks
    odd = codes.new_kiosk_id()
    fake = crafted(tmp_path, odd)
    count = inbox.MAX_EXTRA + 50
    # Each refused (a post it says was made elsewhere): set aside, and marked done.
    fake.add_many([("post", [odd, "22222"], {"home": a.store.kiosk_id}, {}) for _ in range(2 * count)])
    path = next((fake.folder / "records").glob("*.jsonl"))
    lines = b"".join(p.read_bytes() for p in sorted((fake.folder / "records").glob("*.jsonl"))).splitlines(True)
    for old in (fake.folder / "records").glob("*.jsonl"):
        old.unlink()
    path.write_bytes(b"".join(lines[1::2]))  # numbers 2, 4, 6, ...: 1 never comes
    mirror(fake.folder, b.data / "network" / "peers" / odd)
    inbox.apply_all(b.store, b.svc.registry)
    done = b.store.get_meta(inbox.INBOX)[odd]["epochs"][fake.epoch]
    assert done["upto"] == 0 and len(done["extra"]) <= inbox.MAX_EXTRA


def test_a_replier_kiosk_cannot_accept_its_own_reply_nor_speak_for_the_poster(kiosks):
    """A reply record is its kiosk's own, but the poster's side of it is not: its answer
    ("accepted") and its messages travel only signed by the poster's ticket."""
    from kiosk.board import travel

    from test_network_records import reply_at

    a, b, c = kiosks
    post_id, _ = a.visitor().create("request", title="Help with a wheelchair ramp", category="home-repairs")
    c.receive(a)
    reply_at(c.visitor(), post_id, "I have planks and a saw")
    local = c.post_of(a, post_id)
    real = local["replies"][0]
    # The school's kiosk sends its reply again, now "accepted" and with a message "from the poster".
    forged = {"id": 1, "author": "poster", "created": "2026-12-01T10:00:00Z", "text": "", "sealed": real["sealed"]}
    body = {**travel._shareable_reply(c.store.kiosk_id, real), "status": "accepted", "thread": [forged]}
    c.store.changes.add("reply", travel.key_of(local), body, actor="replier", reply=travel._reply_key(local, real))
    a.receive(c)
    replies = a.store.get_post(post_id).get("replies") or []
    assert len(replies) == 1, inbox.set_aside(a.store)
    assert replies[0]["status"] == "new" and not replies[0].get("thread"), replies


def test_other_kiosks_cannot_fill_the_board_that_visitors_here_post_on(tmp_path, monkeypatch):
    """A peer with no write budget could post until the board holds all it can: the last
    ROOM_FOR_OWN open posts are kept for this kiosk's visitors."""
    monkeypatch.setattr(inbox, "MAX_LIVE_POSTS", 3)
    monkeypatch.setattr(inbox, "ROOM_FOR_OWN", 1)
    with started(tmp_path, {"a": "Library", "b": "Church hall"}) as made:
        a, b = made["a"], made["b"]
        for title in ("Soup", "Bread", "Rice"):
            a.visitor().create("request", title=title, category="food")
        counts = b.receive(a)
        assert counts["applied"] == 2 and counts["set_aside"] == 1
        assert "nearly full" in inbox.set_aside(b.store)[0]["why"]
        b.visitor().create("request", title="Made here", category="food")  # a visitor here still posts
        assert "Made here" in b.board()


def test_a_kiosk_with_a_new_key_sends_nothing_signed_with_the_old_one(tmp_path):
    """A new card (or a restore bringing another identity) rewrites kiosk.json: the records left
    in the outbox are not this kiosk's to send any more, and its posts are sent afresh."""
    import json as _json

    from kiosk.core.changelog import verify
    from network_kiosks import Kiosk

    with started(tmp_path, {"a": "Library"}) as made:
        a = made["a"]
        a.visitor().create("request", title="Jam jars", category="food")
        a.store.close()
        (a.data / "network" / "key").unlink()
        again = Kiosk("Library", a.data)
        try:
            key = _json.loads((again.outbox / "kiosk.json").read_text())["key"]
            lines = [_json.loads(line) for p in (again.outbox / "records").glob("*.jsonl") for line in p.read_text().splitlines()]
            assert lines and all(verify(line, key) for line in lines)
            assert any(line["body"].get("title") == "Jam jars" for line in lines)  # sent afresh
        finally:
            again.store.close()
            a.store = Store(a.data, schema=a.svc.registry.schema)


def test_a_post_carrying_a_copy_of_another_posts_ticket_is_refused(kiosks):
    """A peer publishing its own post under the same number with a copy of another post's ticket
    check: the ticket's code would try it too, and might open the copy instead of the real post."""
    from kiosk.board import travel

    a, b, c = kiosks
    post_id, code = a.visitor().create("request", title="The real post", category="food")
    b.receive(a)
    real = b.post_of(a, post_id)
    fake = {**travel.shareable(real), "home": c.store.kiosk_id, "title": "A copy that wants the ticket"}
    c.store.changes.add("post", [c.store.kiosk_id, fake["home_id"]], fake)
    counts = b.receive(c)
    assert counts["set_aside"] == 1 and "A copy that wants the ticket" not in b.board()
    assert "copied" in inbox.set_aside(b.store)[0]["why"]
    poster = b.visitor()
    poster.unlock(code)
    assert "The real post" in poster.client.get("/mine").get_data(as_text=True)
