"""Server-side login sessions and the failed-login throttle."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from tracker.auth.models import LoginAttempt, User, UserSession
from tracker.auth.passwords import hash_password, needs_rehash, verify_password
from tracker.extensions import db

# Many failures from one address (over all usernames) lock that address too.
ADDRESS_FACTOR = 4


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, *, now: datetime, user_agent: str | None = None) -> str:
    """A fresh session for `user`; returns the raw token the cookie will carry."""
    token = secrets.token_urlsafe(32)
    hours = current_app.config["TRACKER_SESSION_HOURS"]
    db.session.add(UserSession(
        user_id=user.id,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
        user_agent=(user_agent or "")[:255],
    ))
    user.session_token = token
    user.last_login_at = now
    return token


def load_session_user(token: str, *, now: datetime) -> User | None:
    row = db.session.scalar(
        select(UserSession).where(UserSession.token_hash == token_hash(token))
    )
    if row is None or row.expires_at <= now or not row.user.active:
        return None
    user = row.user
    user.session_token = token
    return user


def end_session(token: str | None) -> None:
    if token:
        db.session.execute(delete(UserSession).where(UserSession.token_hash == token_hash(token)))


def end_all_sessions(user: User) -> None:
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))


def is_throttled(username: str, remote_addr: str, *, now: datetime) -> bool:
    limit = current_app.config["TRACKER_LOGIN_MAX_FAILURES"]
    since = now - timedelta(minutes=current_app.config["TRACKER_LOGIN_LOCK_MINUTES"])
    by_user = db.session.scalar(
        select(func.count()).where(LoginAttempt.username == username, LoginAttempt.at > since)
    )
    by_addr = db.session.scalar(
        select(func.count()).where(LoginAttempt.remote_addr == remote_addr,
                                   LoginAttempt.at > since)
    )
    return by_user >= limit or by_addr >= limit * ADDRESS_FACTOR


def authenticate(username: str, password: str, remote_addr: str, *, now: datetime) -> User | None:
    """The user if the password is right, the account active and not throttled.

    Each failure is recorded (in its own commit by the caller), whatever the reason, so a
    guesser learns nothing from the answer or from its timing.
    """
    username = username.strip().lower()
    user = db.session.scalar(select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user else None, password)
    if ok and user.active:
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        return user
    db.session.add(LoginAttempt(username=username[:64], remote_addr=remote_addr[:64], at=now))
    return None


def clear_failures(username: str) -> None:
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.username == username))
