"""An admin edits a task's "6 rõ" with a version check, reassigns its lead unit or owner,
cancels it with a reason — each audited and told to the units concerned."""

from datetime import date

import pytest
from sqlalchemy import select

from tests.factories import ict, make_task, make_user
from tracker.audit.models import AuditEntry
from tracker.errors import Conflict, Forbidden, InvalidInput
from tracker.extensions import db
from tracker.notifications.models import Notification
from tracker.tasks.editing import reassign_task, update_task
from tracker.tasks.lifecycle import cancel_task
from tracker.tasks.models import Status, TaskFactsUntil
from tracker.tasks.wording import describe
from tracker.units.importer import find_province, import_units, province_code
from tracker.units.models import Unit

LATER = ict(2026, 11, 18, 11, 0)


@pytest.fixture
def task(users, units, clock):
    return make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0))


def _trail(task, action: str) -> dict[str, tuple]:
    rows = db.session.scalars(select(AuditEntry).where(
        AuditEntry.task_id == task.id, AuditEntry.action == action)).all()
    return {r.field: (r.old_value, r.new_value, r.note) for r in rows}


def _words(task, field):
    """The change of `field` as the task page words it (tracker.tasks.wording)."""
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.task_id == task.id)
                                 .order_by(AuditEntry.id)).all()
    for entry, words in zip(entries, describe(entries), strict=True):
        if entry.field == field:
            found = words
    return found.changes[0]


def _told(user) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(
        Notification.user_id == user.id).order_by(Notification.id)))


# --- editing ----------------------------------------------------------------------------


def test_every_ro_field_can_be_edited_and_each_change_is_audited(users, units, task):
    changes = update_task(users["admin"], task, {
        "title": "Số hoá toàn bộ hồ sơ", "description": "Mô tả mới", "owner_name": "Bí thư",
        "coordinating_unit_ids": [str(units["bai_chay"].id)], "start_date": "16/11/2026",
        "deadline": "31/12/2026", "leader_in_charge": "Chủ tịch UBND tỉnh",
        "expected_output": "Báo cáo", "assigning_authority": "UBND tỉnh",
        "source_doc_number": "09/QĐ", "source_doc_date": "2026-11-01", "priority": "urgent",
        "field": "Văn thư"}, now=LATER, expected_version="1")
    db.session.commit()
    assert task.version == 2 and task.deadline == date(2026, 12, 31)
    assert task.original_deadline != task.deadline  # the original stays as it was
    assert [u.name for u in task.coordinating_units] == [units["bai_chay"].name]
    trail = _trail(task, "edit")
    assert set(trail) == set(changes) and len(trail) == 13
    assert trail["coordinating_unit_ids"][:2] == (None, str(units["bai_chay"].id))
    assert _words(task, "coordinating_unit_ids").new == units["bai_chay"].name
    assert trail["deadline"][1] == "2026-12-31"


def test_a_second_editor_with_a_stale_version_is_refused_and_nothing_is_lost(users, task):
    update_task(users["admin"], task, {"title": "Sửa lần một"}, now=LATER,
                expected_version="1")
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        update_task(users["admin"], task, {"title": "Ghi đè", "deadline": "31/01/2027"},
                    now=LATER, expected_version="1")
    db.session.rollback()
    assert refused.value.fields == {"version": ["2"]}
    assert task.title == "Sửa lần một" and task.deadline == date(2026, 12, 18)
    assert set(_trail(task, "edit")) == {"title"}


@pytest.mark.parametrize("version", ["", "abc", "-1", "99999999999"])
def test_a_missing_or_malformed_version_is_named(users, task, version):
    with pytest.raises(InvalidInput) as refused:
        update_task(users["admin"], task, {"title": "x"}, now=LATER, expected_version=version)
    assert set(refused.value.fields) == {"version"}


def test_an_edit_tells_the_lead_unit_what_changed_with_dates_as_people_write_them(
        users, task):
    update_task(users["admin"], task, {"deadline": "2027-01-15", "expected_output": "Kho số"},
                now=LATER, expected_version=1, note="Theo chỉ đạo mới")
    db.session.commit()
    [told] = _told(users["ha_long"])
    assert told.kind == "edited" and told.task_id == task.id
    assert "15/01/2027" in told.message and "Theo chỉ đạo mới" in told.message
    assert _told(users["admin"]) == []  # never the actor


def test_an_edit_changing_nothing_writes_nothing(users, task):
    assert update_task(users["admin"], task, {"title": task.title}, now=LATER,
                       expected_version=1) == {}
    db.session.commit()
    assert task.version == 1 and _trail(task, "edit") == {} and _told(users["ha_long"]) == []


def test_a_coordinating_unit_outside_the_scope_is_refused(users, units, task):
    commune_admin = make_user("ha_long_admin", "admin", units["ha_long"])
    with pytest.raises(InvalidInput) as refused:
        update_task(commune_admin, task, {"coordinating_unit_ids": [units["co_to"].id]},
                    now=LATER)
    assert set(refused.value.fields) == {"coordinating_unit_ids"}


# --- reassigning ------------------------------------------------------------------------


