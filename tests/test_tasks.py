"""Creating tasks: the "6 rõ", the scope of the lead unit and the audit trail."""

import pytest
from sqlalchemy import func, select

from tests.factories import make_task, task_input
from tracker.audit.models import AuditEntry, AuditIsAppendOnly
from tracker.errors import Forbidden, InvalidInput
from tracker.extensions import db
from tracker.tasks.models import Status, Task
from tracker.tasks.service import create_task
from tracker.tasks.sixro import SIX_RO


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_complete_task_is_created_with_a_code_and_not_started(users, units, clock):
    task = make_task(users["admin"], units["ha_long"])
    assert task.code == f"NV-2026-{task.id:06d}"
    assert task.status == Status.NOT_STARTED
    assert task.original_deadline == task.deadline
    assert task.duty_since == clock()


@pytest.mark.parametrize("ro", sorted(SIX_RO))
def test_each_missing_ro_is_named_and_nothing_is_written(users, units, clock, ro):
    blanks = {name: "" for name in SIX_RO[ro]}
    with pytest.raises(InvalidInput) as err:
        create_task(users["admin"], task_input(units["ha_long"], **blanks), now=clock())
    db.session.rollback()
    assert set(err.value.fields) == set(SIX_RO[ro])
    assert "rõ " + {"viec": "việc", "nguoi": "người", "thoi_gian": "thời gian",
                    "trach_nhiem": "trách nhiệm", "san_pham": "sản phẩm",
                    "tham_quyen": "thẩm quyền"}[ro] in err.value.message
    assert _count(Task) == 0


def test_every_missing_ro_is_named_at_once(users, units, clock):
    with pytest.raises(InvalidInput) as err:
        create_task(users["admin"], {}, now=clock())
    assert set(err.value.fields) == {f for fields in SIX_RO.values() for f in fields}
    for word in ("rõ việc", "rõ người", "rõ thời gian", "rõ trách nhiệm", "rõ sản phẩm",
                 "rõ thẩm quyền"):
        assert word in err.value.message


def test_whitespace_does_not_count_as_a_value(users, units, clock):
    with pytest.raises(InvalidInput) as err:
        create_task(users["admin"], task_input(units["ha_long"], title="   "), now=clock())
    assert "title" in err.value.fields


def test_malformed_dates_are_named(users, units, clock):
    with pytest.raises(InvalidInput) as err:
        create_task(users["admin"], task_input(units["ha_long"], deadline="31/02/2026"),
                    now=clock())
    assert "deadline" in err.value.fields


def test_deadline_before_start_is_refused(users, units, clock):
    with pytest.raises(InvalidInput) as err:
        create_task(users["admin"], task_input(units["ha_long"], start_date="2026-12-01",
                                               deadline="2026-11-30"), now=clock())
    assert "deadline" in err.value.fields


@pytest.mark.parametrize("username", ["supervisor", "viewer", "ha_long"])
def test_only_admins_assign_tasks(users, units, clock, username):
    with pytest.raises(Forbidden):
        create_task(users[username], task_input(units["ha_long"]), now=clock())


def test_a_commune_admin_cannot_assign_to_another_commune(users, units, clock):
    from tests.factories import make_user

    commune_admin = make_user("co_to_admin", "admin", units["co_to"])
    with pytest.raises(InvalidInput) as err:
        create_task(commune_admin, task_input(units["ha_long"]), now=clock())
    assert "lead_unit_id" in err.value.fields


def test_unknown_lead_unit_is_named(users, units, clock):
    with pytest.raises(InvalidInput) as err:
        create_task(users["admin"], task_input(units["ha_long"], lead_unit_id=999999),
                    now=clock())
    assert "lead_unit_id" in err.value.fields


def test_duplicate_code_is_refused(users, units, clock):
    make_task(users["admin"], units["ha_long"], code="QN-01")
    with pytest.raises(InvalidInput) as err:
        create_task(users["admin"], task_input(units["co_to"], code="QN-01"), now=clock())
    assert "code" in err.value.fields


def test_creation_is_written_to_the_audit_trail(users, units, clock):
    task = make_task(users["admin"], units["ha_long"])
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.task_id == task.id))
    assert entry.action == "create"
    assert entry.actor_id == users["admin"].id
    assert entry.at == clock()
    assert task.title in entry.new_value


def test_the_audit_trail_is_append_only(users, units):
    task = make_task(users["admin"], units["ha_long"])
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.task_id == task.id))
    entry.note = "rewritten history"
    with pytest.raises(AuditIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(AuditIsAppendOnly):
        db.session.flush()


def test_task_page_shows_the_six_ro_fields(login_as, users, units):
    task = make_task(users["admin"], units["ha_long"], expected_output="Kho hồ sơ điện tử")
    page = login_as("ha_long").get(f"/tasks/{task.id}").get_data(as_text=True)
    for text in (task.title, task.owner_name, task.leader_in_charge, "Kho hồ sơ điện tử",
                 task.assigning_authority, task.source_doc_number, "18/12/2026"):
        assert text in page


def test_the_audit_trail_exports_as_csv_within_scope(login_as, users, units):
    task = make_task(users["admin"], units["ha_long"])
    response = login_as("ha_long").get(f"/tasks/{task.id}/audit.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert "Tạo nhiệm vụ" in text and "admin" in text


def test_the_audit_export_is_404_outside_scope(login_as, users, units):
    task = make_task(users["admin"], units["ha_long"])
    assert login_as("co_to").get(f"/tasks/{task.id}/audit.csv").status_code == 404
