"""The cutoff job (giờ chốt): once per working day, for that reporting day, record every
missed update, store the day's colour history and unit totals, refresh the stored colours
and notify.

Fair: it first waits behind the fence (`tracker.fence`) until every write stamped at
or before the cutoff moment has committed or failed; only then does it read.
Exactly once: the row in `cutoff_runs` is inserted first, in the same transaction as the
day's record, so a second process or host trying the same day waits on the primary key and
then finds the day done. Deterministic: the day is judged as of its cutoff moment, from one
snapshot (REPEATABLE READ on PostgreSQL) — the updates' server stamps and the task facts
as they stood then (`tracker.tasks.facts`) — so a late, caught-up or forced run gives the
same result.
Never in the writers' way: the day's record takes no lock a writer needs, and the stored
colours are refreshed beside it in short transactions of their own (`colour_writer`),
leaving alone every task a writer changed meanwhile.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from flask import current_app
from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from tracker import clock
from tracker.bulk import BulkUpdate, all_rows, analyze, insert_rows
from tracker.cutoff.models import (
    CutoffRun,
    MissedUpdate,
    RedTaskDay,
    TaskColourChange,
    UnitDayStat,
    change_rank,
    red_rank,
)
from tracker.cutoff.notify import notify_cutoff
from tracker.extensions import db
from tracker.fence import wait_for_writers
from tracker.rules.calendar import WorkCalendar
from tracker.rules.colours import Policy, TaskFacts, colour_key, task_colour, was_missed
from tracker.rules.store import ensure_rules_row, hold_rules, load_calendar, load_policy
from tracker.rules.units import UnitRow, roll_up, unit_colour, waits_to_count
from tracker.tasks.colour import colour_of, colour_writer, mark_colours, stored_values
from tracker.tasks.facts import FACTS, facts_at
from tracker.tasks.models import Task
from tracker.units.models import Unit
from tracker.updates.models import ProgressUpdate

BATCH = 5000
COUNTED = ("green", "yellow", "red", "done_on_time", "done_late", "open_within_deadline",
           "open_overdue", "missed")
MISSED_COLUMNS = ("day", "task_id", "unit_id")
HISTORY_COLUMNS = ("task_id", "day", "unit_id", "colour", "reason", "days", "previous_colour",
                   "code", "rank")
RED_COLUMNS = ("day", "task_id", "unit_id", "code", "reason", "days", "rank")


class CutoffRefused(Exception):
    """The day cannot be processed: not a working day, its cutoff has not passed, or an
    earlier day is still unprocessed (days are judged in date order)."""


@dataclass
class CutoffSummary:
    date: str
    tasks: int = 0
    missed: int = 0
    green: int = 0
    yellow: int = 0
    red: int = 0
    done_on_time: int = 0
    done_late: int = 0
    open_within_deadline: int = 0
    open_overdue: int = 0
    changed: int = 0
    already_processed: bool = False

    def public(self) -> dict:
        return asdict(self)


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


def _same_epoch(calendar: WorkCalendar, moment: datetime, now: datetime) -> bool:
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


def _judge_day(day: date, calendar: WorkCalendar, policy: Policy, summary: CutoffSummary,
               own: dict[int, Counter], now: datetime, recolour: BulkUpdate | None) -> None:
    """Judge every task as of the day's cutoff; with `recolour` (when `now` is in the same
    epoch), also refresh the stored colours in the same pass.

    A batch at a time, and overlapped: while one thread judges a batch (pure Python), this
    one writes the previous batch's rows (COPY on PostgreSQL, which waits on the server
    with the interpreter lock released) and reads the next. Every read and every row of the
    day's record goes through the session's connection, in its one transaction; the colours
    go through `recolour`, in transactions of their own."""
    moment = calendar.cutoff_moment(day)
    the = _Day(day, moment, now, calendar, policy, facts_at(moment), recolour is not None)

    def write(judged) -> None:
        missed_rows, history_rows, red_rows, recoloured = judged
        insert_rows(MissedUpdate.__table__, MISSED_COLUMNS, missed_rows)
        insert_rows(TaskColourChange.__table__, HISTORY_COLUMNS, history_rows)
        insert_rows(RedTaskDay.__table__, RED_COLUMNS, red_rows)
        if recolour is not None:
            recolour.add(recoloured)
        summary.changed += len(history_rows)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cutoff-judge") as judge:
        pending = None
        for inputs in _inputs(the):
            judging = judge.submit(_judge_batch, the, inputs, own)
            if pending is not None:
                write(pending.result())
            pending = judging
        if pending is not None:
            write(pending.result())


def _store_unit_stats(day: date, own: dict[int, Counter], summary: CutoffSummary) -> None:
    """Each unit's figures for the day: its own tasks' counts rolled up the tree by the
    roll-up the dashboard uses (`tracker.rules.units.roll_up`). A unit gets a row when its
    subtree has a task or a commune."""
    units = db.session.execute(select(Unit.id, Unit.parent_id, Unit.kind, Unit.depth)).all()
    subtree = roll_up((UnitRow(*unit) for unit in units), own)
    rows = []
    for unit_id, counts in subtree.items():
        if not counts["total"] and not counts["communes"]:
            continue
        rows.append({"unit_id": unit_id, "day": day, "colour": unit_colour(counts).value,
                     "total": counts["total"], "communes": counts["communes"],
                     "communes_green": counts["communes_green"],
                     "communes_none": counts["communes_none"],
                     "not_started": counts["not_started"],
                     "changes": counts["changes"],
                     "missed_own": own[unit_id]["missed"] if unit_id in own else 0,
                     **{name: counts[name] for name in COUNTED}})
    if rows:
        db.session.execute(insert(UnitDayStat), rows)
    totals = Counter()
    for counts in own.values():
        totals.update(counts)
    summary.tasks = totals["total"]
    for name in COUNTED:
        setattr(summary, name, totals[name])


def _clear_day(day: date) -> None:
    for model in (MissedUpdate, TaskColourChange, RedTaskDay, UnitDayStat):
        db.session.execute(delete(model).where(model.day == day))


def refuse_unless_passed(day: date, now: datetime) -> None:
    """Raise `CutoffRefused` unless `day` is a working day whose cutoff moment is past."""
    calendar = load_calendar()
    if not calendar.is_working_day(day):
        raise CutoffRefused(f"{day.isoformat()} is not a working day")
    if now <= calendar.cutoff_moment(day):
        raise CutoffRefused(f"the cutoff of {day.isoformat()} has not passed yet")


def _already(day: date) -> CutoffSummary:
    run = db.session.get(CutoffRun, day)
    return CutoffSummary(**{**json.loads(run.summary), "already_processed": True})


def run_cutoff(day: date, *, now: datetime, force: bool = False,
               wait_seconds: float = 30.0) -> CutoffSummary:
    """Process reporting day `day` once (see the module docstring). It runs in
    transactions of its own; what the caller had pending is committed first.

    Refused (`CutoffRefused`) for a day that is not a working day, whose cutoff moment is
    not yet past (a run *at* the moment could miss an update stamped at that instant), or
    before which a due day is still unprocessed. `wait_seconds` bounds the wait for writes
    stamped before the cutoff (`tracker.fence.wait_for_writers`)."""
    refuse_unless_passed(day, now)
    db.session.commit()
    if db.session.get(CutoffRun, day) is not None and not force:
        summary = _already(day)
        db.session.rollback()
        return summary
    earlier = [d for d in due_days(now) if d < day]
    if earlier:
        db.session.rollback()
        raise CutoffRefused("earlier days are not processed yet: " +
                            ", ".join(d.isoformat() for d in earlier))
    db.session.rollback()
    ensure_rules_row()
    wait_for_writers(now, timeout=wait_seconds)
    return _process(day, now, force)


def _process(day: date, now: datetime, force: bool) -> CutoffSummary:
    """The day's record, in one transaction (one snapshot on PostgreSQL, one set of rules),
    with the stored colours refreshed beside it when `now` is in the epoch the cutoff
    opened. A change to the calendar or the policy committed while it waited for the
    rules starts it again, on the rules as they now are."""
    for attempt in range(5):
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        try:
            hold_rules()
            break
        except OperationalError as exc:
            db.session.rollback()
            if getattr(exc.orig, "sqlstate", None) != "40001" or attempt == 4:
                raise  # not a serialization failure (or the rules keep changing)
    calendar, policy = load_calendar(), load_policy()  # as this snapshot holds them
    if not calendar.is_working_day(day):  # made a day off while the cutoff waited
        db.session.rollback()
        raise CutoffRefused(f"{day.isoformat()} is not a working day")
    started = clock.now()
    run = db.session.get(CutoffRun, day)
    if run is not None and not force:
        summary = _already(day)
        db.session.rollback()
        return summary
    if run is None:
        run = CutoffRun(day=day, started_at=started)
        db.session.add(run)
        try:
            db.session.flush()  # takes the day: a concurrent run waits here, then fails
        except IntegrityError:
            db.session.rollback()
            summary = _already(day)
            db.session.rollback()
            return summary
    else:
        _clear_day(day)
        run.runs += 1
        run.started_at = started

    moment = calendar.cutoff_moment(day)
    same_epoch = _same_epoch(calendar, moment, now)
    recolour = colour_writer(separately=True) if same_epoch else None
    summary = CutoffSummary(date=day.isoformat())
    own: dict[int, Counter] = defaultdict(Counter)
    try:
        _judge_day(day, calendar, policy, summary, own, now, recolour)
        if recolour is not None:
            recolour.apply()  # elsewhere than PostgreSQL: in this transaction
        _store_unit_stats(day, own, summary)
        analyze(MissedUpdate.__table__, TaskColourChange.__table__, RedTaskDay.__table__,
                UnitDayStat.__table__)
        run.finished_at = clock.now()
        run.summary = json.dumps(summary.public())
        if not force:
            notify_cutoff(day, summary, now=now)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        if recolour is not None:
            recolour.close()
    if same_epoch:
        mark_colours(calendar.epoch(now))
    return summary


def due_days(now: datetime, *, through: date | None = None) -> list[date]:
    """Working days whose cutoff moment is before `now` and that no run has processed, in
    date order, gaps included (a day processed by hand never hides an earlier one): from
    the reporting day of the first task ever assigned, but no further back than the last
    `TRACKER_CATCH_UP_DAYS` working days (31) — a scheduler back after a long absence does
    not hold today's cutoff up behind months of old days (`cutoff run --date` processes an
    older one by hand). `through` stops at that day."""
    calendar = load_calendar()
    first_task = db.session.scalar(select(func.min(Task.created_at)))
    if first_task is None:
        return []
    latest = calendar.last_cutoff_day(now)
    if calendar.cutoff_moment(latest) >= now:  # at the very moment: not yet past
        latest = calendar.previous_working_day(latest)
    window = latest
    for _ in range(current_app.config["TRACKER_CATCH_UP_DAYS"] - 1):
        window = calendar.previous_working_day(window)
    last = latest if through is None else min(latest, through)
    start = max(calendar.reporting_day(first_task), window)
    if start > last:
        return []
    done = set(db.session.scalars(select(CutoffRun.day).where(CutoffRun.day >= start,
                                                               CutoffRun.day <= last)))
    return [d for d in calendar.working_days(start, last) if d not in done]
