"""Webhooks never slow, stop or roll back the writes that cause them, and the worker never
holds a transaction, a dead endpoint or a rebinding name against the others: the review's
findings (the cutoff, the update path, the worker, SSRF, the log), against a real HTTP
receiver on 127.0.0.1."""

from __future__ import annotations

import logging
import socket
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select, text

from tests import webhook_receiver
from tests.conftest import csrf_token
from tests.factories import cutoff_through, ict, make_task
from tracker.audit.models import SecurityEvent
from tracker.auth.tokens import Identity
from tracker.cutoff.models import CutoffRun, TaskColourChange
from tracker.extensions import db
from tracker.updates.service import post_update, post_updates
from tracker.webhooks import delivery, events, fanout, service
from tracker.webhooks.delivery import deliver_due, purge
from tracker.webhooks.fanout import expand_jobs
from tracker.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookJob
from tracker.webhooks.service import (
    create_endpoint,
    delete_endpoint,
    queue_row,
    record_listening,
    refused_address,
)

NOW = ict(2026, 11, 18, 10, 0)


@pytest.fixture
def receiver(app):
    app.config["TRACKER_WEBHOOK_ALLOW_LOOPBACK"] = True
    app.config["TRACKER_WEBHOOK_TIMEOUT"] = 0.5
    app.config["TRACKER_WEBHOOK_MAX_ATTEMPTS"] = 3
    receiver = webhook_receiver.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def _endpoint(admin, unit, url, events=("task.created",)):
    endpoint, _secret = create_endpoint(admin, {"name": "Cổng dữ liệu", "url": url,
                                                "unit_id": unit.id, "events": list(events)},
                                        now=NOW)
    db.session.commit()
    return endpoint


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


class _Statements:
    """The SQL statements the database is sent while it is open."""

    def __init__(self):
        self.sent: list[str] = []

    def _seen(self, _conn, _cursor, statement, *_args):
        self.sent.append(statement)

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc):
        event.remove(db.engine, "before_cursor_execute", self._seen)

    def about_webhooks(self) -> list[str]:
        return [s for s in self.sent if "webhook" in s.lower() or "SAVEPOINT" in s.upper()]


# --- 1. The cutoff ------------------------------------------------------------------------

def test_a_webhook_receiver_that_raises_does_not_stop_the_cutoff(users, units, receiver,
                                                                 monkeypatch, caplog):
    make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0))
    _endpoint(users["admin"], units["province"], receiver.url,
              ["cutoff.done", "task.colour_changed"])

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug in the webhooks")
    monkeypatch.setattr(events, "queue_row", broken)
    caplog.set_level(logging.ERROR, "tracker.webhooks")
    cutoff_through(date(2026, 11, 17), ict(2026, 11, 17, 17, 0))
    db.session.rollback()
    run = db.session.get(CutoffRun, date(2026, 11, 17))
    assert run is not None and run.finished_at is not None
    assert _count(TaskColourChange) > 0  # the cutoff's own rows are all there
    assert "a bug in the webhooks" in caplog.text


def test_a_webhook_receiver_that_raises_does_not_roll_back_an_update(users, units, receiver,
                                                                   monkeypatch, caplog):
    task = make_task(users["admin"], units["ha_long"], at=NOW)
    _endpoint(users["admin"], units["province"], receiver.url, ["update.posted"])

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug in the webhooks")
    monkeypatch.setattr(events, "_job", broken)
    caplog.set_level(logging.ERROR, "tracker.webhooks")
    post_update(users["ha_long"], task, {"progress": 40, "work_done": "Đã số hoá"}, now=NOW)
    db.session.commit()
    db.session.refresh(task)
    assert task.progress == 40
    assert "a bug in the webhooks" in caplog.text


def test_the_cutoff_queues_one_job_per_endpoint_that_the_worker_expands_in_pages(
        users, units, receiver, monkeypatch):
    for _ in range(3):
        make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0))
    endpoint = _endpoint(users["admin"], units["province"], receiver.url,
                         ["task.colour_changed"])
    cutoff_through(date(2026, 11, 17), ict(2026, 11, 17, 17, 0))
    # In the cutoff: nothing per task, one job per endpoint and day processed.
    assert _count(WebhookDelivery) == 0
    jobs = db.session.scalars(select(WebhookJob).order_by(WebhookJob.id)).all()
    assert [(j.kind, j.endpoint_id) for j in jobs] == [("cutoff_colours", endpoint.id)] * 3
    changed = _count(TaskColourChange, TaskColourChange.previous_colour.is_not(None),
                     TaskColourChange.previous_colour != TaskColourChange.colour)
    assert changed >= 3
    monkeypatch.setattr(fanout, "PAGE", 1)
    assert expand_jobs() > len(jobs)  # a page (here one task) per transaction
    assert _count(WebhookJob) == 0
    assert _count(WebhookDelivery, WebhookDelivery.event == "task.colour_changed") == changed
    assert expand_jobs() == 0  # done once


# --- 2. The worker holds no transaction while the endpoint answers ------------------------

