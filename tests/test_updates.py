"""Posting the daily progress update through the task page's form."""

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token
from tests.factories import ict, make_task
from tracker.extensions import db
from tracker.tasks.models import Status
from tracker.updates.models import ProgressUpdate


@pytest.fixture
def task(users, units):
    return make_task(users["admin"], units["ha_long"])


def _post(client, task, **data):
    data.setdefault("csrf_token", csrf_token(client, f"/tasks/{task.id}"))
    return client.post(f"/tasks/{task.id}/updates", data=data)


def _updates():
    return db.session.scalar(select(func.count()).select_from(ProgressUpdate))


def test_member_posts_an_update_stamped_by_the_server_clock(login_as, task, clock):
    client = login_as("ha_long")
    clock.set(ict(2026, 11, 18, 15, 59, 59))
    response = _post(client, task, progress="40", work_done="Đã số hoá 1.200 hồ sơ",
                     obstacles="Thiếu máy quét", evidence_url="https://example.gov.vn/bc")
    assert response.status_code == 302
    update = db.session.scalar(select(ProgressUpdate))
    assert update.created_at == ict(2026, 11, 18, 15, 59, 59)
    assert update.progress == 40
    assert task.progress == 40 and task.status == Status.IN_PROGRESS
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Đã số hoá 1.200 hồ sơ" in page and "18/11/2026 15:59:59" in page
    assert "(tính cho ngày báo cáo 18/11/2026)" in page


def test_an_update_after_the_cutoff_counts_for_the_next_working_day(login_as, task, clock):
    clock.set(ict(2026, 11, 20, 16, 0, 1))  # a Friday, one second late
    client = login_as("ha_long")
    _post(client, task, progress="10", work_done="x")
    assert "(tính cho ngày báo cáo 23/11/2026)" in client.get(f"/tasks/{task.id}").get_data(
        as_text=True)


def test_a_client_supplied_timestamp_is_ignored(login_as, task, clock):
    _post(login_as("ha_long"), task, progress="10", work_done="x",
          created_at="2020-01-01T00:00:00")
    assert db.session.scalar(select(ProgressUpdate.created_at)) == clock()


@pytest.mark.parametrize("progress", ["101", "-1", "abc", ""])
def test_progress_outside_0_to_100_is_refused_and_nothing_written(login_as, task, progress):
    response = _post(login_as("ha_long"), task, progress=progress, work_done="x")
    assert response.status_code == 422
    assert "progress" in response.get_data(as_text=True)
    assert _updates() == 0
    assert task.progress == 0 and task.status == Status.NOT_STARTED


def test_work_done_is_required(login_as, task):
    assert _post(login_as("ha_long"), task, progress="5", work_done=" ").status_code == 422
    assert _updates() == 0


def test_evidence_must_be_a_web_link(login_as, task):
    response = _post(login_as("ha_long"), task, progress="5", work_done="x",
                     evidence_url="javascript:alert(1)")
    assert response.status_code == 422
    assert _updates() == 0


def test_update_without_csrf_token_is_refused(login_as, task):
    client = login_as("ha_long")
    response = client.post(f"/tasks/{task.id}/updates", data={"progress": "5", "work_done": "x"})
    assert response.status_code == 400
    assert _updates() == 0


@pytest.mark.parametrize("username", ["supervisor", "admin", "viewer"])
def test_only_members_post_updates(login_as, task, username):
    response = _post(login_as(username), task, progress="5", work_done="x")
    assert response.status_code == 403
    assert _updates() == 0


def test_the_update_form_is_shown_only_to_the_reporting_member(login_as, task):
    assert 'id="post-update"' in login_as("ha_long").get(f"/tasks/{task.id}").get_data(True)


def test_supervisor_does_not_see_the_update_form(login_as, task):
    assert 'id="post-update"' not in login_as("supervisor").get(f"/tasks/{task.id}") \
        .get_data(as_text=True)


def test_an_update_is_audited(login_as, task):
    from tracker.audit.models import AuditEntry

    _post(login_as("ha_long"), task, progress="30", work_done="x")
    changes = {(e.field, e.old_value, e.new_value) for e in db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "progress_update"))}
    assert ("progress", "0", "30") in changes
    assert ("status", "not_started", "in_progress") in changes


@pytest.mark.parametrize("raw", [
    {"progress": 40, "work_done": "Đã làm"},
    {"progress": 40, "work_done": "  Đã làm  ", "obstacles": " ", "next_steps": " Tiếp "},
    {"progress": 0, "work_done": "x", "obstacles": None, "evidence_url": ""},
    {"progress": 100, "work_done": "x", "evidence_url": "https://example.vn/a"},
    {"progress": "40", "work_done": "x"},
    {"progress": 40.0, "work_done": "x"},
    {"progress": True, "work_done": "x"},
    {"progress": 101, "work_done": "x"},
    {"progress": 40, "work_done": "   "},
    {"progress": 40, "work_done": "x" * 5001},
    {"progress": 40, "work_done": "x", "obstacles": 5},
    {"progress": 40, "work_done": "x", "evidence_url": "  "},
    {"progress": 40, "work_done": "x", "evidence_url": 0},
    {"progress": 40, "work_done": "x", "created_at": "2020-01-01"},
    {"work_done": "x"},
    ["not", "an", "object"],
])
def test_the_quick_loader_agrees_with_the_schema_or_leaves_it_the_case(app, raw):
    from marshmallow import ValidationError

    from tracker.updates.service import UpdateInputSchema, quick_load

    quick = quick_load(raw)
    try:
        expected = UpdateInputSchema().load(raw)
    except ValidationError:
        assert quick is None
    else:
        assert quick is None or quick == expected


def test_the_task_keeps_its_latest_update_time_whatever_order_writes_commit_in(users, task):
    """The cutoff judges "reported in the day's window" by the task's latest update at or
    before the cutoff (`last_update_at`), so it must be the latest update's stamp even
    when a write stamped earlier commits after one stamped later."""
    from tracker.auth.tokens import Identity
    from tracker.updates.service import post_updates

    member = Identity.of(users["ha_long"])
    for moment in (ict(2026, 11, 18, 10, 0), ict(2026, 11, 18, 9, 0),
                   ict(2026, 11, 18, 11, 30), ict(2026, 11, 18, 11, 29)):
        post_updates(member, [(task.id, {"progress": 30, "work_done": "x"})], now=moment)
        db.session.commit()
        db.session.expire_all()
        latest = db.session.scalar(select(func.max(ProgressUpdate.created_at))
                                   .where(ProgressUpdate.task_id == task.id))
        assert task.last_update_at == latest
    assert task.last_update_at == ict(2026, 11, 18, 11, 30)
