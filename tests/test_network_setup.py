"""Issue 18, Syncthing's side: the kiosk makes this machine's Syncthing safe and its own, the
coordinators pair kiosks on /coordinate/network, `kiosk doctor` reports on the network. Against
real Syncthing 1.19 processes on loopback (tests/syncthing_helpers.py); the two-kiosk test is slow."""

from __future__ import annotations

import re

import pytest

from kiosk import create_app
from kiosk.core.store import Store
from kiosk.network import loop, peers, setup
from kiosk.network.syncthing import SyncthingError, device_id_of_home, normalize_device_id
from kiosk.web import audit

from conftest import TEST_SCRYPT_N, Visitor, add_coordinator, unlock_coordinator
from syncthing_helpers import free_port, needs_syncthing, syncthing_factory, wait_for  # noqa: F401
from test_qr import decode_svg

OTHER_ID = "SGJF64Z-C6LW65X-GT7QWWP-GS6SPFR-6L4IA6H-PYUSMNG-TXVQP4E-2M5L6QI"  # a real device's id
THIRD_ID = "LYXKCHX-VI3NYZR-ALCJBHF-WMZYSPK-QG6QJA3-MPFYMSO-U56GTUK-NA2MIAW"
QR = re.compile(r"<svg class=\"qr\".*?</svg>", re.S)


def coordinator(app) -> Visitor:
    add_coordinator(app)
    client = app.test_client()
    assert unlock_coordinator(client).status_code == 303
    return Visitor(client)


def pair_on_page(coord: Visitor, device: str, name: str, address: str = ""):
    return coord.submit("/coordinate/network/add", form_url="/coordinate/network", device=device, name=name,
                        address=address)


def stored_peers(app) -> list[dict]:
    return peers.peers(app.extensions["kiosk"].store)


# -- without Syncthing -----------------------------------------------------------------------------


@pytest.fixture
def no_syncthing(make_app):
    """An app whose Syncthing is not running (nothing listens on its port)."""
    return make_app(SYNCTHING_URL=f"http://127.0.0.1:{free_port()}", SYNCTHING_APIKEY="not-used")


def test_without_syncthing_the_page_says_so_and_how_to_start_it(no_syncthing):
    coord = coordinator(no_syncthing)
    page = coord.client.get("/coordinate/network")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Syncthing is not running on this kiosk" in html and "sudo systemctl start kiosk-syncthing" in html
    assert no_syncthing.extensions["kiosk"].store.kiosk_id in html  # still shows what it can
    assert 'name="device"' in html


def test_pairing_while_syncthing_is_down_is_stored_for_later(no_syncthing):
    coord = coordinator(no_syncthing)
    done = pair_on_page(coord, OTHER_ID.lower().replace("-", " "), "Elm Street")
    assert done.status_code == 303
    follow = coord.client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Syncthing will be told when it runs again" in follow
    assert [(p["device"], p["name"]) for p in stored_peers(no_syncthing)] == [(OTHER_ID, "Elm Street")]


@pytest.mark.parametrize(("device", "name", "message"), [
    ("hello", "Elm", "That is not a device id"),
    (OTHER_ID[:-1] + "A", "Elm", "That is not a device id"),  # one character off: the check fails
    (OTHER_ID, "", "Give the other kiosk a name"),
    (OTHER_ID, "x" * 41, "at most 40 characters"),
])
def test_a_bad_pairing_says_what_is_wrong_and_stores_nothing(no_syncthing, device, name, message):
    coord = coordinator(no_syncthing)
    answer = pair_on_page(coord, device, name)
    assert answer.status_code == 422
    assert message in answer.get_data(as_text=True)
    assert stored_peers(no_syncthing) == []
    assert [e["action"] for e in audit.trail(no_syncthing.extensions["kiosk"].store)] == ["unlock"]


def test_a_duplicate_and_a_bad_address_are_refused(no_syncthing):
    coord = coordinator(no_syncthing)
    pair_on_page(coord, OTHER_ID, "Elm Street")
    again = pair_on_page(coord, OTHER_ID, "Elm again")
    assert again.status_code == 422 and "already paired, as Elm Street" in again.get_data(as_text=True)
    bad = pair_on_page(coord, THIRD_ID, "Oak", address="http://somewhere")
    assert bad.status_code == 422 and "Write the other kiosk&#39;s address" in bad.get_data(as_text=True)
    assert [p["name"] for p in stored_peers(no_syncthing)] == ["Elm Street"]


