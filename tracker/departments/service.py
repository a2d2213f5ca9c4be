"""Departments (sở, ngành) in the unit tree: added under a province or the nation,
renamed, retired and reactivated — the one write path for the admin pages, the API and
the CLI.

A department is a unit like any other: it hangs in the tree by its materialised path, so
the scope follows at once — the admins, supervisors and viewers above it see it, its own
users see it alone. The official units (the nation, the provinces, the communes) come from
`tracker units import` and are not renamed or retired here.

Retiring a department is refused while it still leads or coordinates an open task, or
while an active user has it as home unit; the refusal names them, so that the admin
reassigns or closes the tasks and moves or deactivates the users first. A retired
department keeps its history (its closed tasks, its reports) and takes no new task or
user; it can be reactivated. Each change is recorded as a security event placed at the
unit, so the admins who see it read it.
"""

from __future__ import annotations

import re
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError

from tracker import clock
from tracker.audit.security import SecurityEventKind as Kind
from tracker.audit.security import record_security
from tracker.auth.models import User
from tracker.errors import Conflict, Forbidden, InvalidInput
from tracker.extensions import db
from tracker.inputs import text
from tracker.scope import (
    ADMINS,
    DEPARTMENT_PARENTS,
    may_add_department,
    may_manage_department,
    require_role,
)
from tracker.tasks.models import OPEN_STATUSES, Task, task_coordinating_units
from tracker.units.models import Unit, UnitKind
from tracker.units.tree import unit_given

NAME_MAX = 200
CODE_MAX = 32
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# How many blockers a refusal names before "and N more".
NAMED_MAX = 10


def _name(value, parent: Unit, errors: dict[str, list[str]], *,
          unit: Unit | None = None) -> str:
    """A department's name: required, at most 200 characters, not another unit's name
    directly under the same parent (two "Sở Nội vụ" in one province are a mistake)."""
    name = text(value, "name", errors, max_len=NAME_MAX, required=True)
    if name and "name" not in errors:
        siblings = db.session.scalars(select(Unit.name).where(
            Unit.parent_id == parent.id, Unit.id != (unit.id if unit else 0)))
        if name.casefold() in {s.casefold() for s in siblings}:
            errors["name"] = [_("Another unit under %(parent)s has this name.",
                                parent=parent.name)]
    return name


def _code(value, parent: Unit, errors: dict[str, list[str]]) -> str:
    """The code typed (letters, digits, . _ -), or the next free one under the parent:
    the province's code, a dash, a number (``22-01``)."""
    code = text(value, "code", errors, max_len=CODE_MAX)
    if "code" in errors:
        return code
    if code:
        if not CODE_RE.match(code):
            errors["code"] = [_("Letters, digits and . _ - only.")]
        elif db.session.scalar(select(Unit.id).where(Unit.code == code)):
            errors["code"] = [_("This unit code is already used.")]
        return code
    number = db.session.scalar(select(func.count()).select_from(Unit).where(
        Unit.parent_id == parent.id, Unit.kind == UnitKind.DEPARTMENT))
    while True:
        number += 1
        code = f"{parent.code}-{number:02d}"
        if not db.session.scalar(select(Unit.id).where(Unit.code == code)):
            return code


def add_department(actor: User | None, *, parent, name, code=None,
                   now: datetime | None = None) -> Unit:
    """Add a department under `parent` (the nation or a province; a Unit or its id) from
    input as given. `actor` None is the operator at the command line. Every field at fault
    is named in one answer; the caller commits."""
    if actor is not None:
        require_role(actor, *ADMINS)
    errors: dict[str, list[str]] = {}
    parent = unit_given(parent)
    if parent is not None:
        # One department at a time under a parent: the next free code is not taken twice.
        # (FOR NO KEY UPDATE on PostgreSQL: users and tasks added to the parent meanwhile,
        # whose foreign keys take KEY SHARE, do not wait.)
        db.session.scalar(select(Unit.id).where(Unit.id == parent.id)
                          .with_for_update(key_share=True))
    if parent is None or parent.kind not in DEPARTMENT_PARENTS or not parent.active or \
            (actor is not None and not may_add_department(actor, parent)):
        errors["parent_id"] = [_("Choose the nation or a province of your scope.")]
        text(name, "name", errors, max_len=NAME_MAX, required=True)
        text(code, "code", errors, max_len=CODE_MAX)
        raise InvalidInput(_("The department could not be added."), errors)
    name = _name(name, parent, errors)
    code = _code(code, parent, errors)
    if errors:
        raise InvalidInput(_("The department could not be added."), errors)
    unit = Unit(code=code, name=name, kind=UnitKind.DEPARTMENT, division_type="sở, ngành",
                parent_id=parent.id, depth=parent.depth + 1, path="")
    try:
        with db.session.begin_nested():  # a code typed at the same moment elsewhere
            db.session.add(unit)
            db.session.flush()
    except IntegrityError:
        raise InvalidInput(_("The department could not be added."),
                           {"code": [_("This unit code is already used.")]}) from None
    unit.path = f"{parent.path}{unit.id}/"
    record_security(Kind.UNIT_CREATED, at=now or clock.now(), actor=actor, unit=unit,
                    detail=f"{unit.code}: {unit.name} (under {parent.code})")
    return unit


