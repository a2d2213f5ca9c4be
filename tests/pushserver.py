"""A real Web Push service on 127.0.0.1 for the push tests: it receives what Tracker posts,
checks the VAPID signature (RFC 8292) and decrypts the message (RFC 8291, aes128gcm) with
the private key of a browser's subscription, as a push service and a browser would
between them. A subscription whose path begins with /gone/ is answered 410 Gone."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """A browser's side of one subscription: its key pair and auth secret."""

    endpoint: str
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self) -> dict:
        """As PushSubscription.toJSON() gives it to the page."""
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": self.endpoint, "keys": {"p256dh": b64(point), "auth": b64(self.auth)}}


@dataclass
class Received:
    path: str
    headers: dict
    claims: dict
    signer: str  # the VAPID public key the JWT was verified with (k=)
    payload: dict | None  # decrypted, or None if the path's browser is unknown


def verify_vapid(authorization: str) -> tuple[dict, str]:
    """The claims of a `vapid t=<JWT>, k=<key>` header, after checking its ES256 signature
    with the key it names; AssertionError if it does not verify."""
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid", authorization
    values = dict(part.strip().split("=", 1) for part in params.split(","))
    token, signer = values["t"], values["k"]
    header, claims, signature = token.split(".")
    assert json.loads(unb64(header)) == {"typ": "JWT", "alg": "ES256"}
    raw = unb64(signature)
    assert len(raw) == 64
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(signer))
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise AssertionError("the VAPID signature does not verify") from exc
    return json.loads(unb64(claims)), signer


class PushService:
    """The server, its browsers by path, and what it received."""

    def __init__(self):
        self.browsers: dict[str, Browser] = {}
        self.received: list[Received] = []
        self.errors: list[str] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    service.receive(self.path, dict(self.headers), body)
                except AssertionError as exc:
                    service.errors.append(str(exc))
                    self.send_response(403)
                else:
                    self.send_response(410 if self.path.startswith("/gone/") else 201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def browser(self, path: str) -> Browser:
        self.browsers[path] = Browser(self.base + path)
        return self.browsers[path]

    def receive(self, path: str, headers: dict, body: bytes) -> None:
        headers = {k.lower(): v for k, v in headers.items()}
        claims, signer = verify_vapid(headers["authorization"])
        assert claims["aud"] == self.base, claims
        assert time.time() < claims["exp"] <= time.time() + 24 * 3600, claims
        assert claims["sub"].startswith(("mailto:", "https://", "http://")), claims
        assert headers["content-encoding"] == "aes128gcm"
        assert int(headers["ttl"]) > 0
        browser = self.browsers.get(path)
        payload = None
        if browser is not None:
            plain = http_ece.decrypt(body, private_key=browser.key,
                                     auth_secret=browser.auth, version="aes128gcm")
            payload = json.loads(plain)
        self.received.append(Received(path, headers, claims, signer, payload))

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received

    def __enter__(self) -> PushService:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
