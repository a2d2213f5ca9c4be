"""The application log: each line says which request it came from (method, path, user,
client address — ASVS 16.2.1; the calendar feed's secret address shown as /calendar/…ics),
and user-supplied text in a message cannot forge a line of
its own: control characters are escaped (16.4.1). Refused access and expired forms are
logged on the `tracker.security` logger (16.3.2, 16.3.3); the security events an admin
reads (logins, changes of access and credentials) are rows in `security_events`."""

from __future__ import annotations

import logging
import re

from flask import Flask, has_request_context, request
from flask_login import current_user

FORMAT = ("%(asctime)s %(levelname)s %(name)s "
          "[%(method)s %(path)s user=%(user)s addr=%(address)s] %(message)s")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
# Addresses whose path is itself a credential: the calendar feed's secret address
# (tracker.web.feed), which a calendar app fetches without logging in.
_SECRET_PATHS = ((re.compile(r"^/calendar/[^/]*\.ics$"), "/calendar/…ics"),)
security_log = logging.getLogger("tracker.security")


def logged_path(path: str) -> str:
    """The request's path as a log line shows it: a secret address redacted."""
    for pattern, shown in _SECRET_PATHS:
        if pattern.match(path):
            return shown
    return path


def escape(text: str) -> str:
    """`text` on one line: CR, LF and every other control character as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class RequestContext(logging.Filter):
    """Adds the request's method, path, user and client address to every record, and
    escapes the message (the traceback of an exception stays as it is)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = escape(record.getMessage()), ()
        record.method = record.path = record.user = record.address = "-"
        if has_request_context():
            record.method = request.method
            record.path = escape(logged_path(request.path))[:200]
            record.address = request.remote_addr or "-"
            try:
                user = current_user._get_current_object()
                record.user = getattr(user, "username", None) or "-"
            except Exception:  # no login manager yet, or the user cannot be loaded
                record.user = "?"
        return True


def configure(app: Flask) -> None:
    """One handler on the `tracker` logger (the app's and every module's), with the request
    context on each line; nothing else in the app configures logging."""
    logger = logging.getLogger("tracker")
    handler = next((h for h in logger.handlers if getattr(h, "_tracker", False)), None)
    if handler is None:
        from flask.logging import default_handler

        logger.removeHandler(default_handler)
        handler = logging.StreamHandler()
        handler._tracker = True
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(RequestContext())
        logger.addHandler(handler)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)


def refused(status: int, reason: str) -> None:
    """Log a refused request (403, an expired or forged form's CSRF token)."""
    security_log.warning("refused %s: %s", status, reason)
