"""A small cache of rendered public pages (the board, a post's page).

Fifty phones loading the board on a meeting night would otherwise render the same page fifty
times. An entry is keyed by the address, the language and kiosk mode, and is valid while the
store has not been written to (its version) and for at most ``ttl`` seconds, so "5 minutes
ago" stays roughly true. Pages that depend on the visitor (flash messages) are never cached.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from functools import wraps

from flask import Response, make_response, request, session


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


def cached_page(view):
    """Serve a GET view from the page cache when nothing about the visitor changes it."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        from flask_babel import get_locale

        from .services import services
        from .views.screen import kiosk_mode

        if request.method != "GET" or "_flashes" in session:
            return view(*args, **kwargs)
        svc = services()
        key = (request.full_path, str(get_locale()), kiosk_mode())
        version = svc.store.version
        hit = svc.pages.get(key, version)
        if hit is not None:
            body, status, mimetype = hit
            return Response(body, status=status, mimetype=mimetype)
        response = make_response(view(*args, **kwargs))
        if response.status_code in (200, 410) and not response.direct_passthrough:
            svc.pages.put(key, version, (response.get_data(), response.status_code, response.mimetype))
        return response

    return wrapper
