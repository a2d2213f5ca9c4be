"""A small world for the page tests, judged by a real cutoff: on Wednesday 18/11/2026 at
10:00 (the app's fixed clock) Hạ Long has an overdue task, a silent one (red: two missed
updates) and one updated yesterday; Cô Tô has a silent one. The cutoff of Tuesday 17/11
has been processed, so there is a daily report."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from tests.factories import cutoff_through, ict, make_task
from tracker.extensions import db
from tracker.updates.service import post_update

ASSIGNED = ict(2026, 11, 13, 9, 0)  # a Friday: updates are owed from Monday 16/11


@pytest.fixture
def world(users, units):
    admin = users["admin"]
    overdue = make_task(admin, units["ha_long"], at=ASSIGNED, title="Rà soát tài sản công",
                        start_date="2026-11-01", deadline="2026-11-12",
                        owner_name="Chủ tịch UBND phường Hạ Long")
    silent = make_task(admin, units["ha_long"], at=ASSIGNED, title="Sắp xếp thôn, tổ dân phố")
    fresh = make_task(admin, units["ha_long"], at=ASSIGNED, title="Số hoá hồ sơ lưu trữ")
    co_to = make_task(admin, units["co_to"], at=ASSIGNED, title="Chuyển giao hồ sơ đất đai",
                      owner_name="Chủ tịch UBND đặc khu Cô Tô")
    post_update(users["ha_long"], fresh, {"progress": 30, "work_done": "Đã số hoá 300 hồ sơ"},
                now=ict(2026, 11, 17, 10, 0))
    cutoff_through(date(2026, 11, 17), ict(2026, 11, 17, 17, 0))
    db.session.commit()
    return SimpleNamespace(overdue=overdue, silent=silent, fresh=fresh, co_to=co_to)


@pytest.fixture
def evidence_dir(app, tmp_path):
    """Each test keeps its evidence files in its own folder."""
    app.config["TRACKER_EVIDENCE_PATH"] = str(tmp_path / "evidence")
    return tmp_path / "evidence"
