"""What every answer and every request gets, whatever the route: the security headers,
and a refusal (400) of a NUL character in the query string or a form, which no route
handles and PostgreSQL cannot store.

The Content-Security-Policy allows no inline script or style: every script and style sheet
is a file under /static, and the pages carry no `style=` or `on…=` attributes (the
dashboard's bars are SVG shapes). Over HTTPS (TRACKER_HTTPS=1) HSTS tells browsers never
to use plain HTTP for the site again.
"""

from __future__ import annotations

from flask import Flask, abort, request
from flask_babel import gettext as _

from tracker.errors import TrackerError

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
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
class NulCharacter(TrackerError):
    status = 400
    code = "nul_character"


HSTS = "max-age=31536000"  # a year; subdomains are another deployment's to decide


def _fields_with_nul() -> list[str]:
    """The query string's and the form's fields whose name or value holds a NUL."""
    found = [name for name, value in request.args.items(multi=True)
             if "\x00" in name or "\x00" in value]
    if request.method in ("GET", "HEAD", "OPTIONS") or not request.mimetype.startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        return found  # the API reads JSON bodies and names the field itself
    found += [name for name, value in request.form.items(multi=True)
              if "\x00" in name or "\x00" in value]
    found += [name for name, upload in request.files.items(multi=True)
              if "\x00" in (upload.filename or "")]
    return found


def register(app: Flask) -> None:
    @app.before_request
    def _refuse_nul():
        # A NUL character is never text anybody typed; refused before any view reads it.
        if "\x00" in request.path:
            abort(404)
        fields = _fields_with_nul()
        if fields:
            message = _("Must not contain NUL characters.")
            raise NulCharacter(_("Some fields are not valid."),
                               {name.replace("\x00", "\\0"): [message] for name in fields})

    @app.after_request
    def _headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config.get("TRACKER_HTTPS"):
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