def test_the_endpoint_is_posted_to_with_no_transaction_open(users, units, receiver,
                                                            monkeypatch):
    _endpoint(users["admin"], units["province"], receiver.url)
    make_task(users["admin"], units["ha_long"], at=NOW)
    real, open_then = delivery.post, []

    def watching(*args, **kwargs):
        open_then.append(db.session().in_transaction())
        return real(*args, **kwargs)
    monkeypatch.setattr(delivery, "post", watching)
    assert deliver_due(NOW)["delivered"] == 1
    assert open_then == [False]


def test_another_writer_writes_while_the_endpoint_answers(users, units, receiver):
    endpoint = _endpoint(users["admin"], units["province"], receiver.url)
    make_task(users["admin"], units["ha_long"], at=NOW)
    engine, wrote, endpoint_id = db.engine, [], endpoint.id

    def write():  # on SQLite, waits for the write lock if the worker holds it
        with engine.begin() as conn:
            conn.execute(text("UPDATE webhook_endpoints SET name = :name WHERE id = :id"),
                         {"name": "Đổi tên", "id": endpoint_id})
        wrote.append(True)
    receiver.during = write
    assert deliver_due(NOW)["delivered"] == 1  # not a timeout: nobody waited on anybody
    assert wrote == [True]


# --- 3. The update path -------------------------------------------------------------------

def test_with_no_endpoint_an_update_batch_sends_no_webhook_statement(users, units):
    task = make_task(users["admin"], units["ha_long"], at=NOW)
    record_listening()  # what every change to an endpoint writes: here, nothing heard
    db.session.commit()
    with _Statements() as statements:
        post_update(users["ha_long"], task, {"progress": 30, "work_done": "Đã làm"}, now=NOW)
        db.session.commit()
    assert statements.sent  # the update was written
    assert statements.about_webhooks() == []


def test_a_batch_of_updates_queues_one_job_the_worker_fans_out(users, units, receiver):
    tasks = [make_task(users["admin"], units["ha_long"], at=NOW) for _ in range(3)]
    endpoint = _endpoint(users["admin"], units["province"], receiver.url, ["update.posted"])
    reporter = Identity.of(users["ha_long"])
    with _Statements() as statements:
        post_updates(reporter, [(t.id, {"progress": 20 + i, "work_done": f"Việc {i}"})
                                for i, t in enumerate(tasks)], now=NOW)
        db.session.commit()
    # One insert of one job; no read of the endpoints, no row per update or endpoint.
    assert [s for s in statements.about_webhooks() if "SAVEPOINT" not in s.upper()] == [
        s for s in statements.sent if s.lstrip().upper().startswith("INSERT INTO WEBHOOK_JOBS")]
    [job] = db.session.scalars(select(WebhookJob)).all()
    assert job.event == "update.posted" and _count(WebhookDelivery) == 0
    expand_jobs()
    rows = db.session.scalars(select(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id)).all()
    assert sorted(r.event for r in rows) == ["update.posted"] * 3


# --- 4. SSRF ------------------------------------------------------------------------------

def test_carrier_nat_ietf_and_unique_local_addresses_are_refused(app):
    app.config["TRACKER_WEBHOOK_ALLOW_ULA"] = False
    for host in ("100.64.0.1", "100.127.255.254", "192.0.0.8", "fd00::1", "fc12::5",
                 "::ffff:100.64.0.1"):
        assert refused_address(host) is not None, host
    for host in ("10.0.0.5", "172.16.1.1", "192.168.1.10", "100.128.0.1", "192.0.2.1"):
        assert refused_address(host) is None, host
    app.config["TRACKER_WEBHOOK_ALLOW_ULA"] = True
    assert refused_address("fd00::1") is None


def test_a_name_that_resolves_to_loopback_is_refused_when_sent(users, units, receiver, app):
    port = receiver.server.server_address[1]
    endpoint = _endpoint(users["admin"], units["province"], f"http://localhost:{port}/hook")
    app.config["TRACKER_WEBHOOK_ALLOW_LOOPBACK"] = False
    make_task(users["admin"], units["ha_long"], at=NOW)
    assert deliver_due(NOW)["failed"] == 1
    assert receiver.received == []
    [row] = db.session.scalars(select(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id)).all()
    assert row.last_error.startswith("address not allowed")


def test_the_connection_goes_to_the_address_that_was_checked(users, units, receiver,
                                                             monkeypatch):
    """DNS rebinding: the name answers 127.0.0.1 to the check and then another address;
    the request still goes to the one checked, with the name in the Host header."""
    port = receiver.server.server_address[1]
    answers = iter(["127.0.0.1"] + ["192.0.2.1"] * 10)
    real = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host == "rebind.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]
        return real(host, *args, **kwargs)
    _endpoint(users["admin"], units["province"], f"http://rebind.example:{port}/hook?k=1")
    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    make_task(users["admin"], units["ha_long"], at=NOW)
    assert deliver_due(NOW)["delivered"] == 1
    [got] = receiver.received
    assert got.headers["Host"] == f"rebind.example:{port}"
    assert got.path == "/hook?k=1"


