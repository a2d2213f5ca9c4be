"""The comparison of two cutoff days (so sánh hai ngày) for a subtree: what turned red, what
turned green, and which units directly below rose or fell in the ranking by green rate,
and by how much — as a page, as JSON and as an XLSX workbook.

All of it is what the two cutoffs recorded:

- turned red: the tasks in the later day's `red_task_days` and not in the earlier day's
  (the primary key (day, task_id) answers "was it red then?" with one index seek);
- turned green: from the subtree's colour-history rows between the two days alone — per
  task, its last row there is green and its first row's `previous_colour` (its colour at
  the earlier day) yellow or red;
- the ranking: the two days' `unit_day_stats` of the units below (`history.day_figures`).
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased

from tracker.bulk import sort_memory
from tracker.cutoff.models import CutoffRun, RedTaskDay, TaskColourChange
from tracker.extensions import db
from tracker.labels import reason_text, unit_colour_text
from tracker.reports.history import day_figures
from tracker.rules.store import load_calendar
from tracker.rules.vietnamese import sort_key
from tracker.tasks.models import Task
from tracker.units.models import Unit
from tracker.units.tree import subtree_ids
from tracker.xlsx import Percent, TableSheet, new_book

LIST_LIMIT = 200  # tasks listed of each change on the page and in the JSON (the XLSX: all)
SORT_MEMORY = "64MB"  # to hash and sort a national day's changes at once (tracker.bulk)


def _colour_at(task_id, day: date):
    """The task's colour as recorded by the latest cutoff on or before `day` (SQL)."""
    row = aliased(TaskColourChange)
    return (select(row.colour).where(row.task_id == task_id, row.day <= day)
            .order_by(row.day.desc()).limit(1).scalar_subquery())


def _turned_red(unit: Unit, before: date, after: date):
    """Red at `after`'s cutoff and not at `before`'s, worst first as the red list: the
    later day's red rows of the subtree's units, less those red at `before` too (one
    index-only probe each)."""
    earlier = aliased(RedTaskDay)
    return (
        select(RedTaskDay.task_id, RedTaskDay.code, RedTaskDay.unit_id, RedTaskDay.reason,
               RedTaskDay.days, RedTaskDay.rank)
        .where(RedTaskDay.day == after, RedTaskDay.unit_id.in_(subtree_ids(unit)),
               ~exists().where(earlier.day == before, earlier.task_id == RedTaskDay.task_id))
        .order_by(RedTaskDay.rank, RedTaskDay.code)
    )


def _not_cancelled_by(task_id, moment: datetime):
    """The task had not been cancelled by `moment` (the few cancelled tasks, from their
    partial index, hashed once: no seek per row)."""
    return task_id.not_in(select(Task.id).where(Task.cancelled_at.is_not(None),
                                                Task.cancelled_at <= moment))


def _turned_green(unit: Unit, before: date, after: date):
    """Green at `after`'s cutoff, yellow or red at `before`'s, by code; not cancelled by
    `after`'s cutoff.

    Read from the subtree's history rows between the two days alone, with no seek per
    task: a task's colour at `after` is its last row's there, and its colour at `before`
    is the `previous_colour` of its first row there (the cutoff wrote it from the task's
    latest row before that day, which is its latest on or before `before`). When no cutoff
    lies between the two days, a task has at most one row there, and that row says both."""
    moment = load_calendar().cutoff_moment(after)
    history = TaskColourChange
    in_span = (history.day > before, history.day <= after,
               history.unit_id.in_(subtree_ids(unit)), _not_cancelled_by(history.task_id, moment))
    between = db.session.scalar(select(exists().where(CutoffRun.day > before,
                                                      CutoffRun.day < after)))
    if not between:
        return (select(history.task_id, history.code, history.unit_id,
                       history.previous_colour.label("from_colour"))
                .where(*in_span, history.colour == "green",
                       history.previous_colour.in_(("yellow", "red")))
                .order_by(history.code, history.task_id))
    last = func.last_value(history.colour).over(
        partition_by=history.task_id, order_by=history.day,
        rows=(None, None)).label("last_colour")
    span = (select(history.task_id, history.code, history.unit_id,
                   func.first_value(history.previous_colour).over(
                       partition_by=history.task_id, order_by=history.day,
                       rows=(None, None)).label("from_colour"),
                   last,
                   func.row_number().over(partition_by=history.task_id,
                                          order_by=history.day).label("nth"))
            .where(*in_span).subquery())
    return (select(span.c.task_id, span.c.code, span.c.unit_id, span.c.from_colour)
            .where(span.c.nth == 1, span.c.last_colour == "green",
                   span.c.from_colour.in_(("yellow", "red")))
            .order_by(span.c.code, span.c.task_id))


