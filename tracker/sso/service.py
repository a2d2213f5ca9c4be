"""Who a single sign-on login names: the ID token's configured claim mapped to an existing
Tracker user — never a new one: who may use Tracker, with which role and in which unit,
stays decided in Tracker by its admins. Every refusal is a security event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from tracker.audit.security import SecurityEventKind, record_security
from tracker.auth.models import User
from tracker.extensions import db

CLAIM_MAX = 254


@dataclass(frozen=True)
class SsoLogin:
    """The user the provider's login names; else None and why (`refused`: "no_claim",
    "unverified", "unknown", "ambiguous", "deactivated")."""

    user: User | None
    refused: str | None = None
    provider_mfa: bool = False  # the ID token's `amr` says several factors were used


def _text(claims: dict, name: str) -> str | None:
    value = claims.get(name)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().lower()[:CLAIM_MAX]


def login_user_for(claims: dict, *, claim: str, now: datetime,
                   address: str | None) -> SsoLogin:
    """The existing, active user whose username (or e-mail, when `claim` is "email")
    equals the claim. An e-mail must be marked verified by the provider and name exactly
    one user. A refusal is recorded as a failed login (detail "sso: …"); the caller
    commits either way."""
    value = _text(claims, claim)
    subject = str(claims.get("sub", ""))[:80]
    if value is None:
        return _refuse("no_claim", f"sso: no {claim} claim (sub {subject})", now=now,
                       address=address)
    if claim == "email":
        if claims.get("email_verified") is not True:
            return _refuse("unverified", f"sso: e-mail {value} not verified", now=now,
                           address=address, username=value)
        found = db.session.scalars(select(User).where(func.lower(User.email) == value)
                                   .limit(2)).all()
        if len(found) > 1:
            return _refuse("ambiguous", f"sso: e-mail {value} names several users",
                           now=now, address=address, username=value)
        user = found[0] if found else None
    else:
        user = db.session.scalar(select(User).where(User.username == value))
    if user is None:
        return _refuse("unknown", f"sso: no account for {claim} {value} (sub {subject})",
                       now=now, address=address, username=value)
    if not user.active:
        return _refuse("deactivated", "sso: deactivated", now=now, address=address,
                       user=user)
    amr = claims.get("amr")
    return SsoLogin(user, provider_mfa=isinstance(amr, list) and "mfa" in amr)


def refuse_login(reason: str, *, now: datetime, address: str | None) -> None:
    """The provider's answer was not a valid login (a state, nonce, signature, audience or
    expiry check failed, or the provider could not be reached): recorded, no user named."""
    record_security(SecurityEventKind.LOGIN_FAILED, at=now, address=address,
                    detail=f"sso: {reason}"[:500])


def _refuse(reason: str, detail: str, *, now: datetime, address: str | None,
            user: User | None = None, username: str | None = None) -> SsoLogin:
    record_security(SecurityEventKind.LOGIN_FAILED, at=now, user=user, username=username,
                    address=address, detail=detail)
    return SsoLogin(None, reason)
