"""Posting in steps (issue 17): on the touchscreen one question a screen, each fitting 800x480,
in under 12 taps beyond the typing, in every language; without JavaScript on a phone one short
form that shows only what applies. Real Chromium, real servers (the fixtures of
test_browser.py). Each step's screenshot lands in tests/artifacts/steps-*.png."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from babel.dates import format_skeleton

from test_browser import (  # noqa: F401
    ARTIFACTS, PHONE, TOUCHSCREEN, browser, kiosk, offer_without_javascript, open_page, phone_site, tap_to_post,
)

LANGS = ["en", "es", "ar"]
STEP = re.compile(r"(\d+)\D+(\d+)")  # "Step 2 of 5", "Paso 2 de 5", "الخطوة 2 من 5"


class Taps:
    """page.tap, counted: what a visitor's finger does, apart from typing."""

    def __init__(self, page):
        self.page, self.count = page, 0

    def __call__(self, selector: str) -> None:
        self.count += 1
        self.page.tap(selector)


def step_of(page) -> tuple[int, int]:
    n, total = STEP.search(page.inner_text("#step-count")).groups()
    return int(n), int(total)


def fits_the_screen(page, name: str) -> None:
    """No vertical scroll at 800x480 (the keyboard closed), and a screenshot to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"steps-{name}.png"), full_page=True)
    height = page.evaluate("document.scrollingElement.scrollHeight")
    assert height <= 482, (name, height)


def typed_field_above_keyboard(page, selector: str) -> bool:
    return page.evaluate("""s => { const f = document.querySelector(s).getBoundingClientRect();
        const k = document.getElementById('osk').getBoundingClientRect();
        return f.top >= 0 && f.bottom <= k.top; }""", selector)


def choose_language(tap, page, base: str, lang: str) -> None:
    page.goto(base + "/")
    if lang != "en":
        tap(f"button[name=lang][value={lang}]")
        page.wait_for_selector(f"html[lang={lang}]")


def tile_text(page, name: str, value: str) -> str:
    return page.inner_text(f"label.tile:has(input[name={name}][value='{value}'])").strip()


@pytest.mark.parametrize("lang", LANGS)
def test_a_need_by_touch_in_each_language(kiosk, open_page, lang):  # noqa: F811
    page = open_page(kiosk.url, **TOUCHSCREEN)
    tap = Taps(page)
    choose_language(tap, page, kiosk.url, lang)
    tap("a.big.need")
    page.wait_for_selector("#step-count:not([hidden])")
    assert step_of(page) == (1, 5)
    fits_the_screen(page, f"{lang}-1-what")
    food = tile_text(page, "category", "food")
    tap("label.tile:has(input[value=food])")  # a tile moves on by itself, to the title, typing

    assert step_of(page) == (2, 5) and page.is_visible("#osk")
    assert typed_field_above_keyboard(page, "#title")
    page.keyboard.type({"en": "Soup for two", "es": "Sopa para dos", "ar": "حساء لشخصين"}[lang])
    tap(".osk-key[data-action=done]")
    fits_the_screen(page, f"{lang}-2-title")
    tap(".step-nav [data-next]")

    assert step_of(page) == (3, 5)
    fits_the_screen(page, f"{lang}-3-details")
    tap("#details")
    assert typed_field_above_keyboard(page, "#details")
    page.keyboard.type("Friday, vegetarian")
    tap(".osk-key[data-action=done]")
    tap(".step-nav [data-next]")

    assert step_of(page) == (4, 5)
    assert page.is_hidden("#when_date")  # only for "On a date"
    fits_the_screen(page, f"{lang}-4-when")
    week = tile_text(page, "when", "this-week")
    tap("label.tile:has(input[value=this-week])")

    assert step_of(page) == (5, 5)
    fits_the_screen(page, f"{lang}-5-check")
    summary = page.inner_text(".summary")
    assert food in summary and week in summary and "Friday, vegetarian" in summary
    tap(".step-nav button[type=submit]")
    page.wait_for_url(re.compile(r".*/ticket/[A-Z0-9]{5}$"))
    assert tap.count < 12, tap.count
    post_id = page.url.rsplit("/", 1)[1]
    page.goto(kiosk.url + "/board")
    card = page.inner_text(f"a[href='/p/{post_id}']")
    assert food in card and week in card


@pytest.mark.parametrize("lang", LANGS)
def test_a_ride_on_a_date_in_each_language(kiosk, open_page, lang):  # noqa: F811
    page = open_page(kiosk.url, **TOUCHSCREEN)
    choose_language(page.tap, page, kiosk.url, lang)
    page.tap("a.big.offer")
    page.tap("label.tile:has(input[value=transportation])")
    assert step_of(page) == (2, 6)  # the ride has its own step
    page.keyboard.type("Car to the clinic")
    page.tap(".osk-key[data-action=done]")
    page.tap(".step-nav [data-next]")
    page.tap(".step-nav [data-next]")

    assert step_of(page) == (4, 6) and page.is_visible("#ride_from")
    fits_the_screen(page, f"{lang}-ride")
    # Dates and times are named in the page's language, not the browser's.
    soon = dt.date.today() + dt.timedelta(days=3)
    label = page.inner_text(f"#ride_date option[value='{soon.isoformat()}']").strip()
    assert label == format_skeleton("MMMMEEEEd", soon, locale=lang)
    page.select_option("#ride_date", soon.isoformat())
    page.select_option("#ride_time", "09:30")
    page.tap("#ride_from")
    assert typed_field_above_keyboard(page, "#ride_from")
    page.keyboard.type("Library")
    page.tap(".osk-key[data-action=done]")
    page.tap(".step-nav [data-next]")

    assert step_of(page) == (5, 6) and page.is_hidden("#when_date")
    page.tap("label.tile:has(input[value=date])")
    assert page.is_visible("#when_date") and step_of(page) == (5, 6)  # a date still to pick
    page.tap(".step-nav [data-next]")
    assert page.is_visible(".client-error")  # "Pick the date."
    page.select_option("#when_date", soon.isoformat())
    fits_the_screen(page, f"{lang}-when-date")
    page.tap(".step-nav [data-next]")

    assert step_of(page) == (6, 6)
    fits_the_screen(page, f"{lang}-ride-check")
    summary = page.inner_text(".summary")
    assert label in summary and "Library" in summary
    page.tap(".step-nav button[type=submit]")
    page.wait_for_url(re.compile(r".*/ticket/[A-Z0-9]{5}$"))
    post_id = page.url.rsplit("/", 1)[1]
    page.goto(kiosk.url + f"/p/{post_id}")
    assert "Library" in page.inner_text("main")


def test_back_keeps_everything_and_change_returns_to_the_summary(kiosk, open_page):  # noqa: F811
    page = open_page(kiosk.url, **TOUCHSCREEN)
    page.goto(kiosk.url + "/new/request")
    page.tap(".step-nav [data-next]")  # nothing chosen: the step says so and stays
    assert step_of(page) == (1, 5) and page.is_visible(".client-error")
    page.tap("label.tile:has(input[value=childcare])")
    page.keyboard.type("After school")
    page.tap(".osk-key[data-action=done]")
    page.tap(".step-nav [data-next]")
    page.tap(".step-nav [data-back]")
    page.tap(".step-nav [data-back]")
    assert step_of(page) == (1, 5)
    assert page.is_checked("input[value=childcare]")
    page.go_forward()  # the browser's own Forward and Back go a step too
    assert step_of(page) == (2, 5)
    page.go_back()
    assert step_of(page) == (1, 5)
    page.tap(".step-nav [data-next]")
    assert page.input_value("#title") == "After school"
    page.tap(".osk-key[data-action=done]")
    for _ in range(3):
        page.tap(".step-nav [data-next]")
    assert step_of(page) == (5, 5)
    page.tap(".summary-row[data-part=title] [data-goto]")
    assert step_of(page) == (2, 5)
    page.keyboard.type(" on Tuesdays")
    page.tap(".osk-key[data-action=done]")
    page.tap(".step-nav [data-next]")
    assert step_of(page) == (5, 5)  # straight back to "check and post"
    assert "After school on Tuesdays" in page.inner_text(".summary")


def test_ride_and_date_fields_show_only_where_they_apply(kiosk, phone_site, open_page):  # noqa: F811
    plain = open_page(phone_site.url, java_script_enabled=False, **PHONE)
    plain.goto(phone_site.url + "/new/offer")
    assert plain.is_hidden("#ride_from") and plain.is_hidden("#when_date")
    plain.check("input[name=category][value=transportation]")
    assert plain.is_visible("#ride_date") and plain.is_visible("#ride_from")
    plain.check("input[name=category][value=food]")
    assert plain.is_hidden("#ride_from")
    plain.check("input[name=when][value=date]")
    assert plain.is_visible("#when_date")
    plain.check("input[name=when][value=today]")
    assert plain.is_hidden("#when_date")
    plain.check("input[name=when][value^='2'] >> nth=0")  # a day of the coming week, as its own tile
    assert plain.is_hidden("#when_date")

    page = open_page(kiosk.url, **TOUCHSCREEN)
    page.goto(kiosk.url + "/new/offer")
    page.tap("label.tile:has(input[value=food])")
    page.keyboard.type("Bread")
    page.tap(".osk-key[data-action=done]")
    for _ in range(2):
        assert page.is_hidden("#ride_from")
        page.tap(".step-nav [data-next]")
    assert page.is_hidden("#ride_from") and page.is_hidden("#when_date")  # "when", no ride step
    page.tap("label.tile:has(input[value=date])")
    assert page.is_visible("#when_date")
    page.tap("label.tile:has(input[name=when][value^='2']) >> nth=0")  # the next days: one tap each
    assert step_of(page) == (5, 5) and "Tomorrow" in page.inner_text(".summary")
    page.tap(".step-nav button[type=submit]")
    page.wait_for_url(re.compile(r".*/ticket/[A-Z0-9]{5}$"))


def test_a_phone_without_javascript_posts_in_spanish_on_a_date(phone_site, open_page):  # noqa: F811
    page = open_page(phone_site.url, java_script_enabled=False, **PHONE)
    page.goto(phone_site.url + "/board")
    page.click("footer button[name=lang][value=es]")
    page.wait_for_selector("html[lang=es]")
    page.goto(phone_site.url + "/new/request")
    assert page.is_hidden("#step-count")  # one short form
    page.check("input[name=category][value=home-repairs]")
    page.fill("#title", "Arreglar una ventana")
    page.check("input[name=when][value=date]")
    soon = dt.date.today() + dt.timedelta(days=5)
    assert page.inner_text(f"#when_date option[value='{soon}']").strip() == format_skeleton("MMMMEEEEd", soon, locale="es")
    page.select_option("#when_date", soon.isoformat())
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "steps-phone-nojs-es.png"), full_page=True)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/ticket/[A-Z0-9]{5}$"))
    assert page.inner_text(".claim-code")
    post_id = page.url.rsplit("/", 1)[1]
    page.goto(phone_site.url + f"/p/{post_id}")
    assert "Arreglar una ventana" in page.inner_text("h1")


def test_contact_details_without_javascript_keep_what_was_typed(phone_site, open_page):  # noqa: F811
    page = open_page(phone_site.url, java_script_enabled=False, **PHONE)
    offer_without_javascript(page, phone_site.url, "translation", "Arabic and French", "Call me at 555 123 4567")
    page.wait_for_selector(".warning")
    assert "phone number" in page.inner_text(".warning")
    assert page.input_value("#title") == "Arabic and French"
    assert page.input_value("#details") == "Call me at 555 123 4567"
    assert page.is_checked("input[value=translation]")
    page.fill("#details", "Evenings")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/ticket/[A-Z0-9]{5}$"))


@pytest.fixture
def refused_page(browser):  # noqa: F811
    """A touchscreen page where the server's 422 answers are expected (open_page fails on them)."""
    context = browser.new_context(**TOUCHSCREEN)
    errors = []
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, errors


