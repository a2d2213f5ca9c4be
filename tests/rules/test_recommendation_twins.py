"""The kiến nghị colour rule's SQL twins (`tracker.rules.recommendations_sql`) select what
the Python rule says, over generated kiến nghị at moments across a fortnight, with a day
off and a make-up Saturday in the calendar — on SQLite and on PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from tracker.extensions import db
from tracker.kiennghi.colour import facts_of
from tracker.kiennghi.models import Recommendation
from tracker.rules import recommendations as rule
from tracker.rules import recommendations_sql as twin
from tracker.rules.calendar import WorkCalendar
from tracker.rules.colours import Policy

FIRST = date(2026, 10, 26)
CALENDAR = WorkCalendar(days_off={date(2026, 10, 30)}, makeup_days={date(2026, 10, 31)})


def _generated(users, units, rng: random.Random) -> list[Recommendation]:
    made = []
    for n in range(80):
        status = rng.choice(sorted(rule.STATUSES))
        due = FIRST + timedelta(days=rng.randrange(-3, 20)) \
            if status not in ("raised", "merged") or rng.random() < 0.3 else None
        if status not in ("raised", "merged") and due is None:
            due = FIRST
        answered = None
        if status in rule.ANSWERED:
            answered = CALENDAR.deadline_end(due) + timedelta(
                seconds=rng.choice((-1, 0, 1, -86400 * 2, 86400 * 3)))
        rec = Recommendation(
            code=f"KN-T-{n}", kind="obstacle", title="t", content="c", field="f",
            legal_basis="b", level_asked="province", raising_unit_id=units["co_to"].id,
            raised_by_id=users["co_to"].id, routing_unit_id=units["co_to"].id,
            status=status, response_due=due,
            response_due_end=CALENDAR.deadline_end(due) if due else None,
            answered_at=answered, asked_again=0)
        db.session.add(rec)
        made.append(rec)
    db.session.flush()
    return made


def test_the_colour_and_category_twins_agree_with_the_rule(users, units):
    rng = random.Random(18)
    recs = _generated(users, units, rng)
    for window in (0, 3):
        policy = Policy(warning_working_days=window)
        for _ in range(40):
            moment = datetime.combine(FIRST + timedelta(days=rng.randrange(16)), time(0),
                                      tzinfo=UTC) + timedelta(seconds=rng.randrange(86400))
            today = CALENDAR.local_date(moment)
            horizon = rule.warning_horizon(today, CALENDAR, policy)
            t = Recommendation
            rows = dict(db.session.execute(select(t.id, twin.colour(t.status, t.response_due,
                                                                    today, horizon))).all())
            categories = dict(db.session.execute(select(t.id, twin.category(
                t.status, t.response_due, t.answered_at, t.response_due_end, today))).all())
            overdue = set(db.session.scalars(select(t.id).where(
                twin.overdue(t.status, t.response_due, today))))
            for rec in recs:
                result = rule.recommendation_colour(facts_of(rec), CALENDAR, policy, moment)
                expected = result.colour.value if result.colour else None
                assert rows[rec.id] == expected, (rec.status, rec.response_due, moment)
                assert categories[rec.id] == (result.category.value if result.category
                                              else None), (rec.status, moment)
                assert (rec.id in overdue) == rule.is_overdue(facts_of(rec), CALENDAR,
                                                              moment)
