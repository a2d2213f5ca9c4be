"""One write path for progress updates: the task page's form, the member's daily page (one
task, or all at once), the API (one, or a unit's batch) and the CLI all call the same
service, and leave the same rows — the update, the task with its stored colour, the audit
trail — on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token
from tests.factories import cutoff_through, ict, make_task
from tracker.audit.models import AuditEntry
from tracker.auth.tokens import create_token
from tracker.cutoff.models import MissedUpdate
from tracker.extensions import db
from tracker.settings.service import set_day
from tracker.tasks.models import Task
from tracker.updates.models import ProgressUpdate

AT = ict(2026, 11, 18, 15, 59, 59)
INPUT = {"progress": "40", "work_done": "Đã số hoá 1.200 hồ sơ",
         "obstacles": "Thiếu máy quét", "next_steps": "Kiểm tra chất lượng",
         "evidence_url": "https://example.gov.vn/bao-cao"}
CALLERS = ("task_page", "today_page", "today_all", "api_one", "api_batch", "cli")


@pytest.fixture
def tasks(users, units):
    """One identical task per caller (assigned the same morning, by the same admin)."""
    return {caller: make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 16, 9, 0),
                              title="Số hoá hồ sơ lưu trữ")
            for caller in CALLERS}


def _post(caller: str, task: Task, app, client, unit_id: int, token: str):
    """Post INPUT on `task` as the Hạ Long member (logged in on `client`, and with
    `token`), the way `caller` does."""
    task_id, code = task.id, task.code
    if caller == "task_page":
        data = {**INPUT, "csrf_token": csrf_token(client, f"/tasks/{task_id}")}
        return client.post(f"/tasks/{task_id}/updates", data=data).status_code
    if caller == "today_page":
        data = {f"t{task_id}-{k}": v for k, v in INPUT.items()}
        data["csrf_token"] = csrf_token(client, "/today")
        return client.post(f"/today/tasks/{task_id}/update", data=data).status_code
    if caller == "today_all":
        data = {f"{k}-{task_id}": v for k, v in INPUT.items()}
        data.update(task_id=str(task_id), csrf_token=csrf_token(client, "/today/all"))
        return client.post("/today/all", data=data).status_code
    body = {**INPUT, "progress": int(INPUT["progress"])}
    headers = {"Authorization": f"Bearer {token}"}
    if caller == "api_one":
        return client.post(f"/api/v1/tasks/{task_id}/updates", json=body,
                           headers=headers).status_code
    if caller == "api_batch":
        return client.post(f"/api/v1/units/{unit_id}/updates",
                           json={"items": [{"task_id": task_id, **body}]},
                           headers=headers).status_code
    result = app.test_cli_runner().invoke(args=[
        "tracker", "updates", "post", code, "--user", "ha_long", "--progress", "40",
        "--work-done", INPUT["work_done"], "--obstacles", INPUT["obstacles"],
        "--next-steps", INPUT["next_steps"], "--evidence-url", INPUT["evidence_url"]])
    assert result.exit_code == 0, result.output
    return 201


def _rows(task_id: int) -> dict:
    """What an update left behind, without the ids that differ by nature."""
    task = db.session.get(Task, task_id)
    update = db.session.scalars(select(ProgressUpdate).where(
        ProgressUpdate.task_id == task_id)).one()
    audit = db.session.execute(
        select(AuditEntry.actor_id, AuditEntry.at, AuditEntry.action, AuditEntry.field,
               AuditEntry.old_value, AuditEntry.new_value, AuditEntry.note)
        .where(AuditEntry.task_id == task_id, AuditEntry.action != "create")
        .order_by(AuditEntry.field)).all()
    return {
        "update": (update.author_id, update.created_at, update.progress, update.work_done,
                   update.obstacles, update.next_steps, update.evidence_url),
        "task": (task.progress, str(task.status), task.last_update_at, task.updated_at,
                 task.version, task.colour, task.colour_reason, task.colour_days),
        "audit": [(*row[:-1], row[-1].replace(f"#{update.id}", "#<id>")) for row in audit],
    }


def test_every_caller_leaves_the_same_rows(app, clock, client, login_as, users, units,
                                           tasks):
    _token, raw = create_token(None, users["ha_long"], name="paths", now=clock())
    unit_id = units["ha_long"].id
    db.session.commit()
    clock.set(AT)
    client = login_as("ha_long")

    left = {}
    for caller, task in tasks.items():
        status = _post(caller, task, app, client, unit_id, raw)
        assert status in (201, 302), (caller, status)
        db.session.rollback()
        left[caller] = _rows(task.id)

    first = left["task_page"]
    assert first["update"][1] == AT and first["task"][:2] == (40, "in_progress")
    assert [(row[3], row[4], row[5]) for row in first["audit"]] == [
        ("progress", "0", "40"), ("status", "not_started", "in_progress")]
    assert all(re.fullmatch(r"update #<id>", row[6]) for row in first["audit"])
    for caller, rows in left.items():
        assert rows == first, caller


def test_the_reporting_day_shown_follows_a_make_up_day_added_later(app, clock, client,
                                                                  users, units):
    """Posted on Friday 27/11 after 16:00, an update counts for Monday — until an admin
    makes Saturday 28/11 a working day: from then on the API shows Saturday, and Saturday's
    cutoff counts it, as one answer."""
    task = make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 25, 9, 0))
    _token, raw = create_token(None, users["ha_long"], name="days", now=clock())
    db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    clock.set(ict(2026, 11, 27, 16, 30))
    posted = client.post(f"/api/v1/tasks/{task.id}/updates", headers=headers,
                         json={"progress": 10, "work_done": "Sau giờ chốt thứ Sáu"})
    assert posted.get_json()["reporting_day"] == "2026-11-30"

    set_day(users["admin"], date(2026, 11, 28), "makeup_day", "Làm bù")
    db.session.commit()

    listed = client.get(f"/api/v1/tasks/{task.id}/updates", headers=headers).get_json()
    assert [u["reporting_day"] for u in listed] == ["2026-11-28"]
    cutoff_through(date(2026, 11, 28), ict(2026, 11, 28, 16, 0, 1))
    assert db.session.get(MissedUpdate, (date(2026, 11, 28), task.id)) is None
    assert db.session.get(MissedUpdate, (date(2026, 11, 27), task.id)) is not None