def test_reassigning_moves_the_task_and_its_duty_starts_anew(users, units, task):
    reassign_task(users["admin"], task, {"lead_unit_id": str(units["co_to"].id),
                                         "owner_name": "Chủ tịch UBND đặc khu Cô Tô",
                                         "note": "Đúng địa bàn"},
                  now=LATER, expected_version="1")
    db.session.commit()
    assert task.lead_unit_id == units["co_to"].id and task.duty_since == LATER
    assert task.version == 2
    trail = _trail(task, "reassign")
    assert trail["lead_unit_id"] == (str(units["ha_long"].id), str(units["co_to"].id),
                                     "Đúng địa bàn")
    words = _words(task, "lead_unit_id")  # the trail as people read it names the units
    assert (words.old, words.new) == (units["ha_long"].name, units["co_to"].name)
    assert trail["owner_name"][1] == "Chủ tịch UBND đặc khu Cô Tô"
    # The cutoff can still judge the days before as they stood (tracker.tasks.facts).
    kept = db.session.scalars(select(TaskFactsUntil).where(TaskFactsUntil.task_id == task.id))
    assert [f.until for f in kept] == [LATER]


def test_reassigning_tells_the_new_unit_and_the_old_one(users, units, task):
    reassign_task(users["admin"], task, {"lead_unit_id": units["co_to"].id,
                                         "note": "Đúng địa bàn"}, now=LATER)
    db.session.commit()
    [new] = _told(users["co_to"])
    [old] = _told(users["ha_long"])
    assert new.kind == old.kind == "reassigned"
    assert new.task_id == task.id and units["ha_long"].name in new.message
    assert old.task_id is None  # they no longer see the task: no link to a 404
    assert units["co_to"].name in old.message and "Đúng địa bàn" in old.message


def test_reassigning_the_owner_alone_keeps_the_unit_and_tells_it(users, units, task):
    reassign_task(users["admin"], task, {"owner_name": "Phó Chủ tịch UBND phường"},
                  now=LATER, expected_version=1)
    db.session.commit()
    assert task.lead_unit_id == units["ha_long"].id
    [told] = _told(users["ha_long"])
    assert told.kind == "edited" and "Phó Chủ tịch UBND phường" in told.message


def test_reassigning_to_the_same_unit_and_owner_is_refused_naming_both(users, units, task):
    with pytest.raises(InvalidInput) as refused:
        reassign_task(users["admin"], task, {"lead_unit_id": units["ha_long"].id,
                                             "owner_name": task.owner_name}, now=LATER)
    assert set(refused.value.fields) == {"lead_unit_id", "owner_name"}


def test_a_finished_task_is_not_reassigned(users, units, task):
    cancel_task(users["admin"], task, note="Trùng lặp", now=LATER)
    db.session.commit()
    with pytest.raises(Conflict):
        reassign_task(users["admin"], task, {"lead_unit_id": units["co_to"].id}, now=LATER)


def test_a_stale_reassignment_is_refused(users, units, task):
    update_task(users["admin"], task, {"title": "Đã sửa"}, now=LATER)
    db.session.commit()
    with pytest.raises(Conflict):
        reassign_task(users["admin"], task, {"lead_unit_id": units["co_to"].id}, now=LATER,
                      expected_version="1")
    db.session.rollback()
    assert task.lead_unit_id == units["ha_long"].id


# --- another province's admin -----------------------------------------------------------


@pytest.fixture
def other_province(app, units):
    found = find_province("Hải Phòng")
    import_units([found])
    db.session.commit()
    province = db.session.scalar(select(Unit).where(Unit.code == province_code(found)))
    commune = db.session.scalar(select(Unit).where(Unit.parent_id == province.id).limit(1))
    return province, commune, make_user("hp_admin", "admin", province)


def test_an_admin_of_another_province_cannot_change_the_task(users, task, other_province):
    _province, _commune, stranger = other_province
    for change in (
        lambda: update_task(stranger, task, {"title": "x"}, now=LATER),
        lambda: reassign_task(stranger, task, {"owner_name": "x"}, now=LATER),
        lambda: cancel_task(stranger, task, note="x", now=LATER),
    ):
        with pytest.raises(Forbidden):
            change()
        db.session.rollback()
    assert task.status == Status.NOT_STARTED and task.version == 1


def test_a_task_is_not_reassigned_to_another_province(users, task, other_province):
    _province, commune, _stranger = other_province
    with pytest.raises(InvalidInput) as refused:
        reassign_task(users["admin"], task, {"lead_unit_id": commune.id}, now=LATER)
    assert set(refused.value.fields) == {"lead_unit_id"}


# --- cancelling -------------------------------------------------------------------------


@pytest.mark.parametrize("note", ["", "   ", None])
def test_cancelling_needs_a_reason(users, task, note):
    with pytest.raises(InvalidInput) as refused:
        cancel_task(users["admin"], task, note=note, now=LATER, expected_version="1")
    assert set(refused.value.fields) == {"note"}


def test_cancelling_is_audited_and_tells_the_unit_the_reason(users, task):
    cancel_task(users["admin"], task, note="Trùng với nhiệm vụ khác", now=LATER,
                expected_version="1")
    db.session.commit()
    assert task.status == Status.CANCELLED and task.version == 2
    assert _trail(task, "cancel")["status"][2] == "Trùng với nhiệm vụ khác"
    [told] = _told(users["ha_long"])
    assert told.kind == "cancelled" and "Trùng với nhiệm vụ khác" in told.message
    assert "18/11/2026" in told.message


def test_a_stale_cancellation_is_refused(users, task):
    update_task(users["admin"], task, {"title": "Đã sửa"}, now=LATER)
    db.session.commit()
    with pytest.raises(Conflict):
        cancel_task(users["admin"], task, note="Trùng", now=LATER, expected_version="1")
    db.session.rollback()
    assert task.status == Status.NOT_STARTED
