"""Security events: who signed in, failed, changed access or credentials, exported a
report — the record an assessor and an admin read (ASVS 16.3). Written in the same
transaction as the change it records; a failed login is committed on its own.

Rows are never changed or deleted (the database refuses it, see the audit migration)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask import has_request_context, request

from tracker.audit.models import SecurityEvent
from tracker.extensions import db


class SecurityEventKind(StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGIN_THROTTLED = "login_throttled"
    LOGOUT = "logout"
    SESSIONS_ENDED = "sessions_ended"
    USER_CREATED = "user_created"
    USER_CHANGED = "user_changed"  # name, e-mail, phone
    ACCESS_CHANGED = "access_changed"  # role or unit
    USER_DEACTIVATED = "user_deactivated"
    USER_REACTIVATED = "user_reactivated"
    PASSWORD_CHANGED = "password_changed"  # by the user
    PASSWORD_RESET = "password_reset"  # by an admin or the operator
    TOKEN_CREATED = "token_created"
    TOKEN_REVOKED = "token_revoked"
    TWO_FACTOR_ENABLED = "two_factor_enabled"
    TWO_FACTOR_DISABLED = "two_factor_disabled"
    RECOVERY_CODE_USED = "recovery_code_used"
    UNIT_CREATED = "unit_created"  # a department added
    UNIT_RENAMED = "unit_renamed"
    UNIT_RETIRED = "unit_retired"
    UNIT_REACTIVATED = "unit_reactivated"
    CALENDAR_CHANGED = "calendar_changed"
    POLICY_CHANGED = "policy_changed"
    REPORT_EXPORTED = "report_exported"
    REPORT_SETTINGS_CHANGED = "report_settings_changed"  # a unit's letterhead
    SIGNING_KEY_ADDED = "signing_key_added"
    SIGNING_KEY_REMOVED = "signing_key_removed"
    REPORT_SIGNED = "report_signed"
    WEBHOOK_CREATED = "webhook_created"
    WEBHOOK_CHANGED = "webhook_changed"  # its address, events, state or secret
    WEBHOOK_DELETED = "webhook_deleted"
    CALENDAR_FEED_RESET = "calendar_feed_reset"  # a new secret address (or none)
    SSO_LINKED = "sso_linked"  # a single sign-on identity bound to the account
    SSO_UNLINKED = "sso_unlinked"
    SSO_LINK_ALLOWED = "sso_link_allowed"  # the next login may bind an admin's account


ADDRESS_MAX = 64
USERNAME_MAX = 64


def client_address() -> str | None:
    """The client's address as the app sees it: with a trusted proxy configured
    (`TRACKER_TRUSTED_PROXIES`), ProxyFix has already put the forwarded address here."""
    if not has_request_context():
        return None
    return (request.remote_addr or "")[:ADDRESS_MAX] or None


def record_security(kind: SecurityEventKind, *, at: datetime, actor=None, user=None,
                    unit=None, username: str | None = None, detail: str | None = None,
                    address: str | None = None) -> SecurityEvent:
    """Add one security event to the session. `actor` did it, `user` is the account it
    concerns (for a login, the same), `unit` places it in a scope (defaults to the
    concerned user's unit, then the actor's); `username` is kept as typed for a failed
    login of a name that has no account; `address` defaults to the request's client."""
    kind = SecurityEventKind(kind)
    if unit is None:
        unit = getattr(user, "unit", None) or getattr(actor, "unit", None)
    if username is None:
        username = getattr(user, "username", None)
    event = SecurityEvent(
        at=at,
        kind=kind.value,
        actor_id=getattr(actor, "id", None),
        user_id=getattr(user, "id", None),
        unit_id=getattr(unit, "id", None),
        username=(username or "")[:USERNAME_MAX] or None,
        address=address if address is not None else client_address(),
        detail=detail,
    )
    db.session.add(event)
    return event


def record_report_export(actor, *, report: str, unit, day, fmt: str,
                         at: datetime) -> SecurityEvent:
    """A report downloaded (web or API): which report, of which unit's subtree, for which
    day, in which format. Placed in that unit, so the admins who see it read it."""
    return record_security(SecurityEventKind.REPORT_EXPORTED, at=at, actor=actor, user=actor,
                           unit=unit, detail=f"{report} {day.isoformat()} {fmt} "
                                             f"(unit {unit.id})")
