"""Fair at the second (SPEC §5): an update the server stamped at or before the cutoff counts
for that day even if its transaction commits after the cutoff started — the cutoff waits
for it; updates arriving while the cutoff runs are never held up by it and keep their right
colour at once; a forced re-run gives the same answer."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import date

import psycopg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from tests.factories import cutoff_through, ict, make_task
from tests.faults import RunningClock
from tracker.auth.models import User
from tracker.cutoff import job as cutoff_job
from tracker.cutoff.job import run_cutoff
from tracker.cutoff.models import MissedUpdate
from tracker.cutoff.scheduler import KeepUp
from tracker.extensions import db
from tracker.fence import NAMESPACE, RECEIVED
from tracker.rules.store import forget, load_calendar
from tracker.tasks.colour import mismatches
from tracker.tasks.lifecycle import submit_completion
from tracker.tasks.models import Task
from tracker.updates.models import ProgressUpdate
from tracker.updates.service import post_update

DAY = date(2026, 11, 18)
CUTOFF = ict(2026, 11, 18, 16, 0)
TIMEOUT = 30  # seconds any thread of these tests may take at most


@pytest.fixture
def member_id(users) -> int:
    return users["ha_long"].id


@pytest.fixture
def owing(app, clock, users, units, member_id):
    """Three Hạ Long tasks that owe Wednesday 18/11's update; every earlier day judged. The
    test's own session then holds no transaction (on SQLite: no write lock)."""
    ids = [make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 17, 9, 0)).id
           for _ in range(3)]
    cutoff_through(date(2026, 11, 17), ict(2026, 11, 17, 16, 0, 1))
    db.session.commit()
    db.session.rollback()
    return ids


def _missed(task_id) -> bool:
    return db.session.get(MissedUpdate, (DAY, task_id)) is not None


class Thread(threading.Thread):
    """A thread with its own app context (its own session), whose error the test sees."""

    def __init__(self, app, target):
        super().__init__(daemon=True)
        self.app, self.target, self.error, self.result = app, target, None, None

    def run(self):
        with self.app.app_context():
            try:
                self.result = self.target()
            except BaseException as exc:  # reported by finish()
                self.error = exc

    def finish(self):
        if self.ident is None:
            self.start()
        self.join(TIMEOUT)
        assert not self.is_alive(), "the thread did not finish"
        if self.error is not None:
            raise self.error
        return self.result


def _held_open(app, work) -> tuple[Thread, threading.Event]:
    """Run `work` in a session of its own and keep its transaction open — stamped, not
    committed — until the event returned is set; then it commits."""
    stamped, release = threading.Event(), threading.Event()

    def run():
        work()
        stamped.set()
        release.wait(TIMEOUT)
        db.session.commit()

    thread = Thread(app, run)
    thread.start()
    assert stamped.wait(TIMEOUT)
    return thread, release


def test_an_update_stamped_before_16_00_and_committed_after_the_cutoff_began_counts(
        app, clock, member_id, owing):
    late_commit, other = owing[0], owing[1]
    clock.set(ict(2026, 11, 18, 15, 59, 59, 500000))
    # The transaction stays open across the cutoff's start.
    writing, release = _held_open(app, lambda: post_update(
        db.session.get(User, member_id), db.session.get(Task, late_commit),
        {"progress": 40, "work_done": "Gửi lúc 15:59:59"}))
    clock.set(ict(2026, 11, 18, 16, 0, 1))
    judging = Thread(app, lambda: run_cutoff(DAY, now=clock(), wait_seconds=20))
    judging.start()
    judging.join(1.0)
    assert judging.is_alive(), "the cutoff must wait for the write stamped before it"
    release.set()
    writing.finish()
    summary = judging.finish()

    assert not _missed(late_commit) and _missed(other)
    assert summary.missed == 2
    # One answer for the day, however often it is asked.
    forced = run_cutoff(DAY, now=ict(2026, 11, 18, 17, 0), force=True)
    assert forced.public() == summary.public()
    assert not _missed(late_commit)
    stamp = db.session.scalar(select(ProgressUpdate.created_at))
    assert stamp == ict(2026, 11, 18, 15, 59, 59, 500000)


