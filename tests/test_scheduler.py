"""The scheduler: when each job fires, and catching up the cutoffs missed while it was
down — in order, each exactly once."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import ict, make_task
from tracker.cutoff.job import run_cutoff
from tracker.cutoff.models import CutoffRun, MissedUpdate
from tracker.cutoff.scheduler import build_scheduler, catch_up, recolour, remind
from tracker.extensions import db
from tracker.notifications.models import Notification
from tracker.updates.service import post_update

ASSIGNED = ict(2026, 11, 13, 9, 0)  # the Friday before the downtime


@pytest.fixture
def scheduler(app):
    return build_scheduler(app)


def _next_fire(scheduler, job_id, after):
    job = scheduler.get_job(job_id)
    assert job is not None, f"no job {job_id!r}"
    return job.trigger.get_next_fire_time(None, after)


def test_the_cutoff_job_fires_one_second_after_16_00_ict(app, scheduler):
    job = scheduler.get_job("cutoff")
    assert job.func is catch_up and job.args == (app,)
    assert _next_fire(scheduler, "cutoff", ict(2026, 11, 18, 15, 0)) == \
        ict(2026, 11, 18, 16, 0, 1)


def test_the_cutoff_job_after_todays_cutoff_fires_tomorrow(scheduler):
    assert _next_fire(scheduler, "cutoff", ict(2026, 11, 18, 16, 0, 2)) == \
        ict(2026, 11, 19, 16, 0, 1)


def test_the_cutoff_time_is_read_from_the_settings(app):
    app.config["TRACKER_CUTOFF_TIME"] = "17:30"
    assert _next_fire(build_scheduler(app), "cutoff", ict(2026, 11, 18, 15, 0)) == \
        ict(2026, 11, 18, 17, 30, 1)


def test_reminder_jobs_fire_at_14_00_and_15_30_ict(scheduler):
    reminders = [job for job in scheduler.get_jobs() if job.id.startswith("reminder")]
    assert {job.func for job in reminders} == {remind}
    morning = ict(2026, 11, 18, 8, 0)
    assert sorted(job.trigger.get_next_fire_time(None, morning) for job in reminders) == [
        ict(2026, 11, 18, 14, 0), ict(2026, 11, 18, 15, 30)]


def test_a_midnight_job_recolours_the_tasks(scheduler):
    job = scheduler.get_job("midnight-recolour")
    assert job.func is recolour
    fire = job.trigger.get_next_fire_time(None, ict(2026, 11, 18, 15, 0))
    assert fire.date() == date(2026, 11, 19)
    assert (fire.hour, fire.minute) == (0, 0)
    assert fire.utcoffset().total_seconds() == 7 * 3600


def test_the_scheduler_has_no_other_jobs(scheduler):
    assert sorted(job.id for job in scheduler.get_jobs()) == [
        "cutoff", "midnight-recolour", "reminder-0", "reminder-1"]


# --- catching up -------------------------------------------------------------------------


@pytest.fixture
def down_since_friday(app, clock, users, units):
    """Tasks assigned on Friday 13 November, whose cutoff ran; then the scheduler was down
    until Thursday 19 November 17:00, missing the cutoffs of 16, 17, 18 and 19 November.
    The Hạ Long task got no update; the Cô Tô task got one each morning."""
    silent = make_task(users["admin"], units["ha_long"], at=ASSIGNED)
    diligent = make_task(users["admin"], units["co_to"], at=ASSIGNED)
    run_cutoff(date(2026, 11, 13), now=ict(2026, 11, 13, 16, 0, 1))
    db.session.commit()
    for day in (16, 17, 18, 19):
        post_update(users["co_to"], diligent, {"progress": 10 * day - 150, "work_done": "x"},
                    now=ict(2026, 11, day, 10, 0))
        db.session.commit()
    ids = silent.id, diligent.id
    clock.set(ict(2026, 11, 19, 17, 0))
    # catch_up works in its own app context and session: hold no transaction (and so, on
    # SQLite, no write lock) here.
    db.session.commit()
    db.session.close()
    return ids


def _runs() -> dict[str, int]:
    return {run.day.isoformat(): run.runs
            for run in db.session.scalars(select(CutoffRun).order_by(CutoffRun.day))}


def test_catch_up_processes_every_missed_cutoff_in_order_once(app, down_since_friday):
    results = catch_up(app)

    assert [r["date"] for r in results] == ["2026-11-16", "2026-11-17", "2026-11-18",
                                            "2026-11-19"]
    assert not any(r["already_processed"] for r in results)
    assert _runs() == {"2026-11-13": 1, "2026-11-16": 1, "2026-11-17": 1, "2026-11-18": 1,
                       "2026-11-19": 1}


def test_catch_up_judges_each_day_as_of_its_own_cutoff(app, down_since_friday):
    silent, _diligent = down_since_friday

    results = catch_up(app)

    # The silent task: yellow after one missed day, red from the second.
    assert [(r["green"], r["yellow"], r["red"], r["missed"]) for r in results] == [
        (1, 1, 0, 1), (1, 0, 1, 1), (1, 0, 1, 1), (1, 0, 1, 1)]
    missed = db.session.execute(
        select(MissedUpdate.day, MissedUpdate.task_id).order_by(MissedUpdate.day)).all()
    assert [(d.isoformat(), t) for d, t in missed] == [
        ("2026-11-16", silent), ("2026-11-17", silent), ("2026-11-18", silent),
        ("2026-11-19", silent)]


def test_a_second_catch_up_processes_nothing(app, down_since_friday):
    catch_up(app)
    notifications = db.session.scalar(select(func.count()).select_from(Notification))
    db.session.close()

    assert catch_up(app) == []

    assert set(_runs().values()) == {1}
    assert db.session.scalar(select(func.count()).select_from(Notification)) == notifications


def test_catch_up_before_todays_cutoff_stops_at_the_last_working_day(
        app, clock, down_since_friday):
    clock.set(ict(2026, 11, 19, 15, 59, 59))

    assert [r["date"] for r in catch_up(app)] == ["2026-11-16", "2026-11-17", "2026-11-18"]


def test_catch_up_with_no_run_yet_starts_at_the_first_tasks_reporting_day(
        app, clock, users, units):
    make_task(users["admin"], units["ha_long"], at=ASSIGNED)
    clock.set(ict(2026, 11, 17, 17, 0))
    db.session.commit()
    db.session.close()

    assert [r["date"] for r in catch_up(app)] == ["2026-11-13", "2026-11-16", "2026-11-17"]


def test_catch_up_with_no_task_processes_nothing(app, clock):
    clock.set(ict(2026, 11, 19, 17, 0))
    assert catch_up(app) == []
    assert _runs() == {}


# --- the other jobs ----------------------------------------------------------------------


def test_the_reminder_job_commits_reminders_in_its_own_transaction(app, clock, users, units):
    make_task(users["admin"], units["co_to"], at=ASSIGNED)
    member_id = users["co_to"].id
    clock.set(ict(2026, 11, 18, 14, 0))
    db.session.commit()
    db.session.close()

    assert remind(app) == 1

    assert db.session.scalars(select(Notification.user_id)).all() == [member_id]