def _listed(query, order: tuple[str, ...], limit: int | None,
            before: date | None = None) -> tuple[list, int]:
    """The query's rows (at most `limit`; None for all), each with its task's title, its
    unit's name and (given `before`) the task's colour at `before`, and how many there are
    in all, in one statement: the set is made once (a common table expression, hashed and
    sorted whole: a page of it cannot be found by an index, since the tasks that changed
    lie anywhere in the day's order), its count and its first `limit` rows in the query's
    order (`order`, by its columns' names) read from it, and the titles and names for the
    listed rows alone."""
    changed = query.order_by(None).cte("changed")
    page = select(changed).order_by(*(changed.c[name] for name in order),
                                    changed.c.task_id)
    page = (page if limit is None else page.limit(limit)).subquery()
    columns = [page, Task.title, Unit.name.label("unit"),
               select(func.count()).select_from(changed).scalar_subquery()
               .label("listed_total")]
    if before is not None:
        columns.append(_colour_at(page.c.task_id, before).label("from_colour"))
    rows = db.session.execute(
        select(*columns).join(Task, Task.id == page.c.task_id)
        .join(Unit, Unit.id == page.c.unit_id)
        .order_by(*(page.c[name] for name in order), page.c.task_id)).all()
    return rows, rows[0].listed_total if rows else 0


def _movement(before: dict, after: dict) -> list[dict]:
    """Each unit ranked on either day: its rank and green rate on both, how many places it
    rose (positive) or fell, and the change of its rate in points of percentage; those
    that rose most first, then those that fell least, then the units ranked on one day."""
    was = {r["unit_id"]: (rank, r) for rank, r in enumerate(before["units"], start=1)}
    now = {r["unit_id"]: (rank, r) for rank, r in enumerate(after["units"], start=1)}
    rows = []
    for unit_id in {*was, *now}:
        rank_a, row_a = was.get(unit_id, (None, None))
        rank_b, row_b = now.get(unit_id, (None, None))
        row = row_b or row_a
        rate_a = row_a["green_rate"] if row_a else None
        rate_b = row_b["green_rate"] if row_b else None
        rows.append({
            "unit_id": unit_id, "unit": row["unit"],
            "rank_before": rank_a, "rank_after": rank_b,
            "moved": rank_a - rank_b if rank_a and rank_b else None,
            "rate_before": rate_a, "rate_after": rate_b,
            "rate_change": round(100 * (rate_b - rate_a), 1)
            if rate_a is not None and rate_b is not None else None,
            "colour_before": row_a["colour"] if row_a else None,
            "colour_after": row_b["colour"] if row_b else None,
        })
    return sorted(rows, key=lambda r: (r["moved"] is None, -(r["moved"] or 0),
                                       r["rank_after"] or 10**9, sort_key(r["unit"])))