def test_an_update_received_before_16_00_and_reached_in_the_grace_is_waited_for(
        app, clock, member_id, owing):
    """A request the server had at 15:59:59.9 whose worker reaches it only at 16:00:01: it
    keeps the moment it was received, and the cutoff — begun at 16:00:00.5, inside the
    grace — waits out the grace and then for its transaction."""
    app.config["TRACKER_CUTOFF_GRACE_SECONDS"] = 3
    late, other = owing[0], owing[1]
    clock.set(ict(2026, 11, 18, 16, 0, 0, 500000))
    judging = Thread(app, lambda: run_cutoff(DAY, now=clock(), wait_seconds=20))
    judging.start()
    clock.set(ict(2026, 11, 18, 16, 0, 1))

    def reached_late():
        with app.test_request_context(
                environ_base={RECEIVED: ict(2026, 11, 18, 15, 59, 59, 900000)}):
            post_update(db.session.get(User, member_id), db.session.get(Task, late),
                        {"progress": 40, "work_done": "Gửi lúc 15:59:59"})

    writing, release = _held_open(app, reached_late)
    judging.join(4.0)
    assert judging.is_alive(), "the cutoff must wait for the write received before it"
    release.set()
    writing.finish()
    summary = judging.finish()

    assert not _missed(late) and _missed(other) and summary.missed == 2
    stamp = db.session.scalar(select(ProgressUpdate.created_at))
    assert stamp == ict(2026, 11, 18, 15, 59, 59, 900000)


def test_a_write_still_open_after_the_wait_is_ended_and_the_day_judged(app, clock, member_id,
                                                                       owing):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writers cannot be ended from outside: its busy timeout bounds "
                    "the wait, and the scheduler tries again")
    clock.set(ict(2026, 11, 18, 15, 59, 59))
    hanging, release = _held_open(app, lambda: post_update(
        db.session.get(User, member_id), db.session.get(Task, owing[0]),
        {"progress": 5, "work_done": "x"}))
    clock.set(ict(2026, 11, 18, 16, 0, 1))

    summary = run_cutoff(DAY, now=clock(), wait_seconds=0.5)

    release.set()
    with pytest.raises(OperationalError):  # its session was ended: it was never stored
        hanging.finish()
    assert summary.missed == 3 and _missed(owing[0])
    assert db.session.scalar(select(func.count()).select_from(ProgressUpdate)) == 0


@pytest.fixture
def paused_cutoff(app, monkeypatch):
    """Runs the 18th's cutoff in a thread and holds it inside its transaction — after the
    colours are written, before the day's record commits — until `resume()`."""
    inside, resume = threading.Event(), threading.Event()
    store = cutoff_job._store_unit_stats

    def holding(*args, **kwargs):
        inside.set()
        resume.wait(TIMEOUT)
        return store(*args, **kwargs)

    monkeypatch.setattr(cutoff_job, "_store_unit_stats", holding)

    def start(now):
        thread = Thread(app, lambda: run_cutoff(DAY, now=now))
        thread.start()
        assert inside.wait(TIMEOUT), "the cutoff did not reach its pause"
        return thread

    yield start, resume
    resume.set()


def test_writers_are_not_held_up_by_a_running_cutoff(app, clock, member_id, owing,
                                                     paused_cutoff):
    """With the cutoff stopped half-way through its transaction, an update, a completion
    and a new day's work go through — on PostgreSQL with a 1 s lock timeout, which any wait
    on the cutoff's locks would exceed."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: there, writers queue for the cutoff")
    start, resume = paused_cutoff
    clock.set(ict(2026, 11, 18, 16, 0, 2))
    judging = start(clock())

    def writes():
        db.session.execute(text("SET lock_timeout = '1s'"))
        member = db.session.get(User, member_id)
        post_update(member, db.session.get(Task, owing[0]), {"progress": 60, "work_done": "x"})
        submit_completion(member, db.session.get(Task, owing[1]), result="Xong")
        db.session.commit()

    Thread(app, writes).finish()
    resume.set()
    summary = judging.finish()
    assert summary.missed == 3  # the updates after 16:00 count for the next day
    assert list(mismatches(clock())) == []


def test_an_update_posted_while_the_cutoff_runs_keeps_its_colour(app, clock, member_id,
                                                                owing, monkeypatch):
    """The cutoff read the task (no update today: yellow from 16:00), then the member posts;
    the cutoff's colour refresh must not put back the colour it computed before."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: no update can fall in between")
    from tracker.tasks import colour as recolour

    between, posted = threading.Event(), threading.Event()
    make_writer = recolour.colour_writer

    def slow_writer(**kwargs):
        writer = make_writer(**kwargs)
        add = writer.add

        def add_after_the_post(rows):
            if rows and not between.is_set():
                between.set()
                posted.wait(TIMEOUT)
            add(rows)

        writer.add = add_after_the_post
        return writer

    monkeypatch.setattr(cutoff_job, "colour_writer", slow_writer)
    clock.set(ict(2026, 11, 18, 16, 0, 1))
    judging = Thread(app, lambda: run_cutoff(DAY, now=clock()))
    judging.start()
    assert between.wait(TIMEOUT)

    def post():
        member = db.session.get(User, member_id)
        post_update(member, db.session.get(Task, owing[0]), {"progress": 70, "work_done": "x"})
        db.session.commit()

    Thread(app, post).finish()
    posted.set()
    judging.finish()

    colours = dict(db.session.execute(select(Task.id, Task.colour).where(Task.id.in_(owing))).all())
    assert colours == {owing[0]: "green", owing[1]: "yellow", owing[2]: "yellow"}
    assert list(mismatches(clock())) == []
    assert _missed(owing[0])  # it was posted after 16:00: the 18th stays missed


