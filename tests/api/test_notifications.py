"""Your notifications through the API: the list (paged, newest first, yours only), marking
one or all read — the same service as the notifications page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token
from tests.factories import make_task
from tracker.extensions import db
from tracker.notifications.models import Notification
from tracker.notifications.service import add_notifications


@pytest.fixture
def inbox(users, units, clock):
    """Three notifications for Hạ Long's member, a minute apart, and one for Cô Tô's."""
    task = make_task(users["admin"], units["ha_long"])
    start = clock()
    add_notifications([{"user_id": users["ha_long"].id, "kind": "nudge", "task_id": task.id,
                        "message": f"Nhắc {i}", "created_at": start + timedelta(minutes=i)}
                       for i in range(3)])
    add_notifications([{"user_id": users["co_to"].id, "kind": "reminder",
                        "message": "Riêng Cô Tô", "created_at": start}])
    db.session.commit()
    return {n.message: n.id for n in db.session.scalars(select(Notification))}


def test_the_list_is_yours_newest_first_and_paged(api, inbox):
    answer = api("ha_long").get("/notifications?per_page=2")
    assert answer.status_code == 200
    body = answer.get_json()
    assert [n["message"] for n in body["items"]] == ["Nhắc 2", "Nhắc 1"]
    assert (body["total"], body["pages"]) == (3, 2)
    assert body["items"][0]["kind"] == "nudge" and body["items"][0]["kind_label"]
    assert body["items"][0]["read_at"] is None and body["items"][0]["task_id"]
    second = api("ha_long").get("/notifications?per_page=2&page=2").get_json()
    assert [n["message"] for n in second["items"]] == ["Nhắc 0"]
    assert [n["message"] for n in api("co_to").get("/notifications").get_json()["items"]] == [
        "Riêng Cô Tô"]
    assert api("admin").get("/notifications").get_json()["items"] == []


def test_marking_one_read_keeps_its_first_time(api, inbox, clock):
    first = clock()
    answer = api("ha_long").post(f"/notifications/{inbox['Nhắc 1']}/read")
    assert answer.status_code == 200 and answer.get_json()["read_at"]
    clock.advance(minutes=5)
    again = api("ha_long").post(f"/notifications/{inbox['Nhắc 1']}/read").get_json()
    assert again["read_at"] == answer.get_json()["read_at"]
    db.session.rollback()
    assert db.session.get(Notification, inbox["Nhắc 1"]).read_at == first
    unread = api("ha_long").get("/notifications?unread=true").get_json()
    assert [n["message"] for n in unread["items"]] == ["Nhắc 2", "Nhắc 0"]


def test_marking_all_read_says_how_many_were_unread(api, inbox):
    api("ha_long").post(f"/notifications/{inbox['Nhắc 1']}/read")
    answer = api("ha_long").post("/notifications/read")
    assert answer.status_code == 200
    assert answer.get_json() == {"marked": 2, "unread": 0}
    assert api("ha_long").post("/notifications/read").get_json() == {"marked": 0, "unread": 0}
    db.session.rollback()
    # Cô Tô's stays unread
    assert db.session.get(Notification, inbox["Riêng Cô Tô"]).read_at is None


@pytest.mark.parametrize("who", ["co_to", "admin", "supervisor"])
def test_nobody_marks_another_users_notification(api, inbox, who):
    answer = api(who).post(f"/notifications/{inbox['Nhắc 0']}/read")
    assert answer.status_code == 404
    db.session.rollback()
    assert db.session.get(Notification, inbox["Nhắc 0"]).read_at is None


@pytest.mark.parametrize("query,fields", [
    ("page=0", {"page"}), ("per_page=201", {"per_page"}), ("unread=maybe", {"unread"}),
])
def test_bad_paging_is_refused_naming_the_field(api, inbox, query, fields):
    answer = api("ha_long").get(f"/notifications?{query}")
    assert answer.status_code == 422 and set(answer.get_json()["fields"]) == fields


def test_the_page_and_the_api_mark_the_same_notifications_read(api, inbox, login_as):
    client = login_as("ha_long")
    client.post("/notifications/read", data={"csrf_token": csrf_token(client, "/notifications")})
    assert api("ha_long").get("/notifications?unread=true").get_json()["total"] == 0
    assert api("co_to").get("/notifications?unread=true").get_json()["total"] == 1


def test_the_notifications_need_a_token(client, inbox):
    assert client.get("/api/v1/notifications").status_code == 401
    assert client.post("/api/v1/notifications/read").status_code == 401
