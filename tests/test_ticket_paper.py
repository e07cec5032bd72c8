"""Issue 17: a ticket that fits the touchscreen and the paper, and a phone QR code that opens
My ticket with the code filled in while the code reaches no request line and no address bar.

Browser tests run Debian's Chromium as tests/test_browser.py does (its fixtures are reused)."""

from __future__ import annotations

import base64
import re
import select
import shutil
import socket
import sqlite3
import subprocess
import threading
from urllib.parse import quote, quote_plus

import pytest

from conftest import PUBLIC_URL, Visitor, claim_code
from server import KioskServer
from test_browser import ARTIFACTS, CHROMIUM, PHONE, TOUCHSCREEN, browser, open_page, pdf_pages  # noqa: F401 (fixtures)
from test_replies import reply_to
from test_screen import fake_lp  # noqa: F401 (a fixture)

SSID = "Community Center"
# Page sizes, and the width left inside the ticket's 4 mm page margins, in CSS pixels (96 per inch).
PAPERS = {
    "58mm": ({"width": "58mm", "height": "297mm"}, 50),
    "80mm": ({"width": "80mm", "height": "297mm"}, 72),
    "a6": ({"format": "A6"}, 97),
}


def mm_to_px(mm: float) -> int:
    return int(mm * 96 / 25.4)


@pytest.fixture(scope="module")
def touchscreen(tmp_path_factory):
    server = KioskServer(tmp_path_factory.mktemp("touch"), KIOSK_TOUCHSCREEN="1", KIOSK_WIFI_SSID=SSID).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def phone_kiosk(tmp_path_factory):
    server = KioskServer(tmp_path_factory.mktemp("phone"), KIOSK_WIFI_SSID=SSID).start()
    yield server
    server.stop()


def post_and_open_ticket(page, base: str, title: str = "Soup for two on Friday") -> str:
    """Post a need from this browser with the form's fields (how the posting form asks for them,
    in steps or not, is another test's business) and land on the ticket; returns the code."""
    page.goto(base + "/new/request")
    page.evaluate("""fields => {
        const form = document.createElement('form');
        form.method = 'post';
        form.action = '/new/request';
        for (const [name, value] of Object.entries(fields)) {
            const input = document.createElement('input');
            input.type = 'hidden'; input.name = name; input.value = value;
            form.appendChild(input);
        }
        form.querySelector('[name=csrf_token]').value = document.querySelector('input[name=csrf_token]').value;
        document.body.appendChild(form);
        form.submit();
    }""", {"csrf_token": "", "category": "food", "title": title, "when": "flexible"})
    page.wait_for_url(re.compile(r".*/ticket/[A-Z0-9]{5}$"))
    page.wait_for_selector(".claim-code")
    return page.inner_text(".claim-code").strip()


def on_one_line(code: str, text: str) -> bool:
    """Whether one line of pdftotext's output holds every word group of the code. Words in
    Arabic letters come out in visual order, wrapped in bidi controls, hence by group."""
    text = re.sub("[\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", text)
    # pdftotext gives the lam-alef ligature's letters in visual order (لا comes out as ال).
    groups = [re.sub("ل([اأإآ])", "\\1ل", group) for group in code.split("-")]
    return any(all(group in line for group in groups) for line in text.splitlines())


def zbar(png: bytes, tmp_path) -> list[str]:
    """Every QR code zbar reads in a picture, as a phone camera would."""
    if shutil.which("zbarimg") is None:
        pytest.fail("zbarimg is missing: install zbar-tools (deploy/bootstrap.sh --test does)")
    path = tmp_path / "shot.png"
    path.write_bytes(png)
    found = subprocess.run(["zbarimg", "--raw", "-q", str(path)], capture_output=True, text=True)
    return found.stdout.split()


def b64(code: str) -> str:
    return base64.urlsafe_b64encode(code.encode()).rstrip(b"=").decode()


