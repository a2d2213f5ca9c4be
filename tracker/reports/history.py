"""Questions answered from what each cutoff stored.

- the colour of task X on day D: its latest colour-history row on or before D;
- a unit's green-rate trend: its `unit_day_stats` rows, one per cutoff;
- the daily supervision report (báo cáo giám sát hằng ngày) for any past cutoff and any
  subtree: totals, the four categories, units ranked by green rate, units that missed
  updates, red tasks and what changed since the previous cutoff.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, func, select

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


def _colours_on(day: date, unit: Unit):
    """(task id, colour, reason, days, previous colour, row day) as of `day`, in the subtree."""
    latest = (
        select(TaskColourChange.task_id, func.max(TaskColourChange.day).label("day"))
        .where(TaskColourChange.day <= day,
               TaskColourChange.unit_id.in_(subtree_ids(unit)))
        .group_by(TaskColourChange.task_id).subquery()
    )
    return (
        select(TaskColourChange, Task, Unit)
        .join(latest, and_(TaskColourChange.task_id == latest.c.task_id,
                           TaskColourChange.day == latest.c.day))
        .join(Task, Task.id == TaskColourChange.task_id)
        .join(Unit, Unit.id == TaskColourChange.unit_id)
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
    rows = db.session.execute(_colours_on(day, unit)).all()
    red = sorted(
        ({"task_id": t.id, "code": t.code, "title": t.title, "unit": u.name,
          "owner": t.owner_name, "reason": h.reason, "days": h.days}
         for h, t, u in rows if h.colour == "red"),
        key=lambda r: (r["reason"] != "overdue", -r["days"], r["code"]),
    )
    changes = [
        {"task_id": t.id, "code": t.code, "title": t.title, "unit": u.name,
         "from": h.previous_colour, "to": h.colour, "reason": h.reason, "days": h.days}
        for h, t, u in rows if h.day == day and h.previous_colour != h.colour
    ]
    return {
        "date": day.isoformat(),
        "unit": {"id": unit.id, "name": unit.name},
        "totals": totals,
        "units": ranked,
        "missed_units": [{"unit_id": i, "unit": n, "missed": c} for i, n, c in missed],
        "red_tasks": red[:red_limit],
        "red_total": len(red),
        "changes": sorted(changes, key=lambda c: (c["to"] != "red", c["code"])),
    }
