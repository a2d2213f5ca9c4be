"""The kiến nghị's counts (tracker.kiennghi.counts) — stored at a cutoff for the daily
report, and live for the dashboard — are the Python rule's (`rules.recommendations.
category`) counted over the same generated kiến nghị, in total, by field and by
responsible unit, within a unit's subtree; on SQLite and on PostgreSQL."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from tests.factories import cutoff_through, ict, make_department
from tracker.extensions import db
from tracker.kiennghi import counts
from tracker.kiennghi.colour import facts_of
from tracker.kiennghi.models import Recommendation
from tracker.rules import recommendations as rule
from tracker.rules.store import load_calendar

DAY = date(2026, 11, 18)  # a Wednesday
FIELDS = ("Tài sản công", "Đất đai", "Ân sinh xã hội")


@pytest.fixture
def generated(users, units):
    """120 kiến nghị of two communes, raised over the fortnight before DAY and just after
    its cutoff, in every status, answerable by a department, the province or a commune."""
    department = make_department(units["province"], "Sở Tài chính")
    db.session.commit()
    calendar = load_calendar()
    rng = random.Random(1118)
    answerers = (department, units["province"], units["co_to"], units["ha_long"])
    raisers = {"co_to": units["co_to"], "ha_long": units["ha_long"]}
    for n in range(120):
        who = rng.choice(sorted(raisers))
        status = rng.choice(sorted(rule.STATUSES))
        raised_at = ict(2026, 11, 4, 8, 0) + timedelta(minutes=rng.randrange(15 * 24 * 60))
        routed = status not in ("raised", "merged")
        due = DAY + timedelta(days=rng.randrange(-6, 6)) if routed else None
        answered = None
        if status in rule.ANSWERED:
            answered = calendar.deadline_end(due) + timedelta(
                seconds=rng.choice((-1, 0, 1, -86400 * 2, 86400)))
        db.session.add(Recommendation(
            code=f"KN-T-{n}", kind="recommendation", title="t", content="c",
            field=rng.choice(FIELDS), legal_basis="b", level_asked="province",
            raising_unit_id=raisers[who].id, raised_by_id=users[who].id, raised_at=raised_at,
            routing_unit_id=raisers[who].id, status=status, response_due=due,
            response_due_end=calendar.deadline_end(due) if due else None,
            responsible_unit_id=rng.choice(answerers).id if routed else None,
            answered_at=answered, asked_again=0, updated_at=raised_at))
    db.session.commit()
    return department


def expected(unit, moment: datetime) -> dict:
    """The figures by the Python rule: each kiến nghị raised by `moment` that `unit`'s
    subtree raised or must answer, judged at `moment`."""
    calendar = load_calendar()
    today = calendar.local_date(moment)
    rows = []
    for rec in db.session.scalars(db.select(Recommendation)):
        inside = rec.raising_unit.is_within(unit) or (
            rec.responsible_unit is not None and rec.responsible_unit.is_within(unit))
        if rec.raised_at > moment or not inside:
            continue
        category = rule.category(facts_of(rec), calendar, moment)
        rows.append((rec.field, rec.responsible_unit_id,
                     rec.responsible_unit.name if rec.responsible_unit else None,
                     category.value if category else "merged", 1,
                     int(calendar.local_date(rec.raised_at) == today)))
    return counts.figures(rows)


def test_the_cutoffs_stored_counts_are_the_rules_at_its_moment(units, generated):
    cutoff_through(DAY, ict(2026, 11, 18, 17, 0))
    db.session.commit()
    moment = load_calendar().cutoff_moment(DAY)
    for unit in (units["nation"], units["province"], units["co_to"], generated):
        stored = counts.day_figures(unit, DAY)
        assert stored == expected(unit, moment), unit.name
    nation = counts.day_figures(units["nation"], DAY)
    # Not a tautology of `figures`: every category turns up, the totals add up, and the
    # kiến nghị raised after the cutoff are left out.
    by_rule = Counter()
    for rec in db.session.scalars(db.select(Recommendation)):
        if rec.raised_at <= moment:
            category = rule.category(facts_of(rec), load_calendar(), moment)
            by_rule[category.value if category else "merged"] += 1
    assert all(by_rule[c] > 0 for c in (*counts.CATEGORIES, counts.MERGED))
    assert {c: nation["totals"][c] for c in by_rule} == dict(by_rule)
    assert nation["totals"]["received"] == sum(by_rule.values()) < 120
    assert 0 < nation["totals"]["received_today"] < nation["totals"]["received"]


def test_the_live_counts_are_the_rules_at_any_moment(units, generated):
    rng = random.Random(7)
    for _ in range(6):
        moment = ict(2026, 11, 10, 0, 0) + timedelta(minutes=rng.randrange(12 * 24 * 60))
        for unit in (units["nation"], units["ha_long"], generated):
            assert counts.live_figures(unit, moment) == expected(unit, moment), (moment, unit)
