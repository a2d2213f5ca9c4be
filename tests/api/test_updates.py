"""Progress updates over the API: one task, a whole unit's batch (all or nothing), the list."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import ict
from tracker.audit.models import AuditEntry
from tracker.extensions import db
from tracker.tasks.models import Task
from tracker.updates.models import ProgressUpdate


def updates_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(ProgressUpdate))


def test_a_member_posts_an_update_stamped_by_the_server(api, world, clock):
    response = api("ha_long").post(f"/tasks/{world.silent.id}/updates", json={
        "progress": 20, "work_done": "Đã họp thôn", "obstacles": "",
        "evidence_url": "https://example.vn/bien-ban.pdf", "created_at": "2020-01-01"})
    assert response.status_code == 422  # the server's time only: no such field
    response = api("ha_long").post(f"/tasks/{world.silent.id}/updates", json={
        "progress": 20, "work_done": "Đã họp thôn", "evidence_url": "https://example.vn/a"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["created_at"].startswith("2026-11-18T03:00:00")  # 10:00 ICT
    assert body["reporting_day"] == "2026-11-18" and body["author"] == "ha_long"
    task = api("ha_long").get(f"/tasks/{world.silent.id}").get_json()
    assert task["colour"] == "green" and task["progress"] == 20


def test_only_a_member_of_the_lead_unit_posts_updates(api, world):
    data = {"progress": 20, "work_done": "x"}
    assert api("supervisor").post(f"/tasks/{world.silent.id}/updates", json=data).status_code == 403
    assert api("co_to").post(f"/tasks/{world.silent.id}/updates", json=data).status_code == 404
    assert updates_count() == 1  # the world's own


def test_an_invalid_update_names_its_fields(api, world):
    response = api("ha_long").post(f"/tasks/{world.silent.id}/updates",
                                   json={"progress": 101, "evidence_url": "ftp://x"})
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"progress", "work_done", "evidence_url"}


def test_the_updates_of_a_task_are_listed_newest_first(api, world, clock):
    api("ha_long").post(f"/tasks/{world.fresh.id}/updates",
                        json={"progress": 50, "work_done": "Thêm 200 hồ sơ"})
    listed = api("viewer").get(f"/tasks/{world.fresh.id}/updates").get_json()
    assert [u["progress"] for u in listed] == [50, 30]


def test_a_batch_records_every_update_of_a_unit(api, world, units):
    items = [{"task_id": t.id, "progress": 10 + i, "work_done": f"Việc {i}"}
             for i, t in enumerate((world.overdue, world.silent, world.fresh))]
    response = api("ha_long").post(f"/units/{units['ha_long'].id}/updates", json={"items": items})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["count"] == 3
    assert updates_count() == 4


def test_a_batch_with_one_bad_item_records_nothing_and_names_the_item(api, world, units):
    db.session.rollback()
    versions = {t.id: t.version for t in db.session.scalars(select(Task))}
    audit = db.session.scalar(select(func.count()).select_from(AuditEntry))
    items = [
        {"task_id": world.overdue.id, "progress": 10, "work_done": "Xong bước 1"},
        {"task_id": world.silent.id, "progress": 10, "work_done": "   "},
        {"task_id": world.fresh.id, "progress": 40, "work_done": "Thêm hồ sơ"},
    ]
    response = api("ha_long").post(f"/units/{units['ha_long'].id}/updates", json={"items": items})
    assert response.status_code == 422
    body = response.get_json()
    assert set(body["fields"]) == {"items.1.work_done"}
    assert updates_count() == 1
    assert {t.id: t.version for t in db.session.scalars(select(Task))} == versions
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audit


def test_a_batch_refuses_types_before_anything_and_names_the_index(api, world, units):
    items = [{"task_id": world.fresh.id, "progress": 10, "work_done": "ok"},
             {"task_id": world.silent.id, "progress": "lots", "work_done": "x"},
             {"task_id": 2**40, "progress": 5, "work_done": "x"}]
    response = api("ha_long").post(f"/units/{units['ha_long'].id}/updates", json={"items": items})
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"items.1.progress", "items.2.task_id"}
    assert updates_count() == 1


def test_a_batch_refuses_tasks_of_another_unit_or_out_of_scope(api, world, units, users):
    items = [{"task_id": world.fresh.id, "progress": 10, "work_done": "ok"},
             {"task_id": world.co_to.id, "progress": 10, "work_done": "x"}]
    response = api("ha_long").post(f"/units/{units['ha_long'].id}/updates", json={"items": items})
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"items.1.task_id"}
    assert api("ha_long").post(f"/units/{units['co_to'].id}/updates",
                               json={"items": items}).status_code == 404
    assert api("supervisor").post(f"/units/{units['ha_long'].id}/updates",
                                  json={"items": items}).status_code == 403
    assert api("ha_long").post(f"/units/{units['ha_long'].id}/updates",
                               json={"items": []}).status_code == 422
    assert updates_count() == 1


def test_a_batch_refuses_a_closed_task_naming_it(api, world, units):
    api("ha_long").post(f"/tasks/{world.fresh.id}/submit", json={"result": "Kho hồ sơ"})
    items = [{"task_id": world.silent.id, "progress": 10, "work_done": "ok"},
             {"task_id": world.fresh.id, "progress": 10, "work_done": "x"}]
    response = api("ha_long").post(f"/units/{units['ha_long'].id}/updates", json={"items": items})
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"items.1"}
    assert updates_count() == 1


def test_a_batch_naming_a_task_twice_records_both_in_their_order(api, world, units):
    version = world.fresh.version
    items = [{"task_id": world.fresh.id, "progress": 40, "work_done": "Buổi sáng"},
             {"task_id": world.fresh.id, "progress": 60, "work_done": "Buổi chiều"}]
    response = api("ha_long").post(f"/units/{units['ha_long'].id}/updates", json={"items": items})
    assert response.status_code == 201, response.get_json()
    first, second = response.get_json()["items"]
    assert (first["progress"], second["progress"]) == (40, 60) and first["id"] < second["id"]
    db.session.rollback()
    task = db.session.get(Task, world.fresh.id)
    assert task.progress == 60 and task.version == version + 2
    audit = db.session.execute(
        select(AuditEntry.note, AuditEntry.field, AuditEntry.old_value, AuditEntry.new_value)
        .where(AuditEntry.task_id == task.id, AuditEntry.action == "progress_update")
        .order_by(AuditEntry.id)).all()
    assert audit[-2:] == [(f"update #{first['id']}", "progress", "30", "40"),
                          (f"update #{second['id']}", "progress", "40", "60")]


def test_every_update_of_a_batch_is_audited_under_its_own_id(api, world, units):
    items = [{"task_id": t.id, "progress": 30, "work_done": "Tiếp tục"}
             for t in (world.overdue, world.silent, world.fresh)]
    body = api("ha_long").post(f"/units/{units['ha_long'].id}/updates",
                               json={"items": items}).get_json()
    db.session.rollback()
    for item in body["items"]:
        changes = set(db.session.execute(
            select(AuditEntry.field, AuditEntry.old_value, AuditEntry.new_value,
                   AuditEntry.actor_id)
            .where(AuditEntry.note == f"update #{item['id']}",
                   AuditEntry.task_id == item["task_id"])).all())
        if item["task_id"] == world.fresh.id:  # 30 already, in progress: nothing changed
            assert changes == {(None, None, None, item["author_id"])}
        else:
            assert changes == {("progress", "0", "30", item["author_id"]),
                               ("status", "not_started", "in_progress", item["author_id"])}


def test_the_answers_to_updates_are_what_the_list_shows(api, world, units):
    single = api("ha_long").post(f"/tasks/{world.silent.id}/updates", json={
        "progress": 5, "work_done": " Họp thôn ", "obstacles": "", "next_steps": "Tiếp",
        "evidence_url": "https://example.vn/a"}).get_json()
    batch = api("ha_long").post(f"/units/{units['ha_long'].id}/updates", json={"items": [
        {"task_id": world.silent.id, "progress": 7, "work_done": "Lần hai",
         "obstacles": "  "}]}).get_json()["items"]
    listed = api("ha_long").get(f"/tasks/{world.silent.id}/updates").get_json()
    assert listed[:2] == [*batch, single]
    assert single["work_done"] == "Họp thôn" and single["obstacles"] is None


def test_after_updates_every_stored_colour_is_the_rules_verdict(api, world, units, clock):
    from tracker.tasks.colour import mismatches

    api("ha_long").post(f"/tasks/{world.overdue.id}/updates",
                        json={"progress": 90, "work_done": "Gần xong"})
    api("ha_long").post(f"/units/{units['ha_long'].id}/updates", json={"items": [
        {"task_id": world.silent.id, "progress": 10, "work_done": "Bắt đầu"},
        {"task_id": world.fresh.id, "progress": 35, "work_done": "Thêm"}]})
    db.session.rollback()
    assert db.session.get(Task, world.silent.id).colour == "green"
    assert list(mismatches(clock())) == []


def test_an_update_with_a_stale_if_match_is_refused_and_nothing_written(api, world):
    path = f"/tasks/{world.fresh.id}/updates"
    data = {"progress": 50, "work_done": "x"}
    stale = api("ha_long").post(path, json=data, headers={"If-Match": '"999"'})
    assert stale.status_code == 412 and "If-Match" in stale.get_json()["fields"]
    assert updates_count() == 1
    current = api("ha_long").post(path, json=data,
                                  headers={"If-Match": f'"{world.fresh.version}"'})
    assert current.status_code == 201


def test_a_member_of_a_coordinating_unit_sees_but_cannot_report(api, world, users, units):
    from tests.factories import make_task

    task = make_task(users["admin"], units["co_to"], coordinating_unit_ids=[units["ha_long"].id])
    data = {"progress": 20, "work_done": "x"}
    assert api("ha_long").post(f"/tasks/{task.id}/updates", json=data).status_code == 403
    response = api("ha_long").post(f"/units/{units['ha_long'].id}/updates",
                                   json={"items": [{"task_id": task.id, **data}]})
    assert set(response.get_json()["fields"]) == {"items.0.task_id"}
    assert api("ha_long").post("/tasks/2147483647/updates", json=data).status_code == 404
    assert updates_count() == 1


def test_a_revoked_token_cannot_post_updates(api, world, users, tokens):
    from tracker import clock as app_clock
    from tracker.auth.tokens import revoke_token, tokens_of

    for token in tokens_of(users["ha_long"]):
        revoke_token(None, token, now=app_clock.now())
    db.session.commit()
    response = api("ha_long").post(f"/tasks/{world.fresh.id}/updates",
                                   json={"progress": 50, "work_done": "x"})
    assert response.status_code == 401
    assert updates_count() == 1


@pytest.mark.parametrize("trusted,told,stamped", [
    # nginx had it whole at 15:59:59.800, the worker reached it at 16:00:02: the day it was
    # received, within the cutoff's grace (tracker.fence)
    (1, (15, 59, 59, 800000), (15, 59, 59, 800000)),
    (0, (15, 59, 59, 800000), (16, 0, 2, 0)),  # no proxy trusted: a client's header
    (1, (16, 0, 3, 0), (16, 0, 2, 0)),  # ahead of this host's clock: not believed
    (1, (15, 50, 0, 0), (16, 0, 2, 0)),  # received before the boundary, past the grace
])
def test_an_update_received_before_the_cutoff_keeps_the_moment_it_was_received(
        app, api, world, clock, trusted, told, stamped):
    app.config.update(TRACKER_TRUSTED_PROXIES=trusted, TRACKER_CUTOFF_GRACE_SECONDS=5)
    clock.set(ict(2026, 11, 18, 16, 0, 2))
    start = ict(2026, 11, 18, *told).timestamp()
    response = api("ha_long").post(f"/tasks/{world.fresh.id}/updates", json={
        "progress": 30, "work_done": "Gửi trước 16:00"},
        headers={"X-Request-Start": f"t={start:.3f}"})
    assert response.status_code == 201, response.get_json()
    created = db.session.get(ProgressUpdate, response.get_json()["id"]).created_at
    assert created == ict(2026, 11, 18, *stamped)
    assert response.get_json()["reporting_day"] == (
        "2026-11-18" if created <= ict(2026, 11, 18, 16, 0) else "2026-11-19")
