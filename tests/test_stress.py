"""Issue 7: a bounded load test, fuzzing every form and parameter, and disk trouble."""

from __future__ import annotations

import errno
import hashlib
import os
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from kiosk.core.store import all_post_ids, iter_json_files

from conftest import TEST_SCRYPT_N, Visitor, csrf_token
from server import Browser, KioskServer


def snapshot(data_dir) -> dict:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in iter_json_files(data_dir)}


# -- load ----------------------------------------------------------------------------------------


def test_fifty_clients_for_ten_seconds(tmp_path):
    """50 concurrent clients over the main pages and posting: no error answers, no lost posts,
    and /healthz answers throughout."""
    data_dir = tmp_path / "data"
    server = KioskServer(data_dir, KIOSK_WRITE_BUDGET_SCALE="0").start()  # fifty clients post far past it
    deadline = time.monotonic() + 10  # a bounded run, not a timing assertion
    acknowledged: list[str] = []
    errors: list[str] = []
    health: list[int] = []
    lock = threading.Lock()
    try:
        seed_browser = Browser(server.port)
        token = seed_browser.token("/new/offer")
        status, headers, _ = seed_browser.post("/new/offer", {"csrf_token": token, "category": "food", "title": "seed"})
        post_id = headers["Location"].rsplit("/", 1)[1]
        pages = ["/", "/board", "/board?kind=request", f"/p/{post_id}", f"/p/{post_id}/qr.svg", "/new/request",
                 "/how-it-works", "/flyer"]

        def client(n: int) -> None:
            browser = Browser(server.port, timeout=30)
            try:
                token = browser.token("/new/request") if n % 5 == 0 else None
                i = 0
                while time.monotonic() < deadline:
                    if token:
                        status, headers, _ = browser.post("/new/request", {"csrf_token": token, "category": "other",
                                                                          "title": f"load {n}-{i}"})
                        if status == 303:
                            with lock:
                                acknowledged.append(headers["Location"].rsplit("/", 1)[1])
                    else:
                        status, _, _ = browser.get(pages[(n + i) % len(pages)])
                    if status >= 400:
                        with lock:
                            errors.append(f"{status}")
                    i += 1
            except Exception as exc:  # noqa: BLE001 - collected and reported
                with lock:
                    errors.append(repr(exc))

        def watch_health() -> None:
            browser = Browser(server.port, timeout=30)
            while time.monotonic() < deadline:
                health.append(browser.get("/healthz")[0])
                time.sleep(0.2)  # pacing the probe, not measuring it

        threads = [threading.Thread(target=client, args=(n,)) for n in range(50)]
        threads.append(threading.Thread(target=watch_health))
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors[:5]
        assert health and set(health) == {200}
        assert len(acknowledged) > 10
    finally:
        server.stop()
    assert set(acknowledged) <= all_post_ids(iter_json_files(data_dir))


# -- fuzzing ---------------------------------------------------------------------------------------

NASTY = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=50),
    # What ends up in headers: line breaks, tabs, control characters, paths a browser rewrites.
    st.text(alphabet=st.characters(whitelist_categories=("Cc", "Zl", "Zp", "Cf")), min_size=1, max_size=8),
    st.builds(lambda a, b: f"/{a}/{b}", st.sampled_from(["\t", "\n", "\r\n", "%09", "\\", "", " "]),
              st.sampled_from(["evil.example", "/evil.example", "board"])),
    # Huge numbers and long names.
    st.text(alphabet="0123456789", min_size=16, max_size=6000), st.integers().map(str),
    st.sampled_from(["", " ", "\x00", "../../etc/passwd", "%00", "<script>x</script>", "=1+1", "\u202e",
                     "A" * 5000, "9" * 5000, "ZZZZZ", "k7q2m", "../", "\r\n\r\n", "😀" * 100, "null", "-1",
                     "99999999999", "//evil.example", "https://evil.example/", "/board\r\nSet-Cookie: x=1"]),
)
FIELDS = ["category", "title", "details", "area", "when", "when_date", "message", "available", "reason",
          "note", "code", "thanks", "lang", "next", "handle", "passphrase", "form_key", "contact_ok", "body"]
REFUSED = {400, 403, 404, 405, 409, 410, 413, 422, 429}

