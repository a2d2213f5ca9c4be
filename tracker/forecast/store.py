"""The day's forecast, stored once (docs/forecast.md, "Stored once a day").

After a day's cutoff has committed, `run_forecast(day)` forecasts every task as of that
cutoff — with `forecast.asof.forecasts_at`, the function the evaluation and the replay use —
and stores one `TaskForecast` row per task judged likely. It runs apart from the cutoff's
transaction (whose national budget is a minute), in batches of `BATCH` task ids, each
batch in one transaction that replaces that range's rows, so memory stays bounded and a
batch half written is never seen. The day is marked finished (`ForecastDay.finished_at`)
only after its last batch: until then the readers read the previous finished day.
Recomputing a day gives the same rows: everything is read as of its cutoff moment.

The active scheduler calls `forecast_due` after each look at the backlog
(`tracker.cutoff.scheduler.KeepUp`); `tracker forecast run --date D` and the demo call
`run_forecast`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from sqlalchemy import delete, func, insert, select

from tracker import clock
from tracker.bulk import sort_memory
from tracker.cutoff.models import CutoffRun
from tracker.extensions import db
from tracker.forecast.asof import forecasts_at
from tracker.forecast.models import ForecastDay, TaskForecast, encode_signs
from tracker.rules.forecast import horizon_end
from tracker.rules.store import load_calendar
from tracker.tasks.models import Task

log = logging.getLogger("tracker.forecast")

BATCH = 20_000  # task ids per batch (one transaction, one bounded set in memory)
WORK_MEM = "64MB"  # PostgreSQL's, for each batch's transaction (below)
RECENT = 5  # the scheduler computes the missing forecasts of the last few cutoff days


class ForecastRefused(Exception):
    """The day cannot be forecast: its cutoff has not been processed."""


def run_forecast(day: date, *, keep_going: Callable[[], bool] = lambda: True,
                 batch: int = BATCH) -> ForecastDay | None:
    """Compute and store `day`'s forecast as of its cutoff, replacing any stored before.
    Returns the finished day, or None when `keep_going()` said stop between two batches
    (the day stays unfinished and unread; the next run starts it again)."""
    run = db.session.get(CutoffRun, day)
    if run is None or run.finished_at is None:
        db.session.rollback()
        raise ForecastRefused(f"the cutoff of {day.isoformat()} has not been processed")
    calendar = load_calendar()
    record = db.session.get(ForecastDay, day)
    if record is None:
        record = ForecastDay(day=day)
        db.session.add(record)
    record.horizon_end = horizon_end(calendar, calendar.cutoff_moment(day))
    record.started_at, record.finished_at, record.likely = clock.now(), None, 0
    top = db.session.scalar(select(func.max(Task.id))) or 0
    db.session.commit()
    likely, low = 0, 0
    while True:
        if not keep_going():
            db.session.rollback()
            log.info("forecast of %s paused after task id %s", day, low)
            return None
        last = low + batch >= top  # the last batch takes every id above, however many
        likely += _store_batch(day, low, None if last else low + batch)
        low += batch
        if last:
            break
    record = db.session.get(ForecastDay, day)
    record.finished_at, record.likely = clock.now(), likely
    db.session.commit()
    log.info("forecast of %s stored: %s task(s) likely to turn red", day, likely)
    return record


def _store_batch(day: date, low: int, high: int | None) -> int:
    """Forecast the tasks whose id is in (low, high] (above low, if high is None) and
    replace their stored rows, in one transaction; the number of rows stored. The day's
    row is locked first, so that two runs of one day (the scheduler's and one by hand)
    replace a batch one after the other, never both at once."""
    db.session.get(ForecastDay, day, with_for_update=True, populate_existing=True)
    # Enough memory to hash the record's missed days (a national fortnight: ~400,000 rows)
    # instead of rescanning them for every task; this transaction only.
    sort_memory(WORK_MEM)
    tasks = select(Task).where(Task.id > low)
    stale = delete(TaskForecast).where(TaskForecast.day == day, TaskForecast.task_id > low)
    if high is not None:
        tasks = tasks.where(Task.id <= high)
        stale = stale.where(TaskForecast.task_id <= high)
    rows = [{"day": day, "task_id": j.state.id, "lead_unit_id": j.unit_id,
             "deadline": j.deadline, "risk": j.forecast.risk,
             "signs": encode_signs(j.forecast.signs)}
            for j in forecasts_at(tasks, day) if j.forecast.likely]
    db.session.execute(stale)
    if rows:
        db.session.execute(insert(TaskForecast), rows)
    db.session.commit()
    return len(rows)


def days_to_forecast() -> list[date]:
    """The processed cutoff days among the last `RECENT` whose forecast is not stored,
    newest first (the dashboard wants the latest)."""
    recent = list(db.session.scalars(
        select(CutoffRun.day).where(CutoffRun.finished_at.is_not(None))
        .order_by(CutoffRun.day.desc()).limit(RECENT)))
    if not recent:
        return []
    done = set(db.session.scalars(select(ForecastDay.day).where(
        ForecastDay.day.in_(recent), ForecastDay.finished_at.is_not(None))))
    return [d for d in recent if d not in done]


def forecast_due(keep_going: Callable[[], bool] = lambda: True) -> date | None:
    """Store the forecast of the newest processed cutoff day still without one (one day a
    call, so that a cutoff falling due waits at most one batch); the day stored, if any."""
    days = days_to_forecast()
    db.session.rollback()
    if not days:
        return None
    return days[0] if run_forecast(days[0], keep_going=keep_going) is not None else None
