"""The real scheduler process on a running clock (libfaketime, as an operator's rehearsal
would set it): started at 15:59:57 with days to catch up, it also processes today's cutoff
— not tomorrow — and stops cleanly on SIGTERM."""

from __future__ import annotations

import contextlib
import glob
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from tests.factories import ict, make_task
from tracker.cutoff.models import CutoffRun
from tracker.extensions import db

ROOT = Path(__file__).resolve().parent.parent
LIBFAKETIME = glob.glob("/usr/lib/*/faketime/libfaketime.so.1")


@pytest.fixture
def faketime():
    if not LIBFAKETIME:
        if os.environ.get("CI"):
            pytest.fail("libfaketime is missing: apt-get install faketime")
        pytest.skip("libfaketime is missing (apt-get install faketime)")
    return LIBFAKETIME[0]


@pytest.mark.parametrize("monotonic", ["faked", "real"])
def test_a_scheduler_started_at_15_59_57_processes_the_backlog_and_todays_cutoff(
        app, users, units, tmp_path, faketime, monotonic):
    make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0))
    db.session.commit()
    db.session.close()
    start = ict(2026, 11, 19, 15, 59, 57)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TRACKER_", "DATABASE_URL", "FLASK_"))}
    env.update(DATABASE_URL=db.engine.url.render_as_string(hide_password=False),
               TRACKER_INSTANCE_PATH=str(tmp_path), SECRET_KEY="scheduler-test",
               PYTHONIOENCODING="utf-8", LD_PRELOAD=faketime,
               FAKETIME=f"{round(start.timestamp() - time.time()):+d}")
    if monotonic == "real":  # libfaketime's two ways; each breaks a different kind of wait
        env["DONT_FAKE_MONOTONIC"] = "1"
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "tracker", "scheduler"], cwd=ROOT,
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        days: list[date] = []
        while time.monotonic() < deadline and date(2026, 11, 19) not in days:
            time.sleep(0.5)
            # SQLite: the scheduler's day may hold the one write lock; ask again later.
            with contextlib.suppress(OperationalError):
                days = list(db.session.scalars(select(CutoffRun.day).order_by(CutoffRun.day)))
            db.session.rollback()
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert days == [date(2026, 11, d) for d in (13, 16, 17, 18, 19)], output
    assert process.returncode == 0, output
    assert "cutoff 2026-11-19 processed" in output and "stopped" in output
    run = db.session.get(CutoffRun, date(2026, 11, 19))
    assert ict(2026, 11, 19, 16, 0) < run.started_at < ict(2026, 11, 19, 16, 0, 30)
