"""Issue 17 attacked as a hostile neighbor and a careless volunteer would: codes typed with
Unicode tricks, forged posting forms, crafted texts per language, forged roster forms."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk.core import codes

from conftest import Visitor
from test_browser import browser, open_page, phone_site  # noqa: F401 (fixtures)
from test_data_safety import numbers  # noqa: F401 (fixture)
from test_coordinate import coord, team  # noqa: F401 (fixtures)


def speaking(client, lang: str) -> Visitor:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    return Visitor(client)


def opens(app, code: str, post_id: str) -> bool:
    visitor = speaking(app.test_client(), "en")
    response = visitor.unlock(code)
    return response.status_code == 303 and post_id in visitor.client.get("/mine").get_data(as_text=True)


def live_count(app) -> int:
    return len(list(app.extensions["kiosk"].store.live_posts()))


# -- codes typed with Unicode tricks ------------------------------------------------------------

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def test_a_post_id_typed_with_arabic_indic_digits_opens_the_post(app):
    """An Arabic phone keyboard types ٢٣٤ for 234: the number on the ticket, all the same."""
    arabic = speaking(app.test_client(), "ar")
    post_id, code = arabic.create(title="شوربة")
    while not any(c.isdigit() for c in post_id):  # ids are random: one in five has no digit
        post_id, code = arabic.create(title="شوربة")
    assert opens(app, code.translate(ARABIC_INDIC), post_id)
    assert opens(app, code.translate(PERSIAN), post_id)


@pytest.mark.parametrize("trick", ["\u200b", "\ufeff", "\u00ad", "\u2067", "\u2069", "\u202b", "\u202c", "\u2066"])
def test_invisible_characters_copied_with_a_code_do_not_keep_it_from_opening(app, trick):
    """Copied from a right-to-left field, a message or a PDF, a code carries invisible format
    characters (zero-width space, BOM, soft hyphen, bidi isolates and embeddings)."""
    post_id, code = speaking(app.test_client(), "en").create()
    words = code.split("-")
    assert opens(app, trick + "-".join(w[:2] + trick + w[2:] for w in words) + trick, post_id)


def test_invisible_words_or_a_wrong_word_open_nothing(app):
    post_id, code = speaking(app.test_client(), "en").create()
    visitor = speaking(app.test_client(), "en")
    for typed in (f"{post_id}-\u200b-\u200b-\u200b-\u200b", f"{post_id}-\u2067\u2069 \u00ad \ufeff \u200b",
                  code.rsplit("-", 1)[0] + "-" + ("zebra" if not code.endswith("zebra") else "acorn"),
                  code.rsplit("-", 1)[0]):
        assert visitor.unlock(typed).status_code == 403, typed
    assert post_id not in visitor.client.get("/mine").get_data(as_text=True)


def test_english_codes_fold_to_themselves_as_before():
    """Codes made before the word lists per language hashed the English words as they are:
    folding must leave every English (and Spanish) word unchanged."""
    for lang in ("en", "es"):
        assert all(codes.fold(word) == word for word in codes.wordlist(lang))


# -- the phone QR's fragment, crafted -----------------------------------------------------------

def fragment(text: str) -> str:
    import base64

    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_a_crafted_fragment_only_ever_fills_the_field_as_text(phone_site, open_page):
    from test_browser import PHONE

    page = open_page(phone_site.url, **PHONE)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    hostile = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
    page.goto(f"{phone_site.url}/mine#t={fragment(hostile)}")
    page.wait_for_function("document.getElementById('code').value !== ''")
    assert page.input_value("#code") == hostile[:80]
    assert page.locator("main img, main script").count() == 0 and not dialogs
    assert "#" not in page.url  # the fragment left the address bar
    # Not base64url, or bytes that are not UTF-8: the field stays empty, nothing breaks.
    for damaged in ("<svg/onload=alert(3)>", "%3Cscript%3E", "_-_-_-_-" * 40, "gICA"):
        page.goto(f"{phone_site.url}/board")
        page.goto(f"{phone_site.url}/mine#t={damaged}")
        assert page.input_value("#code") == "" and not dialogs, damaged
        assert page.locator("#code-filled").is_hidden()


# -- replies waiting: never told of a hidden post -----------------------------------------------

def test_a_hidden_post_among_posts_sharing_a_number_shows_neither_its_words_nor_its_replies(make_app, tmp_path, numbers):
    """Two kiosks merged gave AAAAA to two posts; coordinators hid one (often for personal data
    in it). The page that asks which post is meant must not show its title, area or how many
    replies wait for its poster."""
    from kiosk.board import moderation
    from kiosk.core.times import utcnow
    from kiosk.web import exchange
    from backups import plain_full_export
    from test_replies import reply_to

    here = make_app(NAME="Elm Street", DATA_DIR=str(tmp_path / "elm"))
    there = make_app(NAME="Oak Hall", DATA_DIR=str(tmp_path / "oak"))
    numbers[:] = ["AAAAA", "CCCCC"]
    Visitor(here.test_client()).create(title="Elm: soup for my sick mother", area="Secret corner")
    reply_to(Visitor(here.test_client()), "AAAAA", "I can help")
    numbers[:] = ["AAAAA"]
    Visitor(there.test_client()).create(title="Oak: ride")
    stick = tmp_path / "stick"
    stick.mkdir()
    store = here.extensions["kiosk"].store
    exchange.merge(store, exchange.read_backup(plain_full_export(there.extensions["kiosk"].store, stick,
                                                                 kiosk_name="Oak Hall")), now=utcnow(), handle="Heron")
    elm = next(p for p in store.live_posts() if p["title"].startswith("Elm"))
    moderation.hide(store, elm["id"], "personal data", "Heron", utcnow())

    choose = here.test_client().get("/p/AAAAA").get_data(as_text=True)
    assert "Oak: ride" in choose
    assert "sick mother" not in choose and "Secret corner" not in choose
    assert "waiting" not in choose and "1 reply" not in choose


# -- where the ticket sends its code --------------------------------------------------------------

def phone_qr_of_a_new_ticket(app, tmp_path) -> tuple[str, str]:
    import re

    from test_qr import decode_svg

    visitor = Visitor(app.test_client())
    response = visitor.post()
    html = visitor.client.get(response.headers["Location"]).get_data(as_text=True)
    svg = re.search(r"<svg .*?</svg>", html, re.S).group(0)
    return decode_svg(svg.encode(), tmp_path), re.search(r'class="url mine-address"[^>]*>([^<]*)<', html).group(1)


def test_an_address_set_on_screen_for_another_host_never_receives_the_codes(team, coord, tmp_path):
    """A coordinator (or a typo) setting the public address to a laptop of theirs would send
    every new ticket's code there: a page there reads the fragment. The codes keep going to the
    installed host; another port of it is followed."""
    from conftest import csrf_token

    installed = team.config["PUBLIC_URL"].rstrip("/")
    host = installed.split("//", 1)[1].split(":")[0].split("/")[0]

    def set_address(url: str) -> None:
        fields = {"NAME": "Elm", "PUBLIC_URL": url, "EXPIRE_DAYS": "30", "RETAIN_DAYS": "30", "LANGUAGES": ["en"]}
        token = csrf_token(coord.client, "/coordinate/settings")
        assert coord.client.post("/coordinate/settings", data={"csrf_token": token, **fields}).status_code == 303

    set_address("http://laptop-of-a-coordinator.lan")
    qr_url, shown = phone_qr_of_a_new_ticket(team, tmp_path)
    assert qr_url.startswith(f"{installed}/mine#t=") and "laptop" not in shown
    post_id = Visitor(team.test_client()).create()[0]
    page = team.test_client().get(f"/p/{post_id}/qr.svg").data  # the post's own QR follows the setting
    from test_qr import decode_svg
    assert decode_svg(page, tmp_path).startswith("http://laptop-of-a-coordinator.lan/p/")

    set_address(f"http://{host}:8080")
    qr_url, shown = phone_qr_of_a_new_ticket(team, tmp_path)
    assert qr_url.startswith(f"http://{host}:8080/mine#t=") and shown == f"{host}:8080/mine"
