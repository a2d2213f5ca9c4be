"""The scope rule: a user sees and changes only what lies in their home unit's subtree.

Every read and write of units, users and tasks goes through these functions, in the
web UI, the API and the CLI alike.
"""

from __future__ import annotations

from sqlalchemy import Select, exists, or_, select

from tracker.auth.models import Role, User
from tracker.errors import Forbidden, NotFound
from tracker.extensions import db
from tracker.tasks.models import Task, task_coordinating_units
from tracker.types import MAX_ID
from tracker.units.models import Unit
from tracker.units.tree import subtree_ids


def visible_unit_ids(user: User) -> Select:
    """The ids of every unit the user may see: their home unit and all below it."""
    return subtree_ids(user.unit)


def can_see_unit(user: User, unit: Unit) -> bool:
    return user.active and unit.is_within(user.unit)


def visible_units(user: User) -> Select:
    return select(Unit).where(Unit.id.in_(visible_unit_ids(user)))


def visible_tasks(user: User) -> Select:
    """Tasks led by, or coordinated with, a unit in the user's subtree."""
    unit_ids = visible_unit_ids(user)
    coordinated = exists().where(
        task_coordinating_units.c.task_id == Task.id,
        task_coordinating_units.c.unit_id.in_(unit_ids),
    )
    return select(Task).where(or_(Task.lead_unit_id.in_(unit_ids), coordinated))


def get_task(user: User, task_id: int) -> Task:
    """The task if the user may see it; NotFound otherwise, so that ids do not leak."""
    if not 0 < task_id <= MAX_ID:
        raise NotFound("task not found")
    task = db.session.scalar(visible_tasks(user).where(Task.id == task_id))
    if task is None:
        raise NotFound("task not found")
    return task


def get_unit(user: User, unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None or not can_see_unit(user, unit):
        raise NotFound("unit not found")
    return unit


def require_role(user: User, *roles: Role) -> None:
    if not user.active or user.role not in roles:
        raise Forbidden("not allowed for this role")


def can_report_on(user: User, task: Task) -> bool:
    """Only a member of the lead unit's subtree posts its daily update."""
    return (
        user.active and user.role == Role.MEMBER and task.lead_unit.is_within(user.unit)
    )


def can_manage_task(user: User, task: Task) -> bool:
    return user.active and user.role == Role.ADMIN and task.lead_unit.is_within(user.unit)
