"""Issue 17: coordinators give the community agreements and each category a version per offered
language; a reader whose language has none sees another one, marked with its language (and,
for the agreements, a note that says so)."""

from __future__ import annotations

import re

import pytest

from kiosk.core.times import utcnow
from kiosk.web import audit

from backups import plain_full_export, read_backup
from conftest import Visitor, csrf_token
from test_coordinate import act, team, coord, trail_actions  # noqa: F401  (fixtures)

ENGLISH = "# Our rules\n- Be kind\n- Bring a bag"
SPANISH = "# Nuestras reglas\n- Sé amable\n- Trae una bolsa"


def page(app, url: str, lang: str) -> str:
    """A reader who never got a cookie, whose browser asks for ``lang``."""
    return app.test_client(use_cookies=False).get(url, headers={"Accept-Language": lang}).get_data(as_text=True)


def agreements_block(html: str) -> str:
    return re.search(r'<div class="agreements"[^>]*>.*?</div>', html, re.S).group(0)


def write_agreements(coord: Visitor, **texts):
    """The edit page as a browser sends it: every box, as shown, with the changes typed in."""
    shown = coord.client.get("/coordinate/agreements").get_data(as_text=True)
    boxes = dict(re.findall(r'<textarea id="body_(\w+)"[^>]*>\n?(.*?)</textarea>', shown, re.S))
    fields = {f"body_{lang}": unescape(body) for lang, body in boxes.items()}
    fields.update({f"body_{lang}": body for lang, body in texts.items() if lang != "keep"})
    return act(coord, "/coordinate/agreements", **fields, **({"keep": texts["keep"]} if "keep" in texts else {}))


def unescape(html: str) -> str:
    import html as html_module

    return html_module.unescape(html)


def test_an_arabic_reader_sees_one_written_version_with_a_note_a_spanish_reader_their_own(team, coord):
    assert write_agreements(coord, en=ENGLISH, es=SPANISH).status_code == 303

    spanish = page(team, "/how-it-works", "es")
    assert "Nuestras reglas" in spanish and "Our rules" not in spanish
    assert 'id="agreements-language"' not in spanish  # no note: it is their language
    assert 'lang="es" dir="ltr"' in agreements_block(spanish)

    arabic = page(team, "/how-it-works", "ar")
    block = agreements_block(arabic)
    assert "<h2>Our rules</h2>" in block and 'lang="en" dir="ltr"' in block  # the default language's first
    note = re.search(r'<p class="notice" id="agreements-language">(.*?)</p>', arabic, re.S).group(1)
    assert "غير متوفر" in note and '<span lang="ar">العربية</span>' in note and 'lang="en"' in note
    assert '<html lang="ar" dir="rtl"' in arabic

    english = page(team, "/how-it-works", "en")
    assert "Our rules" in english and 'id="agreements-language"' not in english
    assert ("Heron", "agreements") in trail_actions(team)
    entry = audit.trail(team.extensions["kiosk"].store)[0]
    assert entry["action"] == "agreements" and entry["target"] == "en, es"


def test_the_shipped_texts_show_until_someone_writes_then_never_contradict_the_written_one(team, coord):
    assert "Cómo pedir" in page(team, "/how-it-works", "es")  # the shipped Spanish text
    write_agreements(coord)  # saved as shown: nothing was written
    assert "Cómo pedir" in page(team, "/how-it-works", "es") and not team.extensions["kiosk"].store.get_meta("agreements")

    # Only the English box changed: the Spanish shipped text may now say something else, so a
    # Spanish reader sees the new English rules, with the note.
    write_agreements(coord, en=ENGLISH)
    spanish = page(team, "/how-it-works", "es")
    assert "Our rules" in spanish and "Cómo pedir" not in spanish
    assert "Este texto aún no está disponible en" in spanish
    edit = coord.client.get("/coordinate/agreements").get_data(as_text=True)
    assert "Not written yet: readers in this language see the English text" in edit
    assert re.search(r'<textarea id="body_ar"[^>]*lang="ar" dir="rtl"', edit)

    # Ticking "use it as it is" keeps a language's shipped text; emptying every box goes back.
    write_agreements(coord, keep="es")
    assert "Cómo pedir" in page(team, "/how-it-works", "es")
    assert "Our rules" in page(team, "/how-it-works", "ar")
    write_agreements(coord, en="", es="", ar="")
    assert "How to ask" in page(team, "/how-it-works", "en") and "كيف تطلب" in page(team, "/how-it-works", "ar")


