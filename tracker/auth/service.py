"""The one write path for users: the admin pages, the API and the CLI call these. Each
records its security event (tracker.audit.security) in the caller's transaction; each
hashes a new password with no database lock held (`hash_unlocked`)."""

from __future__ import annotations

import re
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update

from tracker import clock
from tracker.audit.security import SecurityEventKind as Kind
from tracker.audit.security import record_security
from tracker.auth.models import Role, User
from tracker.auth.passwords import (
    hash_unlocked,
    local_passwords,
    local_passwords_off_message,
    password_problem,
    passwordless_allowed,
    release_read_transaction,
    verify_password,
)
from tracker.auth.sessions import end_all_sessions, end_other_sessions
from tracker.auth.tokens import revoke_all_tokens
from tracker.errors import Conflict, InvalidInput
from tracker.extensions import db
from tracker.inputs import text
from tracker.scope import (
    can_see_unit,
    can_see_user,
    may_change_access,
    may_edit_contact,
    require_role,
)
from tracker.units.models import Unit
from tracker.units.tree import unit_given

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
# An address with a dot in its domain: "x@y" is a typing mistake, not a mailbox (RFC 5321
# allows it, but no government mail server is reached that way). At most 254 characters.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EMAIL_MAX = 254
FULL_NAME_MAX = 200
# A phone number as people write it (0203 3825 123, +84 912 345 678, 0912.345.678): digits
# with spaces, dots, dashes or brackets, an optional leading +; 8–15 digits (E.164).
PHONE_RE = re.compile(r"^\+?[0-9][0-9 .()-]*$")
PHONE_MAX = 32
CONTACT_FIELDS = ("full_name", "email", "phone")


def _email(value, errors: dict[str, list[str]]) -> str | None:
    """An e-mail address as every caller gives it (creation, an admin's edit, the user's
    own): optional, at most 254 characters, with a dot in its domain."""
    email = text(value, "email", errors, max_len=EMAIL_MAX) or None
    if email is not None and not EMAIL_RE.match(email):
        errors.setdefault("email", [_("Enter a valid e-mail address.")])
    return email


def _phone(value, errors: dict[str, list[str]]) -> str | None:
    phone = text(value, "phone", errors, max_len=PHONE_MAX) or None
    if phone is not None and (not PHONE_RE.match(phone)
                              or not 8 <= sum(c.isdigit() for c in phone) <= 15):
        errors.setdefault("phone", [_("Enter a phone number: 8 to 15 digits.")])
    return phone


def _unit_problem(actor: User | None, unit: Unit | None,
                  current: Unit | None = None) -> str | None:
    """Why `unit` cannot be a user's home unit, if it cannot: unknown, outside the actor's
    scope, or retired (a retired department takes no one new; the `current` unit stays)."""
    if unit is None or (actor is not None and not can_see_unit(actor, unit)):
        return _("Unknown unit or outside your scope.")
    if not unit.active and unit is not current:
        return _("This unit is retired.")
    return None


def create_user(actor: User | None, *, username, password, role, unit, full_name="",
                email=None, phone=None, now: datetime | None = None) -> User:
    """Create a user from input as given: a web form's text, an API's JSON values (a wrong
    type is named, not a 500), the CLI's. `unit` is a Unit or its id. `actor` None means
    the operator at the command line. Every field at fault is named in one answer."""
    if actor is not None:
        require_role(actor, Role.ADMIN)
    errors: dict[str, list[str]] = {}
    username = text(username, "username", errors, max_len=64).lower()
    role = text(role, "role", errors, max_len=32)
    full_name = text(full_name, "full_name", errors, max_len=FULL_NAME_MAX)
    email = _email(email, errors)
    phone = _phone(phone, errors)
    if not USERNAME_RE.match(username):
        errors.setdefault("username", [_("2–64 characters: lower-case letters, digits, _ . -")])
    if role not in {r.value for r in Role}:
        errors.setdefault("role", [_("Unknown role.")])
    problem = _new_user_password_problem(password, username=username, role=role)
    if problem:
        errors["password"] = [problem]
    # The slow hash before the rows are read: a name taken meanwhile is still seen below.
    # No password (single sign-on only) is kept as an empty hash, which no password matches.
    password_hash = None if errors else hash_unlocked(password) if password else ""
    if "username" not in errors and \
            db.session.scalar(select(User.id).where(User.username == username)):
        errors["username"] = [_("This username is taken.")]
    unit = unit_given(unit)
    problem = _unit_problem(actor, unit)
    if problem:
        errors["unit_id"] = [problem]
    if errors:
        raise InvalidInput(_("The user could not be created."), errors)
    user = User(username=username, password_hash=password_hash, role=Role(role),
                unit=unit, full_name=full_name, email=email, phone=phone,
                # an admin chose it
                must_change_password=actor is not None and bool(password_hash))
    db.session.add(user)
    db.session.flush()
    record_security(Kind.USER_CREATED, at=now or clock.now(), actor=actor, user=user,
                    detail=f"role: {role}; unit: {unit.code}"
                           + ("" if password_hash else "; single sign-on only"))
    return user


