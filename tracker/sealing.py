"""Secrets kept encrypted at rest (the two-factor secrets, the units' signing keys):
AES-256-GCM under a key derived from SECRET_KEY by HKDF-SHA256, one key per purpose
(`info`). A copy of the database alone gives none of them; changing SECRET_KEY makes them
unreadable (`unseal` answers None)."""

from __future__ import annotations

import base64
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


def _aead(info: bytes) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=info).derive(current_app.config["SECRET_KEY"].encode())
    return AESGCM(key)


def seal(secret: bytes, *, info: bytes, aad: bytes) -> str:
    """"v1:" and the base64 of a random nonce and the ciphertext."""
    nonce = secrets.token_bytes(12)
    sealed = _aead(info).encrypt(nonce, secret, aad)
    return "v1:" + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(sealed: str, *, info: bytes, aad: bytes) -> bytes | None:
    """The secret, or None if SECRET_KEY has changed since it was sealed."""
    raw = base64.urlsafe_b64decode(sealed.removeprefix("v1:"))
    try:
        return _aead(info).decrypt(raw[:12], raw[12:], aad)
    except InvalidTag:
        return None
