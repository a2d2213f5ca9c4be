"""Who a single sign-on login names: the ID token's configured claim mapped to an existing
Tracker user — never a new one: who may use Tracker, with which role and in which unit,
stays decided in Tracker by its admins. Every refusal is a security event.

The claim (a username, an e-mail) only finds the account the first time: that login binds
the provider's identity, the ID token's (`iss`, `sub`), to it, and every later login must
present the same pair — a username or an address that the provider gives to someone else
opens nothing. An admin's account is bound only when allowed (TRACKER_OIDC_LINK_ADMINS, or
its one-use `sso_link_next`); an admin unlinks an account whose identity changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from tracker.audit.security import SecurityEventKind, record_security
from tracker.auth.models import Role, User
from tracker.errors import Conflict, InvalidInput
from tracker.extensions import db
from tracker.scope import can_see_user, require_role

CLAIM_MAX = 254
IDENTITY_MAX = 255  # the columns' width; a longer `iss` or `sub` is refused, not cut


@dataclass(frozen=True)
class SsoLogin:
    """The user the provider's login names; else None and why (`refused`: "no_claim",
    "no_subject", "unverified", "unknown", "ambiguous", "deactivated", "other_identity",
    "identity_taken", "admin_not_linked"). `identity` is the (iss, sub) to bind to the
    user when the login completes (`link_identity`); None when it is bound already."""

    user: User | None
    refused: str | None = None
    provider_mfa: bool = False  # the ID token's `amr` says several factors were used
    identity: tuple[str, str] | None = None


def _text(claims: dict, name: str) -> str | None:
    value = claims.get(name)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().lower()[:CLAIM_MAX]


def _identity(claims: dict) -> tuple[str, str] | None:
    issuer, subject = claims.get("iss"), claims.get("sub")
    if not all(isinstance(part, str) and part and len(part) <= IDENTITY_MAX
               for part in (issuer, subject)):
        return None
    return issuer, subject


def login_user_for(claims: dict, *, claim: str, now: datetime, address: str | None,
                   link_admins: bool = False) -> SsoLogin:
    """The existing, active user whose username (or e-mail, when `claim` is "email")
    equals the claim. An e-mail must be marked verified by the provider and name exactly
    one user. A user bound to a provider identity must be named by that identity; an
    unbound one is bound by this login (module docstring). A refusal is recorded as a
    failed login (detail "sso: …"); the caller commits either way."""
    value = _text(claims, claim)
    subject = str(claims.get("sub", ""))[:80]
    identity = _identity(claims)
    if identity is None:
        return _refuse("no_subject", f"sso: no usable iss and sub (sub {subject})", now=now,
                       address=address)
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
    if user.sso_subject is not None:
        if (user.sso_issuer, user.sso_subject) != identity:
            return _refuse("other_identity",
                           f"sso: {user.username} is linked to another sign-on identity "
                           f"(sub {subject} presented)", now=now, address=address, user=user)
        identity = None  # bound already
    else:
        holder = _holder(identity)
        if holder is not None:
            return _refuse("identity_taken",
                           f"sso: sub {subject} is linked to {holder.username}, not "
                           f"{user.username}", now=now, address=address, user=user)
        if user.role == Role.ADMIN and not (link_admins or user.sso_link_next):
            return _refuse("admin_not_linked",
                           f"sso: admin {user.username} not linked (sub {subject})",
                           now=now, address=address, user=user)
    amr = claims.get("amr")
    return SsoLogin(user, provider_mfa=isinstance(amr, list) and "mfa" in amr,
                    identity=identity)


def _holder(identity: tuple[str, str]) -> User | None:
    issuer, subject = identity
    return db.session.scalar(select(User).where(User.sso_issuer == issuer,
                                                User.sso_subject == subject))


def link_identity(user: User, identity: tuple[str, str], *, now: datetime) -> bool:
    """Bind the provider's identity to `user` as their login completes (after the second
    step when there is one), in the caller's transaction, with the security event
    `sso_linked`. False, nothing changed, when since the callback the account was bound to
    another identity or the identity to another account."""
    if user.sso_subject is not None or _holder(identity) is not None:
        return False
    user.sso_issuer, user.sso_subject = identity
    user.sso_link_next = False
    record_security(SecurityEventKind.SSO_LINKED, at=now, user=user,
                    detail=f"sub {identity[1]}"[:500])
    return True


def _admin_over(actor: User | None, user: User) -> None:
    if actor is not None:
        require_role(actor, Role.ADMIN)
        if not can_see_user(actor, user):
            raise InvalidInput(_("Unknown user or outside your scope."), {"user": [""]})


def unlink_identity(actor: User | None, user: User, *, now: datetime) -> bool:
    """An admin (or the operator, `actor` None) frees the account from its provider
    identity — the person's account at the provider was replaced — so that their next
    login binds the new one (an admin's only if allowed again). False if none was bound."""
    _admin_over(actor, user)
    if user.sso_subject is None:
        return False
    record_security(SecurityEventKind.SSO_UNLINKED, at=now, actor=actor, user=user,
                    detail=f"sub {user.sso_subject}"[:500])
    user.sso_issuer = user.sso_subject = None
    user.sso_link_next = False
    return True


def allow_next_link(actor: User | None, user: User, *, now: datetime) -> None:
    """Let the next single sign-on login bind this (unbound) account, once — how an admin's
    account gets its identity while TRACKER_OIDC_LINK_ADMINS is off."""
    _admin_over(actor, user)
    if user.sso_subject is not None:
        raise Conflict(_("The account is already linked to a single sign-on account: "
                         "unlink it first."))
    if not user.sso_link_next:
        user.sso_link_next = True
        record_security(SecurityEventKind.SSO_LINK_ALLOWED, at=now, actor=actor, user=user)


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
