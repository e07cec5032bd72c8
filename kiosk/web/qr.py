"""QR codes as SVG, cached: a printed flyer's code must keep working, so they always encode
the kiosk's configured public URL, never the address the request came in on."""

from __future__ import annotations

import base64
import io
from functools import lru_cache
from urllib.parse import urlsplit

import qrcode
import qrcode.image.svg


@lru_cache(maxsize=512)
def svg(data: str) -> bytes:
    # Medium error correction survives a smudged or folded paper ticket.
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=4,
        image_factory=qrcode.image.svg.SvgPathFillImage,  # white background: scans on any page colour
    )
    code.add_data(data)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out)
    return out.getvalue()


def post_url(public_url: str, post_id: str) -> str:
    return f"{public_url.rstrip('/')}/p/{post_id}"


def mine_url(public_url: str, code: str) -> str:
    """My ticket with the code in the fragment, which browsers never send to a server; /mine's
    script fills the field and takes the fragment off the address bar at once. The code is
    base64url-encoded so that a browser's history list (which keeps the first address) does not
    show its words in the clear; an encoding, not a lock: the paper is the key. Shorter than
    percent-encoding for words in Arabic letters, too."""
    encoded = base64.urlsafe_b64encode(code.encode("utf-8")).rstrip(b"=").decode("ascii")
    return f"{public_url.rstrip('/')}/mine#t={encoded}"


def code_home(shown: str, installed: str) -> str:
    """Where a ticket sends its code (the phone QR code, the address printed beside it): the
    address set on screen while it names the installed host (another port is fine), else the
    installed one. Otherwise a coordinator, or a typo, could send every new code to a page
    elsewhere, whose script reads the fragment (README: coordinators never see codes)."""
    return shown if urlsplit(shown).hostname == urlsplit(installed).hostname else installed


def mine_address(public_url: str) -> str:
    """My ticket's address as a person types it on a phone: ``aid.lan/mine``."""
    return public_url.rstrip("/").removeprefix("http://") + "/mine"


def inline_svg(data: str, cache: bool = True) -> str:
    """The SVG as markup to place inside a page (no XML declaration)."""
    raw = svg(data) if cache else svg.__wrapped__(data)
    text = raw.decode("utf-8")
    if text.startswith("<?xml"):
        text = text[text.index("?>") + 2 :].lstrip()
    return text.replace("<svg ", '<svg class="qr" role="img" aria-hidden="true" ', 1)


def wifi_payload(ssid: str, password: str) -> str:
    """The Wi-Fi join text phones understand (the ZXing format), special characters escaped."""

    def esc(value: str) -> str:
        for ch in '\\;,:"':
            value = value.replace(ch, "\\" + ch)
        return value

    if password:
        return f"WIFI:T:WPA;S:{esc(ssid)};P:{esc(password)};;"
    return f"WIFI:T:nopass;S:{esc(ssid)};;"
