"""Any day as it stood at 16:00 (issue 16, items 3 and 5): the dashboard, the drill-down to
tasks and the red queue of a past cutoff, and each unit's green streak and movement.

The past is what the cutoff recorded, never today's tasks judged again:

- the figures of a unit and of the units below it: `unit_day_stats` (one row per unit per
  cutoff, read by its primary key (unit_id, day) and by day);
- a task's colour on day D: its latest `task_colour_history` row on or before D; a page of
  a subtree's tasks reads the day's red list for the red ones and, for the others, the
  history of the one or two units the page falls in (found from the day's stored counts),
  through ix_task_colour_history_unit_day (unit_id, day) — never a scan of every task;
- the red queue of day D: `red_task_days`, already in the queue's order (rank, code);
- a green streak (chuỗi ngày xanh): the cutoffs in a row, up to D, at which the unit's
  stored colour was green; the movement of the week: the change of its green rate since
  the last cutoff a week or more before.

A task cancelled after D is still shown at D; one cancelled by D's cutoff is not (its
`cancelled_at`, which the cutoff's own judgement also goes by).
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from tracker.cutoff.models import CutoffRun, RedTaskDay, TaskColourChange, UnitDayStat
from tracker.dates import parse_date
from tracker.errors import InvalidInput
from tracker.extensions import db
from tracker.paging import PER_PAGE, Page
from tracker.rules.store import load_calendar
from tracker.rules.vietnamese import sort_key
from tracker.rules.vietnamese_sql import by_name
from tracker.tasks.models import Task
from tracker.units.models import Unit
from tracker.units.tree import path_within

COLOURS = ("green", "yellow", "red")
MOVERS = 5  # units named among the most improved, and among the most declined
WEEK = timedelta(days=7)


# --- the day asked for ----------------------------------------------------------------


def cutoff_day(text: str | date | None, field: str, today: date) -> date:
    """The processed cutoff day a user picked, from the picker (yyyy-mm-dd), a typed
    dd/mm/yyyy or the API; refused naming `field` (422) when it is no date, a day still
    to come, or a day whose cutoff was not processed (a day off, or before the first)."""
    day = parse_date(text)
    if day is None:
        message = _("Not a valid date (dd/mm/yyyy).")
    elif day > today:
        message = _("This day has not come yet: choose a past cutoff day.")
    elif db.session.get(CutoffRun, day) is None:
        message = _("No 16:00 cutoff was processed on %(day)s (a day off, or before the "
                    "first cutoff): choose a cutoff day.", day=day.strftime("%d/%m/%Y"))
    else:
        return day
    raise InvalidInput(_("Some fields are not valid."), {field: [message]})


def cutoff_days(up_to: date, limit: int = 400) -> list[date]:
    """The processed cutoff days up to `up_to`, latest first (the picker's choices)."""
    return list(db.session.scalars(
        select(CutoffRun.day).where(CutoffRun.day <= up_to)
        .order_by(CutoffRun.day.desc()).limit(limit)))


def latest_cutoff(up_to: date) -> date | None:
    days = cutoff_days(up_to, limit=1)
    return days[0] if days else None


def default_pair(today: date) -> tuple[date, date] | None:
    """The two days compared when none is chosen: the latest cutoff and the last one a
    week or more before it (the latest twice when there is none so old); None before the
    first cutoff."""
    latest = latest_cutoff(today)
    if latest is None:
        return None
    return latest_cutoff(latest - WEEK) or latest, latest


# --- streaks and movement -------------------------------------------------------------


def green_streaks(unit_ids: list[int], day: date) -> dict[int, int]:
    """For each unit, the cutoffs in a row up to and including `day` at which its stored
    colour was green (0 if it was not green at `day`). A cutoff at which the unit had no
    row (nothing to count) breaks the run as any other colour does.

    Per unit, the latest cutoff up to `day` that was not green is found from the latest
    end (an index seek per cutoff until the first break); the run is then the number of
    cutoffs after it, counted from the days themselves."""
    if not unit_ids:
        return {}
    green_that_day = exists().where(UnitDayStat.unit_id == Unit.id,
                                    UnitDayStat.day == CutoffRun.day,
                                    UnitDayStat.colour == "green"
                                    ).correlate_except(UnitDayStat)
    last_break = (select(CutoffRun.day)
                  .where(CutoffRun.day <= day, ~green_that_day)
                  .order_by(CutoffRun.day.desc()).limit(1)
                  .correlate(Unit).scalar_subquery())
    breaks = dict(db.session.execute(
        select(Unit.id, last_break).where(Unit.id.in_(unit_ids))).all())
    known = [b for b in breaks.values() if b is not None]
    since = min(known) if len(known) == len(breaks) else None
    query = select(CutoffRun.day).where(CutoffRun.day <= day).order_by(CutoffRun.day)
    if since is not None:
        query = query.where(CutoffRun.day > since)
    days = list(db.session.scalars(query))
    return {unit_id: len(days) - (bisect_right(days, brk) if brk is not None else 0)
            for unit_id, brk in breaks.items()}


def week_movement(unit: Unit, day: date, limit: int = MOVERS) -> dict:
    """The units directly below `unit` whose green rate rose most and fell most from the
    last cutoff a week or more before `day` (`since`) to `day`: each row the unit, both
    rates and the change in points of percentage. Units without a rate on either day are
    left out; None for `since` when no cutoff is that old."""
    since = latest_cutoff(day - WEEK)
    if since is None:
        return {"since": None, "improved": [], "declined": []}
    rows = db.session.execute(
        select(UnitDayStat, Unit).join(Unit, Unit.id == UnitDayStat.unit_id)
        .where(Unit.parent_id == unit.id, UnitDayStat.day.in_((since, day)))
    ).all()
    rates: dict[int, dict] = {}
    for stat, child in rows:
        rates.setdefault(child.id, {"unit_id": child.id, "unit": child.name})[
            "now" if stat.day == day else "before"] = stat.green_rate
    moves = [dict(r, change=round(100 * (r["now"] - r["before"]), 1))
             for r in rates.values()
             if r.get("now") is not None and r.get("before") is not None]
    improved = sorted((m for m in moves if m["change"] > 0),
                      key=lambda m: (-m["change"], sort_key(m["unit"])))[:limit]
    declined = sorted((m for m in moves if m["change"] < 0),
                      key=lambda m: (m["change"], sort_key(m["unit"])))[:limit]
    return {"since": since, "improved": improved, "declined": declined}


# --- the tasks of a past day ----------------------------------------------------------


def _own_counts(unit: Unit, day: date) -> list[tuple[int, dict[str, int]]]:
    """Each unit of the subtree, in Vietnamese order of the name, with the number of tasks
    it led itself of each colour at `day`'s cutoff: its stored subtree totals less its
    children's (units with nothing to count have no row and count 0)."""
    rows = db.session.execute(
        select(Unit.id, Unit.parent_id, UnitDayStat.green, UnitDayStat.yellow,
               UnitDayStat.red)
        .join(UnitDayStat, and_(UnitDayStat.unit_id == Unit.id, UnitDayStat.day == day))
        .where(path_within(Unit.path, unit.path)).order_by(by_name(Unit.name), Unit.id)
    ).all()
    own = {r.id: dict(zip(COLOURS, (r.green, r.yellow, r.red), strict=True)) for r in rows}
    for r in rows:
        if r.id != unit.id and r.parent_id in own:
            for c, n in zip(COLOURS, (r.green, r.yellow, r.red), strict=True):
                own[r.parent_id][c] -= n
    return [(r.id, own[r.id]) for r in rows]


def _unit_rows(unit_id: int, day: date, colour: str, offset: int, limit: int):
    """(task id, reason) of one unit's tasks of `colour` at `day`'s cutoff, by code: per
    task its latest colour-history row on or before the day, read through
    ix_task_colour_history_unit_day; tasks cancelled by that cutoff left out."""
    later = aliased(TaskColourChange)
    moment = load_calendar().cutoff_moment(day)
    return db.session.execute(
        select(TaskColourChange.task_id, TaskColourChange.reason)
        .join(Task, Task.id == TaskColourChange.task_id)
        .where(TaskColourChange.unit_id == unit_id, TaskColourChange.day <= day,
               TaskColourChange.colour == colour,
               ~exists().where(later.task_id == TaskColourChange.task_id,
                               later.day > TaskColourChange.day, later.day <= day),
               or_(Task.cancelled_at.is_(None), Task.cancelled_at > moment))
        .order_by(TaskColourChange.code, TaskColourChange.task_id)
        .offset(offset).limit(limit)
    ).all()


def tasks_on(unit: Unit, day: date, colour: str, page: int) -> Page:
    """A page of the subtree's tasks with their colour, reason and days at `day`'s cutoff,
    worst first: the red ones in the red queue's order, then the yellow, then the green
    ones, unit by unit (in Vietnamese order of the name) and by code; optionally of one
    colour. Items are (task, colour, reason, days).

    The counts are the day's stored figures, so a page reads only the rows it shows: the
    red ones from the day's red list, the others from the colour history of the one or two
    units the page falls in — never the whole subtree's history.

    A history row is written when a task's colour or reason changes, so its `days` are
    those of the day it changed: a red task's days at `day` come from that day's red list
    (exact); a yellow "deadline soon" has no count that day (None: not recorded); a missed
    update is always one day."""
    stat = db.session.get(UnitDayStat, (unit.id, day))
    colours = [colour] if colour in COLOURS else ["red", "yellow", "green"]
    sizes = {c: getattr(stat, c, 0) for c in colours}
    total = sum(sizes.values())
    offset = (page - 1) * PER_PAGE  # into the current colour's part of the list
    found: list[tuple[int, str, str | None, int | None]] = []
    units = None
    for c in colours:
        need = PER_PAGE - len(found)
        if need <= 0:
            break
        if offset >= sizes[c]:
            offset -= sizes[c]
            continue
        if c == "red":
            rows = db.session.execute(
                select(RedTaskDay.task_id, RedTaskDay.reason, RedTaskDay.days)
                .join(Unit, Unit.id == RedTaskDay.unit_id)
                .where(RedTaskDay.day == day, path_within(Unit.path, unit.path))
                .order_by(RedTaskDay.rank, RedTaskDay.code).offset(offset).limit(need)
            ).all()
            found += [(i, c, reason, days) for i, reason, days in rows]
        else:
            units = units if units is not None else _own_counts(unit, day)
            for unit_id, counts in units:
                need = PER_PAGE - len(found)
                if need <= 0:
                    break
                if offset >= counts[c]:
                    offset -= counts[c]
                    continue
                rows = _unit_rows(unit_id, day, c, offset, need)
                found += [(i, c, reason, 1 if reason == "missed_update" else None)
                          for i, reason in rows]
                offset = 0
        offset = 0
    tasks = {t.id: t for t in db.session.scalars(
        select(Task).where(Task.id.in_([r[0] for r in found])))}
    items = [(tasks[i], c, reason, days) for i, c, reason, days in found if i in tasks]
    return Page(items=items, page=page, per_page=PER_PAGE, total=total)


# --- the red queue of a past day ------------------------------------------------------


def red_counts_on(scope: Unit, day: date) -> list:
    """(unit id, name, path, reason, red tasks) for each unit of the scope that led red
    tasks at `day`'s cutoff, in Vietnamese order of the name: grouped from the day's rows
    of `red_task_days` (ix_red_task_days_day_unit)."""
    counts = (
        select(RedTaskDay.unit_id, RedTaskDay.reason, func.count().label("n"))
        .where(RedTaskDay.day == day).group_by(RedTaskDay.unit_id, RedTaskDay.reason)
        .subquery()
    )
    return db.session.execute(
        select(Unit.id, Unit.name, Unit.path, counts.c.reason, counts.c.n)
        .join(counts, counts.c.unit_id == Unit.id)
        .where(path_within(Unit.path, scope.path))
        .order_by(by_name(Unit.name), Unit.id)
    ).all()


def red_queue_on(unit: Unit, day: date, reason: str, page: int, total: int) -> Page:
    """A page of the tasks red at `day`'s cutoff in `unit`'s subtree, in the queue's order
    as the cutoff wrote it (overdue longest first, then the longest run of missed
    updates); items are (task, reason, days) as of that cutoff. `total` is known from
    `red_counts_on`."""
    query = (
        select(RedTaskDay.task_id, RedTaskDay.reason, RedTaskDay.days)
        .join(Unit, Unit.id == RedTaskDay.unit_id)
        .where(RedTaskDay.day == day, path_within(Unit.path, unit.path))
        .order_by(RedTaskDay.rank, RedTaskDay.code)
    )
    if reason:
        query = query.where(RedTaskDay.reason == reason)
    offset = (page - 1) * PER_PAGE
    found = db.session.execute(query.limit(PER_PAGE).offset(offset)).all() if offset < total else []
    tasks = {t.id: t for t in db.session.scalars(
        select(Task).where(Task.id.in_([r[0] for r in found])))}
    return Page(items=[(tasks[i], r, d) for i, r, d in found if i in tasks], page=page,
                per_page=PER_PAGE, total=total)

