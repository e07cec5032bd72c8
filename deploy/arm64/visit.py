#!/usr/bin/env python3
"""A visitor's path through a running kiosk over HTTP, as a phone's browser takes it (standard
library only, so it runs with any Python 3, inside the arm64 root or outside): the start page,
the posting form and its CSRF token, the post, the ticket and its code, My ticket with that
code, the board, the post's page and its QR code. Used by deploy/arm64-check.sh.

  visit.py BASE_URL [--title T] [--kind request|offer] [--qr-to FILE] [--rounds N] [--unit UNIT]
  visit.py BASE_URL --board-has TITLE [TITLE ...]

Prints one line a step; exits 1 at the first failure, naming it."""

from __future__ import annotations

import argparse
import html
import http.cookiejar
import re
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
CODE = re.compile(r'class="claim-code"[^>]*>([^<]+)<')


class Failed(Exception):
    pass


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a 303 is read, not followed: it names the post
        return None


class Browser:
    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  NoRedirect())

    def request(self, path: str, form: dict | None = None, timeout: float = 120) -> tuple[int, dict, bytes]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as answer:
            return answer.code, dict(answer.headers), answer.read()

    def page(self, path: str, form: dict | None = None, expect: int = 200) -> tuple[str, dict]:
        status, headers, body = self.request(path, form)
        if status != expect:
            raise Failed(f"{'POST' if form is not None else 'GET'} {path} answered {status}, not {expect}")
        return body.decode("utf-8"), headers

    def submit(self, path: str, form_path: str | None = None, expect: int = 303, **fields) -> tuple[str, dict]:
        token = TOKEN.search(self.page(form_path or path)[0])
        if not token:
            raise Failed(f"{form_path or path} has no CSRF token in its form")
        return self.page(path, {"csrf_token": html.unescape(token.group(1)), **fields}, expect)


def wait_until_up(browser: Browser, seconds: float, unit: str | None = None) -> None:
    """The service was just started: poll until it answers (emulated, it takes a while). With
    unit, a service that stopped (it failed at its start) ends the wait at once."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            browser.request("/", timeout=5)
            return
        except OSError as exc:
            if unit and subprocess.run(["systemctl", "is-active", unit], capture_output=True).returncode:
                raise Failed(f"{unit} stopped before it answered at {browser.base}/ ({exc})") from exc
            if time.monotonic() > deadline:
                raise Failed(f"the kiosk did not answer at {browser.base}/ within {seconds:.0f} s ({exc})") from exc
            time.sleep(0.5)


def post(browser: Browser, kind: str, title: str) -> tuple[str, str, float]:
    """Posts; returns (post id, ticket code, seconds from opening the form to the ticket's page)."""
    began = time.perf_counter()
    _, headers = browser.submit(f"/new/{kind}", category="food", title=title, details="Checked on arm64.",
                                area="Main hall", when="flexible")
    location = headers.get("Location", "")
    match = re.search(r"/ticket/([A-Za-z0-9]+)$", location)
    if not match:
        raise Failed(f"posting did not lead to a ticket (Location: {location!r})")
    ticket, _ = browser.page(urllib.parse.urlsplit(location).path)
    took = time.perf_counter() - began
    code = CODE.search(ticket)
    if not code:
        raise Failed("the ticket page shows no code")
    return match.group(1), html.unescape(code.group(1)).strip(), took


def path(browser: Browser, kind: str, title: str, qr_to: str | None) -> None:
    start, _ = browser.page("/")
    print(f"  start page: {len(start):,} bytes")
    post_id, code, took = post(browser, kind, title)
    print(f"  posted {'a need' if kind == 'request' else 'an offer'}: post {post_id}, ticket {code.split('-')[0]}-… "
          f"({took * 1000:.0f} ms from the form to the ticket)")
    _, headers = browser.submit("/mine", code=code)
    mine, _ = browser.page(urllib.parse.urlsplit(headers.get("Location", "")).path or "/mine")
    if html.escape(title) not in mine:
        raise Failed("My ticket with the ticket's code does not show the post")
    print("  My ticket opens the post with that code")
    for where in ("/board", f"/p/{post_id}"):
        if html.escape(title) not in browser.page(where)[0]:
            raise Failed(f"{where} does not show the post")
        print(f"  {where} shows it")
    status, headers, svg = browser.request(f"/p/{post_id}/qr.svg")
    if status != 200 or "svg" not in headers.get("Content-Type", "") or b"<svg" not in svg[:500]:
        raise Failed(f"/p/{post_id}/qr.svg is no SVG image ({status}, {headers.get('Content-Type')})")
    if qr_to:
        with open(qr_to, "wb") as fh:
            fh.write(svg)
    print(f"  /p/{post_id}/qr.svg is an SVG QR code ({len(svg):,} bytes)")
    print(f"POST-ID {post_id}")


def rounds(browser: Browser, count: int) -> None:
    took = [post(browser, "request", f"Speed check {n + 1}")[2] for n in range(count)]
    print(f"posting round trip: median {statistics.median(took) * 1000:.0f} ms over {count} posts")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("--title", default="Arm64 check: soup for two")
    parser.add_argument("--kind", default="request", choices=["request", "offer"])
    parser.add_argument("--qr-to")
    parser.add_argument("--rounds", type=int, default=0)
    parser.add_argument("--board-has", nargs="+", default=[])
    parser.add_argument("--wait", type=float, default=180)
    parser.add_argument("--unit", help="the service that serves BASE_URL: its stopping ends the wait")
    args = parser.parse_args(argv)
    browser = Browser(args.base)
    try:
        wait_until_up(browser, args.wait, args.unit)
        if args.board_has:
            board, _ = browser.page("/board")
            missing = [t for t in args.board_has if html.escape(t) not in board]
            if missing:
                raise Failed(f"/board does not show {missing}")
            print(f"  /board shows {len(args.board_has)} post(s): {', '.join(args.board_has)}")
        elif args.rounds:
            rounds(browser, args.rounds)
        else:
            path(browser, args.kind, args.title, args.qr_to)
    except (Failed, OSError) as exc:
        print(f"visit: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