def test_device_ids_are_read_as_syncthing_reads_them():
    assert normalize_device_id(OTHER_ID.lower()) == OTHER_ID
    assert normalize_device_id(OTHER_ID.replace("-", "").replace("O", "0")) == OTHER_ID.replace("0", "O")
    assert normalize_device_id(OTHER_ID + "A") is None and normalize_device_id("") is None


def test_visitors_never_see_the_network_page(no_syncthing):
    answer = no_syncthing.test_client().get("/coordinate/network")
    assert answer.status_code == 303 and "/coordinate" in answer.headers["Location"]


# -- one real Syncthing --------------------------------------------------------------------------------


@needs_syncthing
def test_configuring_keeps_syncthing_to_the_network_and_makes_the_outbox(syncthing_factory, make_app, data_dir):
    st = syncthing_factory("a", safe=False)  # Syncthing's own defaults: discovery, relays, reports on
    before = st.client().options()
    assert before["globalAnnounceEnabled"] and before["relaysEnabled"] and before["natEnabled"]
    app = make_app(**st.config())
    result = loop.run_once(app)
    assert result["syncthing"] is None
    options = st.client().options()
    assert options["globalAnnounceEnabled"] is False and options["relaysEnabled"] is False
    assert options["natEnabled"] is False and options["urAccepted"] == -1
    assert options["crashReportingEnabled"] is False and options["autoUpgradeIntervalH"] == 0
    assert options["localAnnounceEnabled"] is False and options["listenAddresses"] == [st.listen]
    gui = st.client().gui()
    assert gui["insecureAdminAccess"] is False and gui["address"].startswith("127.0.0.1:")
    kiosk = app.extensions["kiosk"].store.kiosk_id
    [folder] = [f for f in st.client().folders() if f["id"] == f"kiosk-{kiosk}"]
    assert folder["type"] == "sendonly" and folder["path"] == str(data_dir.resolve() / "network" / "outbox")
    assert (data_dir / "network" / "outbox").is_dir()
    # A second pass finds nothing to change (Syncthing would save its config on an SD card).
    options_file = (st.home / "config.xml").stat().st_mtime_ns
    loop.run_once(app)
    assert (st.home / "config.xml").stat().st_mtime_ns == options_file
    # A Syncthing whose settings were changed behind the kiosk's back is repaired on the next pass.
    st.client().patch_options({"relaysEnabled": True})
    st.client().delete_folder(f"kiosk-{kiosk}")
    loop.run_once(app)
    assert st.client().options()["relaysEnabled"] is False
    assert any(f["id"] == f"kiosk-{kiosk}" for f in st.client().folders())


@needs_syncthing
def test_the_page_shows_the_device_id_and_its_qr_code(syncthing_factory, make_app, tmp_path):
    st = syncthing_factory("a")
    app = make_app(**st.config())
    coord = coordinator(app)
    html = coord.client.get("/coordinate/network").get_data(as_text=True)
    assert "Syncthing is not running" not in html
    shown = re.search(r'id="device-id"[^>]*>(.*?)</p>', html, re.S).group(1)
    assert shown.replace("<wbr>", "") == st.device_id
    assert device_id_of_home(st.home) == st.device_id  # what the page shows while Syncthing is stopped
    [svg] = QR.findall(html)
    assert decode_svg(svg.encode(), tmp_path) == st.device_id


