"""Every visitor's words in their language: code words from the page language's list, any of
them opening a post at /mine whatever that page's language, and pseudonyms shown in the
viewer's language."""

from __future__ import annotations

import math

import pytest

from kiosk.core import aliases, codes
from kiosk.core.times import utcnow
from kiosk.web import exchange

from backups import lines_of, plain_full_export, read_backup
from conftest import Visitor
from test_coordinate import coord, team  # noqa: F401 (fixtures)
from test_exchange import write_backup
from test_library import add as library_add, lend_and_read_code
from test_replies import reply_to

ARABIC_LETTERS = range(0x0621, 0x064B)


def speaking(client, lang: str) -> Visitor:
    """A visitor whose browser asks for ``lang`` (as a phone set to that language does)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    return Visitor(client)


def words_of(code: str) -> list[str]:
    return code.split("-")[1:]


def opens(make_client, code: str, post_id: str) -> bool:
    """Whether ``code`` typed at an English /mine opens the post (a new device each time)."""
    english = speaking(make_client(), "en")
    response = english.unlock(code)
    return response.status_code == 303 and post_id in english.client.get("/mine").get_data(as_text=True)


def test_a_spanish_page_gives_spanish_words_that_open_the_post_at_an_english_mine(app):
    post_id, code = speaking(app.test_client(), "es").create(title="Sopa para dos")
    spanish = set(codes.wordlist("es"))
    assert code.startswith(f"{post_id}-") and all(word in spanish for word in words_of(code))
    assert opens(app.test_client, code, post_id)
    # Typed in capitals with spaces, as read aloud: the same words.
    assert opens(app.test_client, code.upper().replace("-", " "), post_id)


def test_an_arabic_page_gives_arabic_words_typed_in_any_common_spelling(app):
    post_id, code = speaking(app.test_client(), "ar").create(title="شوربة")
    arabic = set(codes.wordlist("ar"))
    assert all(word in arabic for word in words_of(code))
    assert all(any(ord(c) in ARABIC_LETTERS for c in word) for word in words_of(code))
    ticket_words = words_of(code)
    assert opens(app.test_client, code, post_id)
    # A phone's keyboard: bare alef for أ/إ/آ, ه for ة, ي for ى, a tatweel, the Arabic comma.
    plain = "،".join(w.replace("أ", "ا").replace("إ", "ا").replace("آ", "ا").replace("ة", "ه").replace("ى", "ي")
                     for w in ticket_words)
    assert opens(app.test_client, f"{post_id} {plain}", post_id)
    # With tashkeel and tatweel, and the number typed last (the order an RTL field shows).
    fancy = " ".join(w[0] + "\u064e" + "\u0640" + w[1:] for w in ticket_words)
    assert opens(app.test_client, f"{fancy} {post_id.lower()}", post_id)


def test_a_typed_alef_with_hamza_opens_a_word_spelled_with_bare_alef(app):
    # Both sides fold: a list word written with ا opens when a visitor types أ.
    with_alef = next(w for w in codes.wordlist("ar") if w.startswith("ا"))
    assert codes.split_ticket_code(f"K7Q2M {'أ' + with_alef[1:]} ب ت ث")[1].split("-")[0] == codes.fold(with_alef)


def test_old_english_codes_still_open_and_mixed_lists_are_refused(app):
    post_id, code = speaking(app.test_client(), "en").create()
    english = set(codes.wordlist("en"))
    assert all(word in english for word in words_of(code))
    assert opens(app.test_client, code, post_id)
    # Folding changes nothing in an English code: it is hashed as it always was.
    assert codes.split_ticket_code(code)[1] == "-".join(words_of(code)) == codes.secret_key("-".join(words_of(code)))
    # Two of the words swapped for Spanish ones: refused like any wrong code.
    spanish = codes.wordlist("es")
    mixed = "-".join([post_id, *words_of(code)[:2], spanish[0], spanish[1]])
    wrong = speaking(app.test_client(), "en").unlock(mixed)
    assert wrong.status_code == 403
    also_wrong = speaking(app.test_client(), "en").unlock(f"{post_id}-apple-apple-apple-apple")
    message = 'id="code-error" role="alert">'
    assert (wrong.get_data(as_text=True).split(message)[1].split("<")[0]
            == also_wrong.get_data(as_text=True).split(message)[1].split("<")[0])


def test_a_reply_made_on_an_arabic_page_gets_an_arabic_code_that_opens_it(app):
    post_id, _ = speaking(app.test_client(), "en").create()
    reply_id, code = reply_to(speaking(app.test_client(), "ar"), post_id)
    assert all(word in set(codes.wordlist("ar")) for word in words_of(code))
    english = speaking(app.test_client(), "en")
    assert english.unlock(code).status_code == 303


def test_word_lists_are_big_distinct_plain_and_fold_to_themselves():
    for lang in ("en", "es", "ar"):
        words = codes.wordlist(lang)
        assert len(set(words)) == len(words) >= 1024
        assert len({codes.fold(w) for w in words}) == len(words), lang  # distinct once typed plainly
        assert codes.CODE_WORDS * math.log2(len(words)) >= 40, lang
        assert all(codes.split_ticket_code(f"K7Q2M {w} {w} {w} {w}") == ("K7Q2M", "-".join([codes.fold(w)] * 4))
                   for w in words), lang  # one word each, never split by a separator
    # Spanish as any keyboard types it; English and Spanish fold to themselves.
    for lang in ("en", "es"):
        assert all(w.isascii() and w.isalpha() and w == codes.fold(w) and 3 <= len(w) <= 9 for w in codes.wordlist(lang))
    # Arabic: letters only (no tashkeel, no tatweel), short.
    assert all(all(ord(c) in ARABIC_LETTERS and c != "\u0640" for c in w) and 2 <= len(w) <= 6
               for w in codes.wordlist("ar"))
    # A language without a list of its own gets English words.
    assert codes.wordlist("fr") == codes.wordlist("en")


def test_codes_of_each_language_split_whatever_the_separator():
    for raw in ("K7Q2M-uno-dos-tres-cuatro", "k7q2m uno, dos; tres / cuatro", "K7Q2M–uno dos tres cuatro"[:0] or
                "K7Q2M_uno.dos:tres cuatro"):
        assert codes.split_ticket_code(raw) == ("K7Q2M", "uno-dos-tres-cuatro"), raw
    assert codes.split_ticket_code("K7Q2M-uno-dos-tres") is None
    assert codes.split_ticket_code("unodostrescuatro K7Q2M") is None


# -- pseudonyms ---------------------------------------------------------------------------------


def test_the_same_post_shows_its_pseudonym_in_each_viewers_language(app):
    post_id, _ = speaking(app.test_client(), "en").create()
    store = app.extensions["kiosk"].store
    store.update_post(post_id, {"alias": ["quiet", "heron"], "pseudonym": "Quiet Heron"})
    pages = {lang: speaking(app.test_client(), lang).client.get(f"/p/{post_id}").get_data(as_text=True)
             for lang in ("en", "es", "ar")}
    assert "Quiet Heron" in pages["en"]
    assert "Garza Tranquila" in pages["es"] and "Quiet Heron" not in pages["es"]
    assert "مالك الحزين الهادئ" in pages["ar"]
    store.update_post(post_id, {"alias": ["quiet", "fox"], "pseudonym": "Quiet Fox"})
    assert "Zorro Tranquilo" in speaking(app.test_client(), "es").client.get(f"/p/{post_id}").get_data(as_text=True)
    board = speaking(app.test_client(), "ar").client.get("/board").get_data(as_text=True)
    assert "الثعلب الهادئ" in board


def test_new_posts_and_replies_store_their_pseudonyms_parts(app):
    post_id, _ = speaking(app.test_client(), "es").create()
    reply_to(speaking(app.test_client(), "ar"), post_id)
    post = app.extensions["kiosk"].store.get_post(post_id)
    for record in (post, post["replies"][0]):
        adjective, animal = record["alias"]
        assert record["pseudonym"] == f"{adjective.capitalize()} {animal.capitalize()}"
    ticket_page = speaking(app.test_client(), "es").client.get(f"/p/{post_id}").get_data(as_text=True)
    assert aliases.alias_text(post, "es") in ticket_page


def test_old_records_without_parts_render_from_their_english_text_or_as_stored(app):
    post_id, _ = speaking(app.test_client(), "en").create()
    store = app.extensions["kiosk"].store
    store.update_post(post_id, {"alias": None, "pseudonym": "Quiet Heron"})
    assert "Garza Tranquila" in speaking(app.test_client(), "es").client.get(f"/p/{post_id}").get_data(as_text=True)
    store.update_post(post_id, {"pseudonym": "Wandering Albatross Of Elm"})
    page = speaking(app.test_client(), "es").client.get(f"/p/{post_id}").get_data(as_text=True)
    assert "Wandering Albatross Of Elm" in page
    assert aliases.alias_text({"pseudonym": "Nimble Kraken"}, "ar") == "Nimble Kraken"
    assert aliases.alias_text({"alias": ["zany", "kraken"], "pseudonym": "Zany Kraken"}, "es") == "Zany Kraken"


@pytest.mark.parametrize("lang", ["es", "ar"])
def test_every_part_has_a_name_in_each_language(lang):
    animals, adjectives = aliases.TABLES[lang]
    assert set(animals) == {a.lower() for a in codes.ANIMALS}
    assert set(adjectives) == {a.lower() for a in codes.ADJECTIVES}
    assert all(gender in ("m", "f") for _, gender in animals.values())


def test_export_and_merge_keep_the_parts_and_old_backups_without_them_still_merge(make_app, tmp_path):
    there = make_app(NAME="There", DATA_DIR=str(tmp_path / "there"))
    here = make_app(NAME="Here", DATA_DIR=str(tmp_path / "here"))
    their_id, _ = speaking(there.test_client(), "es").create(title="Con partes")
    there_store = there.extensions["kiosk"].store
    alias = there_store.get_post(their_id)["alias"]
    stick = tmp_path / "STICK"
    stick.mkdir()
    made = plain_full_export(there_store, stick, kiosk_name="There")
    store = here.extensions["kiosk"].store
    assert exchange.merge(store, read_backup(made), now=utcnow(), handle="Heron")["added"] == 1
    assert store.get_post(their_id)["alias"] == alias

    # A backup from before pseudonyms had parts: no ``alias`` anywhere, still merged, and shown
    # in Spanish from its English text.
    old_id, _ = speaking(there.test_client(), "en").create(title="Sin partes")
    old_stick = tmp_path / "OLD"
    old_stick.mkdir()
    lines = lines_of(plain_full_export(there_store, old_stick, kiosk_name="There"))
    for post in (line["post"] for line in lines if line["t"] == "post"):
        for record in (post, *(post.get("replies") or ())):
            record.pop("alias", None)
    old = write_backup(tmp_path / "OLDER", lines)
    assert '"alias"' not in (old / "backup.jsonl").read_text("utf-8")
    assert exchange.merge(store, read_backup(old), now=utcnow(), handle="Heron")["added"] == 1
    merged = store.get_post(old_id)
    assert "alias" not in merged and merged["pseudonym"]
    page = speaking(here.test_client(), "es").client.get(f"/p/{old_id}").get_data(as_text=True)
    assert aliases.alias_text(merged, "es") in page and aliases.alias_text(merged, "es") != merged["pseudonym"]


def test_a_loan_lent_from_an_arabic_page_gets_arabic_words_that_open_it_anywhere(team, coord):
    coord.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ar"
    item_id = library_add(coord)
    code = lend_and_read_code(coord, item_id)
    assert all(word in set(codes.wordlist("ar")) for word in words_of(code))
    borrower = speaking(team.test_client(), "en")
    found = borrower.submit("/library/loan", code=code.replace("-", "، "))
    assert found.status_code == 200 and "Cordless drill" in found.get_data(as_text=True)
