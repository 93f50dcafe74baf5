"""Security headers on every response, including a CSP with no inline script or style.

Scripts and styles come only from the app's own static files (no CDN, no
``'unsafe-inline'``), so templates carry no ``<script>`` bodies and no
``style=""`` attributes.  Behind HTTPS (``SANHU_SECURE_COOKIES=1``) browsers
are also told to keep using HTTPS.
"""

from __future__ import annotations

from flask import Flask

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
HSTS = "max-age=31536000"


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
        return response
