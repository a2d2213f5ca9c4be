"""The security headers every answer gets, whatever the route.

The Content-Security-Policy allows no inline script or style: every script and style sheet
is a file under /static, and the pages carry no `style=` or `on…=` attributes (the
dashboard's bars are SVG shapes). Over HTTPS (TRACKER_HTTPS=1) HSTS tells browsers never
to use plain HTTP for the site again.

Every answer to a logged-in user (a session or an API token) that sets no caching of its
own gets `Cache-Control: no-store`: a shared computer's browser cache, the back button
after logout or a proxy must not keep what only that user may read. Static files are the
exception (the same for everyone). The offline pages stay kept on the phone: the service
worker's Cache API (static/js/sw.js) stores what it is given, whatever the HTTP caching
headers say.
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_login import current_user

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",  # no <base> in any template (ASVS 3.4.3)
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000"  # a year; subdomains are another deployment's to decide


def register(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config.get("TRACKER_HTTPS"):
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if "Cache-Control" not in response.headers and request.endpoint != "static" \
                and _logged_in():
            response.headers["Cache-Control"] = "no-store"
        return response


def _logged_in() -> bool:
    """A web session's user, or an API token's (tracker.api.base.authenticate)."""
    if g.get("api_identity") is not None:
        return True
    try:
        return bool(current_user and current_user.is_authenticated)
    except Exception:  # an answer given before the login manager could load the user
        return False
