"""Each authorization decision of `tracker.scope` that has both a Python form (on loaded
objects) and a SQL form (for queries) answers the same in both, for every pair of a
generated set of users — every role, at the nation, the province and communes, active or
deactivated — and units, tasks or accounts, on SQLite and PostgreSQL."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import bindparam, select

from tests.factories import make_department, make_task, make_user
from tracker.auth.models import Role, User
from tracker.auth.service import set_active
from tracker.extensions import db
from tracker.scope import (
    MEMBERS,
    can_report_on,
    can_see_unit,
    can_see_user,
    can_supervise,
    has_role,
    heard_by,
    in_reporters_subtree,
    is_unit_member,
    managed_departments,
    may_manage_department,
    may_manage_webhooks,
    supervised_tasks,
    supervisors_of,
    tasks_to_report,
    unit_members,
    visible_tasks,
    visible_unit_ids,
    visible_units,
    visible_users,
    webhook_hears_of,
    webhook_units,
)
from tracker.tasks.models import Task
from tracker.units.models import Unit

HOMES = ("nation", "province", "ha_long", "co_to", "van_don")


@pytest.fixture
def people(app, units):
    """A user of every role at each home unit, one active and one deactivated."""
    made = []
    for home in HOMES:
        for role in Role:
            for active in (True, False):
                user = make_user(f"{role.value}_{home}_{'on' if active else 'off'}",
                                 role.value, units[home])
                if not active:
                    set_active(None, user, False)
                made.append(user)
    db.session.commit()
    return made


@pytest.fixture
def tasks(people, units):
    """Tasks led by the province or a commune, each coordinated with up to three units
    chosen at random (seeded), communes of other subtrees among them."""
    chooser = random.Random(11)
    admin = next(u for u in people if u.username == "admin_nation_on")
    communes = sorted((u for u in units.values() if u.kind == "commune"), key=lambda u: u.id)
    leads = [units["province"], units["ha_long"], units["co_to"], units["van_don"],
             *chooser.sample(communes, 6)]
    made = []
    for lead in leads:
        for _ in range(2):
            others = chooser.sample([units["province"], *communes], chooser.randint(0, 3))
            made.append(make_task(admin, lead,
                                  coordinating_unit_ids=[u.id for u in others]))
    return made


def _ids(query) -> set[int]:
    return set(db.session.scalars(query))


def test_visible_units_are_the_units_can_see_unit_allows(people, units):
    everything = db.session.scalars(select(Unit)).all()
    for user in people:
        allowed = {u.id for u in everything if can_see_unit(user, u)}
        assert _ids(visible_unit_ids(user)) == allowed, user.username
        assert _ids(visible_units(user).with_only_columns(Unit.id)) == allowed, user.username


def test_visible_tasks_are_those_led_or_coordinated_by_a_unit_the_user_sees(people, tasks):
    for user in people:
        allowed = {t.id for t in tasks
                   if any(can_see_unit(user, u) for u in (t.lead_unit, *t.coordinating_units))}
        assert _ids(visible_tasks(user).with_only_columns(Task.id)) == allowed, user.username


def test_tasks_to_report_are_the_tasks_can_report_on_allows(people, tasks):
    for user in people:
        allowed = {t.id for t in tasks if can_report_on(user, t)}
        assert _ids(tasks_to_report(user).with_only_columns(Task.id)) == allowed, \
            user.username


def test_the_update_paths_lock_finds_the_tasks_can_report_on_allows(people, tasks):
    """The update path locks the tasks it may write in one statement compiled once, with
    the reporter's unit as a parameter; with the role half, it is `can_report_on`."""
    lead = Unit.__table__.alias()
    statement = select(Task.id).join(lead, lead.c.id == Task.lead_unit_id) \
        .where(in_reporters_subtree(lead.c.path, bindparam("within")))
    for user in people:
        found = set(db.session.scalars(statement, {"within": user.unit.path}))
        allowed = {t.id for t in tasks if can_report_on(user, t)}
        assert (found if has_role(user, *MEMBERS) else set()) == allowed, user.username


def test_visible_users_are_the_accounts_can_see_user_allows(people):
    everyone = db.session.scalars(select(User)).all()
    for actor in people:
        allowed = {u.id for u in everyone if can_see_user(actor, u)}
        assert _ids(visible_users(actor).with_only_columns(User.id)) == allowed, \
            actor.username


def test_supervisors_of_a_task_are_the_users_can_supervise_allows(people, tasks):
    everyone = db.session.scalars(select(User)).all()
    for task in tasks:
        allowed = {u.id for u in everyone if can_supervise(u, task)}
        assert _ids(supervisors_of(task).with_only_columns(User.id)) == allowed, task.code


def test_supervised_tasks_are_the_tasks_can_supervise_allows(people, tasks):
    for user in people:
        allowed = {t.id for t in tasks if can_supervise(user, t)}
        assert _ids(supervised_tasks(user).with_only_columns(Task.id)) == allowed, \
            user.username


def test_unit_members_are_the_users_is_unit_member_allows(people, units):
    """Who is told of a unit's tasks, asked per unit, for a set of units, and joined to a
    task's lead unit (as the cutoff's "turned red" notice does)."""
    everyone = db.session.scalars(select(User)).all()
    for unit in units.values():
        allowed = {u.id for u in everyone if is_unit_member(u, unit.id)}
        assert _ids(select(User.id).where(unit_members([unit.id]))) == allowed, unit.name
    several = [units["ha_long"].id, units["co_to"].id]
    assert _ids(select(User.id).where(unit_members(several))) == \
        {u.id for u in everyone if any(is_unit_member(u, i) for i in several)}


def test_unit_members_joined_to_tasks_are_the_lead_units_members(people, tasks):
    pairs = set(db.session.execute(
        select(Task.id, User.id).join(User, unit_members(Task.lead_unit_id))).all())
    everyone = db.session.scalars(select(User)).all()
    assert pairs == {(t.id, u.id) for t in tasks for u in everyone
                     if is_unit_member(u, t.lead_unit_id)}
    assert pairs  # the generated set has members at lead units


def test_managed_departments_are_those_may_manage_department_allows(people, units):
    """With a department under the province, one under the nation, and the home unit of a
    department's own admin."""
    province_department = make_department(units["province"], "Sở Nội vụ")
    make_department(units["nation"], "Bộ Nội vụ")
    own = make_user("admin_department", "admin", province_department)
    db.session.commit()
    everything = db.session.scalars(select(Unit)).all()
    for user in [*people, own]:
        allowed = {u.id for u in everything if may_manage_department(user, u)}
        assert _ids(managed_departments(user).with_only_columns(Unit.id)) == allowed, \
            user.username
    assert _ids(managed_departments(own).with_only_columns(Unit.id)) == set()


def test_the_webhooks_an_admin_manages_are_those_may_manage_webhooks_allows(people, units):
    everything = db.session.scalars(select(Unit)).all()
    for user in people:
        allowed = {u.id for u in everything if may_manage_webhooks(user, u)}
        assert _ids(webhook_units(user)) == allowed, user.username


def test_a_webhook_hears_of_the_tasks_heard_by_allows(tasks, units):
    """`heard_by` (SQL, over a unit's path and a task's id) against `webhook_hears_of`,
    for an endpoint at every unit and every generated task."""
    for unit in db.session.scalars(select(Unit)).all():
        expected = {t.id for t in tasks if webhook_hears_of(unit, t)}
        query = select(Task.id).where(heard_by(bindparam("top", unit.path), Task.id))
        assert _ids(query) == expected, unit.name
