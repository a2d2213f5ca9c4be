"""The security headers every answer gets, whatever the route.

The Content-Security-Policy allows no inline script or style: every script and style sheet
is a file under /static, and the pages carry no `style=` or `on…=` attributes (the
dashboard's bars are SVG shapes). Over HTTPS (TRACKER_HTTPS=1) HSTS tells browsers never
to use plain HTTP for the site again.
"""

from __future__ import annotations

from flask import Flask

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
        return response
