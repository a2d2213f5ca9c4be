"""Questions answered from what each cutoff stored.

- the colour of task X on day D: its latest colour-history row on or before D;
- a unit's green-rate trend: its `unit_day_stats` rows, one per cutoff;
- the daily supervision report (báo cáo giám sát hằng ngày) for any past cutoff and any
  subtree: totals, the four categories, units ranked by green rate, units that missed
  updates, red tasks and what changed since the previous cutoff.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, func, or_, select

from tracker.cutoff.models import CutoffRun, MissedUpdate, TaskColourChange, UnitDayStat
from tracker.extensions import db
from tracker.tasks.models import Task
from tracker.units.models import Unit
from tracker.units.tree import subtree_ids

SEVERITY = {"green": 0, "yellow": 1, "red": 2}
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


def _red_or_changed(day: date, unit: Unit):
    """Tasks of the subtree that were red as of `day`, or whose colour row is dated `day`:
    only those rows, and only the columns the report shows (never every task's object)."""
    latest = (
        select(TaskColourChange.task_id, func.max(TaskColourChange.day).label("day"))
        .where(TaskColourChange.day <= day,
               TaskColourChange.unit_id.in_(subtree_ids(unit)))
        .group_by(TaskColourChange.task_id).subquery()
    )
    return (
        select(TaskColourChange.colour, TaskColourChange.reason, TaskColourChange.days,
               TaskColourChange.previous_colour, TaskColourChange.day, Task.id, Task.code,
               Task.title, Task.owner_name, Unit.name.label("unit"))
        .join(latest, and_(TaskColourChange.task_id == latest.c.task_id,
                           TaskColourChange.day == latest.c.day))
        .join(Task, Task.id == TaskColourChange.task_id)
        .join(Unit, Unit.id == TaskColourChange.unit_id)
        .where(or_(TaskColourChange.colour == "red", TaskColourChange.day == day))
    )


def daily_report(unit: Unit, day: date, *, red_limit: int = 500) -> dict | None:
    """The supervision report of `day`'s cutoff for `unit`'s subtree; None if not run."""
    if db.session.get(CutoffRun, day) is None:
        return None
    stat = db.session.get(UnitDayStat, (unit.id, day))
    totals = {name: getattr(stat, name, 0) for name in
              ("total", "green", "yellow", "red", "missed", *CATEGORIES)}
    totals["green_rate"] = stat.green_rate if stat else 1.0
    totals["colour"] = stat.colour if stat else "green"
    totals["communes"] = stat.communes if stat else 0
    totals["communes_green"] = stat.communes_green if stat else 0

    children = db.session.execute(
        select(UnitDayStat, Unit).join(Unit, Unit.id == UnitDayStat.unit_id)
        .where(UnitDayStat.day == day, Unit.parent_id == unit.id)
    ).all()
    ranked = sorted(
        ({"unit_id": u.id, "unit": u.name, "colour": s.colour, "green_rate": s.green_rate,
          "total": s.total, "green": s.green, "yellow": s.yellow, "red": s.red,
          "missed": s.missed} for s, u in children if s.total),
        key=lambda r: (-r["green_rate"], SEVERITY[r["colour"]], r["unit"]),
    )
    missed = db.session.execute(
        select(Unit.id, Unit.name, func.count())
        .join(MissedUpdate, MissedUpdate.unit_id == Unit.id)
        .where(MissedUpdate.day == day, Unit.id.in_(subtree_ids(unit)))
        .group_by(Unit.id, Unit.name).order_by(func.count().desc(), Unit.name)
    ).all()
    rows = db.session.execute(_red_or_changed(day, unit)).all()
    red = sorted(
        ({"task_id": r.id, "code": r.code, "title": r.title, "unit": r.unit,
          "owner": r.owner_name, "reason": r.reason, "days": r.days}
         for r in rows if r.colour == "red"),
        key=lambda r: (r["reason"] != "overdue", -r["days"], r["code"]),
    )
    changes = [
        {"task_id": r.id, "code": r.code, "title": r.title, "unit": r.unit,
         "from": r.previous_colour, "to": r.colour, "reason": r.reason, "days": r.days}
        for r in rows if r.day == day and r.previous_colour != r.colour
    ]
    return {
        "date": day.isoformat(),
        "unit": {"id": unit.id, "name": unit.name},
        "totals": totals,
        "units": ranked,
        "missed_units": [{"unit_id": i, "unit": n, "missed": c} for i, n, c in missed],
        "red_tasks": red[:red_limit],
        "red_total": len(red),
        "changes": sorted(changes, key=lambda c: (c["to"] != "red", c["from"] is None,
                                                  c["code"]))[:red_limit],
        "changes_total": len(changes),
    }
