"""Issue 3 through the test client (no JavaScript): languages, kiosk mode, idle reset on the
server side, the flyer, direct printing, page weight."""

from __future__ import annotations

import html
import os
import re
import stat

import pytest

from kiosk.web import qr

from conftest import PUBLIC_URL, TOKEN, Visitor, claim_code
from test_coordinate import team  # noqa: F401  (a fixture)
from test_qr import decode_svg

PHONE = {"REMOTE_ADDR": "192.168.4.23"}  # a neighbor's phone on the Wi-Fi (just a string here)


LANG_FORM = re.compile(r'<form method="post" action="/lang".*?</form>', re.S)
EVIL = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}


def choose(client, lang: str, next_url: str = "/", page: str = "/board", **headers):
    """Press a language button as a browser without JavaScript does: the form's own fields."""
    form = LANG_FORM.search(client.get(page).get_data(as_text=True)).group(0)
    token = TOKEN.search(form)
    fields = {"lang": lang, "next": next_url, **({"csrf_token": token.group(1)} if token else {})}
    return client.post("/lang", data=fields, headers=headers)


def test_language_switch_changes_text_and_is_remembered(client):
    assert "I need something" in client.get("/").get_data(as_text=True)
    response = choose(client, "es", "/board")
    assert response.status_code == 303 and response.headers["Location"] == "/board"
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="es" dir="ltr">' in html
    assert "Necesito algo" in html
    assert "Tablón" in client.get("/board").get_data(as_text=True)


def test_arabic_is_right_to_left(client):
    choose(client, "ar")
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html


def test_browser_language_is_used_until_one_is_chosen(app):
    client = app.test_client()
    html = client.get("/", headers={"Accept-Language": "es-MX,es;q=0.9"}).get_data(as_text=True)
    assert '<html lang="es"' in html
    assert "Set-Cookie" not in client.get("/", headers={"Accept-Language": "es"}).headers


def test_unknown_language_is_ignored_and_foreign_redirects_refused(client):
    response = choose(client, "klingon", "/board")
    assert response.headers["Location"] == "/board"
    assert '<html lang="en"' in client.get("/").get_data(as_text=True)
    assert choose(client, "es", "https://evil.example/").status_code == 400
    assert choose(client, "es", "//evil.example").status_code == 400


def test_language_switch_needs_no_earlier_cookie(app):
    client = app.test_client()
    response = client.post("/lang", data={"lang": "es"})
    assert response.status_code == 303
    assert "kiosk=" in response.headers["Set-Cookie"]


def test_a_reader_changes_language_from_this_site_with_and_without_a_session(app):
    client = app.test_client()
    page = client.get("/board")
    assert "Set-Cookie" not in page.headers and "csrf_token" not in LANG_FORM.search(page.get_data(as_text=True)).group(0)
    # What Chromium sends from our own pages (Referrer-Policy same-origin): their own origin.
    same_site = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    assert choose(client, "es", "/board", **same_site).status_code == 303
    assert "Tablón" in client.get("/board").get_data(as_text=True)
    # Now with a session: the form carries its token, and the switch still works.
    assert choose(client, "ar", "/board", **same_site).status_code == 303
    assert 'dir="rtl"' in client.get("/board").get_data(as_text=True)
    assert choose(client, "en", "/board", Origin="http://localhost").status_code == 303
    assert 'lang="en"' in client.get("/board").get_data(as_text=True)


def test_with_a_session_the_language_switch_needs_its_token(app):
    client = app.test_client()
    choose(client, "es")
    response = client.post("/lang", data={"lang": "ar", "next": "/board"})  # a forged form: no token
    assert response.status_code == 400  # "This form has expired", in Spanish
    assert 'lang="es"' in client.get("/board").get_data(as_text=True)


def test_a_page_of_another_site_cannot_change_the_language_or_end_coordinator_mode(team):  # noqa: F811
    from test_coordinate import unlock

    coordinator = team.test_client()
    assert unlock(coordinator).status_code == 303
    assert choose(coordinator, "es", "/coordinate", page="/coordinate").status_code == 303
    # A page elsewhere auto-posts to /lang; a SameSite=Strict browser sends it without the cookie.
    kept = coordinator.get_cookie("kiosk").value
    coordinator.delete_cookie("kiosk")
    evil = coordinator.post("/lang", data={"lang": "ar", "next": "/"}, headers=EVIL)
    assert evil.status_code == 403 and "Set-Cookie" not in evil.headers
    assert coordinator.get_cookie("kiosk") is None  # nothing replaced the browser's cookie...
    coordinator.set_cookie("kiosk", kept)  # ...so it still has the one it kept
    page = coordinator.get("/coordinate").get_data(as_text=True)
    assert '<html lang="es"' in page and "coord-nav" in page  # same language, still unlocked
    # Nor with the cookie (a browser without SameSite), nor from a sibling site, nor by Origin alone.
    # A page elsewhere with Referrer-Policy no-referrer sends Origin "null".
    for headers in (EVIL, {"Sec-Fetch-Site": "same-site"}, {"Origin": "http://evil.example"}, {"Origin": "null"}):
        assert choose(coordinator, "ar", "/", page="/coordinate", **headers).status_code == 403
    assert '<html lang="es"' in coordinator.get("/coordinate").get_data(as_text=True)


