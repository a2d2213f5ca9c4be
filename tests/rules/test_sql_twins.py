"""Each rule's SQL twin (`tracker.rules.sql`) selects exactly the tasks its Python rule
(`tracker.rules.colours`) says yes to: over a generated set of tasks, on every day and
moment of a fortnight, under calendars with a day off, a make-up Saturday and a zone that
changes its clocks — on SQLite and on PostgreSQL (the `app` fixture runs both)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import insert, select

from tests.factories import make_task
from tracker.extensions import db
from tracker.rules import colours
from tracker.rules import sql as rules_sql
from tracker.rules.calendar import WorkCalendar
from tracker.tasks.colour import facts_of
from tracker.tasks.models import Task

STATUSES = ("not_started", "in_progress", "returned", "submitted", "done", "cancelled")
FIRST = date(2026, 10, 26)  # a Monday; the fortnight crosses New York's change of clocks
DAYS = [FIRST + timedelta(days=n) for n in range(16)]
CALENDARS = {
    "vietnam": WorkCalendar(),
    "day off and make-up Saturday": WorkCalendar(days_off={date(2026, 10, 30)},
                                                 makeup_days={date(2026, 10, 31)}),
    "new york, 17:30": WorkCalendar(cutoff_time=time(17, 30), zone="America/New_York"),
}


def _moment(rng: random.Random) -> datetime:
    """A moment in the fortnight, often near a midnight or a cutoff of some zone."""
    day = rng.choice(DAYS)
    base = datetime.combine(day, time(0), tzinfo=UTC)
    special = [timedelta(hours=h) for h in (0, 4, 9, 17, 21, 22)]  # midnights, cutoffs
    offset = rng.choice(special) + timedelta(seconds=rng.choice((-1, 0, 1))) \
        if rng.random() < 0.5 else timedelta(seconds=rng.randrange(86400))
    return base + offset


@pytest.fixture
def tasks(app, users, units):
    """160 tasks with every combination of facts the rules look at, set straight on the
    rows (the services would refuse many of them: the rules must hold for any row): one
    made through the service, the rest copies of its row with other facts."""
    rng = random.Random(20261129)
    model = make_task(users["admin"], units["ha_long"])
    row = {c.key: getattr(model, c.key) for c in Task.__table__.columns if c.key != "id"}
    rows = []
    for n in range(160):
        status = STATUSES[n % len(STATUSES)]
        start = rng.choice(DAYS) - timedelta(days=rng.randrange(0, 10))
        deadline = start + timedelta(days=rng.randrange(0, 14))
        submitted = _moment(rng) if status in ("submitted", "done") or rng.random() < 0.2 \
            else None
        last = _moment(rng) if rng.random() < 0.8 else None
        rows.append({**row, "code": f"{model.code}-{n}", "status": status,
                     "start_date": start, "deadline": deadline, "duty_since": _moment(rng),
                     "submitted_at": submitted, "last_update_at": last})
    db.session.execute(insert(Task), rows)
    db.session.commit()
    return list(db.session.scalars(select(Task)))


def _selected(condition) -> set[int]:
    return set(db.session.scalars(select(Task.id).where(condition)))


def _moments() -> list[datetime]:
    rng = random.Random(7)
    return sorted({_moment(rng) for _ in range(40)})


@pytest.mark.parametrize("name", CALENDARS)
def test_owes_update_twin(tasks, name):
    calendar = CALENDARS[name]
    for day in DAYS:
        expected = {t.id for t in tasks if colours.is_required(facts_of(t), calendar, day)}
        assert _selected(rules_sql.owes_update(Task, calendar, day)) == expected, day


@pytest.mark.parametrize("name", CALENDARS)
def test_reported_in_window_twin(tasks, name):
    calendar = CALENDARS[name]
    for day in (d for d in DAYS if calendar.is_working_day(d)):
        expected = {t.id for t in tasks
                    if colours.reported_in_window(t.last_update_at, calendar, day)}
        assert _selected(rules_sql.reported_in_window(Task, calendar, day)) == expected, day


@pytest.mark.parametrize("name", CALENDARS)
def test_still_owes_twin(tasks, name):
    calendar = CALENDARS[name]
    for day in DAYS:
        expected = {t.id for t in tasks
                    if colours.still_owes(facts_of(t), t.last_update_at, calendar, day)}
        assert _selected(rules_sql.still_owes(Task, calendar, day)) == expected, day


@pytest.mark.parametrize("name", CALENDARS)
def test_submitted_in_time_twin(tasks, name):
    calendar = CALENDARS[name]
    expected = {t.id for t in tasks if t.submitted_at is not None
                and colours.submitted_in_time(facts_of(t), calendar)}
    assert _selected(rules_sql.submitted_in_time(Task, calendar)) == expected


@pytest.mark.parametrize("name", CALENDARS)
def test_is_overdue_twin(tasks, name):
    calendar = CALENDARS[name]
    for moment in _moments():
        expected = {t.id for t in tasks if colours.is_overdue(facts_of(t), calendar, moment)}
        assert _selected(rules_sql.is_overdue(Task, calendar, moment)) == expected, moment


# The statuses a query may already keep (the task list's filter): the open ones, one of
# them, the submitted one, both kinds, a closed one, and all.
AMONG = (tuple(sorted(colours.OPEN_STATUSES)), ("returned",), ("submitted",),
         ("in_progress", "submitted"), ("done",), STATUSES)


@pytest.mark.parametrize("among", AMONG, ids="+".join)
@pytest.mark.parametrize("name", CALENDARS)
def test_is_overdue_twin_among_the_statuses_a_query_keeps(tasks, name, among):
    """Narrowed to the statuses a query keeps already, the twin still selects, among
    them, exactly the tasks the rule says are overdue."""
    calendar = CALENDARS[name]
    kept = Task.status.in_(among)
    overdue = not_overdue = 0  # the comparisons mean something: both answers are reached
    for moment in _moments():
        expected = {t.id for t in tasks
                    if t.status in among and colours.is_overdue(facts_of(t), calendar, moment)}
        chosen = rules_sql.is_overdue(Task, calendar, moment, among=among)
        assert _selected(kept & chosen) == expected, moment
        rest = {t.id for t in tasks if t.status in among} - expected
        assert _selected(kept & ~chosen) == rest, moment
        overdue, not_overdue = overdue + len(expected), not_overdue + len(rest)
    assert not_overdue and (overdue or among == ("done",))


def test_the_generated_tasks_reach_every_answer(tasks):
    """The set is varied enough for the comparisons above to mean something: each rule
    says yes to some tasks and no to others."""
    calendar = CALENDARS["vietnam"]
    day, moment = date(2026, 11, 4), datetime(2026, 11, 4, 9, tzinfo=UTC)
    for rule in (lambda t: colours.is_required(facts_of(t), calendar, day),
                 lambda t: colours.still_owes(facts_of(t), t.last_update_at, calendar, day),
                 lambda t: colours.is_overdue(facts_of(t), calendar, moment),
                 lambda t: colours.submitted_in_time(facts_of(t), calendar)
                 if t.submitted_at else False):
        answers = {bool(rule(t)) for t in tasks}
        assert answers == {True, False}