def below_the_fold(page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box["y"] + box["height"]


# -- the touchscreen ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_code_qr_and_print_fit_the_first_screen_at_800x480(touchscreen, open_page, lang, tmp_path):
    page = open_page(touchscreen.url, locale=lang, **TOUCHSCREEN)
    code = post_and_open_ticket(page, touchscreen.url)
    assert page.get_attribute("html", "lang") == lang
    for what in (".claim-code", ".qr-phone svg", ".print-button", ".done-button"):
        assert page.locator(what).first.is_visible(), what
        assert below_the_fold(page, what) <= 480, what
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    # The code on one line: no taller than one line of its own text.
    lines = page.evaluate("""() => { const el = document.querySelector('.claim-code'), s = getComputedStyle(el);
        return (el.clientHeight - parseFloat(s.paddingTop) - parseFloat(s.paddingBottom)) / parseFloat(s.lineHeight); }""")
    assert lines < 1.5, lines
    # What the first screen shows is a QR code a phone reads: My ticket, the code after "#".
    shot = page.screenshot()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"ticket-800x480-{lang}.png").write_bytes(shot)
    assert f"{PUBLIC_URL}/mine#t={b64(code)}" in zbar(shot, tmp_path)


def test_a_phone_reads_the_ticket_in_one_column(phone_kiosk, open_page):
    page = open_page(phone_kiosk.url, **PHONE)
    code = post_and_open_ticket(page, phone_kiosk.url)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert below_the_fold(page, ".claim-code") <= 740
    assert page.inner_text(".claim-code") == code
    page.screenshot(path=str(ARTIFACTS / "ticket-phone.png"), full_page=True)


# -- paper -------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "es", "ar"])  # Spanish code words are the longest
def test_printed_ticket_keeps_the_code_on_one_line_and_says_where_to_use_it(phone_kiosk, open_page, lang, tmp_path):
    page = open_page(phone_kiosk.url, locale=lang, **PHONE)
    code = post_and_open_ticket(page, phone_kiosk.url, title="A title long enough to wrap on a narrow receipt roll")
    for name, (size, _) in PAPERS.items():
        pdf = page.pdf(**size)
        assert pdf_pages(pdf) == 1, name
        (ARTIFACTS / f"ticket-{name}-{lang}.pdf").write_bytes(pdf)
        (tmp_path / "t.pdf").write_bytes(pdf)
        text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "t.pdf"), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert on_one_line(code, text), (name, text)
        assert "aid.lan/mine" in text and SSID in text, (name, text)


def test_printed_ticket_stays_inside_the_paper_and_its_border(phone_kiosk, open_page):
    """Print media at each paper's width: nothing in the ticket reaches past its border's inside,
    the ticket stays on the paper, and the phone's QR code keeps at least 25 mm."""
    page = open_page(phone_kiosk.url, **PHONE)
    post_and_open_ticket(page, phone_kiosk.url, title="A title long enough to wrap on a narrow receipt roll")
    page.emulate_media(media="print")
    for name, (_, inner_mm) in PAPERS.items():
        width = mm_to_px(inner_mm)
        page.set_viewport_size({"width": width, "height": 1100})
        outside = page.evaluate("""() => {
            const t = document.querySelector('.ticket'), s = getComputedStyle(t), r = t.getBoundingClientRect();
            const left = r.left + parseFloat(s.borderLeftWidth), right = r.right - parseFloat(s.borderRightWidth);
            const out = [];
            if (r.left < 0 || r.right > document.documentElement.clientWidth) out.push('ticket');
            for (const el of t.querySelectorAll('*')) {
                const b = el.getBoundingClientRect();
                if (b.width && (b.left < left + 0.5 && s.borderLeftWidth !== '0px' || b.right > right - 0.5 && s.borderRightWidth !== '0px'
                        || b.left < 0 || b.right > document.documentElement.clientWidth || el.scrollWidth > el.clientWidth + 1 && el.clientWidth))
                    out.push(el.tagName + '.' + el.className + ' ' + Math.round(b.left) + '-' + Math.round(b.right));
            }
            return out; }""")
        assert outside == [], (name, width, outside)
        qr = page.locator(".qr-phone svg").bounding_box()
        assert qr["width"] >= mm_to_px(25), (name, qr)


