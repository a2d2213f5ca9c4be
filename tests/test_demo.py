"""The demo is alive (issue 13, item 8): after `tracker demo` at a fixed moment, its past
days have been judged as they happened — the trends have a figure from the first day, each
notification is dated by its day and what is unread agrees with today's colours — and a
few requests wait for the supervisor's decision."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.conftest import login
from tests.factories import ict
from tracker.cutoff.job import due_days
from tracker.cutoff.models import CutoffRun, UnitDayStat
from tracker.extensions import db
from tracker.notifications.models import Notification
from tracker.tasks.colour import mismatches
from tracker.tasks.models import ExtensionRequest, ExtensionStatus, Status, Task
from tracker.units.models import Unit, UnitKind

NOW = ict(2026, 11, 18, 10, 0)  # the app's fixed clock: Wednesday 18/11/2026, 10:00
PASSWORD = "demo password 2026"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def demo(app, monkeypatch):
    monkeypatch.setenv("TRACKER_DEMO_PASSWORD", PASSWORD)
    result = app.test_cli_runner().invoke(args=["tracker", "demo"])
    assert result.exit_code == 0, result.output
    db.session.rollback()


def test_every_past_day_is_judged_so_the_trend_has_a_figure_from_the_first_day(demo):
    assert due_days(NOW) == []  # nothing left for the scheduler to catch up
    assert db.session.scalar(select(func.count()).select_from(CutoffRun)) >= 15
    assert list(mismatches(NOW)) == []  # the stored colours are today's
    province = db.session.scalar(select(Unit).where(Unit.kind == UnitKind.PROVINCE))
    stats = db.session.scalars(select(UnitDayStat).where(UnitDayStat.unit_id == province.id)
                               .order_by(UnitDayStat.day)).all()
    assert len(stats) >= 15
    rates = [s.green / s.total for s in stats]
    assert rates[0] > 0
    assert all(rate > 0 for rate in rates[:5]), rates  # no block of empty days
    assert len({round(rate, 2) for rate in rates}) > 2  # and the line moves


def test_notifications_name_their_day_and_what_is_unread_agrees_with_today(demo):
    notes = db.session.scalars(select(Notification).where(Notification.kind == "red")).all()
    assert notes
    for note in notes:
        named = re.search(r"ngày (\d\d/\d\d/\d{4})", note.message).group(1)
        assert note.created_at.astimezone(ZONE).strftime("%d/%m/%Y") == named, note.message
        assert note.created_at < NOW
    assert len({n.created_at.date() for n in notes}) > 1  # not all at one moment
    unread = db.session.scalars(select(Notification).where(
        Notification.kind == "red", Notification.read_at.is_(None))).all()
    for note in unread:
        assert db.session.get(Task, note.task_id).colour == "red", note.message
    old = db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "report", Notification.read_at.is_(None)))
    supervisors = 1
    assert old <= supervisors  # only the last day's report is new


def test_requests_wait_for_the_supervisor_and_a_return_for_its_unit(demo, app):
    submitted = db.session.scalars(select(Task).where(Task.status == Status.SUBMITTED)).all()
    pending = db.session.scalars(select(ExtensionRequest).where(
        ExtensionRequest.status == ExtensionStatus.PENDING)).all()
    assert len(submitted) >= 2 and len(pending) >= 2
    told = set(db.session.scalars(select(Notification.task_id).where(
        Notification.kind.in_(("submitted", "extension_requested")),
        Notification.read_at.is_(None))))
    assert {t.id for t in submitted} | {p.task_id for p in pending} <= told

    client = app.test_client()
    assert login(client, "supervisor", PASSWORD).status_code == 302
    inbox = client.get("/supervise/inbox").get_data(as_text=True)
    for task in submitted:
        assert task.code in inbox

    # One completion was returned yesterday; its unit sees why.
    returned = db.session.scalar(select(Task).where(Task.status == Status.RETURNED))
    assert returned is not None
    client = app.test_client()  # a second client: the member
    member = returned.lead_unit.short_name
    assert login(client, member, PASSWORD).status_code == 302
    today = client.get("/today").get_data(as_text=True)
    assert "Chưa có nghị quyết của HĐND xã" in today