def _new_user_password_problem(password, *, username: str, role: str) -> str | None:
    """A new user's password: none when local passwords are off; optional when single
    sign-on is configured (the user then logs in only through it); else the policy's."""
    if password is None or password == "":
        if passwordless_allowed():
            return None
    elif not local_passwords():
        return local_passwords_off_message()
    return password_problem("" if password is None else password, username=username,
                            role=role)


def set_active(actor: User | None, user: User, active: bool, *,
               now: datetime | None = None) -> None:
    """Deactivate (their sessions end, their API tokens are revoked for good) or
    reactivate a user (who logs in again; revoked tokens stay revoked). Nobody deactivates
    their own account: an admin would lock themselves out (the one guard for every
    caller)."""
    if actor is not None:
        require_role(actor, Role.ADMIN)
        if not can_see_user(actor, user):
            raise InvalidInput(_("Unknown user or outside your scope."), {"user": [""]})
        if not active and not may_change_access(actor, user):
            raise Conflict(_("You cannot deactivate your own account."))
    if active and not user.active and not user.unit.active:
        raise Conflict(_("The unit of %(name)s is retired: move them to another unit first.",
                         name=user.username))
    now = now or clock.now()
    if user.active != active:
        record_security(Kind.USER_REACTIVATED if active else Kind.USER_DEACTIVATED, at=now,
                        actor=actor, user=user)
    user.active = active
    if not active:
        end_all_sessions(user)
        revoke_all_tokens(actor, user, now=now, reason="deactivated")


def set_password(actor: User | None, user: User, password, *,
                 now: datetime | None = None) -> None:
    """A password reset by an admin (or the operator): the user's sessions end and their
    API tokens are revoked for good — whoever knew the old password may have made one."""
    if actor is not None:
        require_role(actor, Role.ADMIN)
        if not can_see_user(actor, user):
            raise InvalidInput(_("Unknown user or outside your scope."), {"user": [""]})
    problem = local_passwords_off_message() if not local_passwords() else \
        password_problem(password, username=user.username, role=user.role)
    if problem:
        raise InvalidInput(problem, {"password": [problem]})
    password_hash = hash_unlocked(password)
    now = now or clock.now()
    user.password_hash = password_hash
    user.must_change_password = actor is not None  # an admin chose it
    end_all_sessions(user)
    revoke_all_tokens(actor, user, now=now, reason="password reset")
    record_security(Kind.PASSWORD_RESET, at=now, actor=actor, user=user)