# -- the phone's QR code -----------------------------------------------------------------------


class RecordingProxy:
    """Stands between the phone and the kiosk and keeps every byte the phone sent, so a test can
    read each request line and header the server saw (the kiosk itself keeps no access log)."""

    def __init__(self, port: int):
        self.target = port
        self.sent = bytearray()
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, client, upstream):
        ends = [client, upstream]
        try:
            while True:
                ready, _, _ = select.select(ends, [], [], 30)
                if not ready:
                    return
                for end in ready:
                    data = end.recv(65536)
                    if not data:
                        return
                    if end is client:
                        with self.lock:
                            self.sent.extend(data)
                    (upstream if end is client else client).sendall(data)
        except OSError:
            return
        finally:
            client.close()
            upstream.close()

    def heads(self) -> list[str]:
        """Each request's line and headers, without its body."""
        with self.lock:
            raw = bytes(self.sent)
        return [m.decode("latin-1") for m in re.findall(rb"[A-Z]+ \S+ HTTP/1\.[01]\r\n(?:[^\r\n]+\r\n)*\r\n", raw)]

    def close(self):
        self.listener.close()


def test_phone_qr_opens_my_ticket_with_the_code_filled_in_and_never_sends_it_in_a_url(
        phone_kiosk, open_page, tmp_path):
    ticket = open_page(phone_kiosk.url, **TOUCHSCREEN)
    code = post_and_open_ticket(ticket, phone_kiosk.url, title="Bread for the weekend")
    scanned = zbar(ticket.locator(".qr-phone svg").screenshot(), tmp_path)
    assert scanned == [f"{PUBLIC_URL}/mine#t={b64(code)}"]

    # The phone reaches the kiosk at its public name; here through a proxy that records the wire.
    proxy = RecordingProxy(phone_kiosk.port)
    try:
        phone = open_page(proxy.url, **PHONE)
        urls = []
        phone.on("request", lambda request: urls.append(request.url))
        phone.goto(scanned[0].replace(PUBLIC_URL, proxy.url))
        assert phone.input_value("#code") == code
        assert phone.is_visible("#code-filled")
        assert phone.evaluate("location.href") == proxy.url + "/mine"  # off the address bar and this history entry
        phone.screenshot(path=str(ARTIFACTS / "phone-qr-mine-filled.png"))
        phone.tap("button[type=submit]")
        phone.wait_for_selector("text=Bread for the weekend")
        assert phone.evaluate("location.href") == proxy.url + "/mine"
        phone.screenshot(path=str(ARTIFACTS / "phone-qr-mine.png"))
        heads = proxy.heads()
    finally:
        proxy.close()
    secret = code.split("-", 1)[1]
    forms = {secret, quote(secret), quote_plus(secret), secret.replace("-", " ")}
    assert any(h.startswith("POST /mine ") for h in heads), heads
    assert not [h for h in heads if any(f in h for f in forms)], "the code reached a request line or header"
    assert not [u for u in urls if any(f in u for f in forms)], urls
    assert quote_plus(code).encode() in proxy.sent  # in the POST body, where it belongs
    assert secret not in phone_kiosk.output()


def test_the_phones_history_keeps_no_code_in_the_clear(phone_kiosk, browser, tmp_path):
    """Chromium's own history database keeps the first address a page had, before the script
    took the fragment off: it holds the code only encoded (the address bar never shows it)."""
    ticket = browser.new_context(**TOUCHSCREEN)
    try:
        code = post_and_open_ticket(ticket.new_page(), phone_kiosk.url, title="Tea and a chat")
    finally:
        ticket.close()
    phone = browser.browser_type.launch_persistent_context(
        str(tmp_path / "phone-profile"), executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], **PHONE)
    try:
        page = phone.new_page()
        page.goto(phone_kiosk.url + "/mine#t=" + b64(code))
        assert page.input_value("#code") == code
        page.goto(phone_kiosk.url + "/mine#t=not*base64")  # a damaged code: off the address, nothing filled
        assert page.evaluate("location.href") == phone_kiosk.url + "/mine" and page.input_value("#code") == ""
    finally:
        phone.close()
    history = sqlite3.connect(tmp_path / "phone-profile" / "Default" / "History")
    try:
        visited = [url for (url,) in history.execute("SELECT url FROM urls")]
    finally:
        history.close()
    assert any("/mine" in url for url in visited), visited
    words = code.split("-")[1:]
    assert not [url for url in visited if any(word in url for word in words)], visited