@needs_syncthing
def test_pair_rename_and_unpair_with_a_confirmation(syncthing_factory, make_app):
    st = syncthing_factory("a")
    app = make_app(**st.config())
    coord = coordinator(app)
    own = pair_on_page(coord, st.device_id, "Myself")
    assert own.status_code == 422 and "this kiosk&#39;s own device id" in own.get_data(as_text=True)
    assert pair_on_page(coord, OTHER_ID, "Elm Street", address="10.8.0.2").status_code == 303
    devices = {d["deviceID"]: d for d in st.client().devices()}
    assert devices[OTHER_ID]["name"] == "Elm Street" and devices[OTHER_ID]["addresses"] == ["tcp://10.8.0.2:22000"]
    kiosk = app.extensions["kiosk"].store.kiosk_id
    [outbox] = [f for f in st.client().folders() if f["id"] == f"kiosk-{kiosk}"]
    assert OTHER_ID in {d["deviceID"] for d in outbox["devices"]}

    assert coord.submit("/coordinate/network/rename", form_url="/coordinate/network", device=OTHER_ID,
                        name="Elm St. Center", address="").status_code == 303
    devices = {d["deviceID"]: d for d in st.client().devices()}
    assert devices[OTHER_ID]["name"] == "Elm St. Center" and devices[OTHER_ID]["addresses"] == ["dynamic"]

    ask = coord.client.get(f"/coordinate/network/remove?device={OTHER_ID}")
    assert ask.status_code == 200 and "Yes, unpair" in ask.get_data(as_text=True)
    unconfirmed = coord.submit("/coordinate/network/remove", form_url="/coordinate/network", device=OTHER_ID)
    assert unconfirmed.status_code == 422 and OTHER_ID in {d["deviceID"] for d in st.client().devices()}
    gone = coord.submit("/coordinate/network/remove", form_url="/coordinate/network", device=OTHER_ID, confirm="yes")
    assert gone.status_code == 303 and stored_peers(app) == []
    assert OTHER_ID not in {d["deviceID"] for d in st.client().devices()}
    [outbox] = [f for f in st.client().folders() if f["id"] == f"kiosk-{kiosk}"]
    assert OTHER_ID not in {d["deviceID"] for d in outbox["devices"]}
    actions = [e["action"] for e in audit.trail(app.extensions["kiosk"].store)]
    assert actions[:3] == ["remove-peer", "rename-peer", "add-peer"]


@needs_syncthing
def test_doctor_says_whether_syncthing_answers_and_how_the_peers_are(syncthing_factory, make_app, kiosk_cli,
                                                                      monkeypatch, data_dir):
    st = syncthing_factory("a")
    app = make_app(**st.config())
    coord = coordinator(app)
    pair_on_page(coord, OTHER_ID, "Elm Street")
    for key, value in st.config().items():
        monkeypatch.setenv(f"KIOSK_{key}", str(int(value)) if isinstance(value, bool) else str(value))
    out = kiosk_cli("doctor", "--data", str(data_dir)).output
    assert f"Syncthing answers; this kiosk's device id is {st.device_id}." in out
    assert "Syncthing keeps to the network" in out
    assert "Paired kiosk Elm Street (SGJF64Z): never seen" in out
    st.stop()
    out = kiosk_cli("doctor", "--data", str(data_dir)).output
    assert "Syncthing: Syncthing is not running on this kiosk: sudo systemctl start kiosk-syncthing" in out
    assert "problem    Syncthing" in out or "problem  Syncthing" in out


# -- two kiosks ------------------------------------------------------------------------------------------


@needs_syncthing
@pytest.mark.slow
def test_a_paired_kiosks_folder_arrives_receive_only_in_peers(syncthing_factory, make_app, tmp_path):
    a, b = syncthing_factory("a"), syncthing_factory("b")
    app_a = make_app(**a.config())
    app_b = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "data-b"), "SCRYPT_N": TEST_SCRYPT_N,
                        "PUBLIC_URL": "http://aid.lan", **b.config()})
    try:
        pair_on_page(coordinator(app_a), b.device_id, "Kiosk B", address=b.listen)
        pair_on_page(coordinator(app_b), a.device_id, "Kiosk A", address=a.listen)
        kiosk_b = app_b.extensions["kiosk"].store.kiosk_id
        outbox_b = tmp_path / "data-b" / "network" / "outbox"
        (outbox_b / "records").mkdir(parents=True, exist_ok=True)
        (outbox_b / "records" / "1-000001.jsonl").write_text('{"a record": 1}\n')

        def accepted():
            loop.run_once(app_b)
            loop.run_once(app_a)
            return [f for f in a.client().folders() if f["id"] == f"kiosk-{kiosk_b}"]

        [folder] = wait_for(accepted, 60, "kiosk A to accept kiosk B's folder")
        place = app_a.extensions["kiosk"].store.data_dir / "network" / "peers" / kiosk_b
        assert folder["type"] == "receiveonly" and folder["path"] == str(place)
        arrived = place / "records" / "1-000001.jsonl"
        wait_for(lambda: arrived.is_file() and arrived.read_text() == '{"a record": 1}\n', 60, "B's record at A")
        assert setup.devices_kiosks(a.client().folders())[b.device_id] == kiosk_b
        html = coordinator_page(app_a)
        assert "Kiosk B" in html and "badge ok" in html  # connected
    finally:
        app_b.extensions["kiosk"].store.close()


