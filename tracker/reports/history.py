"""Questions answered from what each cutoff stored.

- the colour of task X on day D: its latest colour-history row on or before D;
- a unit's green-rate trend: its `unit_day_stats` rows, one per cutoff;
- the daily supervision report (báo cáo giám sát hằng ngày) for any past cutoff and any
  subtree: totals, the four categories, units ranked by green rate, units that missed
  updates, red tasks, what changed since the previous cutoff, and the kiến nghị counted
  (tracker.kiennghi.counts).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import or_, select

from tracker.cutoff.models import CutoffRun, RedTaskDay, TaskColourChange, UnitDayStat
from tracker.extensions import db
from tracker.forecast import stored
from tracker.kiennghi import counts
from tracker.rules.units import communes_share, green_rate, unit_colour
from tracker.rules.vietnamese import sort_key
from tracker.rules.vietnamese_sql import by_name
from tracker.tasks.models import Task
from tracker.units.models import Unit
from tracker.units.tree import path_within

SEVERITY = {"green": 0, "yellow": 1, "red": 2}
STREAM = 1000  # rows fetched at a time when a download reads a whole national day
CATEGORIES = ("done_on_time", "done_late", "open_within_deadline", "open_overdue")


def colour_on(task_id: int, day: date) -> TaskColourChange | None:
    """The task's colour as stored by the latest cutoff on or before `day`."""
    return db.session.scalar(
        select(TaskColourChange)
        .where(TaskColourChange.task_id == task_id, TaskColourChange.day <= day)
        .order_by(TaskColourChange.day.desc()).limit(1)
    )


def green_rate_trend(unit: Unit, end: date, days: int = 30) -> list[UnitDayStat]:
    """The unit's stats for each processed cutoff in the `days` days up to `end`."""
    return list(db.session.scalars(
        select(UnitDayStat)
        .where(UnitDayStat.unit_id == unit.id, UnitDayStat.day > end - timedelta(days=days),
               UnitDayStat.day <= end)
        .order_by(UnitDayStat.day)
    ))


def processed_days(limit: int = 60) -> list[date]:
    return list(db.session.scalars(
        select(CutoffRun.day).order_by(CutoffRun.day.desc()).limit(limit)))


def _within(unit: Unit):
    """The report's rows whose unit lies in `unit`'s subtree: a path prefix on the joined
    unit (an index range), never a list of thousands of ids."""
    return path_within(Unit.path, unit.path)


def red_tasks(unit: Unit, day: date, limit: int | None):
    """The subtree's tasks red at `day`'s cutoff, worst first (overdue longest, then the
    longest run of missed updates), as the cutoff wrote them: read in order from an index."""
    return db.session.execute(
        select(RedTaskDay.task_id, RedTaskDay.code, Task.title, Unit.name.label("unit"),
               Task.owner_name, RedTaskDay.reason, RedTaskDay.days)
        .join(Unit, Unit.id == RedTaskDay.unit_id)
        .join(Task, Task.id == RedTaskDay.task_id)
        .where(RedTaskDay.day == day, _within(unit))
        .order_by(RedTaskDay.rank, RedTaskDay.code).limit(limit)
        .execution_options(yield_per=STREAM)
    )


def colour_changes(unit: Unit, day: date, limit: int | None):
    """The subtree's colour changes at `day`'s cutoff (new tasks included): to red first,
    then the ones that had a colour before, then by code."""
    return db.session.execute(
        select(TaskColourChange.task_id, TaskColourChange.code, Task.title,
               Unit.name.label("unit"), TaskColourChange.previous_colour,
               TaskColourChange.colour, TaskColourChange.reason, TaskColourChange.days)
        .join(Unit, Unit.id == TaskColourChange.unit_id)
        .join(Task, Task.id == TaskColourChange.task_id)
        .where(TaskColourChange.day == day, _within(unit),
               or_(TaskColourChange.previous_colour.is_(None),
                   TaskColourChange.previous_colour != TaskColourChange.colour))
        .order_by(TaskColourChange.rank, TaskColourChange.code).limit(limit)
        .execution_options(yield_per=STREAM)
    )


