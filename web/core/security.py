"""Security headers on every response, including a CSP with no inline script or style.

Scripts and styles come only from the app's own static files (no CDN, no
``'unsafe-inline'``), so templates carry no ``<script>`` bodies and no
``style=""`` attributes.  Behind HTTPS (``SANHU_SECURE_COOKIES=1``) browsers
are also told to keep using HTTPS.

Every response to a signed-in user carries ``Cache-Control: no-store``, so no
browser or proxy keeps a copy of personal data (a shared office computer, a
caching proxy); static assets keep their normal caching.
"""

from __future__ import annotations

from flask import Flask, request
from flask_login import current_user

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
HSTS = "max-age=31536000"
#: endpoints whose responses hold no personal data and may be cached
STATIC_ENDPOINTS = {"static", "bootstrap.static"}


def init_app(app: Flask) -> None:
    secure = bool(app.config.get("SESSION_COOKIE_SECURE"))

    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "geolocation=(), microphone=()")
        if secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if request.endpoint not in STATIC_ENDPOINTS and current_user.is_authenticated:
            response.headers["Cache-Control"] = "no-store"
        return response
