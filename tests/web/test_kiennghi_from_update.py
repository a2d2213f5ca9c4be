""""In one step" (issue 18): a member ticks "raise this obstacle" in the daily update form
— on the task page or on /today — and the obstacle becomes a vướng mắc on that task in
the same submission, through the kiến nghị's service: both written or neither, once per
form; and the notifications of a kiến nghị link to its page (for a merged duplicate's
raisers, the duplicate's), in the app and by e-mail."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.factories import ict, make_department, make_task, make_user
from tracker.extensions import db
from tracker.kiennghi import service
from tracker.kiennghi.models import Recommendation
from tracker.notifications.models import Notification
from tracker.updates.models import ProgressUpdate

OBSTACLE = "Chưa có mặt bằng để xây nhà văn hoá thôn\nUBND xã đã đề nghị từ tháng 10."


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'id="{re.escape(name)}" name="{re.escape(name)}" type="hidden" '
                      rf'value="([^"]*)"', page)
    assert match, f"no hidden {name}"
    return match.group(1)


@pytest.fixture
def task(users, units):
    made = make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0),
                     field="Văn hoá")
    db.session.commit()
    return made


def _task_form(client, task, **fields) -> dict:
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'data-testid="kn-raise-obstacle"' in page
    return {"csrf_token": _hidden(page, "csrf_token"),
            "idempotency_key": _hidden(page, "idempotency_key"), "progress": "40",
            "work_done": "Đã khảo sát vị trí", "obstacles": OBSTACLE, **fields}


KN = {"raise_obstacle": "y", "field": "Đất đai", "legal_basis": "Luật Đất đai 2024",
      "level_asked": "province"}


def test_ticked_the_obstacle_becomes_a_kien_nghi_on_the_task(login_as, task):
    client = login_as("ha_long")
    response = client.post(f"/tasks/{task.id}/updates", data=_task_form(client, task, **KN),
                           follow_redirects=True)
    assert response.status_code == 200
    [rec] = db.session.scalars(select(Recommendation)).all()
    update = db.session.scalar(select(ProgressUpdate).where(ProgressUpdate.task_id == task.id)
                               .order_by(ProgressUpdate.id.desc()).limit(1))
    assert (rec.task_id, rec.kind, rec.status) == (task.id, "obstacle", "raised")
    assert rec.title == "Chưa có mặt bằng để xây nhà văn hoá thôn"
    assert rec.content == OBSTACLE and update.obstacles == OBSTACLE
    assert (rec.field, rec.legal_basis, rec.level_asked) == ("Đất đai", "Luật Đất đai 2024",
                                                             "province")
    assert rec.raised_at == update.created_at  # one submission, one stamp
    assert f"{rec.code}" in response.get_data(as_text=True)


def test_not_ticked_nothing_is_raised(login_as, task):
    client = login_as("ha_long")
    client.post(f"/tasks/{task.id}/updates",
                data=_task_form(client, task, field="Đất đai", legal_basis="Luật"))
    assert _count(Recommendation) == 0 and _count(ProgressUpdate) == 1


@pytest.mark.parametrize("missing,named", [("legal_basis", "legal_basis"),
                                           ("level_asked", "level_asked"),
                                           ("obstacles", "obstacles")])
def test_refused_neither_the_update_nor_the_kien_nghi_is_written(login_as, task, missing,
                                                                  named):
    client = login_as("ha_long")
    data = _task_form(client, task, **KN)
    data[missing] = ""
    response = client.post(f"/tasks/{task.id}/updates", data=data)
    assert response.status_code == 422
    assert f'data-field="{named}"' in response.get_data(as_text=True)
    assert _count(Recommendation) == 0 and _count(ProgressUpdate) == 0


def test_sent_twice_one_update_and_one_kien_nghi(login_as, task):
    client = login_as("ha_long")
    data = _task_form(client, task, **KN)
    client.post(f"/tasks/{task.id}/updates", data=data)
    client.post(f"/tasks/{task.id}/updates", data=data)
    assert _count(Recommendation) == 1 and _count(ProgressUpdate) == 1


def test_from_today_too(login_as, task):
    client = login_as("ha_long")
    page = client.get("/today").get_data(as_text=True)
    prefix = f"t{task.id}-"
    data = {f"{prefix}csrf_token": _hidden(page, f"{prefix}csrf_token"),
            f"{prefix}idempotency_key": _hidden(page, f"{prefix}idempotency_key"),
            f"{prefix}progress": "40", f"{prefix}work_done": "Đã khảo sát",
            f"{prefix}obstacles": OBSTACLE, **{prefix + k: v for k, v in KN.items()}}
    assert f'name="{prefix}raise_obstacle"' in page
    response = client.post(f"/today/tasks/{task.id}/update", data=data)
    assert response.status_code == 302
    [rec] = db.session.scalars(select(Recommendation)).all()
    assert rec.task_id == task.id and rec.raising_unit_id == task.lead_unit_id


# --- notifications link to the kiến nghị's page -------------------------------------------


def _input(title):
    return {"title": title, "kind": "obstacle", "content": "Nội dung", "field": "Đất đai",
            "legal_basis": "Luật Đất đai", "level_asked": "province"}


def test_notifications_link_to_the_page_each_reader_sees(app, client, users, units):
    from tests.conftest import login

    department = make_department(units["province"], "Sở Tài nguyên và Môi trường")
    office = make_user("so_tnmt", "member", department)
    monday = ict(2026, 11, 16, 9, 0)
    first = service.raise_recommendation(users["co_to"], _input("Đất"), now=monday)
    duplicate = service.raise_recommendation(users["ha_long"], _input("Đất 2"), now=monday)
    service.route(users["supervisor"], first, responsible_unit_id=department.id,
                  response_days=5, now=monday)
    service.merge(users["supervisor"], duplicate, into_id=first.id, now=monday)
    service.answer(office, first, answer_text="Đã trả lời", now=ict(2026, 11, 17, 9, 0))
    db.session.commit()

    def links(username, kind):
        return {n.recommendation_id for n in db.session.scalars(
            select(Notification).where(Notification.kind == kind,
                   Notification.user_id == users[username].id))}

    assert links("supervisor", "kn_raised") == {first.id, duplicate.id}
    assert links("co_to", "kn_answered") == {first.id}
    assert links("ha_long", "kn_answered") == {duplicate.id}
    told = db.session.scalar(select(Notification.message).where(
        Notification.kind == "kn_answered", Notification.user_id == users["ha_long"].id))
    assert told.startswith(f"{duplicate.code}, đã gộp vào {first.code}")
    login(client, "ha_long")
    page = client.get("/notifications").get_data(as_text=True)
    told_id = db.session.scalar(select(Notification.id).where(
        Notification.kind == "kn_answered", Notification.user_id == users["ha_long"].id))
    assert f'href="/notifications/{told_id}"' in page  # opened (and marked read) from there
    opened = client.get(f"/notifications/{told_id}")
    assert opened.status_code == 302
    assert opened.headers["Location"].endswith(f"/kien-nghi/{duplicate.id}")
    assert client.get(f"/kien-nghi/{duplicate.id}").status_code == 200


def test_the_email_copy_links_to_the_kien_nghi(app, users):
    from tracker.notifications.mail import _body

    app.config["TRACKER_BASE_URL"] = "https://tracker.example.vn"
    rec = service.raise_recommendation(users["co_to"], _input("Đất"),
                                       now=ict(2026, 11, 16, 9, 0))
    db.session.commit()
    notice = db.session.scalars(select(Notification).where(
        Notification.recommendation_id == rec.id)).first()
    with app.test_request_context():
        body = _body(notice, None)
    assert f"https://tracker.example.vn/kien-nghi/{rec.id}" in body
