"""E-mail right after the commit, with a link to the task (issue 13, item 1), checked on a
real SMTP server on 127.0.0.1: the mail arrives without any scheduler run, holds the
link, and the link opens the task page; what the mail server refuses stays in the outbox
for the scheduler; each user's choice (in the app only, at once, the daily digest) is kept.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from email import message_from_bytes
from email import policy as email_policy
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from tests.conftest import csrf_token, login
from tests.factories import ict, make_task, make_user
from tests.mailserver import Collector, free_port, running_smtp_server, smtp_settings
from tracker.extensions import db
from tracker.notifications import mail
from tracker.notifications.mail import _send_in_background, deliver_digests, deliver_emails
from tracker.notifications.models import Notification
from tracker.notifications.preferences import preferences_of, set_preferences
from tracker.notifications.service import nudge
from tracker.updates.service import post_update

BASE = "https://tracker.quangninh.gov.vn"
ASSIGNED = ict(2026, 11, 13, 9, 0)


@pytest.fixture
def people(users, units):
    made = {
        "member": make_user("can_bo", "member", units["ha_long"], email="can.bo@halong.gov.vn"),
        "chief": make_user("to_cong_tac", "supervisor", units["province"],
                           email="to.cong.tac@quangninh.gov.vn"),
    }
    db.session.commit()
    return made


@pytest.fixture
def task(users, units):
    return make_task(users["admin"], units["ha_long"], at=ASSIGNED)


@pytest.fixture
def smtp(app):
    with running_smtp_server(app, TRACKER_BASE_URL=BASE) as collector:
        yield collector
        mail.wait()  # no sender outlives the test's database


def _submit(app, task, username="can_bo"):
    client = app.test_client()
    login(client, username)
    token = csrf_token(client, f"/tasks/{task.id}/complete")
    response = client.post(f"/tasks/{task.id}/complete",
                           data={"csrf_token": token, "result": "Đã số hoá 1.000 hồ sơ"})
    assert response.status_code == 302, response.get_data(as_text=True)


def _to(message) -> str:
    return message["To"]


def test_the_mail_leaves_right_after_the_commit_and_its_link_opens_the_task(
        app, smtp, people, task):
    _submit(app, task)

    messages = [m for m in smtp.wait_for(1) if _to(m) == "to.cong.tac@quangninh.gov.vn"]
    assert len(messages) == 1  # no scheduler ran: the request's commit sent it
    body = messages[0].get_content()
    link = f"{BASE}/tasks/{task.id}"
    assert link in body
    assert task.code in body and "Kiểm tra sản phẩm" in body
    assert "18/11/2026" in body  # dated

    supervisor = app.test_client()
    login(supervisor, "to_cong_tac")
    page = supervisor.get(urlsplit(link).path)
    assert page.status_code == 200
    assert task.code in page.get_data(as_text=True)


def test_an_emailed_notification_is_marked_sent_and_not_sent_again(app, smtp, people, task):
    _submit(app, task)
    smtp.wait_for(1)
    mail.wait()

    notification = db.session.scalar(select(Notification).where(
        Notification.user_id == people["chief"].id))
    assert notification.emailed_at is not None
    assert deliver_emails(ict(2026, 11, 18, 10, 5)) == 0
    assert len([m for m in smtp.messages() if _to(m) == "to.cong.tac@quangninh.gov.vn"]) == 1


def test_without_a_base_url_the_mail_has_no_link_and_says_where_to_look(
        app, smtp, people, task):
    app.config["TRACKER_BASE_URL"] = ""
    _submit(app, task)

    [message] = [m for m in smtp.wait_for(1) if _to(m) == "to.cong.tac@quangninh.gov.vn"]
    body = message.get_content()
    assert "http" not in body
    assert f"Mở nhiệm vụ {task.code} trên Tracker" in body


def test_a_mail_server_that_is_down_leaves_the_mail_in_the_outbox_for_the_retry(
        app, people, users, task):
    app.config.update(smtp_settings(free_port()))  # nobody listens there
    nudge(users["supervisor"], task, "Đề nghị cập nhật", now=ict(2026, 11, 18, 10, 0))
    db.session.commit()
    mail.wait()

    [owed] = db.session.scalars(select(Notification).where(
        Notification.user_id == people["member"].id)).all()
    assert owed.mail == "now" and owed.emailed_at is None

    with running_smtp_server(app) as collector:
        assert deliver_emails(ict(2026, 11, 18, 10, 1)) == 1  # the scheduler's retry
        assert [_to(m) for m in collector.messages()] == ["can.bo@halong.gov.vn"]


# --- each user's choice -------------------------------------------------------------------


def _choose(user, **choices):
    wanted = {**preferences_of(user), **choices}
    set_preferences(user, user, wanted)
    db.session.commit()


def test_in_the_app_only_means_no_mail_ever(app, smtp, people, users, task):
    _choose(people["member"], nudges="app")
    nudge(users["supervisor"], task, "Đề nghị cập nhật", now=ict(2026, 11, 18, 10, 0))
    db.session.commit()
    mail.wait()

    assert deliver_emails(ict(2026, 11, 18, 10, 1)) == 0
    assert smtp.messages() == []
    [kept] = db.session.scalars(select(Notification).where(
        Notification.user_id == people["member"].id)).all()
    assert kept.mail is None  # in the app, not in the outbox


def test_the_digest_sends_one_mail_a_working_day_with_everything_chosen_for_it(
        app, smtp, people, users, task):
    _choose(people["member"], nudges="digest", decisions="digest")
    nudge(users["supervisor"], task, "Đề nghị cập nhật lần 1", now=ict(2026, 11, 18, 9, 0))
    nudge(users["supervisor"], task, "Đề nghị cập nhật lần 2", now=ict(2026, 11, 18, 11, 0))
    db.session.commit()
    mail.wait()
    assert smtp.messages() == []  # nothing at once

    assert deliver_digests(ict(2026, 11, 18, 17, 0)) == 1
    [digest] = smtp.messages()
    assert _to(digest) == "can.bo@halong.gov.vn"
    body = digest.get_content()
    assert "lần 1" in body and "lần 2" in body and f"{BASE}/tasks/{task.id}" in body
    assert "18/11/2026" in digest["Subject"]
    assert deliver_digests(ict(2026, 11, 18, 17, 5)) == 0  # one a day: nothing new


def test_no_digest_on_a_day_off_it_waits_for_the_next_working_day(
        app, smtp, people, users, task):
    _choose(people["member"], nudges="digest")
    nudge(users["supervisor"], task, "Đề nghị cập nhật", now=ict(2026, 11, 20, 18, 0))
    db.session.commit()

    assert deliver_digests(ict(2026, 11, 21, 17, 0)) == 0  # a Saturday
    assert deliver_digests(ict(2026, 11, 23, 17, 0)) == 1  # Monday


def test_a_user_without_an_address_gets_nothing_by_mail_but_everything_in_the_app(
        app, smtp, users, task):
    # users["ha_long"] has no e-mail address; the fixture `people` is not used here
    nudge(users["supervisor"], task, "Đề nghị cập nhật", now=ict(2026, 11, 18, 10, 0))
    db.session.commit()
    mail.wait()

    [kept] = db.session.scalars(select(Notification)).all()
    assert kept.user_id == users["ha_long"].id and kept.mail is None
    assert smtp.messages() == []


# --- a slow or stuck mail server ----------------------------------------------------------


class _Held(Collector):
    """A mail server that takes each message only once the test lets it go."""

    def __init__(self):
        super().__init__()
        self.arrived, self.go = threading.Event(), threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.arrived.set()
        while not self.go.is_set():
            await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


@contextmanager
def _held_server(app):
    from aiosmtpd.controller import Controller

    held = _Held()
    controller = Controller(held, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        app.config.update(smtp_settings(controller.port))
        yield held
    finally:
        held.go.set()
        controller.stop()


def _owed(app, users, task, count: int, people) -> list[int]:
    """`count` nudges to the member, left in the outbox (no mail server at first)."""
    app.config.update(smtp_settings(free_port()))  # nobody listens there
    for n in range(count):
        nudge(users["supervisor"], task, f"Đề nghị cập nhật {n}", now=ict(2026, 11, 18, 10, n))
        db.session.commit()
    mail.wait()
    ids = list(db.session.scalars(select(Notification.id).where(
        Notification.user_id == people["member"].id, Notification.emailed_at.is_(None))))
    db.session.rollback()
    assert len(ids) == count
    return ids


def test_no_write_waits_for_a_mail_server_that_is_slow_to_answer(app, people, users, task):
    """A sender talks to the mail server with no transaction open: on SQLite, the
    database's one write lock stays free, so a member's update (or the 16:00 cutoff) never
    waits for a stuck mail server."""
    app.config["TRACKER_SQLITE_BUSY_TIMEOUT_MS"] = 1000  # a writer kept waiting fails soon
    [owed] = _owed(app, users, task, 1, people)
    with _held_server(app) as held:
        sender = threading.Thread(target=_send_in_background, args=(app, [owed]), daemon=True)
        sender.start()
        assert held.arrived.wait(10), "the mail never reached the server"
        # The mail server holds the message; the database is free meanwhile.
        post_update(people["member"], task, {"progress": 40, "work_done": "Đã rà soát"},
                    now=ict(2026, 11, 18, 10, 30))
        db.session.commit()
        assert db.session.get(Notification, owed).emailed_at is None  # not yet
        db.session.rollback()
        held.go.set()
        sender.join(10)
    assert [_to(m) for m in held.messages()] == ["can.bo@halong.gov.vn"]
    assert db.session.get(Notification, owed).emailed_at is not None


def test_two_senders_at_once_send_each_message_once(app, people, users, task, monkeypatch):
    """The thread right after a commit and the scheduler's retry (or two hosts) take the
    same outbox at the same moment, a message at a time: each message goes once."""
    monkeypatch.setattr(mail, "CLAIM_BATCH", 1)
    owed = _owed(app, users, task, 6, people)
    with _held_server(app) as held:
        senders = [threading.Thread(target=_send_in_background, args=(app, None),
                                    daemon=True) for _ in range(2)]
        for sender in senders:
            sender.start()
        assert held.arrived.wait(10)
        time.sleep(0.3)  # both have claimed what they could by now
        held.go.set()
        for sender in senders:
            sender.join(20)
    said = sorted(m.get_content().splitlines()[1].rpartition(": ")[2]
                  for m in held.messages())
    assert said == [f"Đề nghị cập nhật {n}" for n in range(6)]  # each once
    assert all(db.session.get(Notification, i).emailed_at is not None for i in owed)


def test_a_claim_left_by_a_sender_that_died_is_taken_once_it_has_run_out(
        app, people, users, task, clock):
    [owed] = _owed(app, users, task, 1, people)
    now = clock.set(ict(2026, 11, 18, 11, 0)) or ict(2026, 11, 18, 11, 0)
    claimed = db.session.get(Notification, owed)
    claimed.mail_claimed_at = now - mail.CLAIM_FOR / 5  # a sender is at it
    db.session.commit()
    with running_smtp_server(app) as collector:
        assert deliver_emails(now) == 0
        claimed = db.session.get(Notification, owed)
        claimed.mail_claimed_at = now - mail.CLAIM_FOR - timedelta(seconds=1)  # it died
        db.session.commit()
        assert deliver_emails(now) == 1
        assert [_to(m) for m in collector.messages()] == ["can.bo@halong.gov.vn"]


def test_a_message_sent_but_not_marked_is_not_sent_again_at_once(
        app, people, users, task, clock, monkeypatch):
    """The mail server took the message, then the database could not mark it (SQLite's
    lock held past every attempt, an outage): the claim stays, so the next second's retry
    does not send it again; only a claim run out would."""
    [owed] = _owed(app, users, task, 1, people)
    clock.set(ict(2026, 11, 18, 11, 0))
    monkeypatch.setattr(mail, "MARK_ATTEMPTS", 2)
    real_update = mail.update
    calls = []

    def busy(table):  # every attempt to mark fails as a busy SQLite would
        calls.append(real_update(table))
        raise OperationalError("UPDATE notifications", {}, Exception("database is locked"))

    with running_smtp_server(app) as collector:
        monkeypatch.setattr(mail, "update", busy)
        with pytest.raises(OperationalError):
            deliver_emails(clock())
        monkeypatch.setattr(mail, "update", real_update)
        assert len(calls) == 2 and len(collector.messages()) == 1
        assert deliver_emails(clock.advance(seconds=1)) == 0  # the scheduler's next try
        assert len(collector.messages()) == 1
        assert db.session.get(Notification, owed).mail_claimed_at is not None



def test_the_mail_is_dated_and_has_an_id_of_its_own(app, smtp, people, task, clock):
    _submit(app, task)
    [message] = [m for m in smtp.wait_for(1) if _to(m) == "to.cong.tac@quangninh.gov.vn"]
    assert parsedate_to_datetime(message["Date"]) == clock()
    assert message["Date"].endswith("+0700")  # the deployment's zone
    assert re.fullmatch(r"<[^@<>\s]+@quangninh\.gov\.vn>", message["Message-ID"])


def test_a_long_vietnamese_subject_reads_whole_in_a_mail_program(app, smtp):
    subject = "[Giám sát nhiệm vụ] Đã trả lại đề nghị xác nhận hoàn thành"
    raw = mail._message("to.cong.tac@quangninh.gov.vn", subject, "Nội dung").as_bytes()
    assert message_from_bytes(raw, policy=email_policy.default)["Subject"] == subject