def change_own_password(user: User, *, current, new, end_other_sessions_too: bool = False,
                        session_token: str | None = None,
                        now: datetime | None = None) -> int:
    """A user changes their own password, giving the current one. With
    `end_other_sessions_too` every other session of theirs ends (the one whose token is
    `session_token` stays). Both passwords are hashed with no database lock held. Returns
    how many sessions ended; the caller commits."""
    if not local_passwords():
        message = local_passwords_off_message()
        raise InvalidInput(message, {"new_password": [message]})
    if not user.has_password:
        message = _("You log in with single sign-on and have no password here.")
        raise InvalidInput(message, {"current_password": [message]})
    errors: dict[str, list[str]] = {}
    if not isinstance(current, str) or not current:
        errors["current_password"] = [_("Enter your current password.")]
    problem = password_problem(new, username=user.username, role=user.role)
    if problem:
        errors["new_password"] = [problem]
    if errors:
        raise InvalidInput(_("The password was not changed."), errors)
    stored = user.password_hash
    release_read_transaction()
    if not verify_password(stored, current):
        raise InvalidInput(_("The password was not changed."),
                           {"current_password": [_("This is not your current password.")]})
    new_hash = hash_unlocked(new)
    # Compare and set: a reset by an admin meanwhile is not overwritten.
    changed = db.session.execute(
        update(User).where(User.id == user.id, User.password_hash == stored)
        .values(password_hash=new_hash, must_change_password=False)
        .execution_options(synchronize_session="fetch"))
    if changed.rowcount != 1:
        raise Conflict(_("Your password was changed meanwhile; log in again."))
    now = now or clock.now()
    record_security(Kind.PASSWORD_CHANGED, at=now, actor=user, user=user)
    ended = 0
    if end_other_sessions_too:
        ended = end_other_sessions(user, session_token)
        record_security(Kind.SESSIONS_ENDED, at=now, actor=user, user=user,
                        detail=f"other sessions: {ended}")
    return ended


def set_role_and_unit(actor: User | None, user: User, *, role: str, unit: Unit | None,
                      now: datetime | None = None) -> None:
    """Change what a user does and where: their role and home unit (so their scope). Their
    sessions end, so the new scope applies at once."""
    errors: dict[str, list[str]] = {}
    if actor is not None:
        require_role(actor, Role.ADMIN)
        if not can_see_user(actor, user):
            raise InvalidInput(_("Unknown user or outside your scope."), {"user": [""]})
        if not may_change_access(actor, user):
            errors["role"] = [_("You cannot change your own role or unit.")]
    if role not in {r.value for r in Role}:
        errors["role"] = [_("Unknown role.")]
    # Staying in a retired unit (only the role changes) takes no one new there.
    problem = _unit_problem(actor, unit, current=user.unit)
    if problem:
        errors["unit_id"] = [problem]
    if errors:
        raise InvalidInput(_("The user was not changed."), errors)
    if user.role != role or user.unit_id != unit.id:
        record_security(Kind.ACCESS_CHANGED, at=now or clock.now(), actor=actor, user=user,
                        unit=unit, detail=f"role: {user.role} → {role}; "
                                          f"unit: {user.unit.code} → {unit.code}")
        user.role = Role(role)
        user.unit = unit
        end_all_sessions(user)


def change_contact(actor: User, user: User, changes: dict, *,
                   now: datetime | None = None) -> list[str]:
    """Change a user's contact details — full name, e-mail, phone — from input as given (a
    form's text, the API's JSON): an admin for the accounts they see, every user for their
    own. Only the fields present in `changes` change; a blank e-mail or phone removes it.
    The e-mail is checked as at creation. Every field at fault is named in one answer; a
    change is recorded as a security event with its old and new values. Returns the names
    of the fields that changed; the caller commits."""
    if not may_edit_contact(actor, user):
        raise InvalidInput(_("Unknown user or outside your scope."), {"user": [""]})
    errors: dict[str, list[str]] = {}
    wanted = {}
    if "full_name" in changes:
        wanted["full_name"] = text(changes["full_name"], "full_name", errors,
                                   max_len=FULL_NAME_MAX)
    if "email" in changes:
        wanted["email"] = _email(changes["email"], errors)
    if "phone" in changes:
        wanted["phone"] = _phone(changes["phone"], errors)
    if errors:
        raise InvalidInput(_("The contact details were not changed."), errors)
    changed = [name for name in CONTACT_FIELDS
               if name in wanted and getattr(user, name) != wanted[name]]
    if changed:
        detail = "; ".join(f"{name}: {getattr(user, name) or '–'} → {wanted[name] or '–'}"
                           for name in changed)
        for name in changed:
            setattr(user, name, wanted[name])
        record_security(Kind.USER_CHANGED, at=now or clock.now(), actor=actor, user=user,
                        detail=detail)
    return changed
