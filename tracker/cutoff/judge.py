"""The cutoff's judgement of one day: every task as of the day's cutoff moment, from the
facts as they stood then (`tracker.tasks.facts`) and the latest update at or before the
moment, by the rules (`tracker.rules.colours`) — a batch at a time, the judging (pure
Python) overlapped with the writing of the previous batch's rows. `tracker.cutoff.job`
decides when and in which transaction; this module decides what the day's record says."""

from __future__ import annotations

import queue
import threading
from collections import Counter, namedtuple
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, func, select
from sqlalchemy.dialects.postgresql import distinct_on

from tracker.bulk import BulkUpdate, all_rows, insert_rows
from tracker.cutoff.models import (
    MissedUpdate,
    RedTaskDay,
    TaskColourChange,
    change_rank,
    red_rank,
)
from tracker.extensions import db
from tracker.rules.calendar import WorkCalendar
from tracker.rules.colours import Policy, TaskFacts, colour_key, task_colour, was_missed
from tracker.rules.units import waits_to_count
from tracker.tasks.colour import colour_of, stored_values
from tracker.tasks.facts import FACTS, facts_at
from tracker.tasks.models import Task
from tracker.updates.models import ProgressUpdate

BATCH = 5000
READ_AHEAD = 2  # batches read and waiting to be judged
MISSED_COLUMNS = ("day", "task_id", "unit_id")
HISTORY_COLUMNS = ("task_id", "day", "unit_id", "colour", "reason", "days", "previous_colour",
                   "code", "rank")
RED_COLUMNS = ("day", "task_id", "unit_id", "code", "reason", "days", "rank")


# The columns of a task the cutoff reads, in the order of its plain rows.
_TaskRow = namedtuple("_TaskRow", (
    "id", "version", "code", "lead_unit_id", "status", "start_date", "deadline", "duty_since",
    "submitted_at", "last_update_at", "colour", "colour_reason", "colour_days"))


def _batches(connection, moment: datetime):
    """Tasks that existed at `moment`, in id order, a batch at a time (bounded memory), as
    plain tuples in `_TaskRow`'s order (a million rows: no name lookups)."""
    last_id = 0
    while True:
        # Plain rows: no ORM bookkeeping, no per-value processing, for a million rows.
        rows = all_rows(select(*(getattr(Task, name) for name in _TaskRow._fields))
                        .where(Task.id > last_id, Task.created_at <= moment)
                        .order_by(Task.id).limit(BATCH), connection, named=False)
        if not rows:
            return
        last_id = rows[-1][0]
        yield rows


def _last_updates_before(connection, task_ids: list[int],
                         moment: datetime) -> dict[int, datetime]:
    if not task_ids:
        return {}
    return dict(connection.execute(
        select(ProgressUpdate.task_id, func.max(ProgressUpdate.created_at))
        .where(ProgressUpdate.task_id.in_(task_ids), ProgressUpdate.created_at <= moment)
        .group_by(ProgressUpdate.task_id)
    ).all())


def _previous_colours(connection, lo: int, hi: int, day: date) -> dict[int, tuple[str, str]]:
    """Each task's colour and reason at the latest stored cutoff before `day`.

    PostgreSQL: the first row of each task in one backward walk of the history's primary
    key (task, day) — DISTINCT ON — 3.5 ms a batch at 3.3 M tasks, where finding each
    task's latest day and then joining back to its row took 19 ms. Elsewhere, that
    portable form."""
    history = TaskColourChange
    columns = (history.task_id, history.colour, history.reason)
    within = (history.task_id.between(lo, hi), history.day < day)
    if connection.dialect.name == "postgresql":
        query = select(*columns).where(*within).ext(distinct_on(history.task_id)) \
            .order_by(history.task_id.desc(), history.day.desc())
    else:
        latest = select(history.task_id, func.max(history.day).label("day")) \
            .where(*within).group_by(history.task_id).subquery()
        query = select(*columns).join(latest, and_(history.task_id == latest.c.task_id,
                                                   history.day == latest.c.day))
    return {task_id: (colour, reason)
            for task_id, colour, reason in all_rows(query, connection, named=False)}


