"""Real Chromium (Debian's /usr/bin/chromium, driven by Playwright): the touchscreen at
800x480 with touch only, a phone at 360x740, printing, languages. Screenshots of the main
pages are kept in tests/artifacts/ for people to look at."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from server import KioskServer, kiosk_command, kiosk_env

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
HOW_TO_INSTALL = (
    "browser tests need Debian's Chromium and Playwright for Python: "
    "sudo apt-get install chromium && .venv/bin/pip install '.[test]' "
    "(bash deploy/bootstrap.sh --test does both)"
)

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

if sync_playwright is None or not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        pytest.fail(HOW_TO_INSTALL, pytrace=False)  # CI must run them, never skip them
    pytest.skip(HOW_TO_INSTALL, allow_module_level=True)

TOUCHSCREEN = {"viewport": {"width": 800, "height": 480}, "has_touch": True}
PHONE = {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    """The touchscreen's own server: kiosk mode for requests from this machine."""
    data = tmp_path_factory.mktemp("kiosk-data")
    subprocess.run(
        [kiosk_command(), "coordinator", "add", "Heron", "--data", str(data)],
        input="correct horse battery\n", text=True, check=True, env=kiosk_env(), capture_output=True,
    )
    server = KioskServer(
        data,
        KIOSK_TOUCHSCREEN="1",
        KIOSK_WIFI_SSID="Community Center",
        KIOSK_WIFI_PASSWORD="share-and-care",
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def phone_site(tmp_path_factory):
    """What a phone on the Wi-Fi sees: the same kiosk without touchscreen mode."""
    server = KioskServer(tmp_path_factory.mktemp("phone-data"), KIOSK_WIFI_SSID="Community Center").start()
    yield server
    server.stop()


class Watch:
    """Fails the test on console errors and on any request to another host."""

    def __init__(self, page, base: str):
        self.base_host = urlsplit(base).netloc
        self.errors: list[str] = []
        self.foreign: list[str] = []
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("request", self._request)
        page.on("response", lambda r: r.status >= 400 and self.errors.append(f"{r.status} {r.url}"))

    def _request(self, request):
        url = urlsplit(request.url)
        if url.scheme in ("http", "https") and url.netloc != self.base_host:
            self.foreign.append(request.url)

    def check(self):
        assert not self.errors, self.errors
        assert not self.foreign, self.foreign


@pytest.fixture
def open_page(browser):
    contexts, watches = [], []

    def make(base: str, **options):
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        watches.append(Watch(page, base))
        return page

    yield make
    for context in contexts:
        context.close()
    for watch in watches:
        watch.check()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def tap_keys(page, text: str) -> None:
    """Type on the on-screen keyboard, one tap per character."""
    for ch in text:
        if ch == " ":
            page.tap(".osk-key[data-action=space]")
        else:
            page.tap(f".osk-key[data-action=char] >> text='{ch}'")


def tap_to_post(page) -> None:
    """The posting form goes in steps with a script (posting.js): Next up to "check and post",
    then its Post button."""
    while page.is_visible(".step-nav [data-next]"):
        page.tap(".step-nav [data-next]")
    page.tap(".step-nav button[type=submit]")


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


# -- the touchscreen -------------------------------------------------------------------------


def test_post_a_request_by_tapping_only(kiosk, open_page):
    page = open_page(kiosk.url, **TOUCHSCREEN)
    page.goto(kiosk.url + "/")
    shot(page, "touch-start")
    page.tap("a.big.need")
    page.tap("label.tile:has(input[value=food])")
    page.tap("#title")
    assert page.is_visible("#osk")
    shot(page, "touch-keyboard")
    tap_keys(page, "soup 42")
    page.tap(".osk-key[data-action=backspace]")
    assert page.input_value("#title") == "soup 4"
    page.tap(".osk-key[data-action=done]")
    assert page.is_hidden("#osk")
    tap_to_post(page)
    page.wait_for_url(re.compile(r".*/ticket/[A-Z0-9]{5}$"))
    code = page.inner_text(".claim-code")
    post_id = page.url.rsplit("/", 1)[1]
    assert re.fullmatch(post_id + r"(-[a-z]+){4}", code)
    shot(page, "touch-ticket")
    page.goto(kiosk.url + f"/p/{post_id}")
    assert page.inner_text("h1") == "soup 4"


def test_keyboard_respects_maxlength_and_has_each_languages_letters(kiosk, open_page):
    page = open_page(kiosk.url, **TOUCHSCREEN)
    page.goto(kiosk.url + "/new/offer")
    page.tap("label.tile:has(input[value=other])")  # steps: what about, a title, then the area
    tap_keys(page, "x")
    page.tap(".osk-key[data-action=done]")
    page.tap(".step-nav [data-next]")
    page.tap("#area")
    for _ in range(65):
        page.tap(".osk-key[data-action=char] >> nth=12")
    assert len(page.input_value("#area")) == 60
    page.tap(".osk-key[data-action=layout]")  # EN -> ES
    assert page.locator(".osk-key", has_text="ñ").count() == 1
    page.tap(".osk-key[data-action=layout]")  # ES -> Arabic
    assert page.locator(".osk-key", has_text="ض").count() == 1
    assert page.locator(".osk-key", has_text="أ").count() == 1
    assert page.get_attribute("#osk", "dir") == "rtl"
    page.tap(".osk-key[data-action=symbols]")
    for ch in "?!:/()":
        assert page.locator(".osk-key[data-action=char]", has_text=ch).count() >= 1, ch


def test_idle_reset_clears_a_half_filled_form_and_the_language(kiosk, open_page):
    page = open_page(kiosk.url, **TOUCHSCREEN)
    page.clock.install()
    page.goto(kiosk.url + "/")
    page.tap("button[name=lang][value=es]")
    page.wait_for_selector("html[lang=es]")
    page.goto(kiosk.url + "/new/offer")
    page.tap("label.tile:has(input[value=other])")
    page.tap("#title")
    tap_keys(page, "half")
    page.clock.fast_forward(91_000)
    assert page.is_visible("#idle-dialog")
    countdown = page.inner_text(".idle-count")  # in Spanish here: "Quedan 20 segundos"
    assert "20" in countdown and countdown.strip() != "20"
    shot(page, "touch-still-there")
    page.clock.fast_forward(21_000)
    page.wait_for_url(kiosk.url + "/")
    assert page.get_attribute("html", "lang") == "en"
    page.goto(kiosk.url + "/new/offer")
    assert page.input_value("#title") == ""


def test_still_there_keeps_what_was_typed(kiosk, open_page):
    page = open_page(kiosk.url, **TOUCHSCREEN)
    page.clock.install()
    page.goto(kiosk.url + "/new/request")
    page.tap("label.tile:has(input[value=other])")
    page.tap("#title")
    tap_keys(page, "keep")
    page.clock.fast_forward(91_000)
    page.tap("[data-still-here]")
    page.clock.fast_forward(30_000)
    assert page.url.endswith("/new/request")
    assert page.input_value("#title") == "keep"


def test_idle_reset_takes_a_ticket_off_the_screen(kiosk, open_page):
    page = open_page(kiosk.url, **TOUCHSCREEN)
    page.clock.install()
    page.goto(kiosk.url + "/new/request")
    page.tap("label.tile:has(input[value=other])")
    page.tap("#title")
    tap_keys(page, "x")
    page.tap(".osk-key[data-action=done]")
    tap_to_post(page)
    page.wait_for_selector(".claim-code")
    ticket_url = page.url
    page.clock.fast_forward(3 * 90_000 + 21_000)  # a ticket on screen gets three times as long
    page.wait_for_url(kiosk.url + "/")
    page.goto(ticket_url)
    assert page.locator(".claim-code").count() == 0


def test_language_switch_changes_text_and_direction(kiosk, open_page):
    page = open_page(kiosk.url, **TOUCHSCREEN)
    page.goto(kiosk.url + "/")
    english = page.inner_text("h1")
    page.tap("button[name=lang][value=ar]")
    page.wait_for_selector("html[dir=rtl]")
    assert page.get_attribute("html", "lang") == "ar"
    assert page.inner_text("h1") != english
    shot(page, "touch-start-ar")
    page.tap("button[name=lang][value=es]")
    page.wait_for_selector("html[lang=es][dir=ltr]")
    assert page.inner_text("h1") != english


def test_coordinator_unlocks_on_the_touchscreen_keyboard(kiosk, open_page):
    page = open_page(kiosk.url, **TOUCHSCREEN)
    page.goto(kiosk.url + "/coordinate")
    page.tap("#handle")
    page.tap(".osk-key[data-action=shift]")
    tap_keys(page, "Heron")
    assert page.input_value("#handle") == "Heron"
    page.tap("#passphrase")
    tap_keys(page, "correct horse battery")
    page.tap(".osk-key[data-action=done]")
    page.tap("button[type=submit]")
    page.wait_for_selector(".coord-nav")
    shot(page, "touch-coordinator-queue")
    page.tap(".coord-nav button[type=submit]")  # the lock button
    page.wait_for_url(kiosk.url + "/")


def test_leaving_a_fresh_ticket_asks_first(kiosk, open_page):
    page = open_page(kiosk.url, **TOUCHSCREEN)
    page.goto(kiosk.url + "/new/offer")
    page.tap("label.tile:has(input[value=other])")
    page.tap("#title")
    tap_keys(page, "y")
    page.tap(".osk-key[data-action=done]")
    tap_to_post(page)
    page.wait_for_selector(".claim-code")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.tap("text=See my post")
    assert asked and "save your code" in asked[0]
    assert page.is_visible(".claim-code")  # still there: the visitor said "not yet"


# -- phones ----------------------------------------------------------------------------------

PHONE_PAGES = ["/", "/board", "/board?kind=offer", "/new/request", "/new/offer", "/mine", "/flyer",
               "/how-it-works", "/transparency", "/coordinate", "/rides", "/thanks", "/check-in", "/stats",
               "/events", "/library", "/survey", "/survey/results", "/library/loan"]


def test_phone_pages_fit_360px(phone_site, open_page):
    page = open_page(phone_site.url, **PHONE)
    for path in PHONE_PAGES:
        page.goto(phone_site.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, (path, width)
        name = "phone" + (path.replace("/", "-").replace("?", "-").replace("=", "-") if path != "/" else "-start")
        shot(page, name)


def offer_without_javascript(page, url: str, category: str, title: str, details: str) -> None:
    """The posting form as a phone without JavaScript has it: one short form, one submit."""
    page.goto(url + "/new/offer")
    page.check(f"input[name=category][value={category}]")
    page.fill("#title", title)
    page.fill("#details", details)
    page.click("button[type=submit]")


def test_phone_posts_without_javascript(phone_site, open_page):
    page = open_page(phone_site.url, java_script_enabled=False, **PHONE)
    offer_without_javascript(page, phone_site.url, "tools-and-items", "Ladder to lend", "Three meters, aluminium.")
    page.wait_for_selector(".claim-code")
    code = page.inner_text(".claim-code")
    post_id = page.url.rsplit("/", 1)[1]
    shot(page, "phone-ticket")
    page.goto(phone_site.url + "/board")
    assert page.locator(f"a[href='/p/{post_id}']").count() == 1
    page.goto(phone_site.url + "/mine")
    page.fill("#code", code)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Change it")
    shot(page, "phone-mine")
    page.goto(phone_site.url + f"/p/{post_id}")
    shot(page, "phone-post")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


# -- printing --------------------------------------------------------------------------------


def test_ticket_prints_on_one_receipt_or_a6_page(phone_site, open_page):
    page = open_page(phone_site.url, **PHONE)
    page.goto(phone_site.url + "/new/request")
    page.check("input[name=category][value=food]")
    page.fill("#title", "A title long enough to wrap on a narrow receipt printer roll")
    tap_to_post(page)
    page.wait_for_selector(".claim-code")
    for name, size in {
        "58mm": {"width": "58mm", "height": "297mm"},
        "80mm": {"width": "80mm", "height": "297mm"},
        "a6": {"format": "A6"},
    }.items():
        pdf = page.pdf(**size, print_background=False)
        assert pdf_pages(pdf) == 1, name
        (ARTIFACTS / f"ticket-{name}.pdf").write_bytes(pdf)
    page.emulate_media(media="print")
    assert page.is_hidden("header.top") and page.is_hidden(".actions")
    assert page.is_visible(".claim-code")


def test_flyer_prints_on_one_a4_or_letter_page(kiosk, open_page):
    page = open_page(kiosk.url, **TOUCHSCREEN)
    page.goto(kiosk.url + "/flyer")
    assert page.locator("svg.qr").count() == 2
    for fmt in ("A4", "Letter"):
        pdf = page.pdf(format=fmt)
        assert pdf_pages(pdf) == 1, fmt
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"flyer-{fmt.lower()}.pdf").write_bytes(pdf)
    page.emulate_media(media="print")
    shot(page, "flyer-print")


def test_post_page_prints_as_one_card(phone_site, open_page):
    page = open_page(phone_site.url, **PHONE)
    page.goto(phone_site.url + "/new/offer")
    page.check("input[name=category][value=companionship]")
    page.fill("#title", "Walks in the park")
    tap_to_post(page)
    page.wait_for_selector(".claim-code")
    post_id = page.url.rsplit("/", 1)[1]
    page.goto(phone_site.url + f"/p/{post_id}")
    pdf = page.pdf(format="A6")
    assert pdf_pages(pdf) == 1
    (ARTIFACTS / "post-card-a6.pdf").write_bytes(pdf)


# -- another site ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lan_browser(browser):
    """Chromium that reaches the kiosk as phones do, by a name on plain HTTP (aid.lan), and
    another site (evil.example) on the same machine: there it sends no Sec-Fetch-Site, only
    Origin, as it would on the center's Wi-Fi."""
    lan = browser.browser_type.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--host-resolver-rules=MAP aid.lan 127.0.0.1, MAP evil.example 127.0.0.1"])
    yield lan
    lan.close()


@pytest.fixture
def other_site():
    """Pages on another site, served from this machine."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    pages = {}

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield pages, f"http://evil.example:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_page_of_another_site_cannot_end_coordinator_mode_through_the_language_switch(kiosk, lan_browser, other_site):
    pages, other = other_site
    here = f"http://aid.lan:{kiosk.port}"
    auto_post = (f'<form id="f" method="post" action="{here}/lang"><input name="lang" value="ar">'
                 '<input name="next" value="/coordinate"></form><script>document.getElementById("f").submit()</script>')
    pages["/plain"] = auto_post
    pages["/no-referrer"] = '<meta name="referrer" content="no-referrer">' + auto_post  # its Origin is "null"
    context = lan_browser.new_context(**TOUCHSCREEN)
    try:
        page = context.new_page()
        page.goto(here + "/coordinate")
        page.fill("#handle", "Heron")
        page.fill("#passphrase", "correct horse battery")
        page.click("button[type=submit]")
        page.wait_for_selector(".coord-nav")
        page.click("footer button[name=lang][value=es]")  # this site's own switch works, with its token
        page.wait_for_selector("html[lang=es]")
        for path, origin in (("/plain", other), ("/no-referrer", "null")):
            with page.expect_response(lambda r: r.url == here + "/lang") as answer:
                page.goto(other + path)
            evil = answer.value
            sent = evil.request.all_headers()
            assert sent["origin"] == origin and "cookie" not in sent  # SameSite=Strict: the cookie stays home
            assert evil.status == 403 and "set-cookie" not in evil.all_headers()
        page.goto(here + "/coordinate")
        assert page.is_visible(".coord-nav") and page.get_attribute("html", "lang") == "es"
    finally:
        context.close()


def test_a_reader_changes_language_without_javascript(phone_site, lan_browser):
    here = f"http://aid.lan:{phone_site.port}"
    context = lan_browser.new_context(java_script_enabled=False, **PHONE)
    try:
        page = context.new_page()
        page.goto(here + "/board")
        assert context.cookies() == []  # a reader has no cookie until choosing
        with page.expect_request(lambda r: r.url.endswith("/lang")) as sent:
            page.click("footer button[name=lang][value=es]")
        assert sent.value.all_headers()["origin"] == here  # Referrer-Policy same-origin: our own Origin
        page.wait_for_selector("html[lang=es]")
        assert page.url == here + "/board" and context.cookies()
        page.click("footer button[name=lang][value=ar]")  # now with a session: the form has its token
        page.wait_for_selector("html[lang=ar][dir=rtl]")
    finally:
        context.close()
