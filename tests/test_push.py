"""Web Push to the phone (issue 17, item 2), checked against a real push service on
127.0.0.1 (tests/pushserver.py) that verifies the VAPID signature and decrypts each message
with the subscription's private key: reminders, nudges and decisions are pushed right
after the commit to those who chose it; a subscription the service says is gone is
removed; a subscription must point at a known push service."""

from __future__ import annotations

import os
import stat
import threading

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from tests.conftest import csrf_token, login
from tests.factories import ict, make_task
from tests.pushserver import PushService
from tracker.auth.models import User
from tracker.extensions import db
from tracker.notifications import push
from tracker.notifications.preferences import preferences_of, set_preferences
from tracker.notifications.service import nudge, send_reminders
from tracker.push import vapid
from tracker.push.models import PushSubscription
from tracker.push.service import subscribe
from tracker.tasks.lifecycle import return_completion, submit_completion


def _pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture
def service(app):
    with PushService() as running:
        app.config.update(TRACKER_VAPID_PRIVATE_KEY=_pem(),
                          TRACKER_VAPID_SUBJECT="mailto:it@quangninh.gov.vn",
                          TRACKER_PUSH_SERVICES="127.0.0.1")
        yield running
        push.wait()  # no sender outlives the test's database
    assert running.errors == []


@pytest.fixture
def task(users, units):
    task = make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0))
    db.session.commit()
    return task


def _subscribe(client, subscription: dict):
    token = csrf_token(client, "/account/notifications")
    return client.post("/push/subscriptions", json=subscription,
                       headers={"X-CSRFToken": token})


def test_a_nudge_reaches_the_members_phone_signed_and_encrypted(
        app, service, login_as, users, task):
    phone = service.browser("/send/phone-of-ha-long")
    client = login_as("ha_long")
    assert _subscribe(client, phone.subscription()).status_code == 201

    nudge(users["supervisor"], task, "Đề nghị cập nhật tiến độ trước 16:00",
          now=ict(2026, 11, 18, 10, 0))
    db.session.commit()

    [received] = service.wait_for(1)
    assert received.path == "/send/phone-of-ha-long"
    assert received.signer == vapid.public_key()  # signed with the server's VAPID key
    assert received.claims["sub"] == "mailto:it@quangninh.gov.vn"
    assert received.payload["body"] == f"{task.code}: Đề nghị cập nhật tiến độ trước 16:00"
    assert received.payload["url"] == f"/tasks/{task.id}"
    assert received.payload["title"] == "Đôn đốc"


def test_the_reminder_before_the_cutoff_is_pushed_to_those_who_still_owe(
        app, service, users, task):
    subscribe(users["ha_long"], service.browser("/send/ha-long").subscription(),
              now=ict(2026, 11, 18, 9, 0))
    subscribe(users["co_to"], service.browser("/send/co-to").subscription(),
              now=ict(2026, 11, 18, 9, 0))  # Cô Tô owes nothing
    db.session.commit()

    assert send_reminders(ict(2026, 11, 18, 14, 0)) >= 1
    db.session.commit()

    received = service.wait_for(1)
    push.wait()
    assert [r.path for r in received] == ["/send/ha-long"]
    assert "16:00" in received[0].payload["body"]
    assert received[0].payload["url"] == "/notifications"


def test_a_decision_on_a_completion_is_pushed_to_the_unit(app, service, users, task):
    subscribe(users["ha_long"], service.browser("/send/ha-long").subscription(),
              now=ict(2026, 11, 18, 9, 0))
    submit_completion(users["ha_long"], task, result="Đã số hoá 1.000 hồ sơ",
                      now=ict(2026, 11, 18, 9, 30))
    db.session.commit()
    return_completion(users["supervisor"], task, note="Thiếu biên bản nghiệm thu",
                      now=ict(2026, 11, 18, 11, 0))
    db.session.commit()

    [received] = service.wait_for(1)
    assert received.payload["title"] == "Đã trả lại đề nghị xác nhận hoàn thành"
    assert "Thiếu biên bản nghiệm thu" in received.payload["body"]
    assert received.payload["url"] == f"/tasks/{task.id}"


