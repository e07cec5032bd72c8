"""Every page of the README's URL table, in Debian's Chromium at the touchscreen's 800x480 and a
phone's 360x740, in English, Spanish and Arabic: no page scrolls sideways, no text is cut off,
no word is broken inside, no chart's text leaves its SVG and no number sits on a bar.
Screenshots go to tests/artifacts/layouts/ for people to look at.

The browser test is marked slow. A new row in the README's "Pages" table fails this test until it is covered here (ROWS) or
skipped with a reason (SKIPPED)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from conftest import COORD_PASSPHRASE, Visitor, add_coordinator, claim_code, csrf_token
from server import KioskServer
from test_browser import CHROMIUM, sync_playwright

README = Path(__file__).resolve().parents[1] / "README.md"
SHOTS = Path(__file__).resolve().parent / "artifacts" / "layouts"
SIZES = {
    "touch": {"viewport": {"width": 800, "height": 480}, "has_touch": True},
    "phone": {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True},
}
LANGS = ("en", "es", "ar")

# Two real Syncthing device ids, for kiosks paired on /coordinate/network.
PEER_ID = "SGJF64Z-C6LW65X-GT7QWWP-GS6SPFR-6L4IA6H-PYUSMNG-TXVQP4E-2M5L6QI"
OTHER_PEER_ID = "LYXKCHX-VI3NYZR-ALCJBHF-WMZYSPK-QG6QJA3-MPFYMSO-U56GTUK-NA2MIAW"

# README rows that are not a page to look at, and why.
SKIPPED = {
    "`/p/<id>/qr.svg`": "an SVG image, no page (its text-free QR is checked in test_qr.py)",
    "`/mine/thanks`": "POST only; its form is on /mine of a fulfilled post (covered as mine-fulfilled)",
    "`/mine/done`": "POST only",
    "`/coordinate/posts/<id>/hide`, `.../restore`": "POST only; the hide form is in the queue (covered)",
    "`/coordinate/reports/<n>/dismiss`, `/coordinate/thanks/<n>/approve` or `/reject`": "POST only",
    "`/coordinate/lock`": "POST only",
    "`/lang`": "POST only",
    "`/reset`": "POST only",
    "`/ticket/<id>/print`": "POST only",
    "`/generate_204`, `/hotspot-detect.html`, `/connecttest.txt`, `/ncsi.txt`, ...": "redirects to the start page",
    "`/healthz`": "JSON for the deploy scripts",
}


def readme_rows() -> list[str]:
    """The first cell of every row of the README's "Pages" table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Pages", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| `")]
    assert rows, "no URL table under ## Pages in README.md"
    return rows


# -- the kiosk's data: something on every page ----------------------------------------------------


