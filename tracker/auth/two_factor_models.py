"""The second factor of a login (xác thực hai lớp): a user's TOTP secret, their one-time
recovery codes, and the half-done logins waiting for a code (tracker.auth.two_factor)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.clock import system_now
from tracker.extensions import db
from tracker.types import UTCDateTime


class SecondFactor(db.Model):
    """A user's authenticator app: the TOTP secret, encrypted with a key derived from
    SECRET_KEY. `confirmed_at` is None while the user has scanned it but not yet proved it
    with a code; only a confirmed one is asked for at login. `last_step` is the 30-second
    time step of the last code accepted: a code is never accepted twice."""

    __tablename__ = "second_factors"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=system_now)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_step: Mapped[int | None] = mapped_column(BigInteger)

    user: Mapped[User] = relationship()


class RecoveryCode(db.Model):
    """One of a user's one-time recovery codes (mã khôi phục), kept as its SHA-256: each is
    80 random bits, shown once, and spent when used."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=system_now)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_recovery_codes_user_id_code_hash", "user_id", "code_hash", unique=True),
    )


class LoginChallenge(db.Model):
    """A login whose password was right and that waits for the second factor. The browser
    holds a random token (in its session cookie) whose SHA-256 is kept here; the state —
    who, until when, how many wrong codes — lives only on the server."""

    __tablename__ = "login_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=system_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    failures: Mapped[int] = mapped_column(default=0)
    next_url: Mapped[str | None] = mapped_column(String(500))

    user: Mapped[User] = relationship(lazy="joined")