def coordinator_page(app) -> str:
    client = app.test_client()
    assert unlock_coordinator(client).status_code == 303
    return client.get("/coordinate/network").get_data(as_text=True)


def test_a_folder_offered_under_another_name_or_by_a_stranger_is_ignored(tmp_path):
    """The accepting rule without Syncthing: a stand-in client records what would be written."""

    class Fake:
        url = "http://127.0.0.1:1"

        def __init__(self):
            self.put = []

        def pending_folders(self):
            return {"default": {"offeredBy": {OTHER_ID: {}}}, "kiosk-ABC": {"offeredBy": {THIRD_ID: {}}},
                    "kiosk-DEF": {"offeredBy": {OTHER_ID: {"label": THIRD_ID}}}}

        def put_folder(self, folder):
            self.put.append(folder)

    store = Store(tmp_path / "data")
    try:
        fake = Fake()
        accepted = setup._accept_offers(fake, store, {}, ["ME", OTHER_ID])
        assert accepted == ["DEF"] and [f["id"] for f in fake.put] == ["kiosk-DEF"]
        assert fake.put[0]["type"] == "receiveonly" and fake.put[0]["label"] == THIRD_ID
        mine = {f"kiosk-{store.kiosk_id}": {"offeredBy": {OTHER_ID: {}}}}
        fake.pending_folders = lambda: mine
        assert setup._accept_offers(fake, store, {}, ["ME", OTHER_ID]) == []  # this kiosk's own id: never
    finally:
        store.close()


def test_syncthing_errors_are_plain_words(no_syncthing):
    from kiosk.network.syncthing import client_from_config

    with pytest.raises(SyncthingError) as caught:
        client_from_config(no_syncthing.config).my_id()
    assert "sudo systemctl start kiosk-syncthing" in str(caught.value)


@needs_syncthing
def test_prepare_makes_a_home_safe_before_syncthings_first_start(kiosk_cli, tmp_path, monkeypatch):
    """What the kiosk-syncthing unit runs first: not even Syncthing's first minute reaches out."""
    import xml.etree.ElementTree as ET

    from kiosk.network.syncthing import read_apikey

    home = tmp_path / "st-home"
    monkeypatch.setenv("KIOSK_SYNC_LISTEN", "tcp://10.8.0.1:22000")
    out = kiosk_cli("network", "prepare", "--home", str(home), "--gui", "127.0.0.1:8385").output
    assert "is ready" in out
    options = ET.parse(home / "config.xml").getroot().find("options")
    for name, value in [("globalAnnounceEnabled", "false"), ("relaysEnabled", "false"), ("natEnabled", "false"),
                        ("urAccepted", "-1"), ("crashReportingEnabled", "false"), ("autoUpgradeIntervalH", "0")]:
        assert options.findtext(name) == value, name
    assert [e.text for e in options.findall("listenAddress")] == ["tcp://10.8.0.1:22000"]
    assert ET.parse(home / "config.xml").getroot().findtext("gui/address") == "127.0.0.1:8385"
    key = read_apikey(home)
    assert key and len(key) >= 20
    kiosk_cli("network", "prepare", "--home", str(home), "--gui", "127.0.0.1:8385")  # again: same keys
    assert read_apikey(home) == key
    refused = kiosk_cli("network", "prepare", "--home", str(home), "--gui", "0.0.0.0:8384")
    assert refused.exit_code == 1 and "this machine only" in refused.output


