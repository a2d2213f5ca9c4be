"""The API's admin changes: PATCH any "6 rõ" field (the lead and coordinating units too)
with If-Match, reassign, cancel — a stale ETag is 412 and changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from tracker.extensions import db
from tracker.notifications.models import Notification
from tracker.tasks.models import Status, Task


def _etag(api, task_id: int) -> str:
    return api("admin").get(f"/tasks/{task_id}").headers["ETag"]


def _task(task_id: int) -> Task:
    db.session.rollback()
    return db.session.get(Task, task_id)


def test_patch_changes_the_lead_and_coordinating_units(api, world, units, users):
    response = api("admin").patch(
        f"/tasks/{world.silent.id}",
        json={"lead_unit_id": units["co_to"].id,
              "coordinating_unit_ids": [units["bai_chay"].id, units["co_to"].id]},
        headers={"If-Match": _etag(api, world.silent.id)})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["lead_unit_id"] == units["co_to"].id
    task = _task(world.silent.id)
    assert [u.id for u in task.coordinating_units] == [units["bai_chay"].id]  # the lead once
    told = db.session.execute(select(Notification.user_id, Notification.kind).where(
        Notification.kind.in_(("edited", "reassigned")))).all()
    assert sorted(told) == sorted([(users["ha_long"].id, "reassigned"),
                                   (users["co_to"].id, "reassigned")])


def test_reassign_moves_the_task_and_returns_the_new_etag(api, world, units):
    before = _etag(api, world.silent.id)
    response = api("admin").post(f"/tasks/{world.silent.id}/reassign",
                                 json={"lead_unit_id": units["co_to"].id,
                                       "owner_name": "Chủ tịch UBND đặc khu Cô Tô",
                                       "note": "Đúng địa bàn"},
                                 headers={"If-Match": before})
    assert response.status_code == 200, response.get_json()
    assert response.headers["ETag"] != before
    trail = api("admin").get(f"/tasks/{world.silent.id}/audit").get_json()
    assert {e["field"] for e in trail if e["action"] == "reassign"} == {"lead_unit_id",
                                                                       "owner_name"}


def test_a_stale_reassignment_is_412_and_changes_nothing(api, world, units):
    stale = _etag(api, world.silent.id)
    api("admin").patch(f"/tasks/{world.silent.id}", json={"title": "Đổi tên"},
                       headers={"If-Match": stale})
    response = api("admin").post(f"/tasks/{world.silent.id}/reassign",
                                 json={"lead_unit_id": units["co_to"].id},
                                 headers={"If-Match": stale})
    assert response.status_code == 412 and "If-Match" in response.get_json()["fields"]
    assert _task(world.silent.id).lead_unit_id == units["ha_long"].id


def test_reassign_outside_scope_or_without_a_change_is_422_naming_the_fields(api, world,
                                                                              units):
    commune_admin_refusal = api("admin").post(
        f"/tasks/{world.silent.id}/reassign", json={"lead_unit_id": 99999999})
    assert commune_admin_refusal.status_code == 422
    assert set(commune_admin_refusal.get_json()["fields"]) == {"lead_unit_id"}
    same = api("admin").post(f"/tasks/{world.silent.id}/reassign",
                             json={"lead_unit_id": units["ha_long"].id})
    assert same.status_code == 422
    assert set(same.get_json()["fields"]) == {"lead_unit_id", "owner_name"}


def test_only_admins_reassign(api, world, units):
    for who in ("supervisor", "ha_long", "viewer"):
        response = api(who).post(f"/tasks/{world.silent.id}/reassign",
                                 json={"lead_unit_id": units["co_to"].id})
        assert response.status_code == 403, who


def test_a_stale_cancellation_is_412(api, world):
    stale = _etag(api, world.silent.id)
    api("admin").patch(f"/tasks/{world.silent.id}", json={"title": "Đổi tên"},
                       headers={"If-Match": stale})
    response = api("admin").post(f"/tasks/{world.silent.id}/cancel", json={"note": "Trùng"},
                                 headers={"If-Match": stale})
    assert response.status_code == 412
    assert _task(world.silent.id).status != Status.CANCELLED


def test_a_cancellation_tells_the_unit(api, world):
    response = api("admin").post(f"/tasks/{world.silent.id}/cancel",
                                 json={"note": "Trùng với nhiệm vụ khác"})
    assert response.status_code == 200
    db.session.rollback()
    [told] = db.session.scalars(select(Notification).where(Notification.kind == "cancelled"))
    assert "Trùng với nhiệm vụ khác" in told.message
