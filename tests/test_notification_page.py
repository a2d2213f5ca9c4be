"""The notifications page: a user sees only their own, and can mark them read."""

from sqlalchemy import select

from tests.conftest import csrf_token, login
from tests.factories import make_task
from tracker.extensions import db
from tracker.notifications.models import Notification
from tracker.notifications.service import nudge


def test_a_nudge_shows_on_the_members_page_and_not_on_others(login_as, users, units, clock):
    task = make_task(users["admin"], units["ha_long"])
    nudge(users["supervisor"], task, "Đề nghị cập nhật tiến độ trước 16:00", now=clock())
    db.session.commit()
    client = login_as("ha_long")
    page = client.get("/notifications").get_data(as_text=True)
    assert "Đề nghị cập nhật tiến độ trước 16:00" in page
    assert '<span class="count"' in client.get("/tasks").get_data(as_text=True)
    client.post("/notifications/read", data={"csrf_token": csrf_token(client, "/notifications")})
    assert '<span class="count"' not in client.get("/tasks").get_data(as_text=True)


def test_other_users_do_not_see_the_nudge(login_as, users, units, clock):
    task = make_task(users["admin"], units["ha_long"])
    nudge(users["supervisor"], task, "Riêng Hạ Long", now=clock())
    db.session.commit()
    assert "Riêng Hạ Long" not in login_as("co_to").get("/notifications").get_data(True)


def test_opening_one_marks_it_read_and_shows_its_task(app, login_as, users, units, clock):
    task = make_task(users["admin"], units["ha_long"])
    nudge(users["supervisor"], task, "Đề nghị cập nhật tiến độ", now=clock())
    nudge(users["supervisor"], task, "Nhắc lần hai", now=clock())
    db.session.commit()
    client = login_as("ha_long")
    first, second = db.session.scalars(select(Notification).where(
        Notification.user_id == users["ha_long"].id).order_by(Notification.id)).all()
    assert f'href="/notifications/{first.id}"' in client.get("/notifications").get_data(True)

    other = app.test_client()
    login(other, "co_to")
    assert other.get(f"/notifications/{first.id}").status_code == 404
    answer = client.get(f"/notifications/{first.id}")
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/tasks/{task.id}")
    db.session.expire_all()
    assert first.read_at == clock() and second.read_at is None