def compare(unit: Unit, before: date, after: date, *, limit: int | None = LIST_LIMIT) -> dict:
    """The comparison of `before`'s and `after`'s cutoffs (both processed, `before` the
    earlier) for `unit`'s subtree: both days' totals, the units' movement, and the tasks
    that turned red and turned green (at most `limit` of each; None for all) with their
    totals."""
    fig_a, fig_b = day_figures(unit, before), day_figures(unit, after)
    sort_memory(SORT_MEMORY)
    red, red_total = _listed(_turned_red(unit, before, after), ("rank", "code"), limit,
                              before)
    green, green_total = _listed(_turned_green(unit, before, after), ("code",), limit)
    totals = {}
    for name in ("total", "green", "yellow", "red", "green_rate", "done_on_time",
                 "done_late", "open_within_deadline", "open_overdue"):
        a, b = fig_a["totals"][name], fig_b["totals"][name]
        totals[name] = {"before": a, "after": b,
                        "change": (b - a) if a is not None and b is not None else None}
    return {
        "unit": {"id": unit.id, "name": unit.name},
        "before": before.isoformat(), "after": after.isoformat(),
        "totals": totals,
        "units": _movement(fig_a, fig_b),
        "turned_red": [{"task_id": r.task_id, "code": r.code, "title": r.title,
                        "unit": r.unit, "from": r.from_colour, "reason": r.reason,
                        "days": r.days} for r in red],
        "turned_red_total": red_total,
        "turned_green": [{"task_id": r.task_id, "code": r.code, "title": r.title,
                          "unit": r.unit, "from": r.from_colour}
                         for r in green],
        "turned_green_total": green_total,
    }


def _rate(value):
    return None if value is None else Percent(value)


def compare_xlsx(result: dict):
    """The comparison as a workbook: the totals, the units' movement, the tasks that
    turned red and those that turned green (typed cells; user text inert)."""
    book = new_book()
    before, after = (date.fromisoformat(result[k]) for k in ("before", "after"))
    above = [[_("Unit"), result["unit"]["name"]],
             [_("Comparison"), before, after], []]
    labels = {"total": _("Tasks"), "green": _("Green"), "yellow": _("Yellow"),
              "red": _("Red"), "green_rate": _("Green rate"),
              "done_on_time": _("Completed on time"), "done_late": _("Completed late"),
              "open_within_deadline": _("Not completed, within deadline"),
              "open_overdue": _("Not completed, overdue")}
    rows = []
    for name, label in labels.items():
        t = result["totals"][name]
        if name == "green_rate":
            change = t["change"]
            rows.append([label, _rate(t["before"]), _rate(t["after"]),
                         None if change is None else round(100 * change, 1)])
        else:
            rows.append([label, t["before"], t["after"], t["change"]])
    TableSheet(book, _("Totals"), ["", before, after, _("Difference")], rows,
               above=above).write()
    TableSheet(book, _("Units"), [
        _("Unit"), _("Rank on %(day)s", day=before.strftime("%d/%m/%Y")),
        _("Rank on %(day)s", day=after.strftime("%d/%m/%Y")), _("Places moved"),
        _("Green rate on %(day)s", day=before.strftime("%d/%m/%Y")),
        _("Green rate on %(day)s", day=after.strftime("%d/%m/%Y")),
        _("Change (points)"), _("Colour")],
        ([u["unit"], u["rank_before"], u["rank_after"], u["moved"],
          _rate(u["rate_before"]), _rate(u["rate_after"]), u["rate_change"],
          unit_colour_text(u["colour_after"])] for u in result["units"])).write()
    TableSheet(book, _("Turned red"), [
        _("Code"), _("Task"), _("Unit"), _("Before"), _("Reason")],
        ([r["code"], r["title"], r["unit"], unit_colour_text(r["from"]),
          reason_text(r["reason"], r["days"])] for r in result["turned_red"])).write()
    TableSheet(book, _("Turned green"), [_("Code"), _("Task"), _("Unit"), _("Before")],
               ([r["code"], r["title"], r["unit"], unit_colour_text(r["from"])]
                for r in result["turned_green"])).write()
    return book


