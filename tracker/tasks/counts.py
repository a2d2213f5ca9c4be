"""Each unit's task counts, kept as the tasks change: what the dashboard's roll-up reads.

A task is counted under its key: its lead unit, status, stored colour, the colour's first
reason and, for a done task, whether it was submitted by its deadline's day (`in_time`:
1 or 0; -1 for every other status). Triggers on `tasks` (migration e8c4a2f6b913) append
a signed row to `task_count_deltas` whenever a statement inserts, deletes or changes the
key of tasks: on PostgreSQL one row per key a statement changed (statement triggers over
its transition tables, so the cutoff's recolouring of a million tasks appends a few
thousand rows), on SQLite one per task. Appending takes no lock another writer waits for:
a rush of updates and a minute-long cutoff never queue behind a counter.

`compact` folds the deltas into `task_counts` (the active scheduler does it every
`TRACKER_COUNTS_COMPACT_SECONDS`); a reader adds the two in one statement, so its counts
are exactly its snapshot's tasks whether or not a compaction has run. `recount` is the
definition — the same figures counted from the tasks — and `tracker counts check` (run by
`tracker colours check` too) proves the kept counts equal to it; `tracker counts rebuild`
makes them so again.

The done tasks' `in_time` is the SQL twin of `tracker.rules.colours.submitted_in_time`
(the trigger's twin of `tracker.rules.sql.submitted_in_time`), in the deployment's zone:
on PostgreSQL the app sets `tracker.zone` on each connection (tracker.deadlines) and a
writer outside the app counts in the default zone; on SQLite the app registers
`tracker_zone()`.
"""

from __future__ import annotations

import logging

from sqlalchemy import (
    BigInteger,
    Integer,
    Select,
    SmallInteger,
    String,
    case,
    cast,
    func,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db
from tracker.rules import sql as rules_sql
from tracker.rules.colours import ReasonCode
from tracker.rules.store import load_calendar
from tracker.tasks.models import Status, Task

NOT_DONE = -1  # in_time of a task that is not done
COLOURS = ("green", "yellow", "red")

log = logging.getLogger(__name__)


class TaskCount(db.Model):
    """How many tasks stand under one key (the deltas not yet folded in aside)."""

    __tablename__ = "task_counts"

    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    colour: Mapped[str] = mapped_column(String(8), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32), primary_key=True)
    in_time: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class TaskCountDelta(db.Model):
    """A change to a key's count, appended by the triggers, folded in by `compact`."""

    __tablename__ = "task_count_deltas"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    colour: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(32))
    in_time: Mapped[int] = mapped_column(SmallInteger)
    n: Mapped[int] = mapped_column(BigInteger)


def _sums(rows) -> Select:
    """Per (unit, status): the number of tasks, of each colour, of done tasks in time and
    of tasks whose first reason is overdue — over `rows` (key columns and `n`)."""
    # Summed as integers (a unit's count of one key fits): PostgreSQL sums bigints as
    # numerics, several times slower, and their states made the grouping spill to disk.
    n = cast(rows.c.n, Integer)

    def total(condition):
        return func.coalesce(func.sum(case((condition, n), else_=0)), 0)

    query = select(
        rows.c.unit_id, rows.c.status, func.sum(n),
        *(total(rows.c.colour == colour) for colour in COLOURS),
        total(rows.c.in_time == 1),
        total(rows.c.reason == ReasonCode.OVERDUE.value),
    ).group_by(rows.c.unit_id, rows.c.status).having(func.sum(n) != 0)
    return query


KEY = ("unit_id", "status", "colour", "reason", "in_time")


def _kept_and_pending(*conditions):
    """The kept counts and the deltas not yet folded in, as one set of rows (key columns
    and `n`), each side filtered by `conditions(model)`: whatever a reader sums over it in
    one statement is exact for its snapshot, folded or not."""
    return union_all(*(
        select(*(getattr(model, c) for c in KEY), model.n)
        .where(*(condition(model) for condition in conditions))
        for model in (TaskCount, TaskCountDelta))).subquery()


def _in(unit_ids):
    return lambda model: model.unit_id.in_(unit_ids)


def kept(unit_ids=None) -> list[tuple]:
    """(unit id, status, tasks, green, yellow, red, done in time, overdue) for each unit of
    `unit_ids` (a list or a subquery; None: every unit) and status: the kept counts plus
    the deltas not yet folded in, read in one statement (one snapshot)."""
    conditions = () if unit_ids is None else (_in(unit_ids),)
    return db.session.execute(_sums(_kept_and_pending(*conditions))).all()


def of_status(status: str, unit_ids) -> int:
    """How many tasks of `status` the units of `unit_ids` (a list or a subquery) lead: the
    kept counts plus the pending deltas, summed in one statement — a few thousand rows
    where counting the tasks themselves reads every one of them (the nation's completions
    waiting for a decision: a hundred thousand)."""
    rows = _kept_and_pending(lambda model: model.status == status, _in(unit_ids))
    return db.session.scalar(select(func.coalesce(func.sum(cast(rows.c.n, Integer)), 0)))


