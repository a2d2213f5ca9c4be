"""The whole job after assignment, scripted: completion, cancellation, extensions,
comments and nudges, each by the role that does it in the UI."""

from __future__ import annotations

from sqlalchemy import select

from tracker.extensions import db
from tracker.notifications.models import Notification


def test_a_member_submits_and_a_supervisor_confirms(api, world):
    task_id = world.fresh.id
    submitted = api("ha_long").post(f"/tasks/{task_id}/submit", json={"result": "Kho số"})
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["status"] == "submitted"
    assert api("co_to_supervisor").post(f"/tasks/{task_id}/confirm").status_code == 404
    assert api("viewer").post(f"/tasks/{task_id}/confirm").status_code == 403
    confirmed = api("supervisor").post(f"/tasks/{task_id}/confirm", json={"note": "Đạt"})
    assert confirmed.status_code == 200
    assert confirmed.get_json()["status"] == "done"
    assert confirmed.headers["ETag"] == f'"{confirmed.get_json()["version"]}"'
    assert api("supervisor").post(f"/tasks/{task_id}/confirm").status_code == 409


def test_a_supervisor_returns_a_completion_with_a_reason(api, world):
    task_id = world.fresh.id
    api("ha_long").post(f"/tasks/{task_id}/submit", json={"result": "Kho số"})
    assert api("supervisor").post(f"/tasks/{task_id}/return", json={}).status_code == 422
    blank = api("supervisor").post(f"/tasks/{task_id}/return", json={"note": "  "})
    assert blank.status_code == 422 and "note" in blank.get_json()["fields"]
    returned = api("supervisor").post(f"/tasks/{task_id}/return",
                                      json={"note": "Thiếu biên bản"})
    assert returned.get_json()["status"] == "returned"


def test_submitting_needs_the_product_and_the_lead_units_member(api, world):
    assert api("ha_long").post(f"/tasks/{world.fresh.id}/submit",
                               json={"result": ""}).status_code == 422
    assert api("supervisor").post(f"/tasks/{world.fresh.id}/submit",
                                  json={"result": "x"}).status_code == 403


def test_an_optional_if_match_on_an_action_must_be_current(api, world):
    response = api("ha_long").post(f"/tasks/{world.fresh.id}/submit", json={"result": "x"},
                                   headers={"If-Match": '"1"'})
    assert response.status_code == 412


def test_an_admin_cancels_with_a_reason(api, world):
    assert api("supervisor").post(f"/tasks/{world.co_to.id}/cancel",
                                  json={"note": "Trùng"}).status_code == 403
    cancelled = api("admin").post(f"/tasks/{world.co_to.id}/cancel", json={"note": "Trùng"})
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert api("admin").post(f"/tasks/{world.co_to.id}/cancel",
                             json={"note": "lại"}).status_code == 409


def test_an_extension_is_requested_then_approved(api, world):
    task_id = world.overdue.id
    requested = api("ha_long").post(f"/tasks/{task_id}/extensions", json={
        "requested_deadline": "2026-12-15", "reason": "Chờ số liệu của Sở"})
    assert requested.status_code == 201, requested.get_json()
    extension = requested.get_json()
    assert extension["status"] == "pending" and extension["current_deadline"] == "2026-11-12"
    pending = api("supervisor").get("/extensions?status=pending").get_json()
    assert [e["id"] for e in pending["items"]] == [extension["id"]]
    assert api("co_to_supervisor").get("/extensions").get_json()["total"] == 0
    assert api("co_to_supervisor").post(
        f"/extensions/{extension['id']}/approve").status_code == 404
    approved = api("supervisor").post(f"/extensions/{extension['id']}/approve", json={})
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"
    task = api("ha_long").get(f"/tasks/{task_id}").get_json()
    assert task["deadline"] == "2026-12-15" and task["original_deadline"] == "2026-11-12"
    assert api("supervisor").post(f"/extensions/{extension['id']}/reject",
                                  json={"note": "x"}).status_code == 409


