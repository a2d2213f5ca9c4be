"""Live totals for a subtree, from the tasks' stored colours (the dashboard, the unit tree).

The cutoff stores each day's totals in `unit_day_stats`; between cutoffs the dashboard
reads each unit's own counts as they stand now — kept as the tasks change
(`tracker.tasks.counts`), so a page costs a few thousand rows whatever the number of
tasks — and rolls them up the tree in Python (a subtree holds at most a few thousand units).

The four categories are the colour rules' (`tracker.rules.colours.category`): done on
time through the rule's SQL twin (the counts' `in_time`), overdue as the stored colour's
first reason, which the rules make "overdue" exactly when the task is overdue (kept equal
to the rules by `tracker colours check`, and the kept counts to the tasks by `tracker
counts check`). The roll-up and the
unit's colour are the ones the cutoff stores (`tracker.rules.units`), so the dashboard at
a cutoff moment shows what the cutoff recorded (tests/rules/test_rollup_agrees.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import func, select

from tracker.auth.models import User
from tracker.extensions import db
from tracker.rules.units import UnitRow, roll_up, waits_to_count
from tracker.rules.vietnamese_sql import by_name
from tracker.tasks import counts
from tracker.tasks.models import Status
from tracker.units.models import Unit, UnitKind
from tracker.units.tree import subtree, subtree_ids

COLOURS = ("green", "yellow", "red")
CATEGORIES = ("done_on_time", "done_late", "open_within_deadline", "open_overdue")


def _own_counts(root: Unit) -> dict[int, Counter]:
    """Each unit's own counts (the tasks it leads), from the counts kept as the tasks
    change (tracker.tasks.counts): one row per unit and status, whatever the number of
    tasks — a few thousand rows for the nation."""
    unit_ids = None if root.parent_id is None else subtree_ids(root)
    # (a root's subtree is every unit; the caller keeps only its units' rows.)
    own: dict[int, Counter] = defaultdict(Counter)
    for unit_id, status, n, green, yellow, red, on_time, overdue in counts.kept(unit_ids):
        if status == Status.CANCELLED:
            continue  # cancelled tasks leave the counts
        unit = own[unit_id]
        unit["total"] += n
        unit["green"] += green
        unit["yellow"] += yellow
        unit["red"] += red
        if waits_to_count(status, "green"):  # the group's green tasks wait to count
            unit["not_started"] += green
        if status == Status.DONE:
            unit["done_on_time"] += on_time
            unit["done_late"] += n - on_time
        else:
            # Overdue is the first reason the rules give whenever it holds (rules.colours).
            unit["open_overdue"] += overdue
            unit["open_within_deadline"] += n - overdue
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