@pytest.mark.parametrize("headers", [EVIL, {"Origin": "null"}, {"Origin": "http://localhost:8080"}])
def test_a_cross_site_post_starts_no_session_for_a_reader(app, headers):
    client = app.test_client()
    response = client.post("/lang", data={"lang": "es", "next": "/"}, headers=headers)
    assert response.status_code == 403 and "Set-Cookie" not in response.headers
    assert client.get_cookie("kiosk") is None


def test_posts_keep_and_show_their_language(client, visitor):
    choose(client, "es")
    post_id, _ = visitor.create(title="Sopa para dos")
    choose(client, "en")
    board = client.get("/board").get_data(as_text=True)
    card = board.split(f"/p/{post_id}")[1].split("</li>")[0]
    assert 'lang="es"' in card and "Español" in card
    page = client.get(f"/p/{post_id}").get_data(as_text=True)
    assert '<h1 lang="es" dir="auto">Sopa para dos</h1>' in page


def test_dates_follow_the_visitors_language(client, visitor):
    post_id, _ = visitor.create()
    english = client.get(f"/p/{post_id}").get_data(as_text=True)
    choose(client, "es")
    spanish = client.get(f"/p/{post_id}").get_data(as_text=True)
    months_en = re.search(r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\w* \d{1,2}, \d{4}", english)
    assert months_en
    assert re.search(r"\d{1,2} (ene|feb|mar|abr|may|jun|jul|ago|sept?|oct|nov|dic)\w* \d{4}", spanish)


def test_error_messages_come_in_the_chosen_language(client, visitor):
    choose(client, "es")
    html = visitor.post(title="").get_data(as_text=True)
    assert "Write a short title" not in html
    assert 'class="error" id="title-error"' in html


# -- kiosk mode ---------------------------------------------------------------------------


def test_kiosk_mode_only_for_the_touchscreen_itself(make_app):
    app = make_app(TOUCHSCREEN=True, IDLE_SECONDS=90)
    client = app.test_client()
    local = client.get("/new/request").get_data(as_text=True)
    assert "touch.js" in local and 'data-idle="90"' in local and 'id="osk"' in local
    phone = client.get("/new/request", environ_base=PHONE).get_data(as_text=True)
    assert "touch.js" not in phone and "data-idle" not in phone


def test_kiosk_mode_is_off_unless_configured(client):
    assert "touch.js" not in client.get("/").get_data(as_text=True)


def test_touchscreen_pages_are_never_cached(make_app):
    client = make_app(TOUCHSCREEN=True).test_client()
    assert client.get("/board").headers["Cache-Control"] == "no-store"


def test_reset_forgets_language_unlocked_post_and_unseen_ticket(make_app):
    app = make_app(TOUCHSCREEN=True)
    client = app.test_client()
    visitor = Visitor(client)
    _, code = visitor.create(title="Private")
    visitor.unlock(code)
    choose(client, "es")
    pending = visitor.post(title="Not yet seen")  # the ticket page was never opened
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
    response = client.post("/reset", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert '<html lang="en"' in client.get("/").get_data(as_text=True)
    assert "Private" not in client.get("/mine").get_data(as_text=True)
    assert claim_code(client.get(pending.headers["Location"]).get_data(as_text=True)) is None


def test_reset_needs_a_csrf_token(client):
    assert client.post("/reset").status_code == 400


# -- flyer ---------------------------------------------------------------------------------


def test_flyer_has_board_and_wifi_codes_and_how_to_in_each_language(make_app, tmp_path):
    app = make_app(WIFI_SSID="Center Guest", WIFI_PASSWORD='p;a"ss')
    html = app.test_client().get("/flyer").get_data(as_text=True)
    svgs = re.findall(r"<svg .*?</svg>", html, re.S)
    assert len(svgs) == 2
    assert decode_svg(svgs[0].encode(), tmp_path) == f"{PUBLIC_URL}/board"
    assert decode_svg(svgs[1].encode(), tmp_path) == 'WIFI:T:WPA;S:Center Guest;P:p\\;a\\"ss;;'
    for lang in ("en", "es", "ar"):
        assert f'<section class="flyer-block" lang="{lang}"' in html
    assert html.count("<li>") == 9  # three how-to lines per language
    assert 'dir="rtl"' in html


def test_flyer_in_chosen_languages_only(client):
    html = client.get("/flyer?lang=es").get_data(as_text=True)
    assert 'lang="es"' in html and '<section class="flyer-block" lang="en"' not in html


def test_flyer_without_wifi_settings_has_only_the_board_code(client):
    html = client.get("/flyer").get_data(as_text=True)
    assert len(re.findall(r"<svg ", html)) == 1


def test_wifi_payload_escapes_special_characters():
    assert qr.wifi_payload("a;b", "c:d\\e") == "WIFI:T:WPA;S:a\\;b;P:c\\:d\\\\e;;"
    assert qr.wifi_payload("Open", "") == "WIFI:T:nopass;S:Open;;"


# -- direct printing ---------------------------------------------------------------------------


@pytest.fixture
def fake_lp(tmp_path, monkeypatch):
    """A stand-in for CUPS' lp on PATH that keeps what it was asked to print."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    out = tmp_path / "printed.txt"
    script = bin_dir / "lp"
    script.write_text(f'#!/bin/sh\necho "$@" > "{out}.args"\ncat > "{out}"\n[ -z "$LP_FAIL" ] || exit 1\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return out


def test_ticket_prints_directly_once_when_a_printer_is_set(make_app, fake_lp):
    app = make_app(PRINTER="receipt")
    client = app.test_client()
    visitor = Visitor(client)
    response = visitor.post(title="Print me")
    ticket = client.get(response.headers["Location"]).get_data(as_text=True)
    code = claim_code(ticket)
    post_id = response.headers["Location"].rsplit("/", 1)[1]
    token = re.search(r'name="csrf_token" value="([^"]+)"', ticket).group(1)
    printed = client.post(f"/ticket/{post_id}/print", data={"csrf_token": token})
    assert printed.status_code == 200
    assert "Your ticket is printing" in printed.get_data(as_text=True)
    text = fake_lp.read_text("utf-8")
    assert code in text and f"{PUBLIC_URL}/p/{post_id}" in text
    assert "-d receipt" in fake_lp.with_suffix(".txt.args").read_text()
    # A second print (or anyone else) cannot get the code again.
    fake_lp.unlink()
    again = client.post(f"/ticket/{post_id}/print", data={"csrf_token": token})
    assert again.status_code == 303 and not fake_lp.exists()


def test_printer_failure_says_so(make_app, fake_lp, monkeypatch):
    monkeypatch.setenv("LP_FAIL", "1")
    app = make_app(PRINTER="receipt")
    client = app.test_client()
    response = Visitor(client).post()
    ticket = client.get(response.headers["Location"]).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', ticket).group(1)
    post_id = response.headers["Location"].rsplit("/", 1)[1]
    failed = client.post(f"/ticket/{post_id}/print", data={"csrf_token": token})
    assert failed.status_code == 503
    assert "The printer did not answer" in failed.get_data(as_text=True)


def test_without_a_printer_the_browser_dialog_is_offered(client, visitor):
    response = visitor.post()
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "data-print" in html and "/print" not in html


# -- phones ------------------------------------------------------------------------------------


def test_pages_with_their_css_weigh_under_50_kb(app, client, visitor):
    for i in range(40):  # forty visitors (one browser session would pass its write budget)
        Visitor(app.test_client()).create(title=f"A fairly typical title for a post number {i}", details="d" * 200)
    post_id, _ = visitor.create()
    css = len(client.get("/static/kiosk.css").data) + len(client.get("/static/kiosk.js").data)
    for url in ("/", "/board", "/new/request", f"/p/{post_id}", "/mine", "/flyer"):
        html = client.get(url, environ_base=PHONE).data
        assert len(html) + css < 50_000, (url, len(html), css)


def test_qr_arrival_lands_on_the_post(client, visitor):
    post_id, _ = visitor.create(title="Scanned")
    # What the QR encodes is PUBLIC_URL + /p/<id>; its path answers with the post.
    response = client.get(f"/p/{post_id}", environ_base=PHONE)
    assert response.status_code == 200 and "Scanned" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/p/%C3%B1and%C3%BA", "/board?kind=need&status=matched", "/board?kind=%C3%B1"])
def test_the_language_switch_on_any_page_comes_back_to_it(client, url):
    page = client.get(url).get_data(as_text=True)
    here = html.unescape(re.search(r'name="next" value="([^"]*)"', page).group(1))
    response = choose(client, "es", here)
    assert response.status_code == 303 and response.headers["Location"] in (url, "/")
    assert '<html lang="es"' in client.get(response.headers["Location"]).get_data(as_text=True)
