"""Personal API tokens: how scripts and other systems act as a user over the REST API.

A token is shown once, when it is created; only its SHA-256 is kept. Every token expires
(90 days unless chosen otherwise), can be revoked by its owner or an admin who sees the
owner's account, and stops working the moment its user is deactivated. A deactivation or a
password reset revokes every token of the user for good: a reactivated user makes new ones.
The token carries exactly its user's role and scope.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import ForeignKey, String, bindparam, select, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.audit.security import SecurityEventKind, record_security
from tracker.auth.models import User
from tracker.auth.sessions import token_hash
from tracker.clock import system_now
from tracker.deadlines import RushStatement
from tracker.errors import Forbidden, InvalidInput, NotFound
from tracker.extensions import db
from tracker.scope import acts_for, may_manage_tokens
from tracker.types import UTCDateTime
from tracker.units.models import Unit

PREFIX = "trk_"  # lets secret scanners (and people) recognise a leaked Tracker token
DEFAULT_DAYS = 90
MAX_DAYS = 366
NAME_MAX = 100
# last_used_at is written at most this often, so that a busy script does not turn every
# read into a write.
TOUCH_INTERVAL = timedelta(minutes=1)


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=system_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.name!r} of user {self.user_id}>"


def create_token(actor: User | None, user: User, *, name: str | None = None,
                 days: int = DEFAULT_DAYS, now: datetime) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the raw token, which is never stored.

    Users create their own tokens; `actor` None means the operator at the command line.
    """
    if actor is not None and not acts_for(actor, user.id):
        raise Forbidden(_("You can only create tokens for yourself."))
    errors: dict[str, list[str]] = {}
    name = (name or "").strip() or _("API token of %(day)s", day=now.strftime("%d/%m/%Y"))
    if len(name) > NAME_MAX:
        errors["name"] = [_("At most %(n)s characters.", n=NAME_MAX)]
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        errors["days"] = [_("Between 1 and %(n)s days.", n=MAX_DAYS)]
    if not user.active:
        errors["user"] = [_("The account is deactivated.")]
    if errors:
        raise InvalidInput(_("The token could not be created."), errors)
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=token_hash(raw), created_at=now,
                     expires_at=now + timedelta(days=days))
    db.session.add(token)
    db.session.flush()
    record_security(SecurityEventKind.TOKEN_CREATED, at=now, actor=actor, user=user,
                    detail=_token_detail(token))
    return token, raw


def _token_detail(token: ApiToken, reason: str | None = None) -> str:
    return f"token {token.id} ({token.name})" + (f": {reason}" if reason else "")


def revoke_token(actor: User | None, token: ApiToken, *, now: datetime) -> None:
    """Revoke a token at once: its owner, an admin who sees the owner's account, or the
    operator (`actor` None) may. Revoking twice is a no-op, and the first revocation time
    is kept."""
    if actor is not None and not may_manage_tokens(actor, token.user):
        raise NotFound(_("token not found"))
    if token.revoked_at is None:
        token.revoked_at = now
        record_security(SecurityEventKind.TOKEN_REVOKED, at=now, actor=actor,
                        user=token.user, detail=_token_detail(token))


def revoke_all_tokens(actor: User | None, user: User, *, now: datetime, reason: str) -> int:
    """Revoke every token of `user` not yet revoked, for good (a deactivation, a password
    reset); each is recorded. The caller has checked that `actor` may do what `reason`
    says. Returns how many."""
    live = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                     ApiToken.revoked_at.is_(None))).all()
    for token in live:
        token.revoked_at = now
        record_security(SecurityEventKind.TOKEN_REVOKED, at=now, actor=actor, user=user,
                        detail=_token_detail(token, reason))
    return len(live)


def _token_row(token_id: int) -> ApiToken | None:
    return db.session.get(ApiToken, token_id) if 0 < token_id <= 2**31 - 1 else None


def own_token(user: User, token_id: int) -> ApiToken:
    token = _token_row(token_id)
    if token is None or not acts_for(user, token.user_id):
        raise NotFound(_("token not found"))
    return token


def token_of(actor: User, owner: User, token_id: int) -> ApiToken:
    """A token of `owner` that `actor` may manage (see `tracker.scope.may_manage_tokens`);
    404 otherwise, so that ids do not leak."""
    token = _token_row(token_id)
    if token is None or token.user_id != owner.id or not may_manage_tokens(actor, owner):
        raise NotFound(_("token not found"))
    return token


def tokens_for(actor: User, owner: User) -> list[ApiToken]:
    """The tokens of `owner`, newest first, if `actor` may manage them (else 404)."""
    if not may_manage_tokens(actor, owner):
        raise NotFound(_("user not found"))
    return tokens_of(owner)


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ))


@dataclass(frozen=True)
class Identity:
    """Who is acting, as plain values: enough for the scope rule and the audit trail
    without loading the ORM user."""

    user_id: int
    username: str
    role: str
    active: bool
    unit_id: int
    unit_path: str

    @classmethod
    def of(cls, user: User) -> Identity:
        """The identity of a user already loaded (the web's current user, the CLI's)."""
        return cls(user.id, user.username, str(user.role), user.active, user.unit_id,
                   user.unit.path)


# One Core statement (no ORM objects), compiled once: the token, its user, the user's unit.
_token, _user, _unit = ApiToken.__table__, User.__table__, Unit.__table__
_LOOKUP = RushStatement(
    select(_token.c.id, _token.c.expires_at, _token.c.revoked_at, _token.c.last_used_at,
           _user.c.id.label("user_id"), _user.c.username, _user.c.role, _user.c.active,
           _user.c.unit_id, _unit.c.path)
    .join(_user, _user.c.id == _token.c.user_id)
    .join(_unit, _unit.c.id == _user.c.unit_id)
    .where(_token.c.token_hash == bindparam("hash"))
)  # before every API request. On PostgreSQL, straight through the driver, its two
# timestamps come back aware and in UTC (the session's zone, tracker.deadlines), as
# `UTCDateTime` gives them.
_TOUCH = update(_token).where(_token.c.id == bindparam("token_id")) \
    .values(last_used_at=bindparam("at"))


def identity_for_token(raw: str, *, now: datetime) -> tuple[Identity | None, bool]:
    """The identity of the active user whose usable token this is (None otherwise), read
    from the database on every call so that a revocation or a deactivation takes effect at
    once; and whether the token's last use was recorded (at most once per TOUCH_INTERVAL,
    the caller commits)."""
    if not raw.startswith(PREFIX) or len(raw) > 200:
        return None, False
    row = _LOOKUP.run(db.session.connection(), {"hash": token_hash(raw)})
    if row is None:
        return None, False
    token_id, expires_at, revoked_at, last_used_at, user_id, username, role, active, \
        unit_id, path = row
    if revoked_at is not None or not now < expires_at or not active:
        return None, False
    touched = last_used_at is None or now - last_used_at >= TOUCH_INTERVAL
    if touched:
        db.session.execute(_TOUCH, {"token_id": token_id, "at": now})
    return Identity(user_id, username, role, active, unit_id, path), touched

