"""Subscribing a browser to push and unsubscribing it: the only writes of subscriptions
besides the sender's removal of those the push service says are gone."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select

from tracker.auth.models import User
from tracker.errors import Conflict, InvalidInput
from tracker.extensions import db
from tracker.push.models import PushSubscription

MAX_ENDPOINT = 1000
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def allowed_endpoint(endpoint) -> bool:
    """Whether `endpoint` is at one of the push services of `TRACKER_PUSH_SERVICES`, over
    HTTPS (plain HTTP only on this machine, for a test's push service)."""
    if not isinstance(endpoint, str) or len(endpoint) > MAX_ENDPOINT:
        return False
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    services = [h.strip().lower() for h in
                current_app.config.get("TRACKER_PUSH_SERVICES", "").split(",") if h.strip()]
    known = any(host == h or (h.startswith("*.") and host.endswith(h[1:])) for h in services)
    return known and (parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK))


def _key(raw, name: str, size: int | tuple[int, ...], errors: dict) -> str:
    """A base64url key of `size` bytes, as the browser's PushSubscription gives it."""
    sizes = size if isinstance(size, tuple) else (size,)
    try:
        if not isinstance(raw, str) or len(raw) > 200:
            raise ValueError
        decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        if len(decoded) not in sizes:
            raise ValueError
    except (ValueError, binascii.Error):
        errors[name] = [_("Not a valid push key.")]
        return ""
    return raw


def subscribe(user: User, raw: dict, *, now: datetime) -> PushSubscription:
    """Store the browser's subscription (`raw` as PushSubscription.toJSON() gives it) for
    `user`; one `user` already has is renewed with its new keys. An endpoint of another
    user is refused (Conflict), never moved silently: it is free again once that user
    logs out in this browser, turns push off there, or the push service says it is gone."""
    errors: dict[str, list[str]] = {}
    endpoint = raw.get("endpoint") if isinstance(raw, dict) else None
    if not allowed_endpoint(endpoint):
        errors["endpoint"] = [_("Not the address of a known push service.")]
    keys = raw.get("keys") if isinstance(raw, dict) else None
    keys = keys if isinstance(keys, dict) else {}
    p256dh = _key(keys.get("p256dh"), "keys.p256dh", 65, errors)
    auth = _key(keys.get("auth"), "keys.auth", 16, errors)
    if errors:
        raise InvalidInput(_("This browser's push subscription is not valid."), errors)
    found = db.session.scalar(select(PushSubscription)
                              .where(PushSubscription.endpoint == endpoint).with_for_update())
    if found is None:
        found = PushSubscription(endpoint=endpoint, user_id=user.id, p256dh=p256dh,
                                 auth=auth, created_at=now)
        db.session.add(found)
    elif found.user_id != user.id:
        message = _("This browser's push subscription belongs to another account.")
        raise Conflict(message, {"endpoint": [message]})
    else:
        found.p256dh, found.auth, found.created_at = p256dh, auth, now
    db.session.flush()
    return found


def unsubscribe(user: User, endpoint) -> int:
    """Forget `user`'s subscription at `endpoint`; how many were removed (0 or 1)."""
    if not isinstance(endpoint, str) or len(endpoint) > MAX_ENDPOINT:
        raise InvalidInput(_("Not a valid push endpoint."),
                           {"endpoint": [_("Not a valid push endpoint.")]})
    return db.session.execute(delete(PushSubscription).where(
        PushSubscription.user_id == user.id, PushSubscription.endpoint == endpoint)).rowcount


def forget_browser(user: User, endpoints) -> int:
    """At logout: forget `user`'s subscriptions at the `endpoints` this browser subscribed
    during the session, so that the next user of the phone gets none of `user`'s pushes."""
    endpoints = [e for e in endpoints or () if isinstance(e, str) and len(e) <= MAX_ENDPOINT]
    if not endpoints:
        return 0
    return db.session.execute(delete(PushSubscription).where(
        PushSubscription.user_id == user.id, PushSubscription.endpoint.in_(endpoints))).rowcount


def has_subscription(user_id: int) -> bool:
    return db.session.scalar(select(PushSubscription.id)
                             .where(PushSubscription.user_id == user_id).limit(1)) is not None