def test_the_log_keeps_the_status_not_the_receivers_answer(users, units, receiver):
    endpoint = _endpoint(users["admin"], units["province"], receiver.url)
    receiver.script, receiver.answer = [500], b"Traceback: password=hunter2"
    make_task(users["admin"], units["ha_long"], at=NOW)
    deliver_due(NOW)
    [row] = db.session.scalars(select(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id)).all()
    assert (row.last_status, row.last_error) == (500, "HTTP 500")


# --- 5. A dead endpoint, a slow one ---------------------------------------------------------

def test_after_its_first_failure_an_endpoint_is_skipped_for_the_run(users, units, receiver):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead_port = closed.getsockname()[1]
    closed.close()  # nothing listens there: refused at once
    dead = _endpoint(users["admin"], units["province"], f"http://127.0.0.1:{dead_port}/")
    alive = _endpoint(users["admin"], units["province"], receiver.url)
    for _ in range(3):
        make_task(users["admin"], units["ha_long"], at=NOW)
    assert deliver_due(NOW) == {"delivered": 3, "failed": 1, "given_up": 0}
    attempts = dict(db.session.execute(
        select(WebhookDelivery.endpoint_id, func.sum(WebhookDelivery.attempts))
        .group_by(WebhookDelivery.endpoint_id)).all())
    assert attempts == {dead.id: 1, alive.id: 3}
    assert _count(WebhookDelivery, WebhookDelivery.endpoint_id == dead.id,
                  WebhookDelivery.status == "pending") == 3  # waiting, none given up


def test_an_answer_dripping_past_the_deadline_is_cut_off(users, units, receiver):
    endpoint = _endpoint(users["admin"], units["province"], receiver.url)
    receiver.script = [("drip", 3, 200)]  # a byte every 0.1 s: no single read times out
    make_task(users["admin"], units["ha_long"], at=NOW)
    started = time.monotonic()
    assert deliver_due(NOW)["failed"] == 1
    assert time.monotonic() - started < 2
    [row] = db.session.scalars(select(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id)).all()
    assert row.last_error.startswith("timeout")
    assert row.next_attempt_at > NOW  # retried later, after the lease


# --- 6. The log's size, deleting, the pages, the security events --------------------------

def test_old_delivered_and_given_up_deliveries_are_purged_in_batches(users, units, receiver,
                                                                    monkeypatch, app):
    endpoint = _endpoint(users["admin"], units["province"], receiver.url)
    old, recent = NOW - timedelta(days=31), NOW - timedelta(days=29)
    states = [("delivered", old), ("failed", old), ("delivered", old),
              ("delivered", recent), ("pending", old)]
    for status, at in states:
        row = WebhookDelivery(**queue_row(endpoint.id, "task.created", at, {}))
        row.status = status
        row.last_attempt_at = at
        row.delivered_at = at if status == "delivered" else None
        db.session.add(row)
    db.session.commit()
    monkeypatch.setattr(delivery, "PURGE_BATCH", 2)
    assert app.config["TRACKER_WEBHOOK_KEEP_DAYS"] == 30
    assert purge(NOW) == 3
    left = sorted((r.status, r.created_at) for r in db.session.scalars(select(WebhookDelivery)))
    assert left == sorted([("delivered", recent), ("pending", old)])


def test_deleting_an_endpoint_deletes_its_log_in_batches(users, units, receiver,
                                                         monkeypatch):
    endpoint = _endpoint(users["admin"], units["province"], receiver.url)
    for _ in range(5):
        db.session.add(WebhookDelivery(**queue_row(endpoint.id, "task.created", NOW, {})))
    db.session.commit()
    monkeypatch.setattr(service, "DELETE_BATCH", 2)
    with _Statements() as statements:
        delete_endpoint(users["admin"], endpoint, now=NOW)
    deletes = [s for s in statements.sent
               if s.lstrip().upper().startswith("DELETE FROM WEBHOOK_DELIVERIES")]
    assert len(deletes) == 3  # 2 + 2 + 1, each in its own transaction
    assert _count(WebhookDelivery) == 0 and _count(WebhookEndpoint) == 0


def test_reloading_the_create_answer_registers_nothing_twice(users, units, login_as,
                                                             receiver):
    client = login_as("admin")
    token = csrf_token(client, "/admin/webhooks")
    form = {"csrf_token": token, "name": "Cổng tỉnh", "url": receiver.url,
            "unit_id": units["province"].id, "events": ["task.created"]}
    response = client.post("/admin/webhooks", data=form)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "whsec_" in page
    # The browser reloads what it shows: the page it was redirected to.
    assert "whsec_" not in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _count(WebhookEndpoint) == 1


def test_security_events_leave_out_the_address_query_string(users, units):
    create_endpoint(users["admin"], {"name": "Có khoá", "unit_id": units["province"].id,
                                     "url": "https://example.org/hook?token=s3cr3t",
                                     "events": ["task.created"]}, now=NOW)
    db.session.commit()
    details = db.session.scalars(select(SecurityEvent.detail)).all()
    assert any("https://example.org/hook" in d for d in details)
    assert not any("s3cr3t" in d for d in details)
