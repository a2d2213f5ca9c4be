"""Password hashing with argon2id (argon2-cffi's RFC 9106 low-memory profile by default)."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from flask_babel import gettext as _

MIN_LENGTH = 10


@cache
def _hasher_for(profile: str) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher.from_parameters(getattr(profiles, profile))
    # Verifying against this keeps an unknown username as slow as a wrong password.
    return hasher, hasher.hash("not a password")


def _hasher() -> tuple[PasswordHasher, str]:
    profile = "RFC_9106_LOW_MEMORY"
    if has_app_context():
        profile = current_app.config.get("TRACKER_ARGON2_PROFILE", profile)
    return _hasher_for(profile)


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher, dummy = _hasher()
    try:
        return hasher.verify(password_hash or dummy, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher()[0].check_needs_rehash(password_hash)


def password_problem(password: str) -> str | None:
    """Why a new password is refused (to follow "The password needs …"), or None."""
    if len(password) < MIN_LENGTH:
        return _("at least %(n)s characters", n=MIN_LENGTH)
    if len(password) > 1024:
        return _("at most %(n)s characters", n=1024)
    return None
