"""The cutoff reads its batches ahead on a connection of its own (PostgreSQL), joined to
the cutoff's snapshot: it sees the tasks exactly as the cutoff's own transaction does,
never a change committed after that snapshot was taken."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest
from sqlalchemy import select

from tests.factories import ict, make_task
from tracker import clock
from tracker.cutoff.judge import _Day, _read_ahead, _TaskRow
from tracker.extensions import db
from tracker.rules.store import load_calendar, load_policy
from tracker.tasks.models import Task

DAY = date(2026, 11, 18)


def test_the_batches_read_ahead_are_those_of_the_cutoffs_snapshot(app, users, units):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the reader of its own is PostgreSQL's (SQLite reads in line)")
    tasks = [make_task(users["admin"], units[unit], at=ict(2026, 11, 13, 9, 0))
             for unit in ("ha_long", "co_to", "van_don")]
    ids = [task.id for task in tasks]
    code = tasks[2].code
    db.session.commit()
    calendar, policy = load_calendar(), load_policy()
    db.session.commit()

    # The cutoff's transaction: REPEATABLE READ, its snapshot taken by its first read.
    db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    days = dict(db.session.execute(select(Task.id, Task.colour_days)).all())
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as other:  # committed after the snapshot
        other.execute("UPDATE tasks SET colour_days = 77 WHERE id = %s", (ids[1],))
        other.execute("UPDATE tasks SET created_at = created_at - interval '1 day', "
                      "code = 'MOVED' WHERE id = %s", (ids[2],))

    moment = calendar.cutoff_moment(DAY)
    the = _Day(DAY, moment, clock.now(), calendar, policy, {}, False)
    try:
        with _read_ahead(the) as batches:
            read = [_TaskRow._make(row) for rows, _stale, _earlier, _previous in batches
                    for row in rows]
    finally:
        db.session.rollback()

    assert [row.id for row in read] == sorted(days)
    assert {row.id: row.colour_days for row in read} == days
    assert {row.id: row.code for row in read}[ids[2]] == code
    # Committed since: seen by a transaction that starts now.
    assert db.session.get(Task, ids[1]).colour_days == 77