def day_figures(unit: Unit, day: date) -> dict:
    """The figures of `day`'s cutoff for `unit`'s subtree, as the cutoff stored them in
    `unit_day_stats`: `totals` (colours, the four categories, green rate, communes),
    `units` (the units directly below with a task counted, ranked by green rate) and
    `idle_units` (the others, never ranked as if green); `stat` is the unit's row (None if
    it had nothing to count). One read of the unit's row and one of its children's."""
    stat = db.session.get(UnitDayStat, (unit.id, day))
    totals = {name: getattr(stat, name, 0) for name in
              ("total", "green", "yellow", "red", "missed", *CATEGORIES)}
    for name in ("not_started", "communes", "communes_green", "communes_none"):
        totals[name] = getattr(stat, name, 0)
    totals["green_rate"] = green_rate(totals)
    totals["colour"] = stat.colour if stat else unit_colour(totals).value
    totals["communes_share"] = communes_share(totals)

    children = db.session.execute(
        select(UnitDayStat, Unit).join(Unit, Unit.id == UnitDayStat.unit_id)
        .where(UnitDayStat.day == day, Unit.parent_id == unit.id)
    ).all()
    # Ranked: the units with a task counted in the green rate; the others are named apart
    # (chưa có nhiệm vụ), never ranked as if green.
    ranked = sorted(
        ({"unit_id": u.id, "unit": u.name, "colour": s.colour, "green_rate": s.green_rate,
          "total": s.total, "green": s.green, "yellow": s.yellow, "red": s.red,
          "not_started": s.not_started, "missed": s.missed}
         for s, u in children if s.green_rate is not None),
        key=lambda r: (-r["green_rate"], SEVERITY[r["colour"]], sort_key(r["unit"])),
    )
    idle = sorted(({"unit_id": u.id, "unit": u.name, "total": s.total,
                    "not_started": s.not_started}
                   for s, u in children if s.green_rate is None), key=lambda r: r["unit"])
    return {"stat": stat, "totals": totals, "units": ranked, "idle_units": idle}


def daily_report(unit: Unit, day: date, *, red_limit: int | None = 500) -> dict | None:
    """The supervision report of `day`'s cutoff for `unit`'s subtree; None if not run.

    Every part is read from what the cutoff stored for the day: the totals and counts from
    `unit_day_stats`, the red tasks and the changes (at most `red_limit` of each, None for
    all) in their order from an index, so a national report costs the same as a commune's.
    With `red_limit=None` (the downloads) those two are iterators that read the rows a
    thousand at a time as they are consumed, once, inside the request.
    """
    if db.session.get(CutoffRun, day) is None:
        return None
    figures = day_figures(unit, day)
    stat, totals = figures["stat"], figures["totals"]
    ranked, idle = figures["units"], figures["idle_units"]
    missed = db.session.execute(
        select(Unit.id, Unit.name, UnitDayStat.missed_own)
        .join(UnitDayStat, UnitDayStat.unit_id == Unit.id)
        .where(UnitDayStat.day == day, UnitDayStat.missed_own > 0, _within(unit))
        .order_by(UnitDayStat.missed_own.desc(), by_name(Unit.name), Unit.id)
    ).all()
    red = ({"task_id": r.task_id, "code": r.code, "title": r.title, "unit": r.unit,
            "owner": r.owner_name, "reason": r.reason, "days": r.days}
           for r in red_tasks(unit, day, red_limit))
    changes = ({"task_id": r.task_id, "code": r.code, "title": r.title, "unit": r.unit,
                "from": r.previous_colour, "to": r.colour, "reason": r.reason,
                "days": r.days}
               for r in colour_changes(unit, day, red_limit))
    if red_limit is not None:
        red, changes = list(red), list(changes)
    return {
        "date": day.isoformat(),
        "unit": {"id": unit.id, "name": unit.name},
        "totals": totals,
        "units": ranked,
        "idle_units": idle,
        "missed_units": [{"unit_id": i, "unit": n, "missed": c} for i, n, c in missed],
        "red_tasks": red,
        "red_total": stat.red if stat else 0,
        "changes": changes,
        "changes_total": stat.changes if stat else 0,
        # The early warning as of the day's cutoff, as stored after it (None: not stored).
        "likely_red": likely_red_on(unit, day),
        # The kiến nghị raised in the subtree or for it to answer, as the cutoff counted them.
        "recommendations": counts.day_figures(unit, day),
    }


def likely_red_on(unit: Unit, day: date) -> int | None:
    """How many tasks of the subtree the forecast stored for `day` judged likely to turn
    red; None when that day's forecast has not been computed (docs/forecast.md)."""
    as_of = stored.of_day(day)
    return stored.count_in(unit, as_of) if as_of is not None else None
