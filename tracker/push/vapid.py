"""The server's VAPID key (RFC 8292) and the sending of one encrypted message (RFC 8291,
aes128gcm) with pywebpush.

The key comes from `TRACKER_VAPID_PRIVATE_KEY` (PEM); without it, one is generated once
into the instance folder (`vapid-private.pem`, readable by its owner only) — fine for the
demo and one host; several hosts must share a key through the setting, or a browser's
subscription made through one host would be refused by the push service for another's."""

from __future__ import annotations

import base64
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush

KEY_FILE = "vapid-private.pem"
TIMEOUT = 10  # seconds for a push service to answer
TTL = 24 * 3600  # a phone off for a day still gets the message when it comes back
_lock = threading.Lock()


def _private_pem() -> bytes:
    configured = current_app.config.get("TRACKER_VAPID_PRIVATE_KEY")
    if configured:
        return configured.encode()
    path = Path(current_app.instance_path) / KEY_FILE
    with _lock:
        if not path.exists():
            key = ec.generate_private_key(ec.SECP256R1())
            pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as f:
                f.write(pem)
        return path.read_bytes()


def _vapid() -> Vapid02:
    return Vapid02.from_pem(_private_pem())


def public_key() -> str:
    """The application server key a browser subscribes with (base64url, uncompressed)."""
    point = _vapid().public_key.public_bytes(serialization.Encoding.X962,
                                             serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


def subject() -> str:
    config = current_app.config
    return (config.get("TRACKER_VAPID_SUBJECT") or config.get("TRACKER_BASE_URL")
            or "mailto:" + config.get("TRACKER_SMTP_FROM", "tracker@localhost"))


@dataclass(frozen=True)
class Sent:
    """What the push service answered: its status, and whether the subscription is gone
    (404/410: the browser unsubscribed or the subscription expired)."""

    status: int
    gone: bool


def send(endpoint: str, p256dh: str, auth: str, payload: str) -> Sent:
    """Encrypt `payload` to the subscription and post it to its push service."""
    parts = urlsplit(endpoint)
    claims = {"sub": subject(), "aud": f"{parts.scheme}://{parts.netloc}"}
    try:
        response = webpush({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
                           data=payload, vapid_private_key=_vapid(), vapid_claims=claims,
                           timeout=TIMEOUT, ttl=TTL)
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else 0
        return Sent(status, status in (404, 410))
    return Sent(response.status_code, False)
