"""The scheduler: every due cutoff is processed as soon as it is due — after downtime, a
start at any moment, a database outage — in date order, each exactly once; the reminders
fire at their times."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from tests.conftest import make_app
from tests.factories import ict, make_task
from tests.faults import DatabaseOutage
from tracker.auth.models import User
from tracker.clock import FixedClock
from tracker.cutoff.backlog import cutoff_status, process_due
from tracker.cutoff.job import run_cutoff
from tracker.cutoff.models import CutoffRun, MissedUpdate, SchedulerHeartbeat
from tracker.cutoff.scheduler import (
    MAX_BACKOFF,
    KeepUp,
    build_scheduler,
    digest,
    every,
    remind,
)
from tracker.extensions import db
from tracker.notifications.models import Notification
from tracker.rules.store import load_calendar
from tracker.tasks import colour
from tracker.tasks.colour import colours_epoch, mismatches
from tracker.tasks.models import Task
from tracker.units.models import Unit
from tracker.updates.service import post_update

ASSIGNED = ict(2026, 11, 13, 9, 0)  # the Friday before the downtime


def calendar_epoch(moment) -> int:
    return load_calendar().epoch(moment)


@pytest.fixture
def scheduler(app):
    return build_scheduler(app)


def _next_fire(scheduler, job_id, after):
    job = scheduler.get_job(job_id)
    assert job is not None, f"no job {job_id!r}"
    return job.trigger.get_next_fire_time(None, after)


def test_reminder_jobs_fire_at_14_00_and_15_30_ict(scheduler):
    reminders = [job for job in scheduler.get_jobs() if job.id.startswith("reminder")]
    assert {job.func for job in reminders} == {remind}
    morning = ict(2026, 11, 18, 8, 0)
    assert sorted(job.trigger.get_next_fire_time(None, morning) for job in reminders) == [
        ict(2026, 11, 18, 14, 0), ict(2026, 11, 18, 15, 30)]


def test_the_reminder_times_are_read_from_the_settings(app):
    app.config["TRACKER_REMINDER_TIMES"] = "13:15"
    assert _next_fire(build_scheduler(app), "reminder-0", ict(2026, 11, 18, 8, 0)) == \
        ict(2026, 11, 18, 13, 15)


def test_no_cutoff_waits_for_a_time_of_day_only_the_reminders_and_the_digest_do(scheduler):
    # The cutoff is not a job at 16:00:01 that a late start or a failure skips until
    # tomorrow: the keep-up loop processes whatever is due, every second. (The hourly
    # purge of expired idempotency keys judges nothing.)
    assert sorted(job.id for job in scheduler.get_jobs()) == [
        "digest", "idempotency-keys", "reminder-0", "reminder-1"]


def test_the_daily_digest_job_fires_at_the_digest_time(app, scheduler):
    assert scheduler.get_job("digest").func is digest
    assert _next_fire(scheduler, "digest", ict(2026, 11, 18, 8, 0)) == ict(2026, 11, 18, 17, 0)
    app.config["TRACKER_DIGEST_TIME"] = "16:30"
    assert _next_fire(build_scheduler(app), "digest", ict(2026, 11, 18, 8, 0)) == \
        ict(2026, 11, 18, 16, 30)


# --- catching up -------------------------------------------------------------------------


@pytest.fixture
def down_since_friday(app, clock, users, units):
    """Tasks assigned on Friday 13 November, whose cutoff ran; then the scheduler was down
    until Thursday 19 November 17:00, missing the cutoffs of 16, 17, 18 and 19 November.
    The Hạ Long task got no update; the Cô Tô task got one each morning."""
    silent = make_task(users["admin"], units["ha_long"], at=ASSIGNED)
    diligent = make_task(users["admin"], units["co_to"], at=ASSIGNED)
    run_cutoff(date(2026, 11, 13), now=ict(2026, 11, 13, 16, 0, 1))
    for day in (16, 17, 18, 19):
        post_update(users["co_to"], diligent, {"progress": 10 * day - 150, "work_done": "x"},
                    now=ict(2026, 11, day, 10, 0))
        db.session.commit()
    ids = silent.id, diligent.id
    clock.set(ict(2026, 11, 19, 17, 0))
    db.session.commit()
    db.session.close()
    return ids


def _runs() -> dict[str, int]:
    return {run.day.isoformat(): run.runs
            for run in db.session.scalars(select(CutoffRun).order_by(CutoffRun.day))}


def _dates(summaries) -> list[str]:
    return [s.date for s in summaries]


def test_every_missed_cutoff_is_processed_in_order_once(app, down_since_friday):
    summaries = process_due()

    assert _dates(summaries) == ["2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19"]
    assert not any(s.already_processed for s in summaries)
    assert _runs() == {"2026-11-13": 1, "2026-11-16": 1, "2026-11-17": 1, "2026-11-18": 1,
                       "2026-11-19": 1}


def test_each_caught_up_day_is_judged_as_of_its_own_cutoff(app, down_since_friday):
    silent, _diligent = down_since_friday

    summaries = process_due()

    # The silent task: yellow after one missed day, red from the second.
    assert [(s.green, s.yellow, s.red, s.missed) for s in summaries] == [
        (1, 1, 0, 1), (1, 0, 1, 1), (1, 0, 1, 1), (1, 0, 1, 1)]
    missed = db.session.execute(
        select(MissedUpdate.day, MissedUpdate.task_id).order_by(MissedUpdate.day)).all()
    assert [(d.isoformat(), t) for d, t in missed] == [
        ("2026-11-16", silent), ("2026-11-17", silent), ("2026-11-18", silent),
        ("2026-11-19", silent)]


def test_a_second_pass_processes_nothing(app, down_since_friday):
    process_due()
    notifications = db.session.scalar(select(func.count()).select_from(Notification))
    db.session.close()

    assert process_due() == []

    assert set(_runs().values()) == {1}
    assert db.session.scalar(select(func.count()).select_from(Notification)) == notifications


def test_before_todays_cutoff_the_last_day_processed_is_yesterday(app, clock,
                                                                  down_since_friday):
    clock.set(ict(2026, 11, 19, 15, 59, 59))

    assert _dates(process_due()) == ["2026-11-16", "2026-11-17", "2026-11-18"]


def test_at_the_very_cutoff_moment_the_day_is_not_yet_due(app, clock, down_since_friday):
    clock.set(ict(2026, 11, 19, 16, 0, 0))
    assert _dates(process_due())[-1] == "2026-11-18"

    clock.set(ict(2026, 11, 19, 16, 0, 0, 1000))  # a millisecond later
    assert _dates(process_due()) == ["2026-11-19"]


def test_with_no_run_yet_the_first_day_is_the_first_tasks_reporting_day(
        app, clock, users, units):
    make_task(users["admin"], units["ha_long"], at=ASSIGNED)
    clock.set(ict(2026, 11, 17, 17, 0))
    db.session.commit()
    db.session.close()

    assert _dates(process_due()) == ["2026-11-13", "2026-11-16", "2026-11-17"]


def test_with_no_task_nothing_is_due(app, clock):
    clock.set(ict(2026, 11, 19, 17, 0))
    assert process_due() == []
    assert _runs() == {}


def test_a_later_day_run_by_hand_leaves_no_gap_before_it(app, clock, down_since_friday):
    clock.set(ict(2026, 11, 19, 17, 0))
    result = app.test_cli_runner().invoke(args=["tracker", "cutoff", "run", "--date",
                                                "2026-11-18"])
    assert result.exit_code == 0, result.output
    # The days before the 18th were processed first, in order; then the 18th.
    assert list(_runs()) == ["2026-11-13", "2026-11-16", "2026-11-17", "2026-11-18"]
    assert '"date": "2026-11-18"' in result.output.strip().splitlines()[-1]

    assert _dates(process_due()) == ["2026-11-19"]


def test_running_a_later_day_alone_is_refused_naming_the_days_before_it(
        app, clock, down_since_friday):
    from tracker.cutoff.job import CutoffRefused

    with pytest.raises(CutoffRefused, match="2026-11-16, 2026-11-17"):
        run_cutoff(date(2026, 11, 18), now=ict(2026, 11, 19, 17, 0))
    assert _runs() == {"2026-11-13": 1}


# --- the keep-up loop ---------------------------------------------------------------------


def test_a_tick_processes_what_is_due_and_says_it_is_alive(app, down_since_friday, caplog):
    keep_up = KeepUp(app, name="host-a:1")
    caplog.set_level(logging.INFO, logger="tracker.scheduler")

    assert keep_up.tick()

    assert list(_runs())[-1] == "2026-11-19"
    beat = db.session.get(SchedulerHeartbeat, "host-a:1")
    assert (beat.state, beat.failures, beat.last_error) == ("running", 0, None)
    # Each processed day's summary is in the log.
    assert [r for r in caplog.messages if r.startswith("cutoff 2026-11-19 processed")]


def test_a_start_at_15_59_57_with_a_backlog_also_processes_todays_cutoff(
        app, users, units, clock):
    """The backlog takes a few seconds (here: two per day); today's cutoff falls while it
    is processed, and is processed in the same pass — not tomorrow."""
    make_task(users["admin"], units["ha_long"], at=ASSIGNED)
    db.session.commit()
    db.session.close()
    moving = FixedClock(ict(2026, 11, 19, 15, 59, 57))
    app.config["CLOCK"] = moving
    processed = []

    def two_seconds_each(summary):
        processed.append(summary.date)
        moving.advance(seconds=2)

    process_due(on_day=two_seconds_each)

    assert processed == ["2026-11-13", "2026-11-16", "2026-11-17", "2026-11-18",
                         "2026-11-19"]


def test_the_work_beside_the_cutoff_never_holds_it_up(app, users, units, clock):
    """The forecast (and the mail) run beside the cutoff, in a thread of their own: a
    batch that takes long — a loaded database, a slow mail server — never makes the day
    wait. Here the work after the cutoff is stuck until the test lets it go."""
    from tracker.cutoff.scheduler import run_scheduler

    make_task(users["admin"], units["ha_long"], at=ASSIGNED)
    db.session.commit()
    clock.set(ict(2026, 11, 18, 15, 59, 58))
    process_due()  # the days before: done
    db.session.commit()
    db.session.close()
    started, release, stop = threading.Event(), threading.Event(), threading.Event()

    def stuck(_keep_going):
        started.set()
        release.wait(60)  # let go only in the `finally` below

    runner = threading.Thread(target=run_scheduler, args=(app, stop),
                              kwargs={"after_cutoff": stuck}, daemon=True)
    runner.start()
    try:
        assert started.wait(30), "the work after the cutoff never began"
        clock.set(ict(2026, 11, 18, 16, 0, 1))  # the cutoff falls while it is stuck
        deadline = time.monotonic() + 20
        processed = None
        while processed is None and time.monotonic() < deadline:
            time.sleep(0.2)
            with contextlib.suppress(OperationalError):  # SQLite: the day holds the lock
                processed = db.session.get(CutoffRun, date(2026, 11, 18))
            db.session.rollback()
        assert processed is not None, "the cutoff waited for the work beside it"
    finally:
        release.set()
        stop.set()
        runner.join(60)
    assert not runner.is_alive()


def test_a_colour_refresh_gives_way_to_a_cutoff_that_falls_due(
        app, users, units, clock, monkeypatch):
    """Colours stale at 15:59:59 (the scheduler was away since before midnight): the
    refresh of every task stops between two batches once 16:00 has passed, marks nothing,
    and the cutoff that is then due refreshes them all in its own pass."""
    for n in range(3):
        make_task(users["admin"], units["ha_long"], at=ASSIGNED, title=f"Việc {n}")
    db.session.commit()
    clock.set(ict(2026, 11, 17, 23, 0))
    process_due()  # the days before, and the colours of Tuesday evening
    db.session.commit()
    clock.set(ict(2026, 11, 18, 15, 59, 59))  # back after a midnight away
    assert colours_epoch() != calendar_epoch(clock())
    monkeypatch.setattr(colour, "BATCH", 1)
    real = colour.colour_of
    judged = []

    def taking_its_time(task, moment, calendar, policy):
        judged.append(task.id)
        clock.set(max(clock(), ict(2026, 11, 18, 16, 0, 1)))  # the batch ends after 16:00
        return real(task, moment, calendar, policy)

    monkeypatch.setattr(colour, "colour_of", taking_its_time)
    assert colour.refresh_if_stale(clock()) is None
    assert len(judged) == 1  # one batch, then it gave way
    assert colours_epoch() != calendar_epoch(ict(2026, 11, 18, 15, 59, 59))
    monkeypatch.setattr(colour, "colour_of", real)

    summaries = process_due()

    assert [s.date for s in summaries] == ["2026-11-18"]
    assert colours_epoch() == calendar_epoch(clock())
    assert list(mismatches(clock())) == []


def test_a_refresh_begun_just_after_a_cutoff_found_not_yet_due_leaves_it_to_that_cutoff(
        app, users, units, clock, monkeypatch):
    """The scheduler found no day due at 15:59:59.9 and turns to the stale colours at
    16:00:00.1: the next cutoff is today's, not tomorrow's, so the refresh does not begin."""
    make_task(users["admin"], units["ha_long"], at=ASSIGNED)
    db.session.commit()
    clock.set(ict(2026, 11, 17, 23, 0))
    process_due()
    db.session.commit()
    judged = []
    real = colour.colour_of
    monkeypatch.setattr(colour, "colour_of", lambda *a: judged.append(1) or real(*a))
    later = ict(2026, 11, 18, 16, 0, 0, 100_000)
    clock.set(later)

    assert colour.refresh_if_stale(later, none_due_at=ict(2026, 11, 18, 15, 59, 59,
                                                          900_000)) is None
    assert judged == [] and colours_epoch() != calendar_epoch(later)
    assert [s.date for s in process_due()] == ["2026-11-18"]
    assert colours_epoch() == calendar_epoch(later)


def test_a_database_outage_is_retried_with_backoff_and_the_day_processed_when_it_ends(
        migrated, down_since_friday, tmp_path, caplog):
    outage = DatabaseOutage(migrated)
    app = make_app(outage.url, CLOCK=FixedClock(ict(2026, 11, 19, 17, 0)),
                   TRACKER_SQLITE_BUSY_TIMEOUT_MS=200)
    keep_up = KeepUp(app, name="host-b:2")
    caplog.set_level(logging.INFO, logger="tracker.scheduler")
    try:
        outage.down()
        delays = []
        for _attempt in range(4):
            keep_up.retry_at = 0.0  # no real waiting in the test
            assert not keep_up.tick()
            delays.append(keep_up.retry_at)
        # Logged every time, backing off 1, 2, 4, 8 … seconds up to MAX_BACKOFF.
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 4
        assert [f"attempt {n} failed; next in {min(2 ** (n - 1), MAX_BACKOFF):.0f} s" in
                r.getMessage() for n, r in enumerate(errors, start=1)] == [True] * 4
        assert keep_up.failures == 4 and keep_up.last_error

        outage.up()
        keep_up.retry_at = 0.0
        assert keep_up.tick()
    finally:
        outage.close()
        with app.app_context():
            db.engine.dispose()
    assert list(_runs())[-1] == "2026-11-19"
    beat = db.session.get(SchedulerHeartbeat, "host-b:2")
    assert beat.state == "running" and beat.failures == 0
    assert any("recovered after 4 failed attempt(s)" in m for m in caplog.messages)


def test_while_failing_the_status_shows_the_error_and_how_late_the_day_is(
        app, down_since_friday):
    keep_up = KeepUp(app, name="host-c:3")
    keep_up.failures, keep_up.last_error = 2, "OperationalError: connection refused"
    keep_up.last_error_at = ict(2026, 11, 19, 16, 0, 5)
    keep_up._heartbeat()

    status = cutoff_status(ict(2026, 11, 19, 17, 0))

    assert status.last_day == date(2026, 11, 13)
    assert [d.isoformat() for d, _m in status.due] == ["2026-11-16", "2026-11-17",
                                                      "2026-11-18", "2026-11-19"]
    assert status.late_by.total_seconds() == (ict(2026, 11, 19, 17, 0)
                                              - ict(2026, 11, 16, 16, 0)).total_seconds()
    public = status.public(timedelta(minutes=5))
    assert public["problems"] == ["late", "scheduler_failing"]
    assert public["schedulers"][0]["last_error"] == "OperationalError: connection refused"


def test_after_midnight_the_stored_colours_are_refreshed_once(app, clock, users, units):
    """A task due today is yellow (deadline soon) until midnight, then overdue: no write
    happens, so the scheduler's first tick after midnight refreshes the stored colours."""
    task = make_task(users["admin"], units["ha_long"], at=ASSIGNED, deadline="2026-11-19")
    task_id = task.id
    for day in (16, 17, 18, 19):
        post_update(users["ha_long"], task, {"progress": 50, "work_done": "x"},
                    now=ict(2026, 11, day, 10, 0))
    clock.set(ict(2026, 11, 19, 23, 59, 0))
    db.session.commit()
    db.session.close()
    keep_up = KeepUp(app, name="host-d:4")
    keep_up.tick()
    assert db.session.get(Task, task_id).colour == "yellow"
    db.session.close()

    clock.set(ict(2026, 11, 20, 0, 0, 1))
    assert [t for t, *_rest in mismatches(clock())] == [task_id]  # stale until refreshed
    db.session.close()
    keep_up.tick()

    assert db.session.get(Task, task_id).colour == "red"
    assert list(mismatches(clock())) == []
    assert colours_epoch() == 2 * date(2026, 11, 20).toordinal()


