"""Idempotency keys (draft-ietf-httpapi-idempotency-key-header): a client that does not know
whether its write arrived sends it again with the same key, and gets the first answer back
instead of a second write.

`once` wraps one write, in the caller's transaction:

1. On PostgreSQL, a transaction-level advisory lock on (user, key) is *tried*: if another
   request with the key holds it, that one is still in flight → `KeyInFlight` (409), at
   once, without waiting. On SQLite, writers already take turns (BEGIN IMMEDIATE).
2. The key's row is read. Stored and younger than `TTL`: the same fingerprint (method, path,
   hash of the body) gets the stored answer back, marked as a replay, and nothing is
   written; another fingerprint is `KeyReused` (422). An expired row is deleted.
3. Otherwise the write runs, and the key's row — with the answer — is inserted in the same
   transaction. The write and its key commit together or not at all: a refused or failed
   write stores no key, so the client may try again; a stored key always has its write.

Exactly once does not rest on the lock: the unique constraint on (user, key) makes a second
row impossible, and as the row is inserted in the write's transaction, a second write
under the key could only commit with it. The lock only turns that wait into a prompt 409.

The first request's answer is the answer: it holds the server's stamp and the reporting day
the write counted for, so a retry after the 16:00 cutoff still says what the first
request did (it is not written again for the next day).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, insert, select, text
from sqlalchemy.exc import IntegrityError

from tracker.errors import Conflict, InvalidInput
from tracker.extensions import db
from tracker.idempotency.models import IdempotencyKey

TTL = timedelta(hours=24)
MAX_LENGTH = 255
# The advisory locks of keys are (NAMESPACE, hash of user and key), apart from the fence's.
NAMESPACE = 0x49444B  # "IDK"
_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(:ns, :key)")
_keys = IdempotencyKey.__table__


class KeyInFlight(Conflict):
    """A request with this key is still being processed."""

    code = "idempotency_key_in_flight"


class KeyReused(InvalidInput):
    """The key was already used for a different request."""

    code = "idempotency_key_reused"


@dataclass(frozen=True)
class Answer:
    """What a write answered: an HTTP status and a body (text); `replayed` when it is the
    stored answer of an earlier request with the same key."""

    status: int
    body: str
    replayed: bool = False


def check_key(raw: str | None, field: str) -> str | None:
    """The key as sent (None if none was), or `InvalidInput` naming `field`: 1 to 255
    visible ASCII characters or spaces (a structured-field string)."""
    if raw is None:
        return None
    if not 0 < len(raw) <= MAX_LENGTH or not all(" " <= c <= "~" for c in raw):
        raise InvalidInput(_("Some fields are not valid."), {field: [
            _("An idempotency key is 1 to %(n)s visible ASCII characters.", n=MAX_LENGTH)]})
    return raw


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What identifies a request under its key: its method, its path and its body."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), hashlib.sha256(body).digest()):
        digest.update(len(part).to_bytes(4, "big") + part)
    return digest.hexdigest()


def _lock_id(user_id: int, key: str) -> int:
    """A signed 32-bit number for (user, key); a collision only makes a rare 409."""
    digest = hashlib.sha256(f"{user_id}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


def once(user_id: int, key: str, method: str, path: str, body: bytes,
         write: Callable[[], Answer], *, now: datetime, field: str) -> Answer:
    """`write()`'s answer, once per (user, key): its first call runs the write and stores
    the answer with the key, in the caller's transaction (the caller commits); a repeat
    with the same request gets the stored answer (`replayed`) and writes nothing.
    Raises `KeyInFlight` (409) while a request with the key is in flight, `KeyReused`
    (422, naming `field`) for the key with another request."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql" and not db.session.scalar(
            _TRY_LOCK, {"ns": NAMESPACE, "key": _lock_id(user_id, key)}):
        raise KeyInFlight(_("A request with this idempotency key is still being "
                            "processed; try again in a moment."), {field: [_("In use.")]})
    print_ = fingerprint(method, path, body)
    found = db.session.execute(
        select(_keys.c.id, _keys.c.fingerprint, _keys.c.created_at, _keys.c.status,
               _keys.c.response)
        .where(_keys.c.user_id == user_id, _keys.c.key == key)).one_or_none()
    if found is not None and found.created_at > now - TTL:
        if found.fingerprint != print_:
            raise KeyReused(_("Some fields are not valid."), {field: [
                _("This idempotency key was already used for a different request.")]})
        return Answer(found.status, found.response, replayed=True)
    if found is not None:  # expired: the key may be used again
        db.session.execute(delete(_keys).where(_keys.c.id == found.id))
    answer = write()
    try:
        db.session.execute(insert(_keys).values(
            user_id=user_id, key=key, method=method.upper(), path=path[:300],
            fingerprint=print_, created_at=now, status=answer.status, response=answer.body))
    except IntegrityError:  # the lock makes this unreachable; the constraint makes it safe
        raise KeyInFlight(_("A request with this idempotency key is still being "
                            "processed; try again in a moment."), {field: [_("In use.")]}) \
            from None
    return answer


def purge_expired(now: datetime) -> int:
    """Delete the keys older than `TTL` (the scheduler's hourly job); returns how many.
    The caller commits. Expired keys are also ignored, and replaced, as they are met."""
    result = db.session.execute(delete(_keys).where(_keys.c.created_at <= now - TTL))
    return result.rowcount