def _created(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response.headers["Location"].rsplit("/", 1)[1]


def _post(client, kind="request", **fields) -> tuple[str, str]:
    person = Visitor(client)
    post_id = _created(person.post(kind, **fields))
    code = claim_code(client.get(f"/ticket/{post_id}").get_data(as_text=True))
    return post_id, code


def _reply(app, post_id: str, message: str) -> tuple[str, str]:
    client = app.test_client()
    response = Visitor(client).submit(f"/p/{post_id}/reply", message=message, available="Saturday mornings")
    reply_id = _created(response)
    return reply_id, claim_code(client.get(f"/ticket/{reply_id}").get_data(as_text=True))


def _seed_board(app, coord: Visitor) -> dict:
    today = dt.date.today()
    ids = {}
    long_words = [("transportation", "Ride to the hospital for an appointment"),
                  ("companionship", "Companionship for an afternoon walk"),
                  ("tools-and-items", "Herramientas para arreglar una bicicleta"),
                  ("home-repairs", "Dripping tap in the kitchen"),
                  ("translation", "ترجمة رسالة من المدرسة"), ("childcare", "Childcare on Saturday")]
    for category, title in long_words:
        _post(app.test_client(), "offer", category=category, title=title, details="Any day after five.")
    ids["post"], ids["post_code"] = _post(
        app.test_client(), "request", category="transportation", title="Viaje a la clínica el jueves",
        details="Cita a las diez, no puedo caminar lejos.", area="Cerca de la escuela", when="this-week",
        ride_date=(today + dt.timedelta(days=3)).isoformat(), ride_time="09:30",
        ride_from="Plaza del mercado", ride_to="Clínica del norte")
    ids["reply"], _ = _reply(app, ids["post"], "Puedo llevarte, tengo coche.")
    matched, matched_code = _post(app.test_client(), "offer", category="food", title="Fresh bread on Saturday")
    ids["matched_code"] = matched_code
    replier_id, replier_code = _reply(app, matched, "I would love a loaf for my family, thank you!")
    poster = Visitor(app.test_client())
    poster.unlock(matched_code)
    assert poster.submit(f"/mine/replies/{replier_id}/accept", form_url="/mine").status_code == 303
    poster.submit("/mine/thread", message="See you at the center at ten?")
    replier = Visitor(app.test_client())
    replier.unlock(replier_code)
    replier.submit("/mine/thread", message="Yes, at ten. Gracias.")
    ids["matched_reply"] = replier_id
    done, ids["done_code"] = _post(app.test_client(), "request", category="home-repairs", title="Shelf fell down")
    finisher = Visitor(app.test_client())
    finisher.unlock(ids["done_code"])
    finisher.submit("/mine/fulfil", form_url="/mine")
    finisher.submit("/mine/thanks", form_url="/mine", thanks="Thank you, neighbours, the shelf is back up!")
    reported, _ = _post(app.test_client(), "offer", category="other", title="Cheap watches, call me")
    Visitor(app.test_client()).submit(f"/p/{reported}/report", form_url="/mine", reason="spam")
    for n in range(4):  # enough this month for the charts to show numbers, not "fewer than 3"
        _post(app.test_client(), "request", category="food", title=f"Groceries for a family, week {n}")
    return ids


def _seed_programs(app, coord: Visitor) -> dict:
    ids = {}
    soon = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    ids["event"] = _created(coord.submit("/events/new", title="Repair café and food share", kind="food-share",
                                         place="Main hall", date=soon, time="18:00", duration="120",
                                         repeat="weekly", nth="", until=""))
    item = {"name": "Cordless drill", "category": "tools", "condition": "good", "notes": "Two batteries.",
            "kept": "Shelf B"}
    ids["item"] = _created(coord.submit("/library/new", **item))
    ids["lent_item"] = _created(coord.submit("/library/new", **{**item, "name": "Ladder, three metres"}))
    page = coord.client.get(f"/library/{ids['lent_item']}/lend").get_data(as_text=True)
    form = dict(re.findall(r'name="(csrf_token|form_key|due)" (?:type="date" )?value="([^"]*)"', page))
    lent = coord.client.post(f"/library/{ids['lent_item']}/lend", data=form)
    assert lent.status_code == 303, lent.get_data(as_text=True)[:500]
    ids["loan_code"] = claim_code(coord.client.get(lent.headers["Location"]).get_data(as_text=True))
    survey = {"title": "What do we need?", "q1_text": "Which help matters most?", "q1_kind": "single",
              "q1_options": "Food\nChildcare\nRides to appointments", "q2_text": "Which days suit you?",
              "q2_kind": "multiple", "q2_options": "Monday\nWednesday\nSaturday", "q3_text": "Anything else?",
              "q3_kind": "text", "q3_options": ""}
    assert coord.submit("/survey/edit", **survey).status_code == 303
    assert coord.submit("/survey/edit", action="open").status_code == 303
    for n in range(4):
        Visitor(app.test_client()).submit("/survey", q1=str(n % 2), q2=["0", "2"], q3="More rides")
    Visitor(app.test_client()).submit("/check-in", working="The Friday soup!", change="More rides on Sundays")
    return ids


def seed(data) -> dict:
    """Posts in every state, replies, a thread, a gathering, library items, an open survey, a
    check-in and a report in the data folder ``data``, made through the app's own pages."""
    from kiosk import create_app
    from kiosk.core import config

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(config, "SETTINGS_FILE", str(data) + ".no-settings.env")
        app = create_app({"TESTING": True, "DATA_DIR": str(data), "SCRYPT_N": 1024, "PUBLIC_URL": "http://aid.lan"})
        try:
            add_coordinator(app)
            coord = Visitor(app.test_client())
            token = csrf_token(coord.client, "/coordinate")
            coord.client.post("/coordinate", data={"csrf_token": token, "handle": "Heron",
                                                   "passphrase": COORD_PASSPHRASE})
            ids = {**_seed_board(app, coord), **_seed_programs(app, coord)}
            coord.submit("/coordinate/thanks/1/approve", form_url="/coordinate")
            for device, name in ((PEER_ID, "Elm Street Community Center"), (OTHER_PEER_ID, "Oak Hall")):
                coord.submit("/coordinate/network/add", form_url="/coordinate/network", device=device, name=name)
        finally:
            app.extensions["kiosk"].store.close()
    return ids


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    data = tmp_path_factory.mktemp("layouts") / "kiosk"
    return data, seed(data)


# -- the pages of each README row -------------------------------------------------------------
# Each row gives (name, url) pairs; a callable url does what the page needs first and returns it.


def _fresh_ticket(page, base):
    page.goto(base + "/new/offer")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    response = page.request.post(base + "/new/offer", max_redirects=0, form={
        "csrf_token": token, "category": "companionship", "title": "Reading the newspaper together",
        "details": "Tuesdays at the center.", "area": "Community center", "when": "flexible"})
    return response.headers["location"]


def _unlock(code):
    def step(page, base):
        page.goto(base + "/mine")
        token = page.locator("input[name=csrf_token]").first.get_attribute("value")
        page.request.post(base + "/mine", form={"csrf_token": token, "code": code}, max_redirects=0)
        return "/mine"
    return step


def _coordinator(page, base):
    page.goto(base + "/coordinate")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    page.request.post(base + "/coordinate", max_redirects=0, form={
        "csrf_token": token, "handle": "Heron", "passphrase": COORD_PASSPHRASE})
    return "/coordinate"


def _bigger_text(url):
    def step(page, base):  # another font or a larger text setting must not break a tile's word
        page.goto(base + url)
        page.evaluate("document.body.style.letterSpacing = '.1em'")
        return None
    return step


def _open_menu(page, base):
    page.goto(base + "/coordinate/log")
    page.click(".coord-menu summary")
    return None


FIRST_ITEM = """(items) => {
  const h1 = document.querySelector('main h1');
  if (!h1) return null;
  for (const el of document.querySelectorAll(items)) {
    if (el.closest('.coord-nav') || !(h1.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING)) continue;
    if (el.textContent.trim() && el.getBoundingClientRect().height > 0) return el.getBoundingClientRect().bottom;
  }
  return null;
}"""


def first_screen(page) -> list[str]:
    """On the touchscreen the coordinator bar leaves room for the page itself: the first thing
    after the heading (on the queue, its first report's line) ends inside the first 480 px."""
    if page.locator(".coord-menu[open]").count():
        return []
    queue = page.url.endswith("/coordinate") and page.locator("main .meta").count()
    bottom = page.evaluate(FIRST_ITEM, "main .meta" if queue else "main :is(h2, h3, p, li, td, label, dd)")
    return [] if bottom is None or bottom <= 480 else [f"the first item ends at {bottom:.0f} px, below the first screen"]


def _lend(item):
    def step(page, base):
        page.goto(base + f"/library/{item}/lend")
        form = {name: page.locator(f"input[name={name}]").first.get_attribute("value")
                for name in ("csrf_token", "form_key", "due")}
        response = page.request.post(base + f"/library/{item}/lend", form=form, max_redirects=0)
        return response.headers["location"]
    return step


def _give_back(item):
    def step(page, base):  # so that the next visit can lend it again
        token = page.locator("input[name=csrf_token]").first.get_attribute("value")
        page.request.post(base + f"/library/{item}/return", form={"csrf_token": token, "confirm": "yes"})
        return f"/library/{item}"
    return step


def rows(ids: dict) -> dict:
    post, reply, item, event = ids["post"], ids["reply"], ids["item"], ids["event"]
    return {
        "`/`": [("start", "/")],
        "`/board`": [("board", "/board"), ("board-transportation", "/board?category=transportation")],
        "`/new/request`, `/new/offer`": [("new-request", "/new/request"), ("new-offer", "/new/offer"),
                                         ("new-request-larger-text", _bigger_text("/new/request"))],
        "`/ticket/<id>`": [("ticket", _fresh_ticket)],
        "`/p/<id>`": [("post", f"/p/{post}")],
        "`/p/<id>/reply`": [("reply", f"/p/{post}/reply")],
        "`/p/<id>/report`": [("report", f"/p/{post}/report")],
        "`/mine`": [("mine-enter", "/mine"), ("mine", _unlock(ids["post_code"]))],
        "`/mine/edit`, `/mine/fulfil`, `/mine/withdraw`, `/mine/reopen`": [
            ("mine-edit", "/mine/edit"), ("mine-fulfil", "/mine/fulfil"), ("mine-withdraw", "/mine/withdraw")],
        "`/mine/replies/<reply id>/accept`, `.../decline`": [
            ("mine-accept", f"/mine/replies/{reply}/accept"), ("mine-decline", f"/mine/replies/{reply}/decline")],
        "`/mine/report/<reply id>[/<message no>]`": [
            ("mine-report", f"/mine/report/{reply}"), ("mine-matched", _unlock(ids["matched_code"])),
            ("mine-report-message", f"/mine/report/{ids['matched_reply']}/2")],
        "`/mine/thread`": [("mine-thread", "/mine/thread")],
        "`/events`": [("events", "/events")],
        "`/events/<id>`": [("event", f"/events/{event}")],
        "`/library`": [("library", "/library")],
        "`/library/<id>`": [("library-item", f"/library/{item}")],
        "`/library/loan`": [("library-loan", "/library/loan")],
        "`/rides`": [("rides", "/rides")],
        "`/thanks`": [("thanks", "/thanks")],
        "`/check-in`": [("check-in", "/check-in")],
        "`/stats`": [("stats", "/stats")],
        "`/survey`": [("survey", "/survey")],
        "`/survey/results`": [("survey-results", "/survey/results")],
        "`/how-it-works`": [("how-it-works", "/how-it-works")],
        "`/transparency`": [("transparency", "/transparency")],
        "`/flyer`": [("flyer", "/flyer")],
        # A fulfilled post last among the visitor's pages: reopen and the thanks form.
        "(fulfilled)": [("mine-fulfilled", _unlock(ids["done_code"])), ("mine-reopen", "/mine/reopen")],
        # Coordinator pages last: unlocking coordinator mode starts a new session.
        "`/coordinate`": [("coordinate-unlock", "/coordinate"), ("coordinate", _coordinator)],
        "`/coordinate/log`": [("coordinate-log", "/coordinate/log"), ("coordinate-menu", _open_menu)],
        "`/coordinate/roster`": [("coordinate-roster", "/coordinate/roster")],
        "`/coordinate/agreements`": [("coordinate-agreements", "/coordinate/agreements")],
        "`/coordinate/settings`": [("coordinate-settings", "/coordinate/settings")],
        "`/coordinate/export`": [("coordinate-export", "/coordinate/export")],
        "`/coordinate/import`": [("coordinate-import", "/coordinate/import")],
        "`/coordinate/clock`": [("coordinate-clock", "/coordinate/clock")],
        "`/coordinate/team`": [("coordinate-team", "/coordinate/team")],
        # No Syncthing runs here: the page as it is then (the warning first), with paired kiosks.
        "`/coordinate/network`": [("coordinate-network", "/coordinate/network"),
                                  ("coordinate-network-remove", "/coordinate/network/remove?device=" + PEER_ID)],
        "`/survey/edit`": [("survey-edit", "/survey/edit"), ("coordinate-check-ins", "/coordinate/check-ins")],
        "`/library/new`, `/library/<id>/edit`, `.../lend`, `.../lent`, `.../return`": [
            ("library-new", "/library/new"), ("library-edit", f"/library/{item}/edit"),
            ("library-lend", f"/library/{item}/lend"), ("library-lent", _lend(item)),
            ("library-return", f"/library/{item}/return"), ("library-returned", _give_back(item))],
    }


# -- what is wrong on a page, measured in the browser --------------------------------------------

MEASURE = r"""() => {
  const problems = [];
  const vw = document.documentElement.clientWidth;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '');
  // checkVisibility: false inside a closed <details> too, whose content still has boxes.
  const shown = (el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return el.checkVisibility() && r.width > 2 && r.height > 2 && s.visibility !== 'hidden' && s.display !== 'none'; };
  // An element that scrolls on purpose (a wide table in its scroll box) may hold text beyond its edge.
  const scrolls = (el) => { for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
    const o = getComputedStyle(a).overflowX; if (o === 'auto' || o === 'scroll') return true; } return false; };
  if (document.documentElement.scrollWidth > vw + 1)
    problems.push(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${vw}`);
  for (const el of document.body.querySelectorAll('*')) {
    if (!shown(el) || el.closest('svg')) continue;
    const r = el.getBoundingClientRect();
    if (el.children.length === 0 && el.textContent.trim() && (r.right > vw + 1 || r.left < -1) && !scrolls(el))
      problems.push(`off the screen: ${name(el)} "${el.textContent.trim().slice(0, 40)}"`);
    const s = getComputedStyle(el);
    const cuts = (v) => v === 'hidden' || v === 'clip';
    if (!el.textContent.trim() || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName)) continue;
    if ((cuts(s.overflowX) && el.scrollWidth > el.clientWidth + 1) ||
        (cuts(s.overflowY) && el.scrollHeight > el.clientHeight + 1))
      problems.push(`text cut off: ${name(el)} "${el.textContent.trim().slice(0, 40)}"`);
  }
  const WORDS = 'h1, h2, h3, h4, nav a, summary, button, .button, label, th, td, .tile, .pill, legend, dt, .card h3, .claim-code';
  for (const el of document.querySelectorAll(WORDS)) {
    if (!shown(el)) continue;
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.parentElement.closest('svg, .claim-code') && !el.matches('.claim-code')) continue;
      // A hyphen or slash may end a line, except inside a number such as a month, 2026-12.
      for (const m of node.data.matchAll(/\d+(?:[-\/:.]\d+)+|[^\s\-\u2010-\u2015\/\u00b7]+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].filter(b => b.width > 0).map(b => Math.round(b.bottom)));
        if (tops.size > 1) problems.push(`word broken: "${m[0]}" in ${name(el)}`);
      }
    }
  }
  // Someone's words in another direction still line up with a right-to-left page.
  if (getComputedStyle(document.body).direction === 'rtl')
    for (const el of document.querySelectorAll('main [dir=auto]:not(input, textarea, select)')) {
      const s = getComputedStyle(el);
      if (shown(el) && s.display !== 'inline' && s.direction === 'ltr' && ['left', 'start'].includes(s.textAlign))
        problems.push(`left-aligned on a right-to-left page: ${name(el)} "${el.textContent.trim().slice(0, 40)}"`);
    }
  for (const svg of document.querySelectorAll('svg')) {
    if (!shown(svg)) continue;
    const box = svg.getBoundingClientRect();
    const fills = [...svg.querySelectorAll('.bar-fill')].map(b => b.getBoundingClientRect());
    for (const t of svg.querySelectorAll('text')) {
      const b = t.getBoundingClientRect();
      if (b.left < box.left - 1 || b.right > box.right + 1 || b.top < box.top - 1 || b.bottom > box.bottom + 1)
        problems.push(`text outside its svg: "${t.textContent}" in ${name(svg)}`);
      for (const f of fills)
        if (b.left < f.right - 1 && f.left < b.right - 1 && b.top < f.bottom - 1 && f.top < b.bottom - 1)
          problems.push(`text over a bar: "${t.textContent}" in ${name(svg)}`);
    }
  }
  return [...new Set(problems)];
}"""


def visit_all(browser, base: str, size: str, lang: str, pages: dict) -> dict:
    """Every page in one browser context (one visit's session); {page name: problems}."""
    context = browser.new_context(locale=lang, **SIZES[size])
    found, page = {}, context.new_page()
    try:
        for steps in pages.values():
            for name, url in steps:
                if callable(url):
                    url = url(page, base)
                if url is not None:
                    response = page.goto(base + url)
                    assert response.status < 400, f"{url} answered {response.status} ({size}, {lang})"
                    page.wait_for_load_state("load")
                url = url or page.url
                page.screenshot(path=str(SHOTS / f"{name}-{size}-{lang}.png"), full_page=True)
                problems = page.evaluate(MEASURE)
                if size == "touch" and page.locator(".coord-nav").count():
                    problems += first_screen(page)
                if problems:
                    found[f"{name} {url}"] = problems
    finally:
        context.close()
    return found


def test_a_post_says_its_age_as_the_board_does(client, visitor):
    post_id, _ = visitor.create(title="Bread to share")
    board = client.get("/board").get_data(as_text=True)
    page = client.get(f"/p/{post_id}").get_data(as_text=True)
    said = re.search(r'<time datetime="([^"]+)" title="([^"]+)">([^<]+)</time>', page)
    assert said and said.group(3) == "just now"
    assert said.group(0) in board  # the same words, the same full date in the tooltip


def test_right_to_left_charts_are_mirrored_and_keep_their_text_inside():
    import xml.etree.ElementTree as ET

    from kiosk.web import charts

    bars = [charts.Bar("2026-11", 9, "9"), charts.Bar("2026-12", None, "fewer than 3")]
    for rtl in (False, True):
        root = ET.fromstring(charts.bar_chart("c", "Needs", bars, rtl=rtl))
        width = float(root.get("viewBox").split()[2])
        ns = "{http://www.w3.org/2000/svg}"
        label = root.find(f".//{ns}text[@class='bar-label']")
        fill = root.find(f".//{ns}rect[@class='bar-fill']")
        value = root.find(f".//{ns}text[@class='bar-value']")
        assert root.get("direction") == ("rtl" if rtl else "ltr") and label.get("text-anchor") == "start"
        fill_start, fill_end = float(fill.get("x")), float(fill.get("x")) + float(fill.get("width"))
        if rtl:  # labels from the right edge, the bar grows leftwards, its number left of it
            assert float(label.get("x")) > width - 10 and fill_end > width - 10
            assert float(value.get("x")) < fill_start
        else:
            assert float(label.get("x")) < 10 and fill_start < 10 and float(value.get("x")) > fill_end
        # room for the longest number ("fewer than 3") beside the track, inside the box
        room = float(value.get("x")) if rtl else width - float(value.get("x"))
        assert room >= len("fewer than 3") * charts.LABEL_SIZE * 0.6


def test_every_readme_page_is_covered_or_skipped_with_a_reason():
    covered = set(rows({key: "1" for key in ("post", "reply", "item", "event", "post_code", "matched_code",
                                             "matched_reply", "done_code")}))
    missing = [row for row in readme_rows() if row not in covered and row not in SKIPPED]
    assert not missing, f"README pages with no layout check here (add them to rows() or SKIPPED): {missing}"
    stale = [row for row in (covered | set(SKIPPED)) if row.startswith("`") and row not in readme_rows()]
    assert not stale, f"rows here that the README no longer lists: {stale}"


@pytest.fixture(scope="module")
def browser():
    if sync_playwright is None:
        pytest.skip("no Playwright")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.mark.slow  # about 75 s a size: 3 languages x ~55 pages
@pytest.mark.parametrize("size", list(SIZES))
def test_every_page_holds_its_layout(seeded, browser, size):
    """The touchscreen's pages come from a kiosk in touchscreen mode, a phone's from one without,
    on the same data."""
    data, ids = seeded
    SHOTS.mkdir(parents=True, exist_ok=True)
    env = {"KIOSK_TOUCHSCREEN": "1"} if size == "touch" else {}
    server = KioskServer(data, KIOSK_WIFI_SSID="Community Center", **env).start()
    try:
        found = {}
        for lang in LANGS:
            for page, problems in visit_all(browser, server.url, size, lang, rows(ids)).items():
                found[f"{page} ({size}, {lang})"] = problems
    finally:
        server.stop()
    assert not found, "\n".join(f"{page}: {problems}" for page, problems in found.items())