def test_without_an_api_key_the_message_says_what_is_missing(make_app, tmp_path):
    from kiosk.network.syncthing import NotRunning, client_from_config

    down = make_app(SYNCTHING_URL=f"http://127.0.0.1:{free_port()}", SYNCTHING_HOME=str(tmp_path / "none"))
    with pytest.raises(NotRunning):  # nothing answers: starting it is what helps
        client_from_config(down.config).my_id()


@needs_syncthing
def test_a_running_syncthing_whose_key_is_unknown_says_so(syncthing_factory, make_app):
    from kiosk.network.syncthing import NoApiKey, client_from_config

    st = syncthing_factory("a")
    app = make_app(**{**st.config(), "SYNCTHING_APIKEY": "", "SYNCTHING_HOME": ""})
    with pytest.raises(NoApiKey) as caught:
        client_from_config(app.config).my_id()
    assert "KIOSK_SYNCTHING_HOME" in str(caught.value)
    # ...and with the home, the key is read from its config.xml.
    assert client_from_config({**app.config, "SYNCTHING_HOME": str(st.home)}).my_id() == st.device_id


def test_another_program_on_syncthings_port_gets_a_plain_message(make_app):
    """Something else answering where Syncthing should (odd JSON): the page says so, no error page."""
    import http.server
    import threading

    class Odd(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'["not", "syncthing"]')

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Odd)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        app = make_app(SYNCTHING_URL=f"http://127.0.0.1:{server.server_port}", SYNCTHING_APIKEY="some-key")
        page = coordinator(app).client.get("/coordinate/network")
        assert page.status_code == 200
        assert "was not readable" in page.get_data(as_text=True)
    finally:
        server.shutdown()


@pytest.mark.parametrize(("fields", "message"), [
    ({"device": OTHER_ID, "name": ""}, "Give the other kiosk a name"),
    ({"device": OTHER_ID, "name": "x" * 41}, "at most 40 characters"),
    ({"device": OTHER_ID, "name": "Elm\nStreet"}, "on one line"),
    ({"device": OTHER_ID, "name": "Oak", "address": "http://somewhere"}, "Write the other kiosk"),
    ({"device": THIRD_ID, "name": "Oak"}, "not paired with this one"),
    ({"device": "\x00\ufffe" * 60, "name": "Oak"}, "not paired with this one"),
])
def test_a_bad_rename_says_what_is_wrong_and_changes_nothing(no_syncthing, fields, message):
    coord = coordinator(no_syncthing)
    pair_on_page(coord, OTHER_ID, "Elm Street")
    before = stored_peers(no_syncthing)
    answer = coord.submit("/coordinate/network/rename", form_url="/coordinate/network", **fields)
    assert answer.status_code == 303
    assert message in coord.client.get(answer.headers["Location"]).get_data(as_text=True).replace("&#39;", "'")
    assert stored_peers(no_syncthing) == before
    assert "rename-peer" not in [e["action"] for e in audit.trail(no_syncthing.extensions["kiosk"].store)]


@pytest.mark.parametrize("kiosk", ["", "NOSUCHKIOSK", "<script>", "\x00" * 30])
def test_unpairing_or_accepting_a_key_for_no_such_kiosk_changes_nothing(no_syncthing, kiosk):
    from kiosk.network import inbox

    coord = coordinator(no_syncthing)
    pair_on_page(coord, OTHER_ID, "Elm Street")
    store = no_syncthing.extensions["kiosk"].store
    before = (stored_peers(no_syncthing), store.get_meta(inbox.INBOX))
    accepted = coord.submit("/coordinate/network/accept-key", form_url="/coordinate/network", kiosk=kiosk)
    assert "That kiosk shows no new key" in coord.client.get(accepted.headers["Location"]).get_data(as_text=True)
    removed = coord.submit("/coordinate/network/remove", form_url="/coordinate/network", device=kiosk, confirm="yes")
    assert "not paired with this one" in coord.client.get(removed.headers["Location"]).get_data(as_text=True)
    assert (stored_peers(no_syncthing), store.get_meta(inbox.INBOX)) == before
    assert [e["action"] for e in audit.trail(store)] == ["add-peer", "unlock"]
