"""The login throttle: guessing is slowed without letting anyone lock an account's owner out.

Every attempt is recorded *before* its password is checked and counts as a failure until it
is marked `succeeded`, so parallel attempts all count and a burst cannot slip past a limit.
The count and the record happen under a transaction-level advisory lock per username (and
per address) on PostgreSQL; on SQLite, `BEGIN IMMEDIATE` already runs them one at a time.

The limits (docs/security.md, "Login throttling", has the design and its trade-off):

- a browser that has logged in as this username before (a *trusted device*, proved by a
  signed cookie, tracker.auth.devices) is limited only by its own failures for that
  username: another client's failures never touch it;
- any other client is limited per (username, address), per username over all addresses
  (slower: a guesser spread over many addresses), and per address over all usernames.

Records are never deleted on success; they are pruned once older than every window.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select, text, update

from tracker.auth.models import LoginAttempt
from tracker.extensions import db

# Advisory locks (namespace, key) of the throttle, apart from the fence's (tracker.fence).
USERNAME_LOCKS = 0x4C4F47  # "LOG"
ADDRESS_LOCKS = 0x4C4F48
_LOCK = text("SELECT pg_advisory_xact_lock(:ns, :key)")


@dataclass(frozen=True)
class Limit:
    name: str  # which limit refused: "client", "username", "address" (kept in the event)
    failures: int
    window: timedelta


@dataclass(frozen=True)
class Verdict:
    """The attempt's row when it may go on to the password check; else which limit
    refused it and in how many seconds it may try again."""

    attempt_id: int | None
    refused_by: str | None = None
    retry_after: int = 0


def limits() -> dict[str, Limit]:
    cfg = current_app.config
    short = timedelta(minutes=cfg["TRACKER_LOGIN_LOCK_MINUTES"])
    return {
        "client": Limit("client", cfg["TRACKER_LOGIN_MAX_FAILURES"], short),
        "username": Limit("username", cfg["TRACKER_LOGIN_USER_MAX_FAILURES"],
                          timedelta(minutes=cfg["TRACKER_LOGIN_USER_WINDOW_MINUTES"])),
        "address": Limit("address", cfg["TRACKER_LOGIN_ADDRESS_MAX_FAILURES"], short),
    }


def _key(value: str) -> int:
    """A stable signed 32-bit key for an advisory lock."""
    n = zlib.crc32(value.encode())
    return n - 2**32 if n >= 2**31 else n


def _lock(namespace: int, value: str) -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_LOCK, {"ns": namespace, "key": _key(value)})


def _retry_after(where, limit: Limit, now: datetime, since: datetime | None = None) -> int:
    """Seconds until fewer than `limit.failures` failures matching `where` lie within the
    window (0: not reached). The `failures`-th most recent one is the one to age out."""
    start = now - limit.window
    if since is not None:
        start = max(start, since)
    times = db.session.scalars(
        select(LoginAttempt.at).where(*where, LoginAttempt.succeeded.is_(False),
                                      LoginAttempt.at > start)
        .order_by(LoginAttempt.at.desc()).limit(limit.failures)).all()
    if len(times) < limit.failures:
        return 0
    return max(1, int((times[-1] + limit.window - now).total_seconds() + 0.999))


def reserve(username: str, address: str, device: str | None, *, now: datetime) -> Verdict:
    """Check the client's limits and, if none is reached, record this attempt as a failure
    to be marked `succeeded` when its password proves right. Runs in the caller's
    transaction, which must commit it before the password is checked: the locks taken here
    are held until then, and another attempt for the same username waits for them."""
    username, address = username[:64], address[:64]
    _lock(USERNAME_LOCKS, username)  # always this order: no two attempts deadlock
    if device is None:
        _lock(ADDRESS_LOCKS, address)
    found = limits()
    if device is not None:
        client = [LoginAttempt.username == username, LoginAttempt.device == device]
        checks = [(found["client"], client)]
    else:
        client = [LoginAttempt.username == username, LoginAttempt.remote_addr == address,
                  LoginAttempt.device.is_(None)]
        checks = [(found["client"], client),
                  (found["username"], [LoginAttempt.username == username,
                                       LoginAttempt.device.is_(None)]),
                  (found["address"], [LoginAttempt.remote_addr == address,
                                      LoginAttempt.device.is_(None)])]
    # The client's own failures before its last success no longer count against it.
    last_success = db.session.scalar(
        select(func.max(LoginAttempt.at)).where(*client, LoginAttempt.succeeded.is_(True)))
    for limit, where in checks:
        since = last_success if limit.name == "client" else None
        wait = _retry_after(where, limit, now, since)
        if wait:
            return Verdict(None, limit.name, wait)
    _prune(username, address, now - max(limit.window for limit in found.values()))
    attempt = LoginAttempt(username=username, remote_addr=address, device=device, at=now)
    db.session.add(attempt)
    db.session.flush()
    return Verdict(attempt.id)


def succeeded(attempt_id: int) -> None:
    """The attempt's password was right: it no longer counts as a failure."""
    db.session.execute(update(LoginAttempt).where(LoginAttempt.id == attempt_id)
                       .values(succeeded=True))


def _prune(username: str, address: str, before: datetime) -> None:
    """Forget this username's and this address's records older than every window (the
    security events keep the history)."""
    for column, value in ((LoginAttempt.username, username),
                          (LoginAttempt.remote_addr, address)):
        db.session.execute(delete(LoginAttempt).where(column == value,
                                                      LoginAttempt.at < before))
