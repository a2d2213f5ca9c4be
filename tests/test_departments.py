"""Departments (sở, ngành) in the unit tree: added under a province or the nation by an
admin whose scope holds it, renamed, retired only when nothing open is left in them — and
the scope follows the tree."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import make_department, make_task, make_user, task_input
from tracker.audit.models import SecurityEvent
from tracker.auth.service import create_user, set_active, set_role_and_unit
from tracker.departments.service import add_department, rename_department, set_department_active
from tracker.errors import Conflict, Forbidden, InvalidInput
from tracker.extensions import db
from tracker.scope import can_see_unit, visible_unit_ids
from tracker.tasks.lifecycle import cancel_task
from tracker.tasks.service import bulk_assign, create_task
from tracker.units.models import UnitKind


def _events(kind: str) -> list[SecurityEvent]:
    return list(db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == kind)))


@pytest.fixture
def nation_admin(units):
    user = make_user("nation_admin", "admin", units["nation"])
    db.session.commit()
    return user


@pytest.fixture
def department(users, units):
    unit = make_department(units["province"], "Sở Nội vụ", users["admin"])
    db.session.commit()
    return unit


def test_a_province_admin_adds_a_department_under_the_province(users, units, department):
    province = units["province"]
    assert department.kind == UnitKind.DEPARTMENT
    assert department.parent_id == province.id
    assert department.path == f"{province.path}{department.id}/"
    assert department.depth == province.depth + 1
    assert department.code == f"{province.code}-01"
    [event] = _events("unit_created")
    assert (event.actor_id, event.unit_id) == (users["admin"].id, department.id)


def test_the_scope_follows_the_tree(users, units, department):
    """Whoever sees the province sees its department; a user of the department sees it
    alone; a commune's staff do not see it."""
    for name in ("admin", "supervisor", "viewer"):
        assert can_see_unit(users[name], department)
    assert not can_see_unit(users["co_to"], department)
    staff = make_user("snv", "member", department)
    assert set(db.session.scalars(visible_unit_ids(staff))) == {department.id}


def test_codes_are_given_in_turn_or_as_typed(users, units, department):
    second = make_department(units["province"], "Sở Tài chính", users["admin"])
    typed = make_department(units["province"], "Sở Xây dựng", users["admin"], code="SXD")
    assert (second.code, typed.code) == (f"{units['province'].code}-02", "SXD")


def test_a_province_admin_adds_nothing_under_the_nation_or_a_commune(users, units):
    for parent in ("nation", "ha_long"):
        with pytest.raises(InvalidInput) as refused:
            add_department(users["admin"], parent=units[parent], name="Sở Nội vụ")
        assert set(refused.value.fields) == {"parent_id"}


def test_the_nation_s_admin_adds_a_ministry_level_department(nation_admin, units):
    unit = add_department(nation_admin, parent=units["nation"].id, name="Bộ Nội vụ")
    assert unit.parent_id == units["nation"].id


def test_only_admins_add_departments(users, units):
    with pytest.raises(Forbidden):
        add_department(users["supervisor"], parent=units["province"], name="Sở Nội vụ")


def test_a_refusal_names_every_field_at_fault(users, units, department):
    cases = [
        ({"name": "", "code": "S N V"}, {"name", "code"}),
        ({"name": "x" * 201}, {"name"}),
        ({"name": "sở nội vụ"}, {"name"}),  # another unit under the province has it
        ({"name": "Sở Y tế", "code": department.code}, {"code"}),
        ({"name": "Sở Y tế", "code": "x" * 33}, {"code"}),
        ({"name": ["Sở"], "code": 7}, {"name", "code"}),
        ({"name": "Sở\x00Y tế"}, {"name"}),
    ]
    for given, fields in cases:
        with pytest.raises(InvalidInput) as refused:
            add_department(users["admin"], parent=units["province"], **given)
        assert set(refused.value.fields) == fields, given


def test_renaming_a_department_is_recorded(users, department):
    assert rename_department(users["admin"], department, "  Sở Nội vụ tỉnh  ")
    assert department.name == "Sở Nội vụ tỉnh"
    [event] = _events("unit_renamed")
    assert event.detail.endswith("Sở Nội vụ → Sở Nội vụ tỉnh")
    assert not rename_department(users["admin"], department, "Sở Nội vụ tỉnh")
    assert len(_events("unit_renamed")) == 1


def test_official_units_are_not_renamed_or_retired(users, units):
    for unit in ("ha_long", "province"):
        with pytest.raises(Forbidden):
            rename_department(users["admin"], units[unit], "Tên mới")
        with pytest.raises(Forbidden):
            set_department_active(users["admin"], units[unit], False)


def test_an_admin_of_another_scope_cannot_touch_the_department(users, units, department):
    commune_admin = make_user("ha_long_admin", "admin", units["ha_long"])
    with pytest.raises(Forbidden):
        rename_department(commune_admin, department, "Tên mới")
    with pytest.raises(Forbidden):
        set_department_active(commune_admin, department, False)


def test_a_department_s_own_admin_does_not_retire_their_unit(department):
    own = make_user("snv_admin", "admin", department)
    with pytest.raises(Forbidden):
        set_department_active(own, department, False)


def test_retiring_is_refused_while_tasks_are_open_or_users_active(users, units, department):
    led = make_task(users["admin"], department)
    coordinated = make_task(users["admin"], units["ha_long"],
                            coordinating_unit_ids=[department.id])
    make_user("snv", "member", department)
    with pytest.raises(Conflict) as refused:
        set_department_active(users["admin"], department, False)
    assert refused.value.fields == {"tasks": sorted([led.code, coordinated.code]),
                                    "users": ["snv"]}
    for name in (led.code, coordinated.code, "snv"):
        assert name in refused.value.message
    assert department.active and not _events("unit_retired")


def test_a_department_retires_once_its_work_is_closed_and_takes_nothing_new(
        users, units, department):
    task = make_task(users["admin"], department)
    staff = make_user("snv", "member", department)
    cancel_task(users["admin"], task, note="Chuyển cho Sở Tài chính")
    set_active(users["admin"], staff, False)
    set_department_active(users["admin"], department, False)
    assert not department.active
    assert len(_events("unit_retired")) == 1

    with pytest.raises(InvalidInput) as refused:
        create_task(users["admin"], task_input(department))
    assert set(refused.value.fields) == {"lead_unit_id"}
    with pytest.raises(InvalidInput) as refused:
        create_task(users["admin"], task_input(units["ha_long"],
                                               coordinating_unit_ids=[department.id]))
    assert set(refused.value.fields) == {"coordinating_unit_ids"}
    with pytest.raises(InvalidInput) as refused:
        bulk_assign(users["admin"], task_input(units["ha_long"]),
                    [units["co_to"].id, department.id])
    assert set(refused.value.fields) == {"unit_ids.1"}
    with pytest.raises(InvalidInput) as refused:
        create_user(users["admin"], username="snv2", password="correct horse battery",
                    role="member", unit=department.id)
    assert set(refused.value.fields) == {"unit_id"}
    with pytest.raises(InvalidInput):
        set_role_and_unit(users["admin"], users["co_to"], role="member", unit=department)
    with pytest.raises(Conflict):  # moved elsewhere first
        set_active(users["admin"], staff, True)
    set_role_and_unit(users["admin"], staff, role="viewer", unit=department)  # stays there

    set_department_active(users["admin"], department, True)
    assert department.active and len(_events("unit_reactivated")) == 1
    set_active(users["admin"], staff, True)
