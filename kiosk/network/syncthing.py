"""A small client for this machine's Syncthing (its REST API, over urllib: no new dependency),
device ids, and a Syncthing home made safe before its first start.

Every failure is a ``SyncthingError`` whose message a coordinator can act on: ``NotRunning``
when nothing answers (the page then says how to start it), ``ApiError`` when Syncthing answered
but refused. Checked against Debian's Syncthing 1.19 (tests/test_network_setup.py)."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

from flask_babel import lazy_gettext as _l

TIMEOUT = 4.0  # seconds: the page waits at most this for each answer
START_HINT = "sudo systemctl start kiosk-syncthing"
FOLDER_ID = re.compile(r"^kiosk-([A-Z0-9]+)$")
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


class SyncthingError(Exception):
    """Syncthing could not do what was asked; ``message`` says so in plain words."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class NotRunning(SyncthingError):
    def __init__(self, url: str = ""):
        super().__init__(_l("Syncthing is not running on this kiosk: %(command)s", command=START_HINT))
        self.url = url


class ApiError(SyncthingError):
    pass


class NoApiKey(SyncthingError):
    def __init__(self, home: str = ""):
        super().__init__(_l("The kiosk does not know Syncthing's API key: set KIOSK_SYNCTHING_HOME (or "
                            "KIOSK_SYNCTHING_APIKEY) in kiosk.env, then restart the kiosk."))
        self.home = home


# -- device ids ------------------------------------------------------------------------------------


def _luhn32(group: str) -> str:
    """Syncthing's check character for 13 base32 characters (lib/protocol/luhn.go)."""
    factor, total = 1, 0
    for char in group:
        addend = factor * _BASE32.index(char)
        factor = 1 if factor == 2 else 2
        total += addend // 32 + addend % 32
    return _BASE32[(32 - total % 32) % 32]


def normalize_device_id(raw: str) -> str | None:
    """A device id as Syncthing writes it (8 groups of 7), or None when it is no device id: the
    wrong length, a character base32 does not have, or a check character that does not match.
    Spaces, dashes and lower case are forgiven, and 0/1/8 read as O/I/B as Syncthing does."""
    text = re.sub(r"[\s-]", "", str(raw or "")).upper().translate(str.maketrans("018", "OIB"))
    if len(text) != 56 or any(c not in _BASE32 for c in text):
        return None
    groups = [text[i:i + 14] for i in range(0, 56, 14)]
    if any(_luhn32(group[:13]) != group[13] for group in groups):
        return None
    return "-".join(text[i:i + 7] for i in range(0, 56, 7))


def device_id_of_cert(pem: str) -> str:
    """The device id of a certificate: its DER bytes' SHA-256 in base32, with check characters."""
    import base64
    import hashlib
    import ssl

    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).digest()
    text = base64.b32encode(digest).decode("ascii").rstrip("=")
    with_checks = "".join(text[i:i + 13] + _luhn32(text[i:i + 13]) for i in range(0, 52, 13))
    return "-".join(with_checks[i:i + 7] for i in range(0, 56, 7))


def device_id_of_home(home: str | Path) -> str | None:
    """This machine's device id read from its Syncthing home (cert.pem), also while Syncthing is
    stopped; None when there is none to read."""
    try:
        return device_id_of_cert((Path(home) / "cert.pem").read_text(encoding="ascii"))
    except (OSError, ValueError):
        return None


def grouped(device_id: str) -> list[str]:
    """The id in its groups of 7, to show one group per box (easier to read aloud and compare)."""
    return device_id.split("-")


def folder_id(kiosk_id: str) -> str:
    return f"kiosk-{kiosk_id}"


def kiosk_of_folder(folder: str) -> str | None:
    """The kiosk id a folder id names (``kiosk-K7Q2M...``), or None for any other folder."""
    match = FOLDER_ID.match(folder or "")
    return match.group(1) if match else None


# -- the API key -----------------------------------------------------------------------------------


def read_apikey(home: str | Path) -> str | None:
    """The GUI's API key from the config.xml of a Syncthing home, or None."""
    try:
        root = ET.parse(Path(home) / "config.xml").getroot()
    except (OSError, ET.ParseError):
        return None
    key = root.findtext("gui/apikey")
    return key.strip() if key and key.strip() else None


def client_from_config(config) -> "Client":
    """The client for the app's settings: the key from KIOSK_SYNCTHING_APIKEY, else from the
    config.xml under KIOSK_SYNCTHING_HOME."""
    key = config.get("SYNCTHING_APIKEY") or ""
    home = config.get("SYNCTHING_HOME") or ""
    if not key and home:
        key = read_apikey(home) or ""
    return Client(config.get("SYNCTHING_URL") or "http://127.0.0.1:8384", key, home=home)


# -- the client ------------------------------------------------------------------------------------


