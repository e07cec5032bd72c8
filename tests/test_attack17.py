"""Issue 17 attacked as a hostile neighbor and a careless volunteer would: codes typed with
Unicode tricks, forged posting forms, crafted texts per language, forged roster forms."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk.core import codes

from conftest import Visitor, unlock_coordinator, add_coordinator


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
