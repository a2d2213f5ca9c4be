"""Passwords: the policy every new password meets (NIST SP 800-63B), and hashing with
argon2id (argon2-cffi's RFC 9106 low-memory profile by default).

The policy is one function, `password_problem`, for every way a password is set: an
admin creating a user or resetting a password (web, API, CLI) and a user changing their
own. Length and a blocklist, no composition rules: at least 8 characters (12 for an
admin, whose account reaches a whole province), at most 1,024; not one of the 20,000
most common passwords (shipped with the package), nor a repeated character or pattern or a
run along the digits, the alphabet or the keyboard; not containing the username.

Hashing takes about a quarter of a second on purpose. `hash_unlocked` hashes with no
database lock held (docs/security.md, "Login throttling").
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from flask_babel import gettext as _

from tracker.extensions import db

MIN_LENGTH = 8
ADMIN_MIN_LENGTH = 12
MAX_LENGTH = 1024
# A username shorter than this is too likely to occur by chance in a good passphrase.
USERNAME_IN_PASSWORD_MIN = 3


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


def hash_unlocked(password: str) -> str:
    """Hash with no database lock held: when this session's transaction has written
    nothing yet (a service's reads and checks), it is ended first — on SQLite it holds the
    write lock from its first statement (tracker.database), and every other writer would
    wait a quarter of a second. A transaction that has already written (the demo loader
    creating users with their units) keeps its lock: ending it would break all-or-nothing.
    """
    release_read_transaction()
    return hash_password(password)


def release_read_transaction() -> None:
    """End this session's transaction if it has written nothing (see `hash_unlocked`);
    the objects it loaded are read again when next used."""
    session = db.session()
    if not session.info.get("wrote") and not (session.new or session.dirty or session.deleted):
        session.rollback()


def local_passwords() -> bool:
    """Whether this deployment uses Tracker's own passwords (TRACKER_LOCAL_PASSWORDS, on by
    default). Off, the province's single sign-on is the only way in: no password login,
    reset or change, and users are created without one (docs/sso.md)."""
    if not has_app_context():
        return True
    return bool(current_app.config.get("TRACKER_LOCAL_PASSWORDS", True))


def passwordless_allowed() -> bool:
    """Whether a user may have no password: when local passwords are off, or when single
    sign-on is configured (such a user logs in only through the provider)."""
    if not local_passwords():
        return True
    config = current_app.config if has_app_context() else {}
    return bool(config.get("TRACKER_OIDC_CLIENT_ID"))


def local_passwords_off_message() -> str:
    return _("Passwords are not used in this deployment: users log in with the "
             "province's single sign-on.")


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher, dummy = _hasher()
    # An empty hash is a user with no password (single sign-on only): checked against the
    # dummy, as long as a wrong password, and never right.
    try:
        return hasher.verify(password_hash or dummy, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher()[0].check_needs_rehash(password_hash)


@cache
def common_passwords() -> frozenset[str]:
    """The blocklist, lower-cased (Django 5.2's `common-passwords.txt.gz`: the 20,000 most
    common passwords of Royce Williams' list, 1234567890 among them)."""
    data = resources.files("tracker.auth").joinpath("common-passwords.txt.gz").read_bytes()
    return frozenset(line.strip() for line in gzip.decompress(data).decode().splitlines())


_RUNS = ("0123456789" * 3, "abcdefghijklmnopqrstuvwxyz" * 2, "qwertyuiopasdfghjklzxcvbnm")


def _trivial(folded: str) -> bool:
    """A guess no list needs to hold: one character repeated ("aaaaaaaaaaaa"), a short
    pattern repeated ("abcabcabcabc"), or a run along the digits, the alphabet or the
    keyboard, either way ("123456789012", "zyxwvutsrqpo")."""
    for size in range(1, 4):
        if len(folded) >= 2 * size and folded == (folded[:size] * len(folded))[:len(folded)]:
            return True
    return any(folded in run or folded[::-1] in run for run in _RUNS)


def min_length(role: str | None) -> int:
    return ADMIN_MIN_LENGTH if role == "admin" else MIN_LENGTH


def password_problem(password, *, username: str | None = None,
                     role: str | None = None) -> str | None:
    """Why a new password is refused, as a sentence for the password field; None if it is
    acceptable. Any characters are allowed, spaces included (a passphrase is welcome);
    the password is kept exactly as typed."""
    if not isinstance(password, str):
        return _("Not valid text.")
    needed = min_length(role)
    if len(password) < needed:
        return _("The password needs at least %(n)s characters.", n=needed)
    if len(password) > MAX_LENGTH:
        return _("The password can have at most %(n)s characters.", n=MAX_LENGTH)
    folded = password.casefold()
    if folded in common_passwords() or folded.strip() in common_passwords() \
            or _trivial(folded.strip()):
        return _("This password is one of the most commonly used and easily guessed; "
                 "choose another.")
    name = (username or "").casefold()
    if len(name) >= USERNAME_IN_PASSWORD_MIN and name in folded:
        return _("The password must not contain the username.")
    return None
