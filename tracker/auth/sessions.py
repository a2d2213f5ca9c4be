"""Server-side login sessions, and the login itself: the password checked outside any
database lock, behind the throttle (tracker.auth.throttle)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from tracker.audit.security import SecurityEventKind, record_security
from tracker.auth import throttle
from tracker.auth.models import User, UserSession
from tracker.auth.passwords import hash_password, needs_rehash, verify_password
from tracker.extensions import db


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
        last_seen_at=now,
        expires_at=now + timedelta(hours=hours),
        user_agent=(user_agent or "")[:255],
    ))
    user.session_token = token
    user.last_login_at = now
    return token


# A session's last activity is written at most once a minute, not on every request.
SEEN_GRAIN = timedelta(minutes=1)


def load_session_user(token: str, *, now: datetime) -> User | None:
    """The user of a live session: not expired, not idle for longer than
    TRACKER_SESSION_IDLE_MINUTES (0: no idle limit), the user active. Called once at the
    start of a request (Flask-Login, from the gates that run before every page), so it
    commits its own touch of the session's last activity, at most once a minute."""
    row = db.session.scalar(
        select(UserSession).where(UserSession.token_hash == token_hash(token))
    )
    if row is None or row.expires_at <= now or not row.user.active:
        return None
    idle = timedelta(minutes=current_app.config["TRACKER_SESSION_IDLE_MINUTES"])
    seen = row.last_seen_at or row.created_at
    if idle and seen + idle <= now:
        return None
    user = row.user
    if now - seen >= SEEN_GRAIN:
        db.session.execute(update(UserSession).where(UserSession.id == row.id)
                           .values(last_seen_at=now))
        db.session.commit()
    user.session_token = token
    return user


def end_session(token: str | None) -> None:
    if token:
        db.session.execute(delete(UserSession).where(UserSession.token_hash == token_hash(token)))


def end_all_sessions(user: User) -> None:
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))


def end_other_sessions(user: User, keep_token: str | None) -> int:
    """End every session of `user` but the one whose cookie carries `keep_token`; how many
    ended."""
    query = delete(UserSession).where(UserSession.user_id == user.id)
    if keep_token:
        query = query.where(UserSession.token_hash != token_hash(keep_token))
    return db.session.execute(query).rowcount


@dataclass(frozen=True)
class LoginOutcome:
    """The user whose password was right (in an open transaction the caller goes on
    with); else None, and when a throttle limit refused the attempt, the seconds to
    wait."""

    user: User | None
    retry_after: int = 0


def authenticate(typed: str, password: str, *, address: str, device: str | None,
                 now: datetime) -> LoginOutcome:
    """Check a login with no database lock held while the password is hashed.

    It runs its own transactions: a short one records the attempt (tracker.auth.throttle)
    and reads the user, and is committed; the password is then checked with no transaction
    open (argon2 takes about a quarter of a second; on SQLite a transaction holds the write
    lock); a failure or a refusal is committed with its security event. On success the
    user is returned in a new transaction, the attempt marked succeeded, for the caller to
    start the session (`complete_login`) and commit. `device` is the browser's
    trusted-device id for this username (tracker.auth.devices), if any. A guesser learns
    nothing from the answer or its timing: an unknown username is checked against a dummy
    hash."""
    username = typed.strip().lower()[:64]
    db.session.rollback()  # nothing of the caller's is pending: start from a clean session
    verdict = throttle.reserve(username, address, device, now=now)
    if verdict.attempt_id is None:
        record_security(SecurityEventKind.LOGIN_THROTTLED, at=now, username=typed,
                        address=address, detail=f"limit: {verdict.refused_by}")
        db.session.commit()
        return LoginOutcome(None, verdict.retry_after)
    row = db.session.execute(select(User.id, User.password_hash, User.active)
                             .where(User.username == username)).first()
    db.session.commit()  # counted before the password is checked; the locks released
    stored = row.password_hash if row else None
    ok = verify_password(stored, password) and row is not None and row.active
    rehashed = hash_password(password) if ok and needs_rehash(stored) else None
    user = db.session.get(User, row.id) if row else None
    if not ok:
        record_security(SecurityEventKind.LOGIN_FAILED, at=now, user=user, username=typed,
                        address=address, detail=None if user is None or user.active
                        else "deactivated")
        db.session.commit()
        return LoginOutcome(None)
    throttle.succeeded(verdict.attempt_id)
    if rehashed and user.password_hash == stored:
        user.password_hash = rehashed
    return LoginOutcome(user)


def complete_login(user: User, *, now: datetime, address: str | None,
                   user_agent: str | None, method: str | None = None) -> str:
    """Every factor is checked: start the session and record the login (`method`: how,
    when not by password — "sso", "sso, mfa by provider"). Returns the raw session token;
    the caller commits."""
    token = start_session(user, now=now, user_agent=user_agent)
    record_security(SecurityEventKind.LOGIN, at=now, actor=user, user=user, address=address,
                    detail=method)
    return token


def log_out(user: User, token: str | None, *, now: datetime) -> None:
    """End this session (the cookie's copy is dead from now on) and record it."""
    record_security(SecurityEventKind.LOGOUT, at=now, actor=user, user=user)
    end_session(token)
