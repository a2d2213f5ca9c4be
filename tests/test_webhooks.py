"""Webhooks against a real HTTP receiver on 127.0.0.1: queued in the event's transaction,
sent after the commit by the worker, signed (HMAC-SHA256 over the timestamp and the body),
retried with exponential backoff on a 500 and on a timeout, given up after the last
attempt, logged; scoped to the endpoint's unit; the admin's pages."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests import webhook_receiver
from tests.conftest import csrf_token
from tests.factories import cutoff_through, ict, make_task, make_user
from tracker.errors import InvalidInput
from tracker.extensions import db
from tracker.tasks.lifecycle import confirm_completion, submit_completion
from tracker.updates.service import post_update
from tracker.webhooks.delivery import deliver_due
from tracker.webhooks.fanout import expand_jobs
from tracker.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookJob
from tracker.webhooks.service import EVENTS, create_endpoint, send_test

NOW = ict(2026, 11, 18, 10, 0)


@pytest.fixture
def receiver(app):
    app.config["TRACKER_WEBHOOK_ALLOW_LOOPBACK"] = True
    app.config["TRACKER_WEBHOOK_TIMEOUT"] = 0.5
    app.config["TRACKER_WEBHOOK_RETRY_SECONDS"] = 30
    app.config["TRACKER_WEBHOOK_MAX_ATTEMPTS"] = 3
    receiver = webhook_receiver.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def _endpoint(admin, unit, receiver, events=tuple(EVENTS)):
    endpoint, secret = create_endpoint(admin, {"name": "Cổng dữ liệu", "url": receiver.url,
                                               "unit_id": unit.id, "events": list(events)},
                                       now=NOW)
    db.session.commit()
    return endpoint, secret


def _verify(secret: str, received) -> dict:
    timestamp = received.headers["X-Tracker-Timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + received.body,
                        hashlib.sha256).hexdigest()
    assert received.headers["X-Tracker-Signature"] == "sha256=" + expected
    return json.loads(received.body)


def _log(endpoint):
    return db.session.scalars(select(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id).order_by(WebhookDelivery.id)).all()


def test_a_task_assigned_is_sent_after_the_commit_signed(users, units, receiver):
    endpoint, secret = _endpoint(users["admin"], units["province"], receiver)
    task = make_task(users["admin"], units["ha_long"], at=NOW)
    assert receiver.received == []  # nothing sent in the request that assigned it
    assert deliver_due(NOW) == {"delivered": 1, "failed": 0, "given_up": 0}
    [got] = receiver.received
    body = _verify(secret, got)
    assert got.headers["X-Tracker-Event"] == "task.created"
    assert got.headers["X-Tracker-Timestamp"] == str(int(NOW.timestamp()))
    assert got.headers["X-Tracker-Delivery"] == body["id"]
    assert body["event"] == "task.created"
    assert body["occurred_at"] == "2026-11-18T03:00:00Z"
    assert body["data"]["task"]["code"] == task.code
    assert body["data"]["task"]["lead_unit"]["id"] == units["ha_long"].id
    [row] = _log(endpoint)
    assert (row.status, row.attempts, row.last_status) == ("delivered", 1, 200)


def test_a_rolled_back_write_queues_nothing(users, units, receiver):
    _endpoint(users["admin"], units["province"], receiver)
    from tests.factories import task_input
    from tracker.tasks.service import create_task

    create_task(users["admin"], task_input(units["ha_long"]), now=NOW)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def test_a_500_is_retried_with_exponential_backoff_then_delivered(users, units, receiver):
    endpoint, secret = _endpoint(users["admin"], units["province"], receiver,
                                 ["task.created"])
    receiver.script = [500, 500, 200]
    make_task(users["admin"], units["ha_long"], at=NOW)
    assert deliver_due(NOW)["failed"] == 1
    [row] = _log(endpoint)
    assert row.status == "pending" and row.last_status == 500
    assert "HTTP 500" in row.last_error
    assert row.next_attempt_at == NOW + timedelta(seconds=30)
    assert deliver_due(NOW + timedelta(seconds=29))["failed"] == 0  # not due yet
    assert len(receiver.received) == 1
    assert deliver_due(NOW + timedelta(seconds=30))["failed"] == 1
    db.session.refresh(row)
    assert row.next_attempt_at == NOW + timedelta(seconds=30 + 60)  # doubled
    assert deliver_due(NOW + timedelta(seconds=90))["delivered"] == 1
    db.session.refresh(row)
    assert (row.status, row.attempts, row.last_status) == ("delivered", 3, 200)
    ids = {json.loads(r.body)["id"] for r in receiver.received}
    assert len(ids) == 1  # every retry carries the same event id
    for received in receiver.received:
        _verify(secret, received)


def test_a_timeout_fails_the_attempt_and_the_last_failure_gives_up(users, units, receiver):
    endpoint, _secret = _endpoint(users["admin"], units["province"], receiver,
                                  ["task.created"])
    receiver.script = [("sleep", 1.5, 200), 503, 503]
    make_task(users["admin"], units["ha_long"], at=NOW)
    assert deliver_due(NOW) == {"delivered": 0, "failed": 1, "given_up": 0}
    [row] = _log(endpoint)
    assert "timeout" in row.last_error and row.last_status is None
    deliver_due(NOW + timedelta(seconds=30))
    assert deliver_due(NOW + timedelta(seconds=90))["given_up"] == 1
    db.session.refresh(row)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 3, None)
    assert deliver_due(NOW + timedelta(days=1)) == {"delivered": 0, "failed": 0,
                                                    "given_up": 0}


def test_events_outside_the_endpoint_unit_are_not_sent(users, units, receiver):
    endpoint, _s = _endpoint(users["admin"], units["co_to"], receiver)
    make_task(users["admin"], units["ha_long"], at=NOW)
    assert _log(endpoint) == []
    make_task(users["admin"], units["co_to"], at=NOW)
    assert [r.event for r in _log(endpoint)] == ["task.created"]


def test_another_communes_updates_are_not_sent(users, units, receiver, clock):
    """An endpoint of Cô Tô hears nothing of Hạ Long's updates or their colour changes:
    the batch's tasks are matched to endpoints in SQL (`scope.heard_by`)."""
    task = make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0))
    cutoff_through(date(2026, 11, 17), ict(2026, 11, 17, 17, 0))  # days missed: red
    endpoint, _s = _endpoint(users["admin"], units["co_to"], receiver)
    post_update(users["ha_long"], task, {"progress": 40, "work_done": "Đã số hoá 400 hồ sơ"},
                now=NOW)
    db.session.commit()
    expand_jobs()
    assert _log(endpoint) == []


