"""The cutoff's bulk colour update and a writer of several tasks (a unit's batch of
updates) lock tasks in the same order, so they wait for each other instead of
deadlocking — a deadlock would roll the whole cutoff back. PostgreSQL only: SQLite has no
row locks (one writer at a time)."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from sqlalchemy import select, update

from tests.factories import ict, make_task
from tracker.bulk import BulkUpdate
from tracker.extensions import db
from tracker.tasks.models import Task


def _backend_pid_waiting(url: str, pid_holder: list) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND wait_event_type = "
            "'Lock'", (pid_holder[0],)).fetchone()[0] > 0


def test_bulk_update_locks_tasks_in_id_order_so_a_batch_writer_cannot_deadlock_it(
        app, users, units):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks and their order are PostgreSQL's")
    low = make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0))
    high = make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0))
    low_id, high_id = low.id, high.id
    # Move the lower id's row after the higher one's in the table, so that the UPDATE's
    # own plan (by the order of its input, or by a scan of the table) meets `high` first.
    db.session.execute(update(Task).where(Task.id == low_id).values(colour_days=0))
    db.session.commit()
    db.session.close()
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    # A writer of several tasks locks them in id order: first `low` …
    writer = psycopg.connect(url)
    writer.execute("SET lock_timeout = '10s'")
    writer.execute("SELECT id FROM tasks WHERE id = %s FOR UPDATE", (low_id,))

    errors: list[BaseException] = []
    bulk_pid: list[int] = []

    def cutoff():
        with app.app_context():
            try:
                bulk_pid.append(db.session.connection().connection.driver_connection.info
                                .backend_pid)
                recolour = BulkUpdate(Task.__table__, "id",
                                      ("colour", "colour_reason", "colour_days"))
                recolour.add([(high_id, "red", "overdue", 3), (low_id, "red", "overdue", 3)])
                recolour.apply()
                db.session.commit()
            except BaseException as exc:  # reported to the test below
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    thread = threading.Thread(target=cutoff)
    thread.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not (bulk_pid and _backend_pid_waiting(url,
                                                                                  bulk_pid)):
        time.sleep(0.05)
    assert bulk_pid and _backend_pid_waiting(url, bulk_pid), "the bulk update did not wait"

    # … then `high`: free, because the bulk update waits for `low` holding nothing.
    try:
        writer.execute("SELECT id FROM tasks WHERE id = %s FOR UPDATE", (high_id,))
        writer.commit()
    finally:
        writer.close()
    thread.join(timeout=30)

    assert not thread.is_alive()
    assert errors == []
    db.session.expire_all()
    assert db.session.execute(select(Task.colour, Task.colour_days)
                              .where(Task.id.in_([low_id, high_id]))).all() == \
        [("red", 3), ("red", 3)]


def test_a_unit_locking_its_tasks_does_not_hold_up_rows_that_refer_to_them(
        app, users, units):
    """The update path locks the tasks it writes FOR NO KEY UPDATE: the cutoff can still
    write missed-update and history rows referring to them (their foreign keys take key
    share locks) instead of waiting — while waiting, with locks of its own, is how a
    writer and the cutoff deadlock."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row lock modes are PostgreSQL's")
    from tracker.updates.service import _LOCK

    task = make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0))
    task_id, unit_id, path = task.id, units["ha_long"].id, units["ha_long"].path
    db.session.commit()
    assert [row.id for row in db.session.execute(
        _LOCK, {"ids": [task_id], "within": path})] == [task_id]  # held until rollback
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(url) as other:
            other.execute("SET lock_timeout = '3s'")
            other.execute("INSERT INTO missed_updates (day, task_id, unit_id) VALUES "
                          "('2026-11-18', %s, %s)", (task_id, unit_id))
            other.rollback()
            # A second writer of the same task still waits for the first.
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute("SET lock_timeout = '200ms'")
                other.execute("UPDATE tasks SET progress = 1 WHERE id = %s", (task_id,))
            other.rollback()
    finally:
        db.session.rollback()


def test_an_update_written_separately_commits_each_batch_and_hands_a_failure_back(
        app, users, units):
    """`separately`: the batches are written by a thread on a connection of its own, each
    committed as it goes (seen from another connection before `apply`), and a batch the
    server refuses is raised in the caller's thread — by `apply` here — with the batches
    before it kept and none after it written."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a writer of its own is PostgreSQL's (SQLite: the session's transaction)")
    first, second, third = (make_task(users["admin"], units["ha_long"],
                                      at=ict(2026, 11, 13, 9, 0)) for _ in range(3))
    ids = first.id, second.id, third.id
    db.session.commit()
    days_before = [task.colour_days for task in (first, second, third)]
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    def seen() -> list:
        with psycopg.connect(url) as other:
            return other.execute("SELECT colour, colour_days FROM tasks WHERE id = ANY(%s) "
                                 "ORDER BY id", (list(ids),)).fetchall()

    columns = ("colour", "colour_reason", "colour_days")
    writer = BulkUpdate(Task.__table__, "id", columns, separately=True)
    try:
        writer.add([(ids[0], "red", "overdue", 4)])
        deadline = time.monotonic() + 10
        while seen()[0] != ("red", 4) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert seen()[0] == ("red", 4)  # committed by the thread, before apply
        writer.add([(ids[1], "yellow", "overdue", "two")])  # not a number of days
        writer.add([(ids[2], "red", "overdue", 9)])
        with pytest.raises(psycopg.errors.InvalidTextRepresentation):
            writer.apply()
    finally:
        writer.close()
    assert [row[1] for row in seen()] == [4, *days_before[1:]]
    db.session.rollback()