def test_a_group_turned_off_for_push_is_not_pushed(app, service, users, task):
    member = users["ha_long"]
    subscribe(member, service.browser("/send/ha-long").subscription(),
              now=ict(2026, 11, 18, 9, 0))
    set_preferences(member, member, preferences_of(member),
                    push={"reminders", "decisions", "comments", "requests"})
    db.session.commit()

    nudge(users["supervisor"], task, "Khẩn trương", now=ict(2026, 11, 18, 10, 0))
    db.session.commit()
    # A decision, a group still pushed, written after the nudge: it alone arrives.
    submit_completion(member, task, result="Đã số hoá 1.000 hồ sơ",
                      now=ict(2026, 11, 18, 10, 30))
    db.session.commit()
    return_completion(users["supervisor"], task, note="Thiếu biên bản",
                      now=ict(2026, 11, 18, 11, 0))
    db.session.commit()
    service.wait_for(1)
    push.wait()
    assert [r.payload["title"] for r in service.received] == [
        "Đã trả lại đề nghị xác nhận hoàn thành"]


def test_a_deactivated_user_is_not_pushed_to(app, service, users, units):
    ha_long_task = make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0))
    co_to_task = make_task(users["admin"], units["co_to"], at=ict(2026, 11, 13, 9, 0))
    subscribe(users["ha_long"], service.browser("/send/ha-long").subscription(),
              now=ict(2026, 11, 18, 9, 0))
    subscribe(users["co_to"], service.browser("/send/co-to").subscription(),
              now=ict(2026, 11, 18, 9, 0))
    users["ha_long"].active = False
    db.session.commit()

    nudge(users["supervisor"], ha_long_task, "Khẩn trương", now=ict(2026, 11, 18, 10, 0))
    nudge(users["supervisor"], co_to_task, "Khẩn trương", now=ict(2026, 11, 18, 10, 0))
    db.session.commit()
    service.wait_for(1)
    push.wait()
    assert [r.path for r in service.received] == ["/send/co-to"]


def test_one_sender_thread_pushes_what_many_commits_wrote(app, service, users, task,
                                                          monkeypatch):
    """A burst of commits does not start a burst of threads: one sender, fed by a queue."""
    threads = []
    real_send = vapid.send

    def send_and_note_the_thread(*args):
        threads.append(threading.current_thread())
        return real_send(*args)

    monkeypatch.setattr(vapid, "send", send_and_note_the_thread)
    subscribe(users["ha_long"], service.browser("/send/ha-long").subscription(),
              now=ict(2026, 11, 18, 9, 0))
    db.session.commit()
    for n in range(5):
        nudge(users["supervisor"], task, f"Lần {n + 1}", now=ict(2026, 11, 18, 10, n))
        db.session.commit()
    service.wait_for(5)
    push.wait()
    assert len(service.received) == 5
    assert len(set(threads)) == 1


def test_a_subscription_the_push_service_says_is_gone_is_removed(app, service, users, task):
    member = users["ha_long"]
    subscribe(member, service.browser("/gone/old-phone").subscription(),
              now=ict(2026, 11, 18, 9, 0))
    subscribe(member, service.browser("/send/new-phone").subscription(),
              now=ict(2026, 11, 18, 9, 0))
    db.session.commit()

    nudge(users["supervisor"], task, "Khẩn trương", now=ict(2026, 11, 18, 10, 0))
    db.session.commit()
    service.wait_for(2)
    push.wait()

    assert sorted(r.path for r in service.received) == ["/gone/old-phone", "/send/new-phone"]
    db.session.rollback()
    left = db.session.scalars(select(PushSubscription.endpoint)).all()
    assert left == [service.base + "/send/new-phone"]


