"""All of the day or none of it, through `kill -9`: a cutoff process killed in the middle of
its run leaves no part of the day behind, and the next run processes the day once — every
stored colour right — with the same answer as a forced re-run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import psycopg
from sqlalchemy import func, select

from tests.factories import cutoff_through, ict, make_task
from tracker.cutoff.backlog import process_due
from tracker.cutoff.job import run_cutoff
from tracker.cutoff.models import (
    CutoffRun,
    MissedUpdate,
    RedTaskDay,
    TaskColourChange,
    UnitDayStat,
)
from tracker.extensions import db
from tracker.tasks.colour import mismatches
from tracker.updates.service import post_update

ROOT = Path(__file__).resolve().parent.parent
DAY = date(2026, 11, 18)


def _rows_of_the_day() -> dict[str, int]:
    return {model.__tablename__: db.session.scalar(
        select(func.count()).select_from(model).where(model.day == DAY))
        for model in (CutoffRun, MissedUpdate, TaskColourChange, RedTaskDay, UnitDayStat)}


def _start(tmp_path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TRACKER_", "DATABASE_URL", "FLASK_"))}
    env.update(DATABASE_URL=db.engine.url.render_as_string(hide_password=False),
               TRACKER_NOW="2026-11-18T16:00:05+07:00", TRACKER_INSTANCE_PATH=str(tmp_path),
               SECRET_KEY="crash-test")
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "tracker",
                             "cutoff", "run", "--date", DAY.isoformat()], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_cutoff_killed_mid_run_leaves_nothing_of_the_day_and_runs_again_once(
        app, clock, users, units, tmp_path):
    tasks = [make_task(users["admin"], units[unit], at=ict(2026, 11, 16, 9, 0))
             for unit in ("ha_long", "co_to") for _ in range(40)]
    for task in tasks[::3]:
        post_update(users["ha_long"] if task.lead_unit_id == units["ha_long"].id
                    else users["co_to"], task, {"progress": 20, "work_done": "x"},
                    now=ict(2026, 11, 18, 11, 0))
    cutoff_through(date(2026, 11, 17), ict(2026, 11, 17, 16, 0, 1))
    db.session.commit()
    db.session.close()
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    postgres = db.engine.dialect.name == "postgresql"

    if postgres:
        # Hold the table the cutoff writes last, so that it is stopped half-way — its
        # history and missed updates written, its colours refreshed — and kill it there.
        blocker = psycopg.connect(url)
        blocker.execute("LOCK TABLE unit_day_stats IN ACCESS EXCLUSIVE MODE")
    process = _start(tmp_path)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if postgres:
                with psycopg.connect(url, autocommit=True) as probe:
                    waiting = probe.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                        "'Lock' AND query LIKE 'INSERT INTO unit_day_stats%'").fetchone()[0]
                if waiting:
                    break
            else:
                # The cutoff holds SQLite's write lock while it works: kill it then.
                probe = sqlite3.connect(db.engine.url.database, timeout=0)
                try:
                    probe.execute("BEGIN IMMEDIATE")
                    probe.rollback()
                except sqlite3.OperationalError:
                    break
                finally:
                    probe.close()
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if postgres:
            blocker.rollback()
            blocker.close()

    time.sleep(0.2)  # PostgreSQL aborts the dead client's transaction
    counts = _rows_of_the_day()
    if counts["cutoff_runs"]:  # SQLite only: it may have committed before the kill
        assert not postgres
    else:
        assert counts == dict.fromkeys(counts, 0), "a part of the day was left behind"
    clock.set(ict(2026, 11, 18, 16, 0, 5))
    summaries = process_due()
    assert list(mismatches(clock())) == []
    assert [s.date for s in summaries] in ([DAY.isoformat()], [])
    assert db.session.get(CutoffRun, DAY).runs == 1
    forced = run_cutoff(DAY, now=ict(2026, 11, 18, 17, 0), force=True)
    first = summaries[0] if summaries else run_cutoff(DAY, now=ict(2026, 11, 18, 17, 0))
    assert {**first.public(), "already_processed": False} == forced.public()
    assert forced.missed == db.session.scalar(select(func.count()).select_from(
        MissedUpdate).where(MissedUpdate.day == DAY)) == 80 - len(tasks[::3])