def test_a_burst_of_updates_across_16_00_leaves_every_colour_and_every_day_right(
        app, users, units, member_id, owing):
    """Members post as fast as they can from 15:59:59.2 while the scheduler ticks; time
    runs. Every update stamped by 16:00:00 counts for the 18th, every later one for the
    19th, and every stored colour is right at the end."""
    tasks = owing + [make_task(users["admin"], units["ha_long"],
                               at=ict(2026, 11, 17, 9, 0)).id for _ in range(5)]
    db.session.commit()
    db.session.rollback()
    app.config["CLOCK"] = RunningClock(ict(2026, 11, 18, 15, 59, 59, 200000))
    stop = threading.Event()
    keep_up = KeepUp(app, name="burst:1")

    def member(task_ids):
        def post_until_stopped():
            member = db.session.get(User, member_id)
            n = 0
            while not stop.is_set() and n < 500:
                task = db.session.get(Task, task_ids[n % len(task_ids)])
                post_update(member, task, {"progress": n % 100, "work_done": f"#{n}"})
                db.session.commit()
                n += 1
                stop.wait(0.005)  # a breath between two posts, as people take
        return post_until_stopped

    def scheduler():
        deadline = time.monotonic() + TIMEOUT / 2
        while time.monotonic() < deadline:
            keep_up.tick()
            done = db.session.scalar(text("SELECT count(*) FROM cutoff_runs WHERE day = :d"),
                                     {"d": DAY})
            db.session.rollback()  # hold no transaction (on SQLite: no write lock)
            if done:
                return
            stop.wait(0.02)
        raise AssertionError(f"the day was not processed; last error: {keep_up.last_error}")

    members = [Thread(app, member(tasks[i::3])) for i in range(3)]
    for thread in members:
        thread.start()
    ticking = Thread(app, scheduler)
    ticking.start()
    ticking.finish()
    stop.set()
    for thread in members:
        thread.finish()

    db.session.close()
    assert list(mismatches(app.config["CLOCK"]())) == []
    stamps = db.session.execute(select(ProgressUpdate.task_id, ProgressUpdate.created_at)
                                .where(ProgressUpdate.created_at > ict(2026, 11, 17, 16, 0)))
    counted = {task for task, at in stamps if at <= CUTOFF}
    assert {t for t in tasks if not _missed(t)} == counted
    summary = run_cutoff(DAY, now=ict(2026, 11, 18, 17, 0))
    assert summary.already_processed
    forced = run_cutoff(DAY, now=ict(2026, 11, 18, 17, 0), force=True)
    assert forced.missed == summary.missed == len(tasks) - len(counted)


def test_an_update_stamped_after_the_cutoffs_clock_but_seen_by_it_keeps_its_colour(
        app, clock, users, owing):
    """The cutoff read its clock at 16:00:01; an update stamped at 16:00:05 committed before
    the cutoff read the task. The colour it refreshes must not ignore that update (found by
    the national benchmark: four tasks stored red for 28 missed days, though updated)."""
    clock.set(ict(2026, 11, 18, 16, 0, 5))
    post_update(users["ha_long"], db.session.get(Task, owing[0]),
                {"progress": 10, "work_done": "x"})
    db.session.commit()

    run_cutoff(DAY, now=ict(2026, 11, 18, 16, 0, 1))

    assert db.session.get(Task, owing[0]).colour == "green"
    assert list(mismatches(clock())) == []