fuzz_settings = settings(max_examples=60, deadline=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture
def fuzz_app(make_app):
    app = make_app()
    visitor = Visitor(app.test_client())
    post_id, code = visitor.create(title="Fuzz target")
    from test_replies import reply_to

    reply_to(Visitor(app.test_client()), post_id)
    return app, post_id, code


POST_URLS = ["/new/request", "/new/offer", "/p/{id}/reply", "/p/{id}/report", "/mine", "/mine/edit", "/mine/thread",
             "/mine/fulfil", "/mine/withdraw", "/mine/thanks", "/lang", "/reset", "/coordinate", "/mine/done",
             "/ticket/{id}/print", "/mine/reopen"]


@fuzz_settings
@given(url=st.sampled_from(POST_URLS), fields=st.lists(st.tuples(st.sampled_from(FIELDS), NASTY), max_size=8),
       with_token=st.booleans(), unlocked=st.booleans())
def test_fuzzed_forms_never_crash_and_refusals_change_nothing(fuzz_app, url, fields, with_token, unlocked):
    app, post_id, code = fuzz_app
    client = app.test_client()
    visitor = Visitor(client)
    if unlocked:
        visitor.unlock(code)
    data = MultiDict(fields)
    if with_token:
        data.add("csrf_token", csrf_token(client, "/mine"))
    before = snapshot(app.config["DATA_DIR"])
    response = client.post(url.format(id=post_id), data=data)
    assert response.status_code < 500, (url, fields)
    assert_stays_on_the_kiosk(response)
    if response.status_code in REFUSED:
        assert snapshot(app.config["DATA_DIR"]) == before, (url, fields, response.status_code)


def assert_stays_on_the_kiosk(response) -> None:
    """A redirect leads to a page of this kiosk, or to its own public address, never elsewhere."""
    from urllib.parse import urlsplit

    location = response.headers.get("Location")
    if location:
        parts = urlsplit(location)
        assert parts.netloc in ("", "aid.lan") and not location.startswith("//"), location
        assert not any(ch in location for ch in "\r\n\t"), location


@fuzz_settings
@given(path=st.sampled_from(["/board", "/p/{v}", "/p/{v}/qr.svg", "/ticket/{v}", "/flyer", "/mine", "/p/{v}/reply",
                             "/p/{v}/report", "/how-it-works", "/transparency", "/coordinate", "/healthz", "/p//{v}",
                             "/{v}", "/events/{v}", "/library/{v}", "/survey", "/stats", "/generate_204"]),
       value=NASTY, params=st.lists(st.tuples(st.sampled_from(["kind", "category", "status", "page", "lang", "code",
                                                               "next", "q1", "category"]), NASTY), max_size=4),
       method=st.sampled_from(["GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"]),
       host=st.sampled_from(["localhost", "evil.example", "aid.lan", "evil.example:80", "[::1]"]))
def test_fuzzed_urls_and_methods_never_crash(fuzz_app, path, value, params, method, host):
    app, _, _ = fuzz_app
    from urllib.parse import quote

    before = snapshot(app.config["DATA_DIR"])
    url = path.replace("{v}", quote(value, safe="")[:2000])
    response = app.test_client().open(url, method=method, query_string=params, headers={"Host": host})
    assert response.status_code < 500, (method, url, params)
    assert_stays_on_the_kiosk(response)
    assert snapshot(app.config["DATA_DIR"]) == before


@fuzz_settings
@given(body=st.binary(max_size=3000), url=st.sampled_from(["/new/request", "/p/{id}/reply", "/mine", "/coordinate"]))
def test_raw_bodies_and_invalid_utf8_never_crash(fuzz_app, body, url):
    app, post_id, _ = fuzz_app
    client = app.test_client()
    before = snapshot(app.config["DATA_DIR"])
    response = client.post(url.format(id=post_id), data=body + b"&title=%ff%fe%00",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code < 500
    assert snapshot(app.config["DATA_DIR"]) == before  # no CSRF token: always refused


# -- disk trouble ----------------------------------------------------------------------------------


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EROFS, errno.EIO])
def test_a_full_or_read_only_disk_gives_a_clear_page_and_keeps_serving(app, monkeypatch, error):
    visitor = Visitor(app.test_client())
    saved_id, _ = visitor.create(title="Saved before the trouble")
    token = csrf_token(visitor.client, "/new/request")
    real_open = os.open

    def broken_open(path, flags, *args, **kwargs):
        if flags & os.O_WRONLY and str(path).startswith(app.config["DATA_DIR"]):
            raise OSError(error, os.strerror(error))
        return real_open(path, flags, *args, **kwargs)

    real_write = os.write

    def broken_write(fd, data):  # files already open (the journal) fail too
        if os.readlink(f"/proc/self/fd/{fd}").startswith(app.config["DATA_DIR"]):
            raise OSError(error, os.strerror(error))
        return real_write(fd, data)

    monkeypatch.setattr(os, "open", broken_open)
    monkeypatch.setattr(os, "write", broken_write)
    response = visitor.client.post("/new/request", data={"csrf_token": token, "category": "food", "title": "Lost?"})
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert "could not be saved" in html and "tell a coordinator" in html
    # Reads keep working, and what was saved before is still there.
    board = visitor.client.get("/board").get_data(as_text=True)
    assert f"/p/{saved_id}" in board and "Lost?" not in board
    assert visitor.client.get(f"/p/{saved_id}").status_code == 200
    monkeypatch.setattr(os, "open", real_open)
    monkeypatch.setattr(os, "write", real_write)
    # Once the disk is fine again, posting works and nothing was lost.
    assert visitor.post(title="After the trouble").status_code == 303
    assert saved_id in all_post_ids(iter_json_files(app.config["DATA_DIR"]))