def _managed(actor: User | None, unit: Unit) -> None:
    if actor is None:
        if unit.kind != UnitKind.DEPARTMENT:
            raise Forbidden(_("Only departments are renamed or retired; the official units "
                              "follow the official tree."))
        return
    require_role(actor, *ADMINS)
    if not may_manage_department(actor, unit):
        raise Forbidden(_("Only the departments of your scope are renamed or retired "
                          "(not your own unit; the official units follow the official "
                          "tree)."))


def rename_department(actor: User | None, unit: Unit, name, *,
                      now: datetime | None = None) -> bool:
    """Give a department a new name; True if it changed. Its code, place and history stay."""
    _managed(actor, unit)
    errors: dict[str, list[str]] = {}
    name = _name(name, unit.parent, errors, unit=unit)
    if errors:
        raise InvalidInput(_("The department was not renamed."), errors)
    if name == unit.name:
        return False
    record_security(Kind.UNIT_RENAMED, at=now or clock.now(), actor=actor, unit=unit,
                    detail=f"{unit.code}: {unit.name} → {name}")
    unit.name = name
    return True


def _named(items: list[str]) -> str:
    shown = ", ".join(items[:NAMED_MAX])
    more = len(items) - NAMED_MAX
    return shown + (" " + _("and %(n)s more", n=more) if more > 0 else "")


def open_tasks_of(unit: Unit) -> list[str]:
    """The codes of the open tasks the unit leads or coordinates."""
    coordinated = exists().where(task_coordinating_units.c.task_id == Task.id,
                                 task_coordinating_units.c.unit_id == unit.id)
    return list(db.session.scalars(
        select(Task.code).where(Task.status.in_(OPEN_STATUSES),
                                or_(Task.lead_unit_id == unit.id, coordinated))
        .order_by(Task.code)))


def active_users_of(unit: Unit) -> list[str]:
    return list(db.session.scalars(
        select(User.username).where(User.unit_id == unit.id, User.active)
        .order_by(User.username)))


def set_department_active(actor: User | None, unit: Unit, active: bool, *,
                          now: datetime | None = None) -> None:
    """Retire a department (refused while it leads or coordinates an open task or is the
    home of an active user: the refusal names them) or reactivate it."""
    _managed(actor, unit)
    if unit.active == active:
        return
    if not active:
        # A task or user added to it meanwhile waits for this lock (their foreign key's),
        # or was committed before and is seen below.
        db.session.scalar(select(Unit.id).where(Unit.id == unit.id).with_for_update())
        tasks, users = open_tasks_of(unit), active_users_of(unit)
        blockers: dict[str, list[str]] = {}
        parts = []
        if tasks:
            blockers["tasks"] = tasks
            parts.append(_("open tasks: %(codes)s", codes=_named(tasks)))
        if users:
            blockers["users"] = users
            parts.append(_("active users: %(names)s", names=_named(users)))
        if blockers:
            raise Conflict(_("%(unit)s cannot be retired while it has %(what)s. Reassign, "
                             "close or cancel its tasks and move or deactivate its users "
                             "first.", unit=unit.name, what="; ".join(parts)), blockers)
    record_security(Kind.UNIT_REACTIVATED if active else Kind.UNIT_RETIRED,
                    at=now or clock.now(), actor=actor, unit=unit,
                    detail=f"{unit.code}: {unit.name}")
    unit.active = active
