"""Notifications: reminders before the cutoff, nudges, red tasks and the daily report at
the cutoff, and their e-mail copies sent through a real (local) SMTP server."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from tests.factories import cutoff_through, ict, make_task, make_user
from tests.mailserver import parse, running_smtp_server
from tracker.audit.models import AuditEntry
from tracker.auth.models import User
from tracker.errors import Forbidden, InvalidInput
from tracker.extensions import db
from tracker.notifications.mail import deliver_emails
from tracker.notifications.models import Notification
from tracker.notifications.service import nudge, send_reminders
from tracker.tasks.lifecycle import return_completion, submit_completion
from tracker.updates.service import post_update

ASSIGNED = ict(2026, 11, 13, 9, 0)  # a Friday: Monday 16 November is the first day owed


def _post(user, task, at):
    post_update(user, task, {"progress": 10, "work_done": "Đã rà soát hồ sơ"}, now=at)
    db.session.commit()


def _notifications(kind: str | None = None) -> list[Notification]:
    query = select(Notification).order_by(Notification.id)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query))


def _cutoff(day: date, **kw):
    summary = cutoff_through(day, ict(day.year, day.month, day.day, 16, 0, 1), **kw)
    db.session.commit()
    return summary


# --- reminders ---------------------------------------------------------------------------


@pytest.fixture
def both_units_tasks(users, units):
    return (make_task(users["admin"], units["ha_long"], at=ASSIGNED),
            make_task(users["admin"], units["co_to"], at=ASSIGNED))


def test_reminder_goes_only_to_members_of_units_that_still_owe_todays_update(
        users, both_units_tasks):
    ha_long_task, _co_to_task = both_units_tasks
    _post(users["ha_long"], ha_long_task, ict(2026, 11, 18, 9, 30))

    sent = send_reminders(ict(2026, 11, 18, 14, 0))
    db.session.commit()

    reminders = _notifications("reminder")
    assert sent == len(reminders) == 1
    assert reminders[0].user_id == users["co_to"].id
    assert reminders[0].created_at == ict(2026, 11, 18, 14, 0)
    assert "16:00" in reminders[0].message


def test_an_update_from_the_previous_window_does_not_spare_a_unit_the_reminder(
        users, both_units_tasks):
    ha_long_task, _co_to_task = both_units_tasks
    _post(users["ha_long"], ha_long_task, ict(2026, 11, 17, 15, 0))  # counts for Tuesday

    send_reminders(ict(2026, 11, 18, 14, 0))
    db.session.commit()

    assert {n.user_id for n in _notifications("reminder")} == {
        users["ha_long"].id, users["co_to"].id}


def test_an_update_just_after_yesterdays_cutoff_counts_for_today_and_spares_the_unit(
        users, both_units_tasks):
    ha_long_task, _co_to_task = both_units_tasks
    _post(users["ha_long"], ha_long_task, ict(2026, 11, 17, 16, 0, 1))

    send_reminders(ict(2026, 11, 18, 15, 30))
    db.session.commit()

    assert [n.user_id for n in _notifications("reminder")] == [users["co_to"].id]


def test_reminders_go_to_members_only_not_supervisors_or_viewers(users, both_units_tasks):
    send_reminders(ict(2026, 11, 18, 14, 0))
    db.session.commit()

    assert {n.user_id for n in _notifications("reminder")} == {
        users["ha_long"].id, users["co_to"].id}


def test_no_reminders_on_a_weekend(users, both_units_tasks):
    assert send_reminders(ict(2026, 11, 21, 14, 0)) == 0  # a Saturday
    db.session.commit()
    assert _notifications() == []


def test_no_reminder_for_a_task_assigned_today(users, units):
    make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 18, 9, 0))
    assert send_reminders(ict(2026, 11, 18, 14, 0)) == 0


def test_no_reminder_for_a_task_awaiting_confirmation(users, units):
    task = make_task(users["admin"], units["ha_long"], at=ASSIGNED)
    submit_completion(users["ha_long"], task, result="Đã hoàn thành",
                      now=ict(2026, 11, 17, 10, 0))
    db.session.commit()
    assert send_reminders(ict(2026, 11, 18, 14, 0)) == 0


def test_a_returned_task_is_reminded_from_the_first_whole_window_after_the_return(
        users, units):
    task = make_task(users["admin"], units["ha_long"], at=ASSIGNED)
    submit_completion(users["ha_long"], task, result="Đã hoàn thành",
                      now=ict(2026, 11, 17, 10, 0))
    return_completion(users["supervisor"], task, note="Chưa đạt yêu cầu",
                      now=ict(2026, 11, 18, 10, 0))
    db.session.commit()

    assert send_reminders(ict(2026, 11, 18, 14, 0)) == 0
    assert send_reminders(ict(2026, 11, 19, 14, 0)) == 1


def test_no_reminder_for_a_task_whose_start_date_has_not_come(users, units):
    make_task(users["admin"], units["ha_long"], at=ASSIGNED, start_date="2026-11-19")
    assert send_reminders(ict(2026, 11, 18, 14, 0)) == 0


# --- nudges ------------------------------------------------------------------------------


@pytest.fixture
def ha_long_task(users, units):
    return make_task(users["admin"], units["ha_long"], at=ASSIGNED)


def test_province_supervisor_nudge_notifies_the_lead_units_members_and_is_audited(
        users, ha_long_task):
    at = ict(2026, 11, 18, 11, 0)
    sent = nudge(users["supervisor"], ha_long_task, "  Đề nghị khẩn trương cập nhật  ", now=at)
    db.session.commit()

    assert sent == 1
    [notification] = _notifications()
    assert notification.user_id == users["ha_long"].id
    assert notification.kind == "nudge"
    assert notification.task_id == ha_long_task.id
    assert notification.message == f"{ha_long_task.code}: Đề nghị khẩn trương cập nhật"
    assert notification.read_at is None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "nudge"))
    assert entry.task_id == ha_long_task.id
    assert entry.actor_id == users["supervisor"].id
    assert entry.at == at
    assert entry.note == "Đề nghị khẩn trương cập nhật"


@pytest.mark.parametrize("actor", ["ha_long", "co_to_supervisor", "viewer"])
def test_nudge_is_refused_to_members_viewers_and_out_of_scope_supervisors(
        users, ha_long_task, actor):
    with pytest.raises(Forbidden):
        nudge(users[actor], ha_long_task, "Cập nhật ngay", now=ict(2026, 11, 18, 11, 0))
    db.session.rollback()

    assert _notifications() == []
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "nudge")) == 0


def test_commune_supervisor_may_nudge_a_task_of_their_own_commune(users, units):
    task = make_task(users["admin"], units["co_to"], at=ASSIGNED)
    assert nudge(users["co_to_supervisor"], task, "Cập nhật", now=ict(2026, 11, 18, 11, 0)) == 1
    db.session.commit()
    assert [n.user_id for n in _notifications("nudge")] == [users["co_to"].id]


# --- at the cutoff -----------------------------------------------------------------------


@pytest.fixture
def red_on_tuesday(users, units):
    """A Hạ Long task with no update at all (yellow on Monday, red from Tuesday) and a Cô
    Tô task updated every morning (green)."""
    silent = make_task(users["admin"], units["ha_long"], at=ASSIGNED)
    diligent = make_task(users["admin"], units["co_to"], at=ASSIGNED)
    for day in (16, 17, 18):
        _post(users["co_to"], diligent, ict(2026, 11, day, 10, 0))
    return silent, diligent


def _counts(message: str, day: str) -> list[int]:
    """The numbers in a report message, the date left out: red, yellow, green, missed."""
    assert day in message
    return [int(n) for n in re.findall(r"\d+", message.replace(day, ""))]


def test_a_task_turning_red_at_the_cutoff_notifies_its_units_members(users, red_on_tuesday):
    silent, _diligent = red_on_tuesday
    _cutoff(date(2026, 11, 16))
    assert _notifications("red") == []  # only yellow on Monday

    _cutoff(date(2026, 11, 17))

    [red] = _notifications("red")
    assert red.user_id == users["ha_long"].id
    assert red.task_id == silent.id
    assert silent.code in red.message and silent.title in red.message


def test_a_task_still_red_at_the_next_cutoff_is_not_announced_again(users, red_on_tuesday):
    for day in (16, 17, 18):
        _cutoff(date(2026, 11, day))
    assert len(_notifications("red")) == 1


def test_each_supervisor_gets_one_report_with_the_counts_of_their_scope(
        users, red_on_tuesday):
    _cutoff(date(2026, 11, 16))
    before = {n.id for n in _notifications("report")}

    _cutoff(date(2026, 11, 17))

    reports = [n for n in _notifications("report") if n.id not in before]
    by_user = {n.user_id: n for n in reports}
    assert len(reports) == len(by_user) == 2
    assert set(by_user) == {users["supervisor"].id, users["co_to_supervisor"].id}
    # The province: the red Hạ Long task and the green Cô Tô one, one missed update.
    assert _counts(by_user[users["supervisor"].id].message, "17/11/2026") == [1, 0, 1, 1]
    # Cô Tô: only its own green task.
    assert _counts(by_user[users["co_to_supervisor"].id].message, "17/11/2026") == [0, 0, 1, 0]


def test_a_forced_rerun_of_a_cutoff_sends_no_second_batch(users, red_on_tuesday):
    _cutoff(date(2026, 11, 16))
    _cutoff(date(2026, 11, 17))
    before = [(n.user_id, n.kind, n.task_id) for n in _notifications()]
    assert {kind for _u, kind, _t in before} == {"red", "report"}

    forced = _cutoff(date(2026, 11, 17), force=True)
    repeated = _cutoff(date(2026, 11, 17))

    assert forced.red == 1 and repeated.already_processed
    assert [(n.user_id, n.kind, n.task_id) for n in _notifications()] == before


# --- e-mail ------------------------------------------------------------------------------


@pytest.fixture
def smtp_server(app):
    # These tests drive the outbox by hand (deliver_emails).
    with running_smtp_server(app, TRACKER_MAIL_AT_ONCE=False) as collector:
        yield collector


@pytest.fixture
def members_with_email(users, units):
    return [make_user("ha_long_2", "member", units["ha_long"], email="can.bo.2@halong.gov.vn"),
            make_user("ha_long_3", "member", units["ha_long"], email="can.bo.3@halong.gov.vn")]


MESSAGE = "Đề nghị đồng chí cập nhật tiến độ số hoá hồ sơ trước 16 giờ hôm nay."


def _recipients(server) -> list[str]:
    return sorted(r for e in server.envelopes for r in e.rcpt_tos)


def test_notifications_are_emailed_with_a_correctly_encoded_vietnamese_body(
        smtp_server, users, members_with_email, ha_long_task):
    now = ict(2026, 11, 18, 11, 0)
    nudge(users["supervisor"], ha_long_task, MESSAGE, now=now)
    db.session.commit()

    assert deliver_emails(now) == 2
    assert _recipients(smtp_server) == ["can.bo.2@halong.gov.vn", "can.bo.3@halong.gov.vn"]
    for envelope in smtp_server.envelopes:
        message = parse(envelope)
        assert envelope.mail_from == message["From"] == "tracker@quangninh.gov.vn"
        assert message["To"] == envelope.rcpt_tos[0]
        assert message["Subject"] == _("[Tracker] %(kind)s", kind=_("Nudge"))
        assert message.get_content_charset() == "utf-8"
        assert f"{ha_long_task.code}: {MESSAGE}\n" in message.get_content()


def test_emailed_notifications_are_marked_and_users_without_an_address_are_skipped(
        smtp_server, users, members_with_email, ha_long_task):
    now = ict(2026, 11, 18, 11, 0)
    nudge(users["supervisor"], ha_long_task, MESSAGE, now=now)
    db.session.commit()

    deliver_emails(now)

    emailed = {n.user_id: n.emailed_at for n in _notifications("nudge")}
    assert emailed == {users["ha_long"].id: None,  # no e-mail address
                       members_with_email[0].id: now, members_with_email[1].id: now}


def test_an_address_with_a_line_break_is_refused_when_a_user_is_created(users, units):
    for address in ("can.bo@halong.gov.vn\r\nBcc: all@halong.gov.vn",
                    "can.bo@halong.gov.vn\nBcc: all@halong.gov.vn"):
        with pytest.raises(InvalidInput) as refused:
            make_user("ha_long_9", "member", units["ha_long"], email=address)
        assert list(refused.value.fields) == ["email"]


def test_a_bad_address_in_the_outbox_is_marked_and_never_holds_up_the_others(
        smtp_server, users, members_with_email, ha_long_task, units):
    """An address stored before it was checked (or written by hand) with a line break:
    the copy for it is marked and skipped, the others go, and it is not tried again."""
    bad = make_user("ha_long_4", "member", units["ha_long"], email="ok@halong.gov.vn")
    db.session.commit()
    db.session.execute(update(User).where(User.id == bad.id).values(
        email="can.bo.4@halong.gov.vn\r\nBcc: everyone@halong.gov.vn"))
    now = ict(2026, 11, 18, 11, 0)
    nudge(users["supervisor"], ha_long_task, MESSAGE, now=now)
    db.session.commit()

    assert deliver_emails(now) == 2
    assert _recipients(smtp_server) == ["can.bo.2@halong.gov.vn", "can.bo.3@halong.gov.vn"]
    marked = {n.user_id: (n.emailed_at, n.email_error) for n in _notifications("nudge")}
    assert marked[bad.id] == (None, "not an e-mail address")
    assert deliver_emails(now + timedelta(minutes=5)) == 0  # not tried again
    assert len(smtp_server.envelopes) == 2


def test_a_second_delivery_sends_nothing_again(smtp_server, users, members_with_email,
                                               ha_long_task):
    now = ict(2026, 11, 18, 11, 0)
    nudge(users["supervisor"], ha_long_task, MESSAGE, now=now)
    db.session.commit()
    assert deliver_emails(now) == 2

    assert deliver_emails(now + timedelta(minutes=5)) == 0
    assert len(smtp_server.envelopes) == 2


def test_a_red_task_email_carries_its_vietnamese_title(smtp_server, users, members_with_email,
                                                        units):
    task = make_task(users["admin"], units["ha_long"], at=ASSIGNED,
                     title="Chuyển đổi số thủ tục hành chính cấp xã")
    _cutoff(date(2026, 11, 16))
    _cutoff(date(2026, 11, 17))  # two missed days: red

    deliver_emails(ict(2026, 11, 17, 16, 5))

    bodies = {parse(e)["To"]: parse(e).get_content() for e in smtp_server.envelopes}
    assert set(bodies) == {"can.bo.2@halong.gov.vn", "can.bo.3@halong.gov.vn"}
    assert all("Chuyển đổi số thủ tục hành chính cấp xã" in body and task.code in body
               for body in bodies.values())


def test_without_an_smtp_host_nothing_is_emailed(app, users, members_with_email,
                                                 ha_long_task):
    app.config["TRACKER_SMTP_HOST"] = ""
    now = ict(2026, 11, 18, 11, 0)
    nudge(users["supervisor"], ha_long_task, MESSAGE, now=now)
    db.session.commit()

    assert deliver_emails(now) == 0
    assert {n.emailed_at for n in _notifications("nudge")} == {None}
