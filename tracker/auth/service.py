"""The one write path for users: the admin pages, the API and the CLI call these."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import select

from tracker.auth.models import Role, User
from tracker.auth.passwords import hash_password, password_problem
from tracker.auth.sessions import end_all_sessions
from tracker.errors import Conflict, InvalidInput
from tracker.extensions import db
from tracker.inputs import text
from tracker.scope import can_see_unit, can_see_user, may_change_access, require_role
from tracker.types import MAX_ID
from tracker.units.models import Unit

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
# An address with a dot in its domain: "x@y" is a typing mistake, not a mailbox (RFC 5321
# allows it, but no government mail server is reached that way). At most 254 characters.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EMAIL_MAX = 254
FULL_NAME_MAX = 200


def _unit(value) -> Unit | None:
    """A unit given as a row or as its id, typed in a form or sent in JSON."""
    if isinstance(value, Unit) or value is None:
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if type(value) is not int or not 0 < value <= MAX_ID:
        return None
    return db.session.get(Unit, value)


def create_user(actor: User | None, *, username, password, role, unit, full_name="",
                email=None) -> User:
    """Create a user from input as given: a web form's text, an API's JSON values (a wrong
    type is named, not a 500), the CLI's. `unit` is a Unit or its id. `actor` None means
    the operator at the command line. Every field at fault is named in one answer."""
    if actor is not None:
        require_role(actor, Role.ADMIN)
    errors: dict[str, list[str]] = {}
    username = text(username, "username", errors, max_len=64).lower()
    role = text(role, "role", errors, max_len=32)
    full_name = text(full_name, "full_name", errors, max_len=FULL_NAME_MAX)
    email = text(email, "email", errors, max_len=EMAIL_MAX) or None
    if password is not None and not isinstance(password, str):
        errors["password"] = [_("Not valid text.")]
    password = password if isinstance(password, str) else ""  # kept as typed: not stripped
    unit = _unit(unit)
    if not USERNAME_RE.match(username):
        errors.setdefault("username", [_("2–64 characters: lower-case letters, digits, _ . -")])
    elif db.session.scalar(select(User.id).where(User.username == username)):
        errors["username"] = [_("This username is taken.")]
    if role not in {r.value for r in Role}:
        errors.setdefault("role", [_("Unknown role.")])
    if unit is None or (actor is not None and not can_see_unit(actor, unit)):
        errors["unit_id"] = [_("Unknown unit or outside your scope.")]
    problem = password_problem(password)
    if problem:
        errors.setdefault("password", [_("The password needs %(rule)s.", rule=problem)])
    if email is not None and not EMAIL_RE.match(email):
        errors.setdefault("email", [_("Enter a valid e-mail address.")])
    if errors:
        raise InvalidInput(_("The user could not be created."), errors)
    user = User(username=username, password_hash=hash_password(password), role=Role(role),
                unit=unit, full_name=full_name, email=email)
    db.session.add(user)
    db.session.flush()
    return user


def set_active(actor: User | None, user: User, active: bool) -> None:
    """Deactivate (their sessions end) or reactivate a user. Nobody deactivates their own
    account: an admin would lock themselves out (the one guard for every caller)."""
    if actor is not None:
        require_role(actor, Role.ADMIN)
        if not can_see_user(actor, user):
            raise InvalidInput(_("Unknown user or outside your scope."), {"user": [""]})
        if not active and not may_change_access(actor, user):
            raise Conflict(_("You cannot deactivate your own account."))
    user.active = active
    if not active:
        end_all_sessions(user)


def set_password(actor: User | None, user: User, password: str) -> None:
    if actor is not None:
        require_role(actor, Role.ADMIN)
    problem = password_problem(password or "")
    if problem:
        raise InvalidInput(_("The password needs %(rule)s.", rule=problem),
                           {"password": [problem]})
    user.password_hash = hash_password(password)
    end_all_sessions(user)


def set_role_and_unit(actor: User | None, user: User, *, role: str, unit: Unit | None) -> None:
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
    if unit is None or (actor is not None and not can_see_unit(actor, unit)):
        errors["unit_id"] = [_("Unknown unit or outside your scope.")]
    if errors:
        raise InvalidInput(_("The user was not changed."), errors)
    if user.role != role or user.unit_id != unit.id:
        user.role = Role(role)
        user.unit = unit
        end_all_sessions(user)
