"""Headers on every response (Waitress has no proxy in front to add them)."""

from __future__ import annotations

from flask import Flask, g, request

CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"


def init_app(app: Flask, registry) -> None:
    @app.after_request
    def add_headers(response):
        headers = response.headers
        headers["Content-Security-Policy"] = CSP
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        # Pages that show a ticket code, a private thread or coordinator mode (features declare
        # them; the coordinator gate marks its pages) must never be cached or restored.
        if registry.is_private(request.endpoint or "") or g.get("private") or request.method == "POST":
            headers["Cache-Control"] = "no-store"
        elif "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-cache"
        return response
