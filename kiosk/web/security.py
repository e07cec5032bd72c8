"""Headers on every response (Waitress has no proxy in front to add them), and redirects that
never leave the kiosk."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask import Flask, g, request

CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"


def same_kiosk(location: str, public_url: str) -> str:
    """A redirect's target as a path on this kiosk. Werkzeug builds some redirects (its own
    slash fixes) from the request's Host header, which anyone can set: only the kiosk's own
    public address may stay absolute (the captive-portal answers use it)."""
    parts = urlsplit(location)
    if not (parts.scheme or parts.netloc) or location.startswith(public_url.rstrip("/") + "/"):
        return location
    return urlunsplit(("", "", "/" + parts.path.lstrip("/"), parts.query, ""))


def init_app(app: Flask, registry, public_url) -> None:
    # No redirect from /p//X to /p/X: Werkzeug would build it from the Host header.
    app.url_map.merge_slashes = False

    @app.after_request
    def stay_on_the_kiosk(response):
        if "Location" in response.headers:
            response.headers["Location"] = same_kiosk(response.headers["Location"], public_url())
        return response

    @app.after_request
    def add_headers(response):
        headers = response.headers
        headers["Content-Security-Policy"] = CSP
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        # Nothing to any other origin, as with no-referrer; but our own forms send their true
        # Origin (no-referrer makes it "null", as a hostile page can make its own), which is how
        # /lang tells this site from another on plain HTTP, where Sec-Fetch-Site is not sent.
        headers["Referrer-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        # Pages that show a ticket code, a private thread or coordinator mode (features declare
        # them; the coordinator gate marks its pages) must never be cached or restored.
        if registry.is_private(request.endpoint or "") or g.get("private") or request.method == "POST":
            headers["Cache-Control"] = "no-store"
        elif "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-cache"
        return response