def same_epoch(calendar: WorkCalendar, moment: datetime, now: datetime) -> bool:
    """Whether `now` lies in the epoch the cutoff at `moment` opened (no midnight or later
    cutoff between them): then a task that has not changed since the moment has the same
    colour now, and one pass serves both the day's record and the stored colours."""
    return now > moment and calendar.epoch(now) == calendar.epoch(moment) + 1


@dataclass
class _Day:
    """What judging one day needs besides a batch's rows (read once per day)."""

    day: date
    moment: datetime
    now: datetime
    calendar: WorkCalendar
    policy: Policy
    past: dict[int, dict]  # the facts at the moment of the tasks changed since (by id)
    same_epoch: bool
    verdicts: dict = field(default_factory=dict)  # colour_key → verdict


def _inputs(the: _Day, connection):
    """Each batch of tasks with what judging it needs from the database."""
    for rows in _batches(connection, the.moment):
        lo, hi = rows[0][0], rows[-1][0]
        moment = the.moment
        stale = {row[0] for row in rows if row[9] and row[9] > moment}  # (last_update_at)
        yield (rows, stale, _last_updates_before(connection, sorted(stale), the.moment),
               _previous_colours(connection, lo, hi, the.day))


@contextmanager
def _read_ahead(the: _Day):
    """The batches of `_inputs`, read ahead. PostgreSQL: by a thread on a connection of
    its own that shares this transaction's snapshot (`pg_export_snapshot`), so that the
    server reads the next batches while this connection writes the day's record — what
    is read is exactly what this transaction would read. Elsewhere: in line, on the
    session's connection."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        yield _inputs(the, connection)
        return
    snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
    reader = db.engine.connect().execution_options(isolation_level="REPEATABLE READ",
                                                   postgresql_readonly=True)
    ahead: queue.Queue = queue.Queue(maxsize=READ_AHEAD)
    stop = threading.Event()

    def hand(item) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            reader.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")  # the first
            for inputs in _inputs(the, reader):
                if not hand(inputs):
                    return
            hand(None)
        except BaseException as exc:  # raised in the cutoff's thread
            hand(exc)

    def batches():
        while (item := ahead.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item

    thread = threading.Thread(target=read, name="cutoff-read", daemon=True)
    thread.start()
    try:
        yield batches()
    finally:
        stop.set()
        thread.join()
        with suppress(Exception):  # (a dropped connection: what failed is raised already)
            reader.rollback()
        reader.close()


def _verdict(the: _Day, values: dict, last: datetime | None) -> tuple:
    """What the rules say of a task as of the day's cutoff, with what the job derives from
    it: (colour or None when cancelled, missed the day's update, reason code, reason days,
    the stored colour values, the red list's rank, the unit counts it adds to). `last` is
    the task's latest update at or before the cutoff: the day's window ends at the cutoff,
    so it was reported in the window exactly when that one was."""
    task = TaskFacts(**values)
    updates = [last] if last else []
    result = task_colour(task, updates, the.calendar, the.policy, the.moment)
    missed = was_missed(task, updates, the.calendar, the.day)
    if result.colour is None:
        return None, missed, None, 0, stored_values(result), 0, None, None
    reason = result.reasons[0]
    code = str(reason.code)
    colour = result.colour.value
    counted = _Counted((colour, result.category.value, "total",
                        *(("not_started",) if waits_to_count(task.status, colour) else ()),
                        *(("missed",) if missed else ())))
    return (colour, missed, code, reason.days, stored_values(result),
            red_rank(code, reason.days), counted, (colour, code))


class _Counted:
    """The unit counts a verdict adds to (their names), as a key that hashes by identity:
    a batch tallies its tasks by (unit, verdict's counts) before spreading them."""

    __slots__ = ("names",)

    def __init__(self, names: tuple[str, ...]):
        self.names = names


def _judge_batch(the: _Day, inputs, own: dict[int, Counter]):
    """Judge one batch (pure: no database); returns the rows to write. Each distinct
    `colour_key` is judged once for the whole day (the rules are a pure function of it), and
    a unit's counts are added up per verdict, then spread once per batch."""
    rows, stale, earlier, previous = inputs
    calendar, day, past, verdicts = the.calendar, the.day, the.past, the.verdicts
    same_epoch = the.same_epoch
    missed_rows, history_rows, red_rows, recoloured = [], [], [], []
    tally: Counter = Counter()  # (unit, verdict's counts) → tasks
    for row in rows:
        (task_id, version, task_code, unit_id, status, start_date, deadline, duty_since,
         submitted_at, last, stored_colour, stored_reason, stored_days) = row
        changed = past.get(task_id)
        if task_id in stale:
            last = earlier.get(task_id)
        if changed is None:
            key = colour_key(status, start_date, deadline, duty_since, submitted_at, last,
                             calendar)
        else:
            key = colour_key(*(changed[name] for name in FACTS), last, calendar)
        verdict = verdicts.get(key)
        if verdict is None:
            facts = changed or dict(zip(FACTS, row[4:9], strict=True))
            verdict = verdicts[key] = _verdict(the, facts, last)
        colour, missed, code, days, stored, rank, counted, colour_and_code = verdict
        if same_epoch:
            current = stored if changed is None and task_id not in stale \
                else stored_values(colour_of(_TaskRow._make(row), the.now, calendar,
                                             the.policy))
            if current != (stored_colour, stored_reason, stored_days):
                recoloured.append((task_id, version, *current))
        if colour is None:
            continue  # cancelled: out of the colours and the counts
        tally[unit_id, counted] += 1
        if missed:
            missed_rows.append((day, task_id, unit_id))
        if colour == "red":
            red_rows.append((day, task_id, unit_id, task_code, code, days, rank))
        before = previous.get(task_id)
        if before != colour_and_code:
            was = before[0] if before else None
            history_rows.append((task_id, day, unit_id, colour, code, days, was, task_code,
                                 change_rank(colour, was)))
            if was != colour:
                own[unit_id]["changes"] += 1
    for (unit_id, counted), tasks in tally.items():
        counts = own[unit_id]
        for name in counted.names:
            counts[name] += tasks
    return missed_rows, history_rows, red_rows, recoloured


def judge_day(day: date, calendar: WorkCalendar, policy: Policy, own: dict[int, Counter],
              now: datetime, recolour: BulkUpdate | None) -> int:
    """Judge every task as of the day's cutoff, counting each unit's own tasks into `own`;
    with `recolour` (when `now` is in the same epoch), also refresh the stored colours in
    the same pass. Returns how many tasks' colour or reason changed since the day before.

    A batch at a time, and overlapped: while one thread judges a batch (pure Python), this
    one writes the previous batch's rows (COPY on PostgreSQL, which waits on the server
    with the interpreter lock released) and reads the next. Every read and every row of the
    day's record goes through the session's connection, in its one transaction; the colours
    go through `recolour`, in transactions of their own."""
    moment = calendar.cutoff_moment(day)
    the = _Day(day, moment, now, calendar, policy, facts_at(moment), recolour is not None)
    changed = 0

    def write(judged) -> None:
        nonlocal changed
        missed_rows, history_rows, red_rows, recoloured = judged
        insert_rows(MissedUpdate.__table__, MISSED_COLUMNS, missed_rows)
        insert_rows(TaskColourChange.__table__, HISTORY_COLUMNS, history_rows)
        insert_rows(RedTaskDay.__table__, RED_COLUMNS, red_rows)
        if recolour is not None:
            recolour.add(recoloured)
        changed += len(history_rows)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cutoff-judge") as judge, \
            _read_ahead(the) as batches:
        pending = None
        for inputs in batches:
            judging = judge.submit(_judge_batch, the, inputs, own)
            if pending is not None:
                write(pending.result())
            pending = judging
        if pending is not None:
            write(pending.result())
    return changed