class Client:
    def __init__(self, url: str, apikey: str, timeout: float = TIMEOUT, home: str = ""):
        self.url = url.rstrip("/")
        self.apikey = apikey
        self.timeout = timeout
        self.home = home

    def call(self, method: str, path: str, body=None, params: dict | None = None):
        """One request; the parsed JSON answer (None for an empty one)."""
        if not self.apikey:
            self._answers_at_all()
            raise NoApiKey(self.home)
        address = self.url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(address, data=data, method=method,
                                         headers={"X-API-Key": self.apikey, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                raw = answer.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read(500).decode("utf-8", "replace").strip()
            if exc.code in (401, 403):
                raise ApiError(_l("Syncthing refused the kiosk's API key: check KIOSK_SYNCTHING_APIKEY or "
                                  "KIOSK_SYNCTHING_HOME in kiosk.env.")) from None
            raise ApiError(_l("Syncthing answered %(code)d to %(path)s: %(detail)s", code=exc.code, path=path,
                              detail=detail[:200])) from None
        except (urllib.error.URLError, OSError, ValueError):  # refused, timed out, reset
            raise NotRunning(self.url) from None
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise ApiError(_l("Syncthing's answer to %(path)s was not readable.", path=path)) from None

    def _answers_at_all(self) -> None:
        """Without a key, whether anything answers decides which message helps: NotRunning."""
        try:
            with urllib.request.urlopen(self.url + "/rest/noauth/health", timeout=self.timeout):
                pass
        except urllib.error.HTTPError:
            pass  # something answered
        except (urllib.error.URLError, OSError, ValueError):
            raise NotRunning(self.url) from None

    def get(self, path: str, **params):
        return self.call("GET", path, params=params or None)

    def _shaped(self, path: str, kind: type):
        """An answer of the shape Syncthing gives (something else answering on its port gives a
        plain message, not a failed page). Lists hold objects; empty answers are empty."""
        found = self.get(path)
        if found is None:
            return kind()
        if not isinstance(found, kind) or (kind is list and not all(isinstance(item, dict) for item in found)):
            raise ApiError(_l("Syncthing's answer to %(path)s was not readable.", path=path))
        return found

    # What the kiosk uses, each one REST call.
    def my_id(self) -> str:
        found = self._shaped("/rest/system/status", dict).get("myID")
        if not isinstance(found, str):
            raise ApiError(_l("Syncthing's answer to %(path)s was not readable.", path="/rest/system/status"))
        return found

    def options(self) -> dict:
        return self._shaped("/rest/config/options", dict)

    def patch_options(self, changes: dict) -> None:
        self.call("PATCH", "/rest/config/options", changes)

    def gui(self) -> dict:
        return self._shaped("/rest/config/gui", dict)

    def patch_gui(self, changes: dict) -> None:
        self.call("PATCH", "/rest/config/gui", changes)

    def devices(self) -> list[dict]:
        return self._shaped("/rest/config/devices", list)

    def put_device(self, device: dict) -> None:
        self.call("PUT", "/rest/config/devices/" + urllib.parse.quote(device["deviceID"]), device)

    def delete_device(self, device_id: str) -> None:
        self.call("DELETE", "/rest/config/devices/" + urllib.parse.quote(device_id))

    def folders(self) -> list[dict]:
        return self._shaped("/rest/config/folders", list)

    def put_folder(self, folder: dict) -> None:
        self.call("PUT", "/rest/config/folders/" + urllib.parse.quote(folder["id"]), folder)

    def delete_folder(self, folder: str) -> None:
        self.call("DELETE", "/rest/config/folders/" + urllib.parse.quote(folder))

    def pending_folders(self) -> dict:
        """{folder id: {"offeredBy": {device id: {...}}}}"""
        return self._shaped("/rest/cluster/pending/folders", dict)

    def device_stats(self) -> dict:
        """{device id: {"lastSeen": ISO time (1970 for never), ...}}"""
        return self._shaped("/rest/stats/device", dict)

    def connections(self) -> dict:
        """{device id: {"connected": bool, "address": ...}}"""
        found = self._shaped("/rest/system/connections", dict).get("connections")
        return found if isinstance(found, dict) else {}

    def folder_status(self, folder: str) -> dict:
        """needFiles, needBytes, state... of one folder."""
        return self.get("/rest/db/status", folder=folder)

    def check_device_id(self, raw: str) -> str | None:
        """Syncthing's own reading of a device id: the id, or None if it is none."""
        answer = self.get("/rest/svc/deviceid", id=raw) or {}
        return answer.get("id") or None


# -- a Syncthing home, safe before its first start ---------------------------------------------------

SAFE_OPTIONS = {  # nothing leaves the network (DESIGN: "Beyond one box")
    "globalAnnounceEnabled": "false",
    "relaysEnabled": "false",
    "natEnabled": "false",
    "urAccepted": "-1",
    "crashReportingEnabled": "false",
    "autoUpgradeIntervalH": "0",
    "startBrowser": "false",
}


def prepare_home(home: str | Path, gui_address: str, listen: list[str], local_discovery: bool = True,
                 safe: bool = True, syncthing: str = "syncthing") -> str:
    """Make a Syncthing home (keys and config.xml) if there is none, and write into its config
    what the kiosk would set over REST anyway, so that not even Syncthing's first minute talks
    to the internet: no global discovery, relays, NAT, usage or crash reports, upgrades; the GUI
    on ``gui_address`` only. Returns the home's API key. ``safe=False`` keeps Syncthing's own
    defaults for those (tests use it to prove the kiosk's configuring turns them off)."""
    home = Path(home)
    if not (home / "config.xml").is_file():
        subprocess.run([syncthing, "generate", f"--home={home}", "--no-default-folder"], check=True,
                       capture_output=True, timeout=60)
    tree = ET.parse(home / "config.xml")
    root = tree.getroot()
    gui = root.find("gui")
    _set(gui, "address", gui_address)
    gui.set("tls", "false")
    options = root.find("options")
    for old in options.findall("listenAddress"):
        options.remove(old)
    for address in listen:
        ET.SubElement(options, "listenAddress").text = address
    _set(options, "localAnnounceEnabled", "true" if local_discovery else "false")
    _set(options, "announceLANAddresses", "true" if local_discovery else "false")
    for name, value in (SAFE_OPTIONS if safe else {}).items():
        _set(options, name, value)
    tree.write(home / "config.xml", encoding="utf-8", xml_declaration=False)
    return read_apikey(home) or ""


def _set(parent, name: str, value: str) -> None:
    element = parent.find(name)
    if element is None:
        element = ET.SubElement(parent, name)
    element.text = value
