"""The one write path for users: the admin pages, the API and the CLI call these."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import select

from tracker.auth.models import Role, User
from tracker.auth.passwords import hash_password, password_problem
from tracker.auth.sessions import end_all_sessions
from tracker.errors import InvalidInput
from tracker.extensions import db
from tracker.scope import can_see_unit, can_see_user, may_change_access, require_role
from tracker.units.models import Unit

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")


def create_user(actor: User | None, *, username: str, password: str, role: str,
                unit: Unit | None, full_name: str = "", email: str | None = None) -> User:
    """Create a user. `actor` None means the operator at the command line."""
    if actor is not None:
        require_role(actor, Role.ADMIN)
    errors: dict[str, list[str]] = {}
    email = (email or "").strip() or None
    username = (username or "").strip().lower()
    if not USERNAME_RE.match(username):
        errors["username"] = [_("2–64 characters: lower-case letters, digits, _ . -")]
    elif db.session.scalar(select(User.id).where(User.username == username)):
        errors["username"] = [_("This username is taken.")]
    if role not in {r.value for r in Role}:
        errors["role"] = [_("Unknown role.")]
    if unit is None or (actor is not None and not can_see_unit(actor, unit)):
        errors["unit_id"] = [_("Unknown unit or outside your scope.")]
    problem = password_problem(password or "")
    if problem:
        errors["password"] = [_("The password needs %(rule)s.", rule=problem)]
    if len(full_name or "") > 200:
        errors["full_name"] = [_("At most %(n)s characters.", n=200)]
    if email is not None and (len(email) > 254 or "@" not in email):
        errors["email"] = [_("Enter a valid e-mail address.")]
    if errors:
        raise InvalidInput(_("The user could not be created."), errors)
    user = User(username=username, password_hash=hash_password(password), role=Role(role),
                unit=unit, full_name=(full_name or "").strip(), email=email or None)
    db.session.add(user)
    db.session.flush()
    return user


def set_active(actor: User | None, user: User, active: bool) -> None:
    if actor is not None:
        require_role(actor, Role.ADMIN)
        if not can_see_user(actor, user):
            raise InvalidInput(_("Unknown user or outside your scope."), {"user": [""]})
        if not active and not may_change_access(actor, user):
            raise InvalidInput(_("You cannot deactivate your own account."),
                               {"active": [_("You cannot deactivate your own account.")]})
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
