"""Users, their login sessions and failed-login records."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.clock import system_now
from tracker.extensions import db
from tracker.rules.vietnamese_sql import keep_search_text
from tracker.types import UTCDateTime
from tracker.units.models import Unit


class Role(StrEnum):
    """What a user does; where they may do it is their home unit's subtree."""

    ADMIN = "admin"  # quản trị: units, users, calendar, assigns tasks
    SUPERVISOR = "supervisor"  # tổ công tác / cơ quan thường trực
    MEMBER = "member"  # cán bộ đơn vị: posts the daily update
    VIEWER = "viewer"  # lãnh đạo: read-only


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    # Empty: the user has no password and logs in only by single sign-on (tracker.sso).
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(String(16))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=system_now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when an admin chose the password (creation, reset): the user must choose their
    # own before anything else (ASVS 6.4.1); cleared by their own change.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    # What a user search compares: username, full name and e-mail folded
    # (tracker.rules.vietnamese.fold_fields), kept on every write (`keep_search_text`).
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="", deferred=True)
    # The single sign-on identity bound to this account (tracker.sso.service): the ID
    # token's `iss` and `sub`, set at the first single sign-on login (an admin's only when
    # `sso_link_next` allows it), cleared by an admin's unlink. Later logins must present
    # the same pair: the claim naming the user (a username, an e-mail) can change hands.
    sso_issuer: Mapped[str | None] = mapped_column(String(255))
    sso_subject: Mapped[str | None] = mapped_column(String(255))
    # One use: the next single sign-on login may bind the account although its role is
    # admin (TRACKER_OIDC_LINK_ADMINS off); cleared when it does.
    sso_link_next: Mapped[bool] = mapped_column(default=False, server_default=false())

    unit: Mapped[Unit] = relationship(lazy="joined")

    __table_args__ = (
        # The search's trigram index (pg_trgm); empty on SQLite, which scans (as tasks').
        Index("ix_users_search_text", "search_text", postgresql_using="gin",
              postgresql_ops={"search_text": "gin_trgm_ops"}, sqlite_where=text("0")),
        # One provider identity names at most one account.
        Index("ix_users_sso_identity", "sso_issuer", "sso_subject", unique=True),
    )

    # Flask-Login: the id stored in the cookie is the *session* token, not the user id,
    # so that logging out or deactivating a user ends the session on the server.
    session_token = None  # set per instance by the session loader
    is_authenticated = True
    is_anonymous = False

    @property
    def has_password(self) -> bool:
        return bool(self.password_hash)

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str | None:
        return self.session_token

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


keep_search_text(User, ("username", "full_name", "email"))


class UserSession(db.Model):
    """A server-side login session; the cookie carries a token whose hash is kept here."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=system_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The last request seen (to the minute): a session idle for longer than
    # TRACKER_SESSION_IDLE_MINUTES ends (ASVS 7.3.1).
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_agent: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship()


class LoginAttempt(db.Model):
    """One login attempt, recorded before its password is checked and counted as a failure
    unless it `succeeded`; kept (pruned by age) to throttle guessing per username and
    client, per username and per address (tracker.auth.throttle)."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    remote_addr: Mapped[str] = mapped_column(String(64))
    # The browser's trusted-device id when it has logged in as this username before.
    device: Mapped[str | None] = mapped_column(String(32))
    succeeded: Mapped[bool] = mapped_column(default=False, server_default=false())
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=system_now)

    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_remote_addr_at", "remote_addr", "at"),
    )
