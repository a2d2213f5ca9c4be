"""Trusted devices: a browser that has logged in as a username carries a signed cookie
saying so, and the login throttle counts its failures apart from everyone else's (OWASP's
"device cookie"), so that nobody's guessing from elsewhere can lock the owner out.

The cookie holds a random device id and, for each username that logged in from it, a
keyed hash of the name (not the name itself); it is signed with the app's secret key and
expires after `TRACKER_DEVICE_DAYS`. It proves nothing but "this browser logged in as this
user before": it never logs anyone in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "tracker_device"


def cookie_name() -> str:
    """Over HTTPS (Secure cookies) the cookie is host-only, `__Host-` prefixed (ASVS 3.3.1),
    like the session cookie."""
    secure = current_app.config.get("SESSION_COOKIE_SECURE")
    return f"__Host-{COOKIE}" if secure else COOKIE
MAX_USERNAMES = 5  # a shared office computer: the last few people who logged in on it


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="tracker-device")


def _name_tag(username: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, username.encode(), hashlib.sha256).hexdigest()[:16]


def max_age() -> int:
    return current_app.config["TRACKER_DEVICE_DAYS"] * 86400


def _read(cookie: str | None) -> dict | None:
    if not cookie or len(cookie) > 1000:
        return None
    try:
        data = _serializer().loads(cookie, max_age=max_age())
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("d"), str) \
            or not isinstance(data.get("u"), list):
        return None
    return data


def trusted_device(cookie: str | None, username: str) -> str | None:
    """The device id if the cookie is valid and names `username` (lower-cased)."""
    data = _read(cookie)
    if data is None or _name_tag(username) not in data["u"]:
        return None
    return data["d"][:32]


def remember(cookie: str | None, username: str) -> str:
    """The cookie's new value after `username` logged in from this browser."""
    data = _read(cookie) or {"d": secrets.token_hex(16), "u": []}
    tag = _name_tag(username)
    names = [*[t for t in data["u"] if t != tag][-(MAX_USERNAMES - 1):], tag]
    return _serializer().dumps({"d": data["d"], "u": names})