def test_a_subscription_must_point_at_a_known_push_service(app, service, login_as):
    client = login_as("ha_long")
    elsewhere = service.browser("/send/x").subscription()
    elsewhere["endpoint"] = "http://10.0.0.5/internal"  # not a push service: never posted to
    response = _subscribe(client, elsewhere)
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"endpoint"}

    broken = service.browser("/send/y").subscription()
    broken["keys"] = {"p256dh": "abc", "auth": "!!"}
    response = _subscribe(client, broken)
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"keys.p256dh", "keys.auth"}
    assert db.session.scalar(select(PushSubscription.id)) is None


def test_unsubscribing_forgets_this_browser_only(app, service, login_as, users):
    client = login_as("ha_long")
    phone, laptop = (service.browser(p).subscription() for p in ("/send/a", "/send/b"))
    assert _subscribe(client, phone).status_code == 201
    assert _subscribe(client, laptop).status_code == 201
    token = csrf_token(client, "/account/notifications")
    response = client.post("/push/subscriptions/delete", json={"endpoint": phone["endpoint"]},
                           headers={"X-CSRFToken": token})
    assert response.get_json() == {"removed": 1}
    db.session.rollback()
    assert db.session.scalars(select(PushSubscription.endpoint)).all() == [laptop["endpoint"]]


def _endpoints() -> list[tuple[str, str]]:
    rows = [(u, e) for u, e in db.session.execute(
        select(User.username, PushSubscription.endpoint)
        .join(User, User.id == PushSubscription.user_id).order_by(PushSubscription.endpoint))]
    db.session.rollback()
    return rows


def _log_out(client):
    return client.post("/logout", data={"csrf_token": csrf_token(client, "/today")})


def test_logging_out_forgets_this_browsers_subscription(app, service, login_as, users):
    """Done by the server from the session, so it holds without the page's script; the
    user's other device keeps its pushes."""
    phone, laptop = (service.browser(p).subscription() for p in ("/send/phone", "/send/laptop"))
    subscribe(users["ha_long"], laptop, now=ict(2026, 11, 18, 9, 0))
    db.session.commit()
    client = login_as("ha_long")
    assert _subscribe(client, phone).status_code == 201

    response = _log_out(client)
    assert response.status_code == 302
    assert response.headers["Clear-Site-Data"] == '"cache"'
    assert _endpoints() == [("ha_long", laptop["endpoint"])]


def test_a_known_endpoint_does_not_move_to_another_user_until_freed(app, service, users):
    """The phone's subscription, made by Hà Long, posted by Cô Tô's member: refused while
    it is his; once he logged out in that browser, hers."""
    phone = service.browser("/send/shared-phone").subscription()
    his = app.test_client()
    login(his, "ha_long")
    assert _subscribe(his, phone).status_code == 201

    hers = app.test_client()
    login(hers, "co_to")
    response = _subscribe(hers, phone)
    assert response.status_code == 409
    assert set(response.get_json()["fields"]) == {"endpoint"}
    assert _endpoints() == [("ha_long", phone["endpoint"])]

    _log_out(his)
    assert _subscribe(hers, phone).status_code == 201
    assert _endpoints() == [("co_to", phone["endpoint"])]


def test_without_a_csrf_token_nothing_is_subscribed(app, service, login_as):
    client = login_as("ha_long")
    response = client.post("/push/subscriptions", json=service.browser("/s").subscription())
    assert response.status_code == 400
    assert db.session.scalar(select(PushSubscription.id)) is None


def test_the_demo_generates_its_vapid_key_once_in_the_instance_folder(
        app, login_as, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    app.config["TRACKER_VAPID_PRIVATE_KEY"] = ""
    client = login_as("ha_long")
    first = client.get("/push/key").get_json()["public_key"]
    assert client.get("/push/key").get_json()["public_key"] == first
    key_file = tmp_path / vapid.KEY_FILE
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert len(first) == 87  # 65 bytes, base64url: the uncompressed P-256 point
