"""Promise 6: printed QR codes open the post through the configured public URL."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess

import pytest

from conftest import PUBLIC_URL, claim_code


def decode_svg(svg: bytes, tmp_path) -> str:
    """Render the SVG with librsvg and read it back with zbar, as a phone camera would."""
    for tool in ("rsvg-convert", "zbarimg"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: install librsvg2-bin and zbar-tools (deploy/bootstrap.sh --test does)")
    svg_path = tmp_path / "code.svg"
    png_path = tmp_path / "code.png"
    svg_path.write_bytes(svg)
    subprocess.run(["rsvg-convert", "-w", "400", "-b", "white", "-o", str(png_path), str(svg_path)], check=True)
    result = subprocess.run(["zbarimg", "--raw", "-q", str(png_path)], capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_post_qr_decodes_to_the_public_url(client, visitor, tmp_path):
    post_id, _ = visitor.create()
    # The touchscreen talks to localhost; the code must still point at the public name.
    response = client.get(f"/p/{post_id}/qr.svg", base_url="http://localhost:8080")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert decode_svg(response.data, tmp_path) == f"{PUBLIC_URL}/p/{post_id}"


def test_public_url_setting_is_followed(make_app, tmp_path):
    from conftest import Visitor

    app = make_app(PUBLIC_URL="http://kiosk.example.lan:8080/")
    visitor = Visitor(app.test_client())
    post_id, _ = visitor.create()
    svg = app.test_client().get(f"/p/{post_id}/qr.svg").data
    assert decode_svg(svg, tmp_path) == f"http://kiosk.example.lan:8080/p/{post_id}"


def test_ticket_phone_qr_carries_the_code_only_in_the_fragment(client, visitor, tmp_path):
    """My ticket's address with the code after "#": a browser never sends the fragment to the
    server, and /mine's script takes it off the address bar (tests/test_ticket_paper.py)."""
    response = visitor.post()
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    code = claim_code(html)
    svg = re.search(r"<svg .*?</svg>", html, re.S).group(0)
    url = decode_svg(svg.encode(), tmp_path)
    assert url.startswith(f"{PUBLIC_URL}/mine#t=")
    # Encoded, so a browser's history list does not show the words in the clear.
    assert base64.urlsafe_b64decode(url.split("#t=")[1] + "==").decode() == code
    assert code.split("-")[1] not in url


def test_mine_never_takes_a_code_from_the_address(client, visitor):
    _, code = visitor.create()
    page = client.get(f"/mine?code={code}").get_data(as_text=True)
    assert code not in page and "Change it" not in page


def test_qr_of_unknown_post_is_404(client):
    assert client.get("/p/ZZZZZ/qr.svg").status_code == 404


def test_the_ticket_shows_the_code_the_phone_qr_and_the_posts_qr_together(client, visitor):
    response = visitor.post()
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    post_id = response.headers["Location"].rsplit("/", 1)[1]
    qrs = html[html.index('<div class="ticket-side">'):]
    qrs = qrs[:qrs.index('<p class="ticket-help">')]
    assert qrs.count("<figure") == 2
    # The phone's code first, each labelled in words.
    assert qrs.index("<svg") < qrs.index(f'src="/p/{post_id}/qr.svg"')
    assert "“My ticket” opens with this code filled in" in qrs and "Scan to see your post" in qrs
