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
from dataclasses import asdict, dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from tracker import clock, signals
from tracker.bulk import analyze
from tracker.cutoff.judge import judge_day, same_epoch
from tracker.cutoff.models import (
    CutoffRun,
    MissedUpdate,
    RedTaskDay,
    TaskColourChange,
    UnitDayStat,
)
from tracker.cutoff.notify import notify_cutoff
from tracker.extensions import db
from tracker.fence import wait_for_writers
from tracker.rules.store import ensure_rules_row, hold_rules, load_calendar, load_policy
from tracker.rules.units import UnitRow, roll_up, unit_colour
from tracker.tasks.colour import colour_writer, mark_colours
from tracker.tasks.models import Task
from tracker.units.models import Unit

COUNTED = ("green", "yellow", "red", "done_on_time", "done_late", "open_within_deadline",
           "open_overdue", "missed")


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
    in_epoch = same_epoch(calendar, moment, now)
    recolour = colour_writer(separately=True) if in_epoch else None
    summary = CutoffSummary(date=day.isoformat())
    own: dict[int, Counter] = defaultdict(Counter)
    try:
        summary.changed = judge_day(day, calendar, policy, own, now, recolour)
        if recolour is not None:
            recolour.apply()  # elsewhere than PostgreSQL: in this transaction
        _store_unit_stats(day, own, summary)
        analyze(MissedUpdate.__table__, TaskColourChange.__table__, RedTaskDay.__table__,
                UnitDayStat.__table__)
        run.finished_at = clock.now()
        run.summary = json.dumps(summary.public())
        if not force:
            notify_cutoff(day, summary, now=now)
        signals.cutoff_done.send(day, summary=summary.public(), now=now, rerun=force)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        if recolour is not None:
            recolour.close()
    if in_epoch:
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
