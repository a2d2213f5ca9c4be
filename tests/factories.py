"""Factories: rows made through the same services users go through."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tracker.auth.service import create_user
from tracker.clock import now
from tracker.extensions import db

_seq = itertools.count(1)
ICT = ZoneInfo("Asia/Ho_Chi_Minh")
PASSWORD = "correct horse battery"


def ict(*args) -> datetime:
    """A moment in Vietnam's time, e.g. ict(2026, 11, 18, 15, 59, 59)."""
    return datetime(*args, tzinfo=ICT)


def make_user(username, role, unit, password=PASSWORD, **kw):
    return create_user(None, username=username, password=password, role=role, unit=unit, **kw)


def task_input(lead_unit, **overrides) -> dict:
    """A complete "6 rõ" task as an admin would enter it."""
    today = date(2026, 11, 18)
    n = next(_seq)
    data = {
        "title": f"Số hoá hồ sơ lưu trữ #{n}",
        "description": "Số hoá hồ sơ, tài liệu tiếp nhận sau sắp xếp.",
        "lead_unit_id": lead_unit.id,
        "owner_name": "Chủ tịch UBND xã",
        "start_date": (today - timedelta(days=7)).isoformat(),
        "deadline": (today + timedelta(days=30)).isoformat(),
        "leader_in_charge": "Phó Chủ tịch UBND tỉnh",
        "expected_output": "Kho hồ sơ điện tử",
        "assigning_authority": "Ban Chỉ đạo tỉnh",
        "source_doc_number": "05-TB/BCĐ",
        "source_doc_date": (today - timedelta(days=30)).isoformat(),
    }
    data.update(overrides)
    return data


def make_task(admin, lead_unit, *, at=None, **overrides):
    from tracker.tasks.service import create_task

    task = create_task(admin, task_input(lead_unit, **overrides), now=at or now())
    db.session.commit()
    return task


def cutoff_through(day: date, now: datetime, *, force: bool = False):
    """Judge reporting day `day` as at `now`, after every earlier day still due (days are
    judged in date order, as the scheduler does); returns `day`'s summary."""
    from tracker.cutoff.backlog import process_due
    from tracker.cutoff.job import run_cutoff

    done = {s.date: s for s in process_due(through=day, now=lambda: now)}
    if day.isoformat() in done:  # processed just now
        return done[day.isoformat()]
    return run_cutoff(day, now=now, force=force)


def make_department(parent, name, actor=None, **kw):
    """A department (sở, ngành) under `parent`, added through the service."""
    from tracker.departments.service import add_department

    return add_department(actor, parent=parent, name=name, **kw)