def test_without_javascript_my_ticket_asks_to_type_the_printed_code(phone_kiosk, open_page):
    page = open_page(phone_kiosk.url, java_script_enabled=False, **PHONE)
    page.goto(phone_kiosk.url + "/mine#t=" + b64("K7Q2M-acorn-bloom-civic-dwarf"))
    assert page.input_value("#code") == ""
    # (Playwright's text selectors skip <noscript>, so the line is found by its element.)
    assert page.is_visible("noscript p") and "Type the code printed on the ticket" in page.inner_text("noscript p")
    assert page.is_hidden("#code-filled")


# -- no browser --------------------------------------------------------------------------------


def test_a_receipt_printed_with_lp_keeps_the_code_whole_and_says_where_to_use_it(make_app, fake_lp):
    app = make_app(PRINTER="receipt", WIFI_SSID=SSID)
    client = app.test_client()
    response = Visitor(client).post(title="Print me")
    ticket = client.get(response.headers["Location"]).get_data(as_text=True)
    code = claim_code(ticket)
    token = re.search(r'name="csrf_token" value="([^"]+)"', ticket).group(1)
    assert client.post(response.headers["Location"] + "/print", data={"csrf_token": token}).status_code == 200
    lines = [line.strip() for line in fake_lp.read_text("utf-8").splitlines()]
    assert code in lines and "aid.lan/mine" in lines and SSID in lines
    assert max(len(line) for line in lines) <= 32  # a 58 mm roll's width


def test_a_repliers_ticket_offers_the_post_not_my_post(app):
    poster, helper = Visitor(app.test_client()), Visitor(app.test_client())
    post_id, _ = poster.create(title="Soup")
    response = helper.submit(f"/p/{post_id}/reply", message="I can bring some")
    page = helper.client.get(response.headers["Location"]).get_data(as_text=True)
    assert claim_code(page) and "See the post" in page and "See my post" not in page


@pytest.mark.parametrize("lang, words", [("en", "Lock my ticket again (I am done here)"),
                                         ("es", "Volver a bloquear mi boleto (ya terminé aquí)"),
                                         ("ar", "أقفل تذكرتي من جديد (انتهيت هنا)")])
def test_the_lock_button_says_it_locks_the_ticket_not_the_post(app, lang, words):
    poster, helper = Visitor(app.test_client()), Visitor(app.test_client())
    post_id, poster_code = poster.create(title="Soup")
    _, helper_code = reply_to(helper, post_id)
    for person, code in ((poster, poster_code), (helper, helper_code)):
        person.unlock(code)
        page = person.client.get("/mine", headers={"Accept-Language": lang}).get_data(as_text=True)
        assert words in page and "I am done —" not in page


def test_a_phone_shows_a_long_address_whole(tmp_path, open_page):
    """A demo's address ("vm.local:8732/mine") sat beside its label on a phone and broke inside
    a word ("vm.local:8732/mi" / "ne"): under its label it has the whole width."""
    server = KioskServer(tmp_path / "data", KIOSK_PUBLIC_URL="http://community-hall.local:8080").start()
    try:
        page = open_page(server.url, **PHONE)
        post_and_open_ticket(page, server.url)
        address = page.locator(".mine-address")
        assert address.inner_text() == "community-hall.local:8080/mine"
        assert address.evaluate("e => e.getClientRects().length") == 1  # one line box: not broken
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        server.stop()