def test_an_update_committed_after_a_later_stamped_one_leaves_the_later_stamp(
        app, clock, users, owing):
    """Two updates of one task, the later-stamped committed first: the task's last update
    stays the later one, so its colour never forgets it."""
    task = db.session.get(Task, owing[0])
    post_update(users["ha_long"], task, {"progress": 20, "work_done": "b"},
                now=ict(2026, 11, 18, 16, 0, 0, 10))
    post_update(users["ha_long"], task, {"progress": 10, "work_done": "a"},
                now=ict(2026, 11, 18, 15, 59, 59, 990000))
    db.session.commit()
    assert db.session.get(Task, owing[0]).last_update_at == ict(2026, 11, 18, 16, 0, 0, 10)


def test_a_day_made_a_day_off_just_before_16_00_is_not_judged(app, clock, users, owing):
    """An admin makes today a day off at 15:59:59 and commits while the cutoff waits for
    writes stamped before it: the cutoff reads the calendar after that, and does not judge
    the day."""
    from tracker.cutoff.job import CutoffRefused
    from tracker.settings.service import set_day

    admin_id = users["admin"].id
    db.session.rollback()
    clock.set(ict(2026, 11, 18, 15, 59, 59))
    changing, release = _held_open(app, lambda: set_day(
        db.session.get(User, admin_id), DAY, "day_off", "Nghỉ đột xuất"))
    clock.set(ict(2026, 11, 18, 16, 0, 1))
    judging = Thread(app, lambda: run_cutoff(DAY, now=clock(), wait_seconds=20))
    judging.start()
    judging.join(1.0)
    release.set()
    changing.finish()
    with pytest.raises(CutoffRefused, match="not a working day"):
        judging.finish()
    assert not _missed(owing[0])


def test_a_policy_change_waits_for_the_running_cutoff(app, clock, users, owing,
                                                      paused_cutoff):
    """While the cutoff judges and recolours every task by one policy, a change to the
    policy waits for it (here: past a 1 s lock timeout); afterwards it goes through and
    every colour is the new policy's."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: the change queues for the cutoff")
    from tracker.settings.service import set_policy

    start, resume = paused_cutoff
    admin_id = users["admin"].id
    clock.set(ict(2026, 11, 18, 16, 0, 2))
    judging = start(clock())

    def change():
        db.session.execute(text("SET lock_timeout = '1s'"))
        set_policy(db.session.get(User, admin_id), {"missed_days_to_red": "1"})

    with pytest.raises(OperationalError, match="lock timeout"):
        Thread(app, change).finish()
    resume.set()
    judging.finish()
    Thread(app, lambda: (set_policy(db.session.get(User, admin_id),
                                    {"missed_days_to_red": "1"}), db.session.commit())).finish()
    forget()  # this test's own request has read the old policy
    assert list(mismatches(clock())) == []
    assert {db.session.get(Task, t).colour for t in owing} == {"red"}  # one miss is red now


def test_writers_of_another_database_on_the_server_are_left_alone(app, clock, member_id,
                                                                    owing):
    """Advisory locks belong to a database: a cutoff ends only its own stragglers, never a
    writer of another deployment (or test run) on the same PostgreSQL server that happens
    to hold the same epoch's key."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("advisory locks and ended sessions are PostgreSQL's")
    url = db.engine.url
    admin_url = url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False)
    other = f"tracker_other_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{other}"')
    try:
        clock.set(ict(2026, 11, 18, 15, 59, 59))
        epoch = load_calendar().epoch(clock())
        neighbour = psycopg.connect(url.set(drivername="postgresql", database=other)
                                    .render_as_string(hide_password=False))
        neighbour.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", (NAMESPACE, epoch))
        hanging, release = _held_open(app, lambda: post_update(
            db.session.get(User, member_id), db.session.get(Task, owing[0]),
            {"progress": 5, "work_done": "x"}))
        clock.set(ict(2026, 11, 18, 16, 0, 1))

        run_cutoff(DAY, now=clock(), wait_seconds=0.5)

        release.set()
        with pytest.raises(OperationalError):  # our own straggler was ended
            hanging.finish()
        assert neighbour.execute("SELECT 1").fetchone() == (1,)  # the neighbour was not
        neighbour.rollback()
        neighbour.close()
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{other}" WITH (FORCE)')