def test_agreements_stored_as_one_text_by_older_versions_still_show(team, coord):
    store = team.extensions["kiosk"].store
    store.set_meta("agreements", "# Old rules\n- ask")  # how versions before this one kept them
    assert "<h2>Old rules</h2>" in page(team, "/how-it-works", "en")
    spanish = page(team, "/how-it-works", "es")
    assert "<h2>Old rules</h2>" in spanish and "se muestra en" in spanish  # the default language's text
    edit = coord.client.get("/coordinate/agreements").get_data(as_text=True)
    assert re.search(r'<textarea id="body_en"[^>]*>\n?# Old rules', edit)
    write_agreements(coord, es=SPANISH)
    assert store.get_meta("agreements") == {"en": "# Old rules\n- ask", "es": SPANISH}


@pytest.mark.parametrize("fields,message", [
    ({"body_es": "x" * 10_001}, "Use at most 10000 characters; this has 10001."),
    ({"body_ar": "قواعد\u202e"}, "Remove the invisible control characters"),
    ({"body_en": "ok\x00"}, "Remove the invisible control characters"),
    ({"body_en": ["one", "two"]}, "Send this field only once."),
])
def test_bad_agreements_are_refused_and_nothing_is_stored(team, coord, fields, message):
    write_agreements(coord, en=ENGLISH)
    store = team.extensions["kiosk"].store
    before, logged = store.get_meta("agreements"), len(audit.trail(store))
    response = act(coord, "/coordinate/agreements", **{"body_en": "# Changed", **fields})
    assert response.status_code == 422
    shown = response.get_data(as_text=True)
    assert message in shown and 'aria-invalid="true"' in shown
    assert "body_en" in fields or "# Changed" in shown  # what was typed stays
    assert store.get_meta("agreements") == before and len(audit.trail(store)) == logged


def add_category(coord: Visitor, **labels):
    return act(coord, "/coordinate/settings/category", action="add",
               **{f"label_{lang}": label for lang, label in labels.items()})


def test_a_category_shows_its_name_in_each_language_on_the_board_and_the_form(team, coord):
    assert add_category(coord, en="Pet care", es="Cuidado de mascotas", ar="رعاية الحيوانات").status_code == 303
    Visitor(team.test_client()).create(category="pet-care", title="Walk my dog")
    for lang, name in (("en", "Pet care"), ("es", "Cuidado de mascotas"), ("ar", "رعاية الحيوانات")):
        form = page(team, "/new/request", lang)
        assert re.search(rf'value="pet-care"[^>]*> <span>{name}</span>', form), lang
        board = page(team, "/board", lang)
        assert f'category=pet-care" >{name}</a>' in board and f'<span class="cat">{name}</span>' in board
        assert f"<td>{name}</td>" in page(team, "/stats", lang)
    assert trail_actions(team).count(("Heron", "category")) == 1


def test_a_name_in_the_default_language_only_shows_on_the_arabic_page_marked_english(team, coord):
    add_category(coord, en="Bikes")
    post_id, _ = Visitor(team.test_client()).create(category="bikes", title="A pump")
    marked = '<span lang="en" dir="ltr">Bikes</span>'
    assert marked in page(team, "/new/request", "ar") and marked in page(team, "/board", "ar")
    assert marked in page(team, f"/p/{post_id}", "ar")
    assert marked not in page(team, "/board", "en") and "Bikes" in page(team, "/board", "en")
    # A renamed built-in follows the same rule; renamed back, its translations return.
    act(coord, "/coordinate/settings/category", action="rename", slug="food", label_en="Meals", label_es="",
        label_ar="")
    assert '<span lang="en" dir="ltr">Meals</span>' in page(team, "/board", "es")
    act(coord, "/coordinate/settings/category", action="rename", slug="food", label_en="Food", label_es="Comida",
        label_ar="طعام")
    assert "Comida" in page(team, "/board", "es") and "categories" not in str(
        team.extensions["kiosk"].store.get_meta("settings").get("categories", {}).get("food", {}))


def test_a_category_named_once_by_an_older_version_still_shows(team, coord):
    store = team.extensions["kiosk"].store
    settings = store.get_meta("settings", {})
    store.set_meta("settings", {**settings, "categories": {"pet-care": {"label": "Pet care"},
                                                           "food": {"label": "Food and groceries"}}})
    post_id, _ = Visitor(team.test_client()).create(category="pet-care", title="Walk my dog")
    assert "Pet care" in page(team, f"/p/{post_id}", "en") and '<span lang="en" dir="ltr">Pet care</span>' in page(
        team, "/board", "ar")
    assert '<span lang="en" dir="ltr">Food and groceries</span>' in page(team, "/new/request", "es")
    # Renamed in Spanish too: the old single name is kept as the English one.
    act(coord, "/coordinate/settings/category", action="rename", slug="pet-care", label_es="Mascotas")
    assert store.get_meta("settings")["categories"]["pet-care"] == {"labels": {"en": "Pet care", "es": "Mascotas"}}


