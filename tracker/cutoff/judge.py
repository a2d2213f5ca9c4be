"""The cutoff's judgement of one day: every task as of the day's cutoff moment, from the
facts as they stood then (`tracker.tasks.facts`) and the latest update at or before the
moment, by the rules (`tracker.rules.colours`) — a batch at a time, the judging (pure
Python) overlapped with the writing of the previous batch's rows. `tracker.cutoff.job`
decides when and in which transaction; this module decides what the day's record says."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, func, select

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
MISSED_COLUMNS = ("day", "task_id", "unit_id")
HISTORY_COLUMNS = ("task_id", "day", "unit_id", "colour", "reason", "days", "previous_colour",
                   "code", "rank")
RED_COLUMNS = ("day", "task_id", "unit_id", "code", "reason", "days", "rank")


def _batches(moment: datetime):
    """Tasks that existed at `moment`, in id order, a batch at a time (bounded memory)."""
    last_id = 0
    while True:
        # Plain rows: no ORM bookkeeping, no per-value processing, for a million rows.
        rows = all_rows(
            select(Task.id, Task.version, Task.code, Task.lead_unit_id, Task.status,
                   Task.start_date, Task.deadline, Task.duty_since, Task.submitted_at,
                   Task.last_update_at, Task.colour, Task.colour_reason, Task.colour_days)
            .where(Task.id > last_id, Task.created_at <= moment)
            .order_by(Task.id).limit(BATCH))
        if not rows:
            return
        last_id = rows[-1].id
        yield rows


def _last_updates_before(task_ids: list[int], moment: datetime) -> dict[int, datetime]:
    if not task_ids:
        return {}
    return dict(db.session.execute(
        select(ProgressUpdate.task_id, func.max(ProgressUpdate.created_at))
        .where(ProgressUpdate.task_id.in_(task_ids), ProgressUpdate.created_at <= moment)
        .group_by(ProgressUpdate.task_id)
    ).all())


def _previous_colours(lo: int, hi: int, day: date) -> dict[int, tuple[str, str]]:
    """Each task's colour and reason at the latest stored cutoff before `day`."""
    latest = (
        select(TaskColourChange.task_id, func.max(TaskColourChange.day).label("day"))
        .where(TaskColourChange.task_id.between(lo, hi), TaskColourChange.day < day)
        .group_by(TaskColourChange.task_id).subquery()
    )
    rows = db.session.execute(
        select(TaskColourChange.task_id, TaskColourChange.colour, TaskColourChange.reason)
        .join(latest, and_(TaskColourChange.task_id == latest.c.task_id,
                           TaskColourChange.day == latest.c.day))
    )
    return {task_id: (colour, reason) for task_id, colour, reason in rows}


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


def _inputs(the: _Day):
    """Each batch of tasks with what judging it needs from the database."""
    for rows in _batches(the.moment):
        lo, hi = rows[0].id, rows[-1].id
        stale = {r.id for r in rows if r.last_update_at and r.last_update_at > the.moment}
        yield (rows, stale, _last_updates_before(sorted(stale), the.moment),
               _previous_colours(lo, hi, the.day))


def _verdict(the: _Day, values: dict, last: datetime | None) -> tuple:
    """What the rules say of a task as of the day's cutoff, with what the job derives from
    it: (colour or None when cancelled, category, missed the day's update, reason code,
    reason days, the stored colour values, the red list's rank). `last` is the task's
    latest update at or before the cutoff: the day's window ends at the cutoff, so it was
    reported in the window exactly when that one was."""
    task = TaskFacts(**values)
    updates = [last] if last else []
    result = task_colour(task, updates, the.calendar, the.policy, the.moment)
    missed = was_missed(task, updates, the.calendar, the.day)
    if result.colour is None:
        return None, None, missed, None, 0, stored_values(result), 0
    reason = result.reasons[0]
    code = str(reason.code)
    return (result.colour.value, result.category.value, missed, code, reason.days,
            stored_values(result), red_rank(code, reason.days))


def _judge_batch(the: _Day, inputs, own: dict[int, Counter]):
    """Judge one batch (pure: no database); returns the rows to write. Each distinct
    `colour_key` is judged once for the whole day (the rules are a pure function of it)."""
    rows, stale, earlier, previous = inputs
    calendar, day, past, verdicts = the.calendar, the.day, the.past, the.verdicts
    missed_rows, history_rows, red_rows, recoloured = [], [], [], []
    for row in rows:
        task_id = row.id
        changed = past.get(task_id)
        values = (row.status, row.start_date, row.deadline, row.duty_since, row.submitted_at) \
            if changed is None else tuple(changed[name] for name in FACTS)
        last = earlier.get(task_id) if task_id in stale else row.last_update_at
        key = colour_key(*values, last, calendar)
        verdict = verdicts.get(key)
        if verdict is None:
            verdict = verdicts[key] = _verdict(the, dict(zip(FACTS, values, strict=True)),
                                               last)
        colour, category, missed, code, days, stored, rank = verdict
        if the.same_epoch:
            current = stored if not changed and task_id not in stale \
                else stored_values(colour_of(row, the.now, calendar, the.policy))
            if current != (row.colour, row.colour_reason, row.colour_days):
                recoloured.append((task_id, row.version, *current))
        if colour is None:
            continue  # cancelled: out of the colours and the counts
        unit_id = row.lead_unit_id
        counts = own[unit_id]
        counts[colour] += 1
        counts[category] += 1
        counts["total"] += 1
        if waits_to_count(values[0], colour):
            counts["not_started"] += 1
        if missed:
            counts["missed"] += 1
            missed_rows.append((day, task_id, unit_id))
        if colour == "red":
            red_rows.append((day, task_id, unit_id, row.code, code, days, rank))
        before = previous.get(task_id)
        if before != (colour, code):
            was = before[0] if before else None
            history_rows.append((task_id, day, unit_id, colour, code, days, was, row.code,
                                 change_rank(colour, was)))
            if was != colour:
                counts["changes"] += 1
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

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cutoff-judge") as judge:
        pending = None
        for inputs in _inputs(the):
            judging = judge.submit(_judge_batch, the, inputs, own)
            if pending is not None:
                write(pending.result())
            pending = judging
        if pending is not None:
            write(pending.result())
    return changed
