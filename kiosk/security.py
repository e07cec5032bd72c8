"""Headers on every response (Waitress has no proxy in front to add them)."""

from __future__ import annotations

from flask import Flask, request

CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

# Pages that show a ticket code or a private thread must never be cached or restored.
PRIVATE_ENDPOINTS = {"posting.ticket", "mine.enter", "mine.edit", "mine.close", "screen.print_ticket", "screen.flyer"}


def init_app(app: Flask) -> None:
    @app.after_request
    def add_headers(response):
        headers = response.headers
        headers["Content-Security-Policy"] = CSP
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        endpoint = request.endpoint or ""
        if endpoint in PRIVATE_ENDPOINTS or endpoint.startswith(("mine.", "coordinate.")) or request.method == "POST":
            headers["Cache-Control"] = "no-store"
        elif "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-cache"
        return response