@pytest.mark.parametrize("fields,message", [
    ({"label_en": ""}, "Write the category's name in English."),
    ({"label_en": "x" * 41}, "Use at most 40 characters; this has 41."),
    ({"label_en": "Pets", "label_es": "Mascotas\u200b"}, "Remove the invisible control characters"),
    ({"label_en": "Pets", "label_ar": "حيوانات\nأليفة"}, "Keep this to one line."),
    ({"label_en": "Pets", "label_es": "Comida"}, "That category exists already."),
    # Look-alikes of a category's name: full-width letters, a joiner inside, doubled spaces.
    ({"label_en": "Ｆｏｏｄ"}, "That category exists already."),
    ({"label_en": "Fo\u200dod"}, "That category exists already."),
    ({"label_en": "Tools  and   items"}, "That category exists already."),
])
def test_bad_category_names_are_refused_and_nothing_is_stored(team, coord, fields, message):
    store = team.extensions["kiosk"].store
    before, logged = store.get_meta("settings"), len(audit.trail(store))
    response = act(coord, "/coordinate/settings/category", action="add", **fields)
    assert response.status_code == 422
    shown = response.get_data(as_text=True)
    assert message in shown and 'aria-invalid="true"' in shown
    assert store.get_meta("settings") == before and len(audit.trail(store)) == logged
    assert "pets" not in page(team, "/new/request", "en")


def test_a_backup_keeps_every_version_and_restores_old_ones(team, coord, tmp_path, make_app):
    write_agreements(coord, en=ENGLISH, es=SPANISH)
    add_category(coord, en="Pet care", es="Cuidado de mascotas")
    store = team.extensions["kiosk"].store
    (tmp_path / "stick").mkdir()
    (tmp_path / "stick2").mkdir()
    made = plain_full_export(store, tmp_path / "stick", kiosk_name="Elm")

    # Another kiosk of an older version: one text, one name. Restoring our backup brings ours.
    other = make_app(DATA_DIR=str(tmp_path / "other"))
    theirs = other.extensions["kiosk"].store
    theirs.set_meta("agreements", "# Their rules")
    from kiosk.web import exchange

    exchange.restore(theirs.data_dir, read_backup(made), now=utcnow(), handle="Heron", store=theirs)
    assert theirs.get_meta("agreements") == {"en": ENGLISH, "es": SPANISH}
    assert theirs.get_meta("settings")["categories"]["pet-care"]["labels"]["es"] == "Cuidado de mascotas"
    assert "Nuestras reglas" in page(other, "/how-it-works", "es")
    assert "Cuidado de mascotas" in page(other, "/new/request", "es")

    # A backup an older version made (one text, one name) restores and shows.
    theirs.set_meta("agreements", "# Their rules")
    theirs.set_meta("settings", {"categories": {"bikes": {"label": "Bikes"}}})
    old = plain_full_export(theirs, tmp_path / "stick2", kiosk_name="Oak")
    exchange.restore(store.data_dir, read_backup(old), now=utcnow(), handle="Heron", store=store)
    assert "<h2>Their rules</h2>" in page(team, "/how-it-works", "es")
    assert '<span lang="en" dir="ltr">Bikes</span>' in page(team, "/new/request", "ar")


def offer_languages(coord: Visitor, *languages: str):
    fields = {"NAME": "Elm", "PUBLIC_URL": "http://aid.lan", "EXPIRE_DAYS": "30", "RETAIN_DAYS": "30"}
    token = csrf_token(coord.client, "/coordinate/settings")
    response = coord.client.post("/coordinate/settings", data={"csrf_token": token, **fields,
                                                               "LANGUAGES": list(languages)})
    assert response.status_code == 303


def test_a_text_in_a_language_no_longer_offered_never_shows_and_emptying_the_boxes_goes_back(team, coord):
    """Arabic written once, then no longer offered: its text cannot be edited or removed any
    more (the form has a box per offered language), so it must not stand in for the others."""
    write_agreements(coord, en=ENGLISH, ar="# قواعدنا\n- كن لطيفًا")
    offer_languages(coord, "en", "es")
    assert "قواعدنا" not in page(team, "/how-it-works", "es") and "Our rules" in page(team, "/how-it-works", "es")
    write_agreements(coord, en="", es="")  # back to the shipped texts
    english, spanish = page(team, "/how-it-works", "en"), page(team, "/how-it-works", "es")
    assert "How to ask" in english and "قواعدنا" not in english
    assert "Cómo pedir" in spanish and "قواعدنا" not in spanish
    offer_languages(coord, "en", "es", "ar")  # offered again: the Arabic text was kept
    assert "قواعدنا" in page(team, "/how-it-works", "ar")
