"""Bulk assignment, editing with a version check, and comments."""

import pytest
from sqlalchemy import func, select

from tests.factories import make_task, task_input
from tracker.audit.models import AuditEntry
from tracker.errors import Conflict, Forbidden, InvalidInput
from tracker.extensions import db
from tracker.tasks.editing import update_task
from tracker.tasks.models import Comment, Task
from tracker.tasks.service import add_comment, bulk_assign


def _tasks():
    return db.session.scalar(select(func.count()).select_from(Task))


def test_bulk_assign_makes_one_task_per_unit(users, units, clock):
    communes = [u.id for u in units.values() if u.parent_id == units["province"].id]
    tasks = bulk_assign(users["admin"], task_input(units["ha_long"]), communes, now=clock())
    db.session.commit()
    assert len(tasks) == 54 == _tasks()
    assert {t.lead_unit_id for t in tasks} == set(communes)
    assert len({t.code for t in tasks}) == 54


def test_bulk_assign_is_all_or_nothing(users, units, clock):
    with pytest.raises(InvalidInput):
        bulk_assign(users["admin"], task_input(units["ha_long"]),
                    [units["ha_long"].id, 999999], now=clock())
    db.session.rollback()
    assert _tasks() == 0


def test_editing_with_a_stale_version_is_refused(users, units, clock):
    task = make_task(users["admin"], units["ha_long"])
    update_task(users["admin"], task, {"title": "Tên mới"}, now=clock(), expected_version=1)
    db.session.commit()
    assert task.version == 2
    with pytest.raises(Conflict):
        update_task(users["admin"], task, {"title": "Ghi đè"}, now=clock(), expected_version=1)
    db.session.rollback()
    assert task.title == "Tên mới"
    change = db.session.scalar(select(AuditEntry).where(AuditEntry.field == "title"))
    assert change.new_value == "Tên mới"


def test_editing_cannot_blank_a_ro(users, units, clock):
    task = make_task(users["admin"], units["ha_long"])
    with pytest.raises(InvalidInput) as err:
        update_task(users["admin"], task, {"expected_output": ""}, now=clock())
    assert "expected_output" in err.value.fields


def test_members_cannot_edit_tasks(users, units, clock):
    task = make_task(users["admin"], units["ha_long"])
    with pytest.raises(Forbidden):
        update_task(users["ha_long"], task, {"title": "x"}, now=clock())


@pytest.mark.parametrize("username, allowed", [
    ("ha_long", True), ("supervisor", True), ("admin", True), ("viewer", False),
    ("co_to", False), ("co_to_supervisor", False)])
def test_who_may_comment(users, units, clock, username, allowed):
    task = make_task(users["admin"], units["ha_long"])
    if allowed:
        add_comment(users[username], task, "Ý kiến", now=clock())
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 1
    else:
        with pytest.raises(Forbidden):
            add_comment(users[username], task, "Ý kiến", now=clock())


def test_only_supervisors_acknowledge(users, units, clock):
    task = make_task(users["admin"], units["ha_long"])
    with pytest.raises(Forbidden):
        add_comment(users["ha_long"], task, "Đã biết", now=clock(), kind="acknowledge")
    add_comment(users["supervisor"], task, "Đã nắm, theo dõi", now=clock(), kind="acknowledge")