def test_the_servers_objection_opens_its_step(kiosk, refused_page):  # noqa: F811
    page = refused_page
    page.goto(kiosk.url + "/new/request")
    page.tap("label.tile:has(input[value=transportation])")
    page.keyboard.type("write to me@example.org")
    page.tap(".osk-key[data-action=done]")
    page.tap(".step-nav [data-next]")
    page.tap(".step-nav [data-next]")
    page.tap("#ride_from")  # a ride without its date
    page.keyboard.type("Market")
    page.tap(".osk-key[data-action=done]")
    for _ in range(2):
        page.tap(".step-nav [data-next]")
    page.tap(".step-nav button[type=submit]")
    page.wait_for_selector(".error-summary")
    assert step_of(page) == (4, 6) and page.is_visible("#ride_date-error")  # "A ride needs its date."
    assert page.input_value("#ride_from") == "Market"
    page.select_option("#ride_date", (dt.date.today() + dt.timedelta(days=1)).isoformat())
    for _ in range(2):
        page.tap(".step-nav [data-next]")
    page.tap(".step-nav button[type=submit]")
    # Then the e-mail in the title: the warning shows at the title's step, with the title.
    page.wait_for_selector(".warning")
    assert step_of(page) == (2, 6)
    assert page.is_visible("section[data-step=title] .warning") and page.is_visible("#title")
    assert page.input_value("#title") == "write to me@example.org"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "steps-en-contact-warning.png"), full_page=True)
    page.tap("#title")
    for _ in range(len("me@example.org")):
        page.tap(".osk-key[data-action=backspace]")
    page.keyboard.type("me here")
    page.tap(".osk-key[data-action=done]")
    tap_to_post(page)
    page.wait_for_url(re.compile(r".*/ticket/[A-Z0-9]{5}$"))


def test_editing_starts_at_the_summary(kiosk, open_page):  # noqa: F811
    page = open_page(kiosk.url, **TOUCHSCREEN)
    page.goto(kiosk.url + "/new/offer")
    page.tap("label.tile:has(input[value=companionship])")
    page.keyboard.type("Tea and a chat")
    page.tap(".osk-key[data-action=done]")
    tap_to_post(page)
    code = page.inner_text(".claim-code")
    page.evaluate("document.body.removeAttribute('data-leave-ticket')")  # no "did you save it?" here
    page.goto(kiosk.url + "/mine")
    page.fill("#code", code)
    page.click("button[type=submit]")
    page.click("text=Change it")
    page.wait_for_selector(".step-check:not([hidden])")
    assert "Tea and a chat" in page.inner_text(".summary")
    page.tap(".summary-row[data-part=when] [data-goto]")
    page.tap("label.tile:has(input[value=flexible])")
    assert "Flexible" in page.inner_text(".summary")
    page.tap(".step-nav button[type=submit]")
    page.wait_for_selector("text=Your changes are saved.")
