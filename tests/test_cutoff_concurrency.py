"""Exactly once across processes: two operating-system processes run the same day's cutoff
at the same time against the same database; one does the work, the other finds it done."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from tests.factories import ict, make_task
from tracker.cutoff.models import CutoffRun, MissedUpdate, TaskColourChange, UnitDayStat
from tracker.extensions import db
from tracker.notifications.models import Notification
from tracker.updates.service import post_update

ROOT = Path(__file__).resolve().parent.parent
ASSIGNED = ict(2026, 11, 13, 9, 0)


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _start_cutoff(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "tracker", "cutoff", "run",
         "--date", "2026-11-18"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _environment(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TRACKER_", "DATABASE_URL", "FLASK_"))}
    env.update(
        DATABASE_URL=db.engine.url.render_as_string(hide_password=False),
        TRACKER_NOW="2026-11-18T17:00:00+07:00",
        TRACKER_INSTANCE_PATH=str(tmp_path),
        SECRET_KEY="concurrency-test",  # no race on writing instance/secret_key
        PYTHONIOENCODING="utf-8",
    )
    return env


def test_two_processes_running_the_same_cutoff_process_it_exactly_once(
        app, users, units, tmp_path):
    reported, silent = [], []
    for unit in ("ha_long", "co_to", "van_don"):
        for _ in range(3):
            reported.append(make_task(users["admin"], units[unit], at=ASSIGNED))
            silent.append(make_task(users["admin"], units[unit], at=ASSIGNED))
    member = {"ha_long": users["ha_long"], "co_to": users["co_to"]}
    for task in reported:
        if task.lead_unit.short_name in member:
            post_update(member[task.lead_unit.short_name], task,
                        {"progress": 30, "work_done": "Đã cập nhật"},
                        now=ict(2026, 11, 18, 15, 59, 59))
    # A late update (after 16:00) does not count for the 18th.
    post_update(users["ha_long"], silent[0], {"progress": 5, "work_done": "muộn"},
                now=ict(2026, 11, 18, 16, 0, 1))
    province_id = units["province"].id
    # Turned red at the 17th (updates missed on the 16th and the 17th): every task of the
    # two communes that have a member, six each — announced once, to that member.
    red_for_members = 12
    supervisor_ids = sorted([users["supervisor"].id, users["co_to_supervisor"].id])
    db.session.commit()
    db.session.close()  # hold no transaction (on SQLite: no write lock) while they run

    env = _environment(tmp_path)
    first, second = _start_cutoff(env), _start_cutoff(env)
    outputs = [process.communicate(timeout=120) for process in (first, second)]

    for process, (_stdout, stderr) in zip((first, second), outputs, strict=True):
        assert process.returncode == 0, stderr
    summaries = [json.loads(stdout.strip().splitlines()[-1]) for stdout, _err in outputs]
    assert sorted(s["already_processed"] for s in summaries) == [False, True]
    for summary in summaries:
        summary.pop("already_processed")
    assert summaries[0] == summaries[1]
    summary = summaries[0]
    assert summary["date"] == "2026-11-18"
    assert summary["tasks"] == 18
    # Van Don has no member in the fixtures, so its "reported" tasks got no update either.
    assert summary["missed"] == 18 - 6 > 0

    # Both processed the days still due before the 18th first, in order: each once.
    runs = db.session.scalars(select(CutoffRun).order_by(CutoffRun.day)).all()
    days = ["2026-11-13", "2026-11-16", "2026-11-17", "2026-11-18"]
    assert [(run.day.isoformat(), run.runs) for run in runs] == [(d, 1) for d in days]
    the_18th = date(2026, 11, 18)
    assert _count(MissedUpdate, MissedUpdate.day == the_18th) == summary["missed"]
    assert _count(TaskColourChange, TaskColourChange.day == the_18th) == summary["changed"]
    assert db.session.scalar(select(UnitDayStat.total).where(
        UnitDayStat.unit_id == province_id)) == summary["tasks"]
    # Notifications sent once: one report per supervisor, one "red" per member and task.
    notifications = db.session.execute(
        select(Notification.kind, Notification.user_id, Notification.task_id)).all()
    assert sorted(u for kind, u, _t in notifications if kind == "report") == sorted(
        supervisor_ids * len(days))
    red = [(u, t) for kind, u, t in notifications if kind == "red"]
    assert len(red) == len(set(red)) == red_for_members
