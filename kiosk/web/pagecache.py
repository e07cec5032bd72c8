"""A cache of rendered public pages for readers, in front of Flask (a WSGI middleware).

Fifty phones loading the board on a meeting night would otherwise render the same page fifty
times. Only requests without any cookie are served from it (people who only read, who never
get a cookie), for GET on the board and posts' pages. An entry is keyed by the address, the
browser's language and whether the request comes from the touchscreen, and is valid while the
store has not been written to (its version) and for at most ``ttl`` seconds, so "5 minutes
ago" stays roughly true. Hits skip Flask entirely; their headers are the ones Flask set on
the first answer (security headers included).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

CACHED_PREFIXES = ("/board", "/p/")
LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}


def from_touchscreen(config, remote_addr: str | None) -> bool:
    """Touchscreen features for the kiosk's own browser only: a phone never gets them. (Here,
    beside the cache that needs it before any request exists.)"""
    return bool(config["TOUCHSCREEN"]) and remote_addr in LOOPBACK


class PageCache:
    def __init__(self, size: int = 256, ttl: float = 30, clock=time.monotonic):
        self.size = size
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict = OrderedDict()

    def get(self, key, version: int):
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != version or entry[1] < self._clock():
                return None
            self._entries.move_to_end(key)
            return entry[2]

    def put(self, key, version: int, value) -> None:
        with self._lock:
            self._entries[key] = (version, self._clock() + self.ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


class CachingMiddleware:
    def __init__(self, wsgi_app, flask_app, cache: PageCache):
        self.wsgi_app = wsgi_app
        self.flask_app = flask_app
        self.cache = cache

    def _key(self, environ):
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("HTTP_COOKIE"):
            return None
        path = environ.get("PATH_INFO", "")
        if not path.startswith(CACHED_PREFIXES) or path.endswith(("/reply", "/report", "/qr.svg")):
            return None
        touch = from_touchscreen(self.flask_app.config, environ.get("REMOTE_ADDR"))
        # The offered languages need no place in the key: changing them is a write, and every
        # write makes every entry stale (the store's version).
        return (path, environ.get("QUERY_STRING", ""), environ.get("HTTP_ACCEPT_LANGUAGE", ""), touch)

    def __call__(self, environ, start_response):
        key = self._key(environ)
        if key is None:
            return self.wsgi_app(environ, start_response)
        store = self.flask_app.extensions["kiosk"].store
        version = store.version
        hit = self.cache.get(key, version)
        if hit is not None:
            status, headers, body = hit
            start_response(status, list(headers))
            return [body]
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info)

        chunks = self.wsgi_app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        status = captured.get("status", "")
        headers = captured.get("headers", [])
        cacheable = status[:3] in ("200", "410") and not any(h.lower() == "set-cookie" for h, _ in headers)
        if cacheable:
            self.cache.put(key, version, (status, tuple(headers), body))
        return [body]
