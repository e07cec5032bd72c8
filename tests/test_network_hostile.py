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

from test_network_records import kiosks, mirror  # noqa: F401  (the fixture)


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
