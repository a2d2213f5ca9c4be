"""Kiến nghị counted (issue 18, "Counted"): received, answered on time, answered late, not
answered within the deadline, overdue — in total, by field (lĩnh vực) and by responsible
unit (đơn vị đầu mối) — for a unit's subtree.

Two sources, one rule: the daily supervision report reads what its day's cutoff stored
(`store_day`, connected to `tracker.signals.cutoff_done`, so a past report keeps its
figures), the dashboard counts the kiến nghị as they stand now (`live_figures`). Both
judge each kiến nghị with the category's SQL twin (`tracker.rules.recommendations_sql.
category`; tests/rules/test_recommendation_counts.py proves the counts equal to the Python
rule's). A unit's subtree holds a kiến nghị raised in it or one it must answer — the scope
rule's `visible_recommendations`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import Select, case, delete, func, insert, literal, or_, select

from tracker import signals
from tracker.extensions import db
from tracker.kiennghi.models import Recommendation, RecommendationDayCount
from tracker.rules import recommendations_sql as twin
from tracker.rules.store import load_calendar
from tracker.rules.vietnamese import sort_key
from tracker.units.models import Unit
from tracker.units.tree import subtree_ids

# The categories of the rule (tracker.rules.recommendations.RecommendationCategory), and
# "merged" for a duplicate: it was received, but the one it joined is counted.
CATEGORIES = ("answered_on_time", "answered_late", "pending", "overdue")
MERGED = "merged"
COUNTS = ("received", "received_today", *CATEGORIES, MERGED)

log = logging.getLogger(__name__)


def _category(today: date):
    rec = Recommendation
    return func.coalesce(twin.category(rec.status, rec.response_due, rec.answered_at,
                                       rec.response_due_end, today), literal(MERGED))


def _day_start(day: date) -> datetime:
    """00:00 of `day` in the zone: when the previous day's deadlines ended."""
    return load_calendar().deadline_end(day - timedelta(days=1))


def judged(today: date, until: datetime, *where) -> Select:
    """Every kiến nghị raised up to `until` (and matching `where`), judged on `today` and
    counted by raising unit, responsible unit, field and category: (raising_unit_id,
    responsible_unit_id, field, category, received, received_today)."""
    rec = Recommendation
    each = select(rec.raising_unit_id, rec.responsible_unit_id, rec.field,
                  _category(today).label("category"),
                  case((rec.raised_at >= _day_start(today), 1), else_=0).label("new")
                  ).where(rec.raised_at <= until, *where).subquery()
    keys = (each.c.raising_unit_id, each.c.responsible_unit_id, each.c.field,
            each.c.category)
    return (select(*keys, func.count().label("received"),
                   func.sum(each.c.new).label("received_today")).group_by(*keys))


def store_day(day: date, **_kwargs) -> None:
    """Store the kiến nghị's counts of reporting day `day`, judged at its cutoff moment (a
    rerun replaces them). A receiver of `cutoff_done`: it runs in the cutoff's transaction,
    in a savepoint — a fault here is logged and the day's tasks are still processed (a
    cutoff that failed on it would fail again every time, and hold up every day after it;
    `tracker cutoff run --date D --force` stores them again once mended). The kiến nghị
    are read as they stand when the cutoff runs — on time, just after the cutoff moment."""
    try:
        with db.session.begin_nested():
            _store(day)
    except Exception:
        log.exception("the kiến nghị counts of %s were not stored", day)


def _store(day: date) -> None:
    db.session.execute(delete(RecommendationDayCount).where(RecommendationDayCount.day == day))
    query = judged(day, load_calendar().cutoff_moment(day)).subquery()
    db.session.execute(insert(RecommendationDayCount).from_select(
        ["day", "raising_unit_id", "responsible_unit_id", "field", "category", "received",
         "received_today"],
        select(literal(day, type_=RecommendationDayCount.day.type), query.c.raising_unit_id,
               query.c.responsible_unit_id, query.c.field, query.c.category, query.c.received,
               query.c.received_today)))


def connect() -> None:
    """Store each cutoff's kiến nghị counts in its transaction (idempotent)."""
    signals.cutoff_done.connect(store_day)


def _in_subtree(raising, responsible, unit: Unit):
    units = subtree_ids(unit)
    return or_(raising.in_(units), responsible.in_(units))


def _empty() -> dict:
    return dict.fromkeys(COUNTS, 0)


def figures(rows) -> dict:
    """The figures of grouped rows (field, responsible unit id, its name, category,
    received, received_today): `totals`, `by_field` (in Vietnamese alphabetical order) and
    `by_unit` (the responsible units, most overdue first; a merged kiến nghị or one not
    routed yet has none and is counted in the totals and by field only)."""
    totals, fields = _empty(), defaultdict(_empty)
    units: dict[int, dict] = {}
    for field, unit_id, unit_name, category, received, received_today in rows:
        groups = [totals, fields[field]]
        if unit_id is not None and category != MERGED:
            groups.append(units.setdefault(unit_id, {"unit_id": unit_id, "unit": unit_name,
                                                     **_empty()}))
        for group in groups:
            group["received"] += received
            group["received_today"] += received_today or 0
            group[category] += received
    return {
        "totals": totals,
        "by_field": [{"field": name, **counts} for name, counts in
                     sorted(fields.items(), key=lambda item: sort_key(item[0]))],
        "by_unit": sorted(units.values(), key=lambda u: (-u["overdue"], -u["pending"],
                                                         sort_key(u["unit"]), u["unit_id"])),
    }


def day_figures(unit: Unit, day: date) -> dict:
    """What `day`'s cutoff stored for `unit`'s subtree."""
    count = RecommendationDayCount
    rows = db.session.execute(
        select(count.field, count.responsible_unit_id, Unit.name, count.category,
               func.sum(count.received), func.sum(count.received_today))
        .outerjoin(Unit, Unit.id == count.responsible_unit_id)
        .where(count.day == day,
               _in_subtree(count.raising_unit_id, count.responsible_unit_id, unit))
        .group_by(count.field, count.responsible_unit_id, Unit.name, count.category))
    return figures((f, u, n, c, int(r), int(t or 0)) for f, u, n, c, r, t in rows)


def live_figures(unit: Unit, moment: datetime) -> dict:
    """The kiến nghị of `unit`'s subtree as they stand at `moment` (the dashboard)."""
    query = judged(load_calendar().local_date(moment), moment, _in_subtree(
        Recommendation.raising_unit_id, Recommendation.responsible_unit_id, unit)).subquery()
    rows = db.session.execute(
        select(query.c.field, query.c.responsible_unit_id, Unit.name, query.c.category,
               func.sum(query.c.received), func.sum(query.c.received_today))
        .outerjoin(Unit, Unit.id == query.c.responsible_unit_id)
        .group_by(query.c.field, query.c.responsible_unit_id, Unit.name, query.c.category))
    return figures((f, u, n, c, int(r), int(t or 0)) for f, u, n, c, r, t in rows)