def of_colour(colour: str, unit_ids) -> Select:
    """(unit_id, reason, n): how many tasks of `colour` each unit of `unit_ids` (a list or
    a subquery) leads, by first reason — the kept counts plus the pending deltas."""
    rows = _kept_and_pending(lambda model: model.colour == colour, _in(unit_ids))
    total = func.sum(cast(rows.c.n, Integer))
    return (select(rows.c.unit_id, rows.c.reason, total.label("n"))
            .group_by(rows.c.unit_id, rows.c.reason).having(total != 0))


def _keys(calendar):
    """The key of each task, counted from the tasks: the definition the triggers keep."""
    in_time = case((Task.status == Status.DONE,
                    case((rules_sql.submitted_in_time(Task, calendar), 1), else_=0)),
                   else_=NOT_DONE)
    return (Task.lead_unit_id.label("unit_id"), Task.status.label("status"),
            func.coalesce(Task.colour, "").label("colour"),
            func.coalesce(Task.colour_reason, "").label("reason"),
            cast(in_time, SmallInteger).label("in_time"))


def _recounted():
    keys = _keys(load_calendar())
    return select(*keys, func.count().label("n")).group_by(*keys)


def recount() -> list[tuple]:
    """`kept`'s figures for every unit, counted from the tasks themselves (slow: every
    task)."""
    return db.session.execute(_sums(_recounted().subquery())).all()


def _by_key(rows) -> dict[tuple, int]:
    return {tuple(key): n for *key, n in rows if n}


def differences() -> list[tuple[tuple, int, int]]:
    """(key, kept, recounted) for every key whose kept count is wrong."""
    both = _kept_and_pending()
    columns = [both.c[c] for c in KEY]
    kept_keys = _by_key(db.session.execute(
        select(*columns, cast(func.sum(both.c.n), BigInteger)).group_by(*columns)).all())
    counted = _by_key(db.session.execute(_recounted()).all())
    return sorted(((key, kept_keys.get(key, 0), counted.get(key, 0))
                   for key in kept_keys.keys() | counted.keys()
                   if kept_keys.get(key, 0) != counted.get(key, 0)), key=repr)


def compact() -> int:
    """Fold the deltas into the counts; how many deltas it moved. Safe beside writers
    (they only append) and beside another compaction (a delta is moved once)."""
    if db.session.get_bind().dialect.name == "postgresql":
        moved = db.session.execute(text(
            "WITH moved AS (DELETE FROM task_count_deltas"
            " RETURNING unit_id, status, colour, reason, in_time, n),"
            " summed AS (SELECT unit_id, status, colour, reason, in_time, sum(n) AS n,"
            " count(*) AS rows FROM moved GROUP BY 1, 2, 3, 4, 5),"
            " folded AS (INSERT INTO task_counts (unit_id, status, colour, reason, in_time, n)"
            " SELECT unit_id, status, colour, reason, in_time, n FROM summed"
            " ORDER BY 1, 2, 3, 4, 5"
            " ON CONFLICT (unit_id, status, colour, reason, in_time)"
            " DO UPDATE SET n = task_counts.n + excluded.n)"
            " SELECT coalesce(sum(rows), 0) FROM summed")).scalar_one()
    else:
        # SQLite has one writer at a time: what this transaction reads stays as it read it.
        last = db.session.execute(select(func.max(TaskCountDelta.id))).scalar()
        if last is None:
            return 0
        moved = db.session.execute(select(func.count()).where(
            TaskCountDelta.id <= last)).scalar_one()
        db.session.execute(text(
            "INSERT INTO task_counts (unit_id, status, colour, reason, in_time, n)"
            " SELECT unit_id, status, colour, reason, in_time, sum(n) FROM task_count_deltas"
            " WHERE id <= :last GROUP BY 1, 2, 3, 4, 5"
            " ON CONFLICT (unit_id, status, colour, reason, in_time)"
            " DO UPDATE SET n = task_counts.n + excluded.n"), {"last": last})
        db.session.execute(TaskCountDelta.__table__.delete().where(TaskCountDelta.id <= last))
    if moved:
        db.session.execute(TaskCount.__table__.delete().where(TaskCount.n == 0))
    return int(moved)


def rebuild() -> int:
    """Count every task afresh into `task_counts` (after a change of the zone, or to
    mend what `differences` found); how many keys. Locks out the writers meanwhile."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE tasks IN SHARE MODE"))
        db.session.execute(text("LOCK TABLE task_counts, task_count_deltas"
                                " IN ACCESS EXCLUSIVE MODE"))
    db.session.execute(TaskCountDelta.__table__.delete())
    db.session.execute(TaskCount.__table__.delete())
    db.session.execute(TaskCount.__table__.insert().from_select([*KEY, "n"], _recounted()))
    return db.session.execute(select(func.count()).select_from(TaskCount)).scalar_one()

