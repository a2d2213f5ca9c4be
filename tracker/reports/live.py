"""Live totals for a subtree, from the tasks' stored colours (the dashboard, the unit tree).

The cutoff stores each day's totals in `unit_day_stats`; between cutoffs the dashboard
counts the tasks as they stand now. One grouped query over the subtree's tasks gives each
unit's own counts, which are then rolled up the tree in Python (a subtree holds at most a
few thousand units), so a page costs one scan of the tasks in scope, not one per unit.

The four categories follow the colour rules (`tracker.rules.colours`): an open or
submitted task is overdue exactly when its stored first reason is "overdue"; a done task
was completed on time when its unit submitted it on or before the deadline's date in the
zone (submitted_at < deadline_end(deadline)).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Date, case, cast, func, select

from tracker.auth.models import User
from tracker.extensions import db
from tracker.tasks.models import Status, Task
from tracker.units.models import Unit, UnitKind
from tracker.units.tree import subtree, subtree_ids

COLOURS = ("green", "yellow", "red")
CATEGORIES = ("done_on_time", "done_late", "open_within_deadline", "open_overdue")


def _submitted_by_deadline(moment: datetime):
    """SQL: the task's submission fell on or before its deadline's date, in the zone."""
    zone = current_app.config["TRACKER_TIMEZONE"]
    if db.session.get_bind().dialect.name == "postgresql":
        local_day = cast(func.timezone(zone, Task.submitted_at), Date)
    else:
        # SQLite keeps naive UTC text; shift it by the zone's offset (Vietnam has no DST).
        offset = ZoneInfo(zone).utcoffset(moment.replace(tzinfo=None))
        minutes = int(offset.total_seconds() // 60) if offset else 0
        local_day = func.date(Task.submitted_at, f"{minutes:+d} minutes")
    return local_day <= Task.deadline


def _own_counts(root: Unit, moment: datetime) -> dict[int, Counter]:
    """Each unit's own counts (the tasks it leads), from one pass over the index
    ix_tasks_live_counts, which holds every column read here: grouped on its first two
    columns, so PostgreSQL streams the groups from the index alone, with few comparisons
    per task (a million of them at national scale)."""

    def count(condition):
        return func.count(case((condition, 1)))

    query = select(
        Task.lead_unit_id, Task.status, func.count(),
        *(count(Task.colour == colour) for colour in COLOURS),
        count(_submitted_by_deadline(moment)),  # read for done tasks only
        count(Task.colour_reason == "overdue"),
    ).group_by(Task.lead_unit_id, Task.status)
    if root.parent_id is not None:
        query = query.where(Task.lead_unit_id.in_(subtree_ids(root)))
    # else: a root's subtree is (nearly) every unit; the caller keeps only its units' rows,
    # which spares the semi-join over every task.
    own: dict[int, Counter] = defaultdict(Counter)
    for unit_id, status, n, green, yellow, red, on_time, overdue in db.session.execute(
            query).all():
        if status == Status.CANCELLED:
            continue  # cancelled tasks leave the counts
        counts = own[unit_id]
        counts["total"] += n
        counts["green"] += green
        counts["yellow"] += yellow
        counts["red"] += red
        if status == Status.DONE:
            counts["done_on_time"] += on_time
            counts["done_late"] += n - on_time
        else:
            counts["open_overdue"] += overdue
            counts["open_within_deadline"] += n - overdue
    return own


def rollup(root: Unit, moment: datetime, *, with_users: bool = False) -> dict[int, Counter]:
    """Subtree totals for `root` and every unit below it, keyed by unit id: total, each
    colour, each category, `units` (below it), `communes` and `communes_green`, and with
    `with_users` the number of `users` (active or not) and `active_users`."""
    units = db.session.execute(
        select(Unit.id, Unit.parent_id, Unit.kind, Unit.depth)
        .where(Unit.id.in_(subtree_ids(root)))
    ).all()
    own = _own_counts(root, moment)
    if with_users:
        for unit_id, active, n in db.session.execute(
            select(User.unit_id, User.active, func.count())
            .where(User.unit_id.in_(subtree_ids(root))).group_by(User.unit_id, User.active)
        ):
            own[unit_id]["users"] += n
            if active:
                own[unit_id]["active_users"] += n
    # Deepest first, so that each unit's totals are complete (its own counts plus its
    # children's totals) before they are added to its parent's, once per unit.
    totals: dict[int, Counter] = defaultdict(Counter)
    for unit in sorted(units, key=lambda u: u.depth, reverse=True):
        counts = totals[unit.id]
        if unit.id in own:
            counts.update(own[unit.id])
        if unit.kind == UnitKind.COMMUNE:
            counts["communes"] += 1
            counts["communes_green"] += int(not counts["red"] and not counts["yellow"])
        if unit.id != root.id:  # only units inside the root's subtree get totals
            parent = totals[unit.parent_id]
            parent.update(counts)
            parent["units"] += 1
    return totals


def colour_of_counts(counts: Counter) -> str:
    """A unit's colour: red if any task is red, yellow if any is yellow, else green."""
    if counts["red"]:
        return "red"
    if counts["yellow"]:
        return "yellow"
    return "green"


def green_rate(counts: Counter) -> float:
    """Share of the unit's (non-cancelled) tasks that are green; 1.0 with no tasks."""
    return counts["green"] / counts["total"] if counts["total"] else 1.0


def children_of(unit: Unit) -> list[Unit]:
    return list(db.session.scalars(
        select(Unit).where(Unit.parent_id == unit.id).order_by(Unit.name)))


def descendants(unit: Unit, kind: UnitKind | None = None) -> list[Unit]:
    query = subtree(unit).where(Unit.id != unit.id)
    if kind is not None:
        query = query.where(Unit.kind == kind)
    return list(db.session.scalars(query.order_by(Unit.depth, Unit.name)))