def test_update_completion_and_colour_change_are_queued(users, units, receiver, clock):
    task = make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0))
    cutoff_through(date(2026, 11, 17), ict(2026, 11, 17, 17, 0))  # days missed: red
    db.session.refresh(task)
    assert task.colour == "red"
    endpoint, secret = _endpoint(users["admin"], units["province"], receiver)
    post_update(users["ha_long"], task, {"progress": 40, "work_done": "Đã số hoá 400 hồ sơ"},
                now=NOW)
    db.session.commit()
    # The batch queued one job per event heard of; the worker fans them out.
    assert [j.event for j in db.session.scalars(select(WebhookJob).order_by(
        WebhookJob.id))] == ["update.posted", "task.colour_changed"]
    assert _log(endpoint) == []
    expand_jobs()
    events = [r.event for r in _log(endpoint)]
    assert events == ["update.posted", "task.colour_changed"]
    assert db.session.scalar(select(func.count()).select_from(WebhookJob)) == 0
    submit_completion(users["ha_long"], task, result="Kho hồ sơ", now=NOW)
    confirm_completion(users["supervisor"], task, now=NOW)
    db.session.commit()
    events = [r.event for r in _log(endpoint)]
    assert events[2:] == ["task.changed", "completion.decided"]
    deliver_due(NOW)
    bodies = [_verify(secret, r) for r in receiver.received]
    by_event = {b["event"]: b["data"] for b in bodies}
    assert by_event["update.posted"]["update"]["progress"] == 40
    assert by_event["task.colour_changed"]["previous_colour"] == "red"
    assert by_event["task.colour_changed"]["colour"] == "green"
    assert by_event["completion.decided"]["decision"] == "confirmed"


