"""One active scheduler among several, elected through PostgreSQL's lease row
(tracker.cutoff.leader): real scheduler processes — the second stands by, and when the
first is killed (SIGKILL) it takes over within the lease and processes the day; the lease
rides out a database blip; `tracker cutoff status` and the health endpoint name the
active one. On SQLite (one host) every scheduler acts."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from tests.factories import ict, make_task
from tests.test_scheduler_process import ROOT, faketime  # noqa: F401  (a fixture)
from tracker import clock
from tracker.cutoff import leader
from tracker.cutoff.backlog import cutoff_status
from tracker.cutoff.leader import Election
from tracker.cutoff.models import CutoffRun, SchedulerLease
from tracker.extensions import db

LEASE, POLL = 3.0, 0.5


@pytest.fixture
def postgres(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the election is PostgreSQL's; on SQLite every scheduler acts")


def holder() -> str | None:
    db.session.rollback()
    return db.session.scalar(select(SchedulerLease.holder).where(
        SchedulerLease.name == leader.LEASE, SchedulerLease.expires_at > text("now()")))


def wait_for(predicate, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    return predicate()


def start_scheduler(tmp_path, env_extra: dict) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TRACKER_", "DATABASE_URL", "FLASK_"))}
    env.update(DATABASE_URL=db.engine.url.render_as_string(hide_password=False),
               TRACKER_INSTANCE_PATH=str(tmp_path), SECRET_KEY="election-test",
               PYTHONIOENCODING="utf-8", TRACKER_SCHEDULER_LEASE_SECONDS=str(LEASE),
               TRACKER_SCHEDULER_POLL_SECONDS=str(POLL), **env_extra)
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "tracker", "scheduler"], cwd=ROOT,
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_a_standby_takes_over_from_a_killed_scheduler_and_processes_the_day(
        postgres, app, users, units, tmp_path, faketime, login_as):  # noqa: F811
    make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 19, 9, 0))
    db.session.commit()
    # Both on one faked clock, 40 s before the day's cutoff.
    start = ict(2026, 11, 19, 15, 59, 20)
    fake = {"LD_PRELOAD": faketime, "FAKETIME": f"{round(start.timestamp() - time.time()):+d}"}
    first = start_scheduler(tmp_path, fake)
    second = None
    try:
        name_first = f"{socket.gethostname()}:{first.pid}"
        assert wait_for(lambda: holder() == name_first, 30), "the first never led"
        second = start_scheduler(tmp_path, fake)
        name_second = f"{socket.gethostname()}:{second.pid}"
        status = wait_for(lambda: name_second in {
            s["name"] for s in cutoff_status(clock.now()).public(timedelta(0))["schedulers"]}
            and cutoff_status(clock.now()).public(timedelta(0)), 30)
        assert status, "the second never reported"
        roles = {s["name"]: s["role"] for s in status["schedulers"]}
        assert roles == {name_first: "active", name_second: "standby"}
        time.sleep(2 * LEASE)  # renewals go on: the second still stands by
        assert holder() == name_first
        assert not db.session.scalars(select(CutoffRun)).all()  # before 16:00

        first.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        assert wait_for(lambda: holder() == name_second, LEASE + POLL + 10)
        assert time.monotonic() - killed <= LEASE + POLL + 3  # within the lease (and a poll)
        assert wait_for(lambda: db.session.get(CutoffRun, date(2026, 11, 19)) is not None, 60)

        public = cutoff_status(clock.now()).public(timedelta(0))
        assert public["election"] and public["active_scheduler"]["name"] == name_second
        assert {s["name"]: s["role"] for s in public["schedulers"]} == {
            name_first: "standby", name_second: "active"}
        printed = app.test_cli_runner().invoke(args=["tracker", "cutoff", "status"]).output
        assert f"active scheduler: {name_second}" in printed
        assert f"scheduler {name_first}: running, standing by" in printed
        health = login_as("admin").get("/healthz/cutoff").get_json()
        assert health["active_scheduler"]["name"] == name_second
        anonymous = app.test_client().get("/healthz/cutoff").get_json()
        assert "name" not in anonymous["active_scheduler"]
        assert sorted(s["role"] for s in anonymous["schedulers"]) == ["active", "standby"]
    finally:
        outputs = []
        for process in (first, second):
            if process is None:
                continue
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            outputs.append(process.communicate(timeout=60)[0])
    first_log, second_log = outputs
    assert "is the active scheduler" in first_log
    assert f"stands by (active: {name_first})" in second_log
    assert f"scheduler {name_second} is the active scheduler" in second_log
    assert "cutoff 2026-11-19 processed" in second_log, second_log
    assert "cutoff 2026-11-19 processed" not in first_log
    assert second.returncode == 0
    assert holder() is None  # the second gave the lease up as it stopped


def test_the_lease_rides_out_a_database_blip_and_runs_out_after_the_lease(
        postgres, app, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(leader.time, "monotonic", lambda: now[0])
    app.config.update(TRACKER_SCHEDULER_LEASE_SECONDS=30.0)
    first, rival = Election(app, "a:1"), Election(app, "b:2")
    assert first.campaign() and not rival.campaign()
    assert first.leading() and not rival.leading()

    real_connect = db.engine.connect

    def refused(*_args, **_kwargs):
        raise OperationalError("connect", {}, Exception("connection refused"))

    monkeypatch.setattr(db.engine, "connect", refused)
    now[0] += 20  # a 20 s blip: still leading, within its lease
    assert first.campaign() and first.leading()
    now[0] += 8  # 28 s without a renewal: past 0.9 of the lease, it stops acting
    assert not first.campaign() and not first.leading()
    monkeypatch.setattr(db.engine, "connect", real_connect)
    assert first.campaign()  # back: renewed, nobody took it meanwhile
    assert holder() == "a:1"

    with db.engine.begin() as conn:  # its lease ran out (a longer silence)
        conn.execute(text("UPDATE scheduler_lease SET expires_at = now() - interval '1 s'"))
    assert rival.campaign() and holder() == "b:2"
    assert not first.campaign() and not first.leading()


def test_a_scheduler_that_stops_hands_the_lease_over_at_once(postgres, app):
    first, rival = Election(app, "a:1"), Election(app, "b:2")
    assert first.campaign() and not rival.campaign()
    first.resign()
    assert not first.leading() and rival.campaign()


def test_on_sqlite_every_scheduler_acts_without_an_election(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's case")
    first, second = Election(app, "a:1"), Election(app, "b:2")
    assert first.campaign() and second.campaign()
    assert first.leading() and second.leading()
    public = cutoff_status(clock.now()).public(timedelta(0))
    assert not public["election"] and public["active_scheduler"] is None
