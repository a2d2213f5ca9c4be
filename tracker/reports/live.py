"""Live totals for a subtree, from the tasks' stored colours (the dashboard, the unit tree).

The cutoff stores each day's totals in `unit_day_stats`; between cutoffs the dashboard
counts the tasks as they stand now. One grouped query over the subtree's tasks gives each
unit's own counts, which are then rolled up the tree in Python (a subtree holds at most a
few thousand units), so a page costs one scan of the tasks in scope, not one per unit.

The four categories are the colour rules' (`tracker.rules.colours.category`): done on
time through the rule's SQL twin (`tracker.rules.sql.submitted_in_time`), overdue as the
stored colour's first reason, which the rules make "overdue" exactly when the task is
overdue (kept equal to the rules by `tracker colours check`). The roll-up and the
unit's colour are the ones the cutoff stores (`tracker.rules.units`), so the dashboard at
a cutoff moment shows what the cutoff recorded (tests/rules/test_rollup_agrees.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import case, func, select

from tracker.auth.models import User
from tracker.extensions import db
from tracker.rules import sql as rules_sql
from tracker.rules.colours import ReasonCode
from tracker.rules.store import load_calendar
from tracker.rules.units import UnitRow, roll_up, waits_to_count
from tracker.rules.vietnamese_sql import by_name
from tracker.tasks.models import Status, Task
from tracker.units.models import Unit, UnitKind
from tracker.units.tree import subtree, subtree_ids

COLOURS = ("green", "yellow", "red")
CATEGORIES = ("done_on_time", "done_late", "open_within_deadline", "open_overdue")


def _own_counts(root: Unit) -> dict[int, Counter]:
    """Each unit's own counts (the tasks it leads), from one pass over the index
    ix_tasks_live_counts, which holds every column read here: grouped on its first two
    columns, so PostgreSQL streams the groups from the index alone, with few comparisons
    per task (a million of them at national scale)."""
    calendar = load_calendar()

    def count(condition):
        return func.count(case((condition, 1)))

    query = select(
        Task.lead_unit_id, Task.status, func.count(),
        *(count(Task.colour == colour) for colour in COLOURS),
        count(rules_sql.submitted_in_time(Task, calendar)),  # read for done tasks only
        # Overdue is the first reason the rules give whenever it holds (rules.colours):
        # the stored verdict, one comparison per task on the hottest query.
        count(Task.colour_reason == ReasonCode.OVERDUE.value),
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
        if waits_to_count(status, "green"):  # the group's green tasks wait to count
            counts["not_started"] += green
        if status == Status.DONE:
            counts["done_on_time"] += on_time
            counts["done_late"] += n - on_time
        else:
            counts["open_overdue"] += overdue
            counts["open_within_deadline"] += n - overdue
    return own


def rollup(root: Unit, *, with_users: bool = False) -> dict[int, Counter]:
    """Subtree totals for `root` and every unit below it, keyed by unit id: total, each
    colour, `not_started` (not started and still green: outside the green rate), each
    category, `units` (below it), `communes`, `communes_green` and `communes_none`, and with
    `with_users` the number of `users` (active or not) and `active_users`. The counts are
    the stored colours', fresh for the current epoch (`tracker.tasks.colour`)."""
    units = db.session.execute(
        select(Unit.id, Unit.parent_id, Unit.kind, Unit.depth)
        .where(Unit.id.in_(subtree_ids(root)))
    ).all()
    own = _own_counts(root)
    if with_users:
        for unit_id, active, n in db.session.execute(
            select(User.unit_id, User.active, func.count())
            .where(User.unit_id.in_(subtree_ids(root))).group_by(User.unit_id, User.active)
        ):
            own[unit_id]["users"] += n
            if active:
                own[unit_id]["active_users"] += n
    return roll_up((UnitRow(*unit) for unit in units), own)


def children_of(unit: Unit) -> list[Unit]:
    return list(db.session.scalars(
        select(Unit).where(Unit.parent_id == unit.id).order_by(by_name(Unit.name), Unit.id)))


def descendants(unit: Unit, kind: UnitKind | None = None) -> list[Unit]:
    query = subtree(unit).where(Unit.id != unit.id)
    if kind is not None:
        query = query.where(Unit.kind == kind)
    return list(db.session.scalars(query.order_by(Unit.depth, by_name(Unit.name), Unit.id)))