def test_an_extension_is_rejected_with_a_reason(api, world):
    extension = api("ha_long").post(f"/tasks/{world.overdue.id}/extensions", json={
        "requested_deadline": "2026-12-15", "reason": "Chờ số liệu"}).get_json()
    assert api("supervisor").post(f"/extensions/{extension['id']}/reject",
                                  json={}).status_code == 422
    rejected = api("supervisor").post(f"/extensions/{extension['id']}/reject",
                                      json={"note": "Không đủ căn cứ"})
    assert rejected.get_json()["status"] == "rejected"
    listed = api("ha_long").get(f"/tasks/{world.overdue.id}/extensions").get_json()
    assert [e["decision_note"] for e in listed] == ["Không đủ căn cứ"]


def test_an_extension_request_is_checked(api, world):
    earlier = api("ha_long").post(f"/tasks/{world.fresh.id}/extensions", json={
        "requested_deadline": "2026-12-01", "reason": "x"})
    assert earlier.status_code == 422
    assert "requested_deadline" in earlier.get_json()["fields"]
    far = api("ha_long").post(f"/tasks/{world.fresh.id}/extensions", json={
        "requested_deadline": "9999-12-31", "reason": "x"})
    assert far.status_code == 422
    assert api("supervisor").post(f"/tasks/{world.fresh.id}/extensions", json={
        "requested_deadline": "2027-01-31", "reason": "x"}).status_code == 403
    assert api("admin").post("/extensions/2147483647/approve").status_code == 404


def test_comments_and_acknowledgements(api, world):
    task_id = world.silent.id
    assert api("ha_long").post(f"/tasks/{task_id}/comments",
                               json={"body": "Đang xử lý"}).status_code == 201
    assert api("viewer").post(f"/tasks/{task_id}/comments",
                              json={"body": "x"}).status_code == 403
    assert api("ha_long").post(f"/tasks/{task_id}/comments",
                               json={"body": "x", "kind": "acknowledge"}).status_code == 403
    ack = api("supervisor").post(f"/tasks/{task_id}/comments",
                                 json={"body": "Đã nắm", "kind": "acknowledge"})
    assert ack.status_code == 201
    listed = api("viewer").get(f"/tasks/{task_id}/comments").get_json()
    assert [(c["kind"], c["body"]) for c in listed] == [("comment", "Đang xử lý"),
                                                        ("acknowledge", "Đã nắm")]
    assert api("co_to").get(f"/tasks/{task_id}/comments").status_code == 404


def test_a_supervisor_nudges_the_lead_units_members(api, world, users):
    response = api("supervisor").post(f"/tasks/{world.silent.id}/nudge",
                                      json={"message": "Đề nghị cập nhật trước 16:00"})
    assert response.status_code == 200 and response.get_json() == {"notified": 1}
    db.session.rollback()
    [note] = db.session.scalars(select(Notification).where(Notification.kind == "nudge"))
    assert note.user_id == users["ha_long"].id
    assert api("ha_long").post(f"/tasks/{world.silent.id}/nudge",
                               json={"message": "x"}).status_code == 403
    assert api("supervisor").post(f"/tasks/{world.silent.id}/nudge",
                                  json={"message": ""}).status_code == 422


def test_the_inbox_lists_the_decisions_waiting_in_scope_oldest_first(api, world):
    assert api("ha_long").post(f"/tasks/{world.fresh.id}/submit",
                               json={"result": "Kho số"}).status_code == 200
    asked = api("ha_long").post(f"/tasks/{world.silent.id}/extensions",
                                json={"requested_deadline": "31/01/2027", "reason": "Chờ vốn"})
    assert asked.status_code == 201

    inbox = api("supervisor").get("/inbox")
    assert inbox.status_code == 200
    body = inbox.get_json()
    assert body["counts"] == {"completion": 1, "extension": 1, "total": 2}
    assert [w["task"]["id"] for w in body["completions"]] == [world.fresh.id]
    [extension] = body["extensions"]
    assert extension["kind"] == "extension" and extension["task"]["id"] == world.silent.id
    assert extension["extension"]["requested_deadline"] == "2027-01-31"

    other = api("co_to_supervisor").get("/inbox").get_json()
    assert other["counts"]["total"] == 0
    assert api("ha_long").get("/inbox").status_code == 403