def test_the_cutoff_announces_the_unit_figures(users, units, receiver):
    make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0))
    _endpoint_row, secret = _endpoint(users["admin"], units["province"], receiver,
                                 ["cutoff.done", "task.colour_changed"])
    cutoff_through(date(2026, 11, 17), ict(2026, 11, 17, 17, 0))
    deliver_due(ict(2026, 11, 17, 17, 0))
    bodies = [_verify(secret, r) for r in receiver.received]
    done = [b["data"] for b in bodies if b["event"] == "cutoff.done"]
    assert [d["day"] for d in done] == ["2026-11-13", "2026-11-16", "2026-11-17"]
    assert done[-1]["unit"]["id"] == units["province"].id
    assert done[-1]["figures"]["total"] == 1
    assert done[-1]["figures"]["red"] + done[-1]["figures"]["yellow"] == 1


def test_send_a_test_queues_a_ping_the_worker_sends(users, units, receiver):
    endpoint, secret = _endpoint(users["admin"], units["province"], receiver)
    send_test(users["admin"], endpoint, now=NOW)
    db.session.commit()
    assert receiver.received == []
    deliver_due(NOW)
    [got] = receiver.received
    assert _verify(secret, got)["event"] == "ping"


def test_addresses_are_checked(users, units, app):
    def refused(url):
        with pytest.raises(InvalidInput) as exc:
            create_endpoint(users["admin"], {"name": "x", "url": url,
                                             "unit_id": units["province"].id,
                                             "events": ["task.created"]}, now=NOW)
        return exc.value.fields
    app.config["TRACKER_WEBHOOK_ALLOW_LOOPBACK"] = False
    for url in ("ftp://example.org/", "http://127.0.0.1:8080/", "http://169.254.169.254/",
                "http://[::1]/", "http://user:pw@example.org/", "example.org"):
        assert "url" in refused(url), url
    endpoint, _secret = create_endpoint(
        users["admin"], {"name": "Intranet", "url": "http://10.0.0.5/hooks",
                         "unit_id": units["province"].id, "events": ["task.created"]},
        now=NOW)
    assert endpoint.id  # the intranet is allowed


def test_a_province_admin_manages_only_their_units(users, units):
    with pytest.raises(InvalidInput) as exc:
        create_endpoint(users["admin"], {"name": "x", "url": "https://example.org/",
                                         "unit_id": units["nation"].id,
                                         "events": ["task.created"]}, now=NOW)
    assert "unit_id" in exc.value.fields
    member = users["ha_long"]
    with pytest.raises(InvalidInput):
        create_endpoint(member, {"name": "x", "url": "https://example.org/",
                                 "unit_id": units["ha_long"].id,
                                 "events": ["task.created"]}, now=NOW)


def test_admin_pages_register_show_the_secret_once_and_the_log(app, users, units, login_as,
                                                                receiver):
    client = login_as("admin")
    token = csrf_token(client, "/admin/webhooks")
    response = client.post("/admin/webhooks", data={
        "csrf_token": token, "name": "Cổng tỉnh", "url": receiver.url,
        "unit_id": units["province"].id, "events": ["task.created", "cutoff.done"]})
    endpoint = db.session.scalar(select(WebhookEndpoint))
    # POST-redirect-GET: a reload of the answer registers nothing twice.
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/webhooks/{endpoint.id}")
    assert "whsec_" not in response.get_data(as_text=True)
    shown = client.get(f"/admin/webhooks/{endpoint.id}")
    assert "whsec_" in shown.get_data(as_text=True)
    assert shown.headers["Cache-Control"] == "no-store"
    assert "whsec_" not in client.get(f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 1
    token = csrf_token(client, f"/admin/webhooks/{endpoint.id}")
    assert client.post(f"/admin/webhooks/{endpoint.id}/test",
                       data={"csrf_token": token}).status_code == 302
    assert receiver.received == []  # never in the request
    deliver_due(NOW)
    log = client.get(f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    assert 'data-status="delivered"' in log
    bad = client.post("/admin/webhooks", data={"csrf_token": token, "name": "",
                                               "url": "gopher://x", "unit_id": "0"})
    assert bad.status_code == 422


def test_another_province_admin_gets_404(app, users, units, receiver, client):
    endpoint, _s = _endpoint(users["admin"], units["co_to"], receiver)
    make_user("co_to_admin", "admin", units["ha_long"])
    db.session.commit()
    from tests.conftest import login
    login(client, "co_to_admin")
    assert client.get(f"/admin/webhooks/{endpoint.id}").status_code == 404
