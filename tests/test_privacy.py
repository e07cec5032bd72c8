"""Promises 1-3: the ticket code is never stored, shown once, and pages load nothing from elsewhere."""

from __future__ import annotations

import re

from kiosk.core.store import iter_json_files

from conftest import claim_code


def all_data_bytes(data_dir) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file())


def test_data_files_never_contain_the_ticket_code(client, visitor, data_dir):
    codes = [visitor.create(title=f"post {i}")[1] for i in range(5)]
    # Closing moves a post to the archive: check there too.
    visitor.unlock(codes[0])
    visitor.submit("/mine/fulfil")
    raw = all_data_bytes(data_dir).lower()
    assert list(iter_json_files(data_dir))
    for code in codes:
        post_id, words = code.split("-", 1)
        # The words in order, with any separator: a single word may occur by chance elsewhere
        # (a code word can be "open", like a status), the sequence must not.
        for sep in ("-", " ", ""):
            assert sep.join(words.split("-")).encode() not in raw


def test_reloading_the_ticket_shows_no_code(client, visitor):
    response = visitor.post()
    ticket_url = response.headers["Location"]
    first = client.get(ticket_url)
    assert claim_code(first.get_data(as_text=True))
    assert first.headers["Cache-Control"] == "no-store"
    again = client.get(ticket_url).get_data(as_text=True)
    assert claim_code(again) is None
    assert "already shown" in again


def test_another_browser_never_sees_someone_elses_code(app, visitor):
    response = visitor.post()
    stranger = app.test_client()
    html = stranger.get(response.headers["Location"]).get_data(as_text=True)
    assert claim_code(html) is None
    # ... and the poster still gets theirs afterwards.
    assert claim_code(visitor.client.get(response.headers["Location"]).get_data(as_text=True))


def test_session_cookie_holds_no_code(client, visitor):
    response = visitor.post()
    code = claim_code(client.get(response.headers["Location"]).get_data(as_text=True))
    cookie = client.get_cookie("kiosk")
    import base64
    import zlib

    payload = cookie.value.split(".")[0 if not cookie.value.startswith(".") else 1]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    if cookie.value.startswith("."):
        raw = zlib.decompress(raw)
    assert code.split("-", 1)[1].encode() not in raw


def test_readers_get_no_cookie(app, visitor):
    post_id, _ = visitor.create()
    reader = app.test_client()
    for url in ("/", "/board", f"/p/{post_id}", f"/p/{post_id}/qr.svg", "/healthz", "/board?kind=offer"):
        response = reader.get(url)
        assert "Set-Cookie" not in response.headers, url


def test_no_field_asks_for_personal_data(client):
    page = client.get("/new/request").get_data(as_text=True)
    html = page.split('class="post-form"')[1].split("</form>")[0]
    names = set(re.findall(r'<(?:input|textarea|select)[^>]* name="([^"]+)"', html))
    assert names == {"csrf_token", "form_key", "category", "title", "details", "area", "when", "when_date",
                     "ride_date", "ride_time", "ride_from", "ride_to"}
    for word in ("phone", "e-mail", "email", "surname", "your name"):
        assert f'name="{word}"' not in html.lower()


EXTERNAL = re.compile(r'(?:src|href|action|poster|data)\s*=\s*["\']\s*(?:[a-z][a-z0-9+.-]*:)?//', re.I)
CSS_URL = re.compile(r"url\(\s*['\"]?\s*(?:[a-z]+:)?//", re.I)


def rendered_pages(client, visitor):
    post_id, code = visitor.create(title="Headers check")
    urls = ["/", "/board", "/board?kind=offer", "/new/request", "/new/offer", f"/p/{post_id}", "/mine", "/nope"]
    pages = {url: client.get(url) for url in urls}
    ticket = visitor.post()
    pages["ticket"] = client.get(ticket.headers["Location"])
    visitor.unlock(code)
    for url in ("/mine", "/mine/edit", "/mine/fulfil", "/mine/withdraw"):
        pages[url] = client.get(url)
    return pages


def test_no_page_references_another_host(client, visitor, app):
    for url, response in rendered_pages(client, visitor).items():
        html = response.get_data(as_text=True)
        assert not EXTERNAL.search(html), url
        assert "@import" not in html
    css = client.get("/static/kiosk.css").get_data(as_text=True)
    assert not CSS_URL.search(css) and "@import" not in css


def test_security_headers_on_every_response(client, visitor):
    pages = rendered_pages(client, visitor)
    pages["static"] = client.get("/static/kiosk.css")
    pages["healthz"] = client.get("/healthz")
    for url, response in pages.items():
        headers = response.headers
        assert "default-src 'self'" in headers["Content-Security-Policy"], url
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], url
        assert headers["X-Frame-Options"] == "DENY", url
        assert headers["X-Content-Type-Options"] == "nosniff", url
        assert headers["Referrer-Policy"] == "same-origin", url  # no other origin gets anything
    for private in ("ticket", "/mine", "/mine/edit"):
        assert pages[private].headers["Cache-Control"] == "no-store", private


def test_pages_have_no_inline_script_or_style(client, visitor):
    for url, response in rendered_pages(client, visitor).items():
        html = response.get_data(as_text=True)
        assert "<script>" not in html and " onclick=" not in html and "<style" not in html, url
        assert ' style="' not in html, url


def test_session_cookie_flags(client, visitor):
    visitor.post()
    cookie = client.get_cookie("kiosk")
    assert cookie.http_only
    assert cookie.same_site == "Strict"