def test_the_reminder_job_commits_reminders_in_its_own_transaction(app, clock, users, units):
    make_task(users["admin"], units["co_to"], at=ASSIGNED)
    member_id = users["co_to"].id
    clock.set(ict(2026, 11, 18, 14, 0))
    db.session.commit()
    db.session.close()

    assert remind(app) == 1

    assert db.session.scalars(select(Notification.user_id)).all() == [member_id]


def test_the_catch_up_reaches_back_a_limited_number_of_working_days(app, down_since_friday):
    app.config["TRACKER_CATCH_UP_DAYS"] = 2
    assert _dates(process_due()) == ["2026-11-18", "2026-11-19"]


def test_an_interval_job_runs_on_the_leader_only_and_a_failure_is_undone_and_logged(
        app, users, units, caplog):
    admin, unit = users["admin"].id, units["ha_long"].id

    def work():  # in the job's own session
        make_task(db.session.get(User, admin), db.session.get(Unit, unit),
                  at=ict(2026, 11, 16, 9, 0))

    def failing():
        db.session.execute(update(Task).values(progress=50))
        raise RuntimeError("the webhook receiver is down")

    def tasks() -> list[int]:
        found = list(db.session.scalars(select(Task.progress)))
        db.session.rollback()  # (SQLite: this session's read holds the one write lock)
        return found

    caplog.set_level(logging.INFO, logger="tracker.scheduler")
    built = build_scheduler(app, lambda: True, [(work, 30, "tasks", "making a task")])
    job = built.get_job("tasks")
    assert job.trigger.interval == timedelta(seconds=30)
    db.session.rollback()  # (SQLite: the fixtures' reads hold the one write lock)
    job.func(*job.args)
    assert tasks() == [0]
    every(app, lambda: True, failing, "making a task")  # raises nothing
    assert tasks() == [0]
    assert "making a task failed; the next run tries again" in caplog.text
    every(app, lambda: False, work, "making a task")
    assert tasks() == [0] and "making a task: left to the active scheduler" in caplog.text
