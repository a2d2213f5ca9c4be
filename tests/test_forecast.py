"""The early warning proved against history (issue 16, item 2), and its loader.

`tracker forecast evaluate` replays the demo's month: the forecast must beat the baseline
("deadline within 3 working days") on both precision and recall. The loader reads the
returns and the history as known at a moment, and the service's candidates hold every
task the forecast can call likely.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.factories import ict, make_task
from tracker.extensions import db
from tracker.forecast.evaluate import NATIONAL, beats_baseline, evaluate, likely_at, replay
from tracker.forecast.loader import TaskState, load_histories
from tracker.forecast.service import candidates, count_in, forecast_tasks
from tracker.rules.colours import TaskFacts
from tracker.rules.store import load_calendar
from tracker.tasks.lifecycle import (
    decide_extension,
    request_extension,
    return_completion,
    submit_completion,
)
from tracker.tasks.models import Task
from tracker.updates.service import post_update

PASSWORD = "demo password 2026"


@pytest.fixture
def demo(app, monkeypatch):
    monkeypatch.setenv("TRACKER_DEMO_PASSWORD", PASSWORD)
    result = app.test_cli_runner().invoke(args=["tracker", "demo"])
    assert result.exit_code == 0, result.output
    db.session.rollback()


def test_on_the_demos_history_the_forecast_beats_the_baseline(app, demo, clock):
    result = evaluate(date(2026, 10, 1), date(2026, 11, 18))
    assert len(result.days) >= 15  # every cutoff whose three next days are judged
    national = result.areas[NATIONAL]
    assert national.turned_red >= 20  # deadlines passed and units gone silent
    assert beats_baseline(national), (national.forecast, national.baseline)
    assert beats_baseline(result.areas["Quảng Ninh"])
    # Run as the command, it prints the same figures.
    out = app.test_cli_runner().invoke(args=["tracker", "forecast", "evaluate",
                                             "--from", "2026-10-01", "--to", "2026-11-18"])
    assert out.exit_code == 0, out.output
    line = next(ln for ln in out.output.splitlines() if ln.startswith("national"))
    assert line.endswith("yes")
    assert f"{100 * national.forecast.recall:.1f} %" in line

    # Every task the forecast calls likely is among the candidates the pages read.
    moment = clock()
    every = forecast_tasks(select(Task.id), moment)
    likely = {w.task.id for w in every if w.forecast.likely}
    assert likely, "the demo has tasks about to turn red today"
    picked = set(db.session.scalars(candidates(select(Task), load_calendar(), moment)))
    assert likely <= picked


def test_a_cutoff_day_whose_horizon_is_not_yet_judged_is_not_scored(app, demo):
    result = evaluate(date(2026, 11, 13), date(2026, 11, 18))
    assert result.days == []  # 13/11's horizon reaches 18/11, whose cutoff is to come


def test_the_loader_counts_the_returns_known_at_the_moment(app, users, units):
    member, supervisor = users["ha_long"], users["supervisor"]
    task = make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 2, 9, 0))
    post_update(member, task, {"progress": 40, "work_done": "Đã làm"},
                now=ict(2026, 11, 3, 10, 0))
    for day in (4, 9):
        submit_completion(member, task, result="Xong", now=ict(2026, 11, day, 11, 0))
        return_completion(supervisor, task, note="Bổ sung", now=ict(2026, 11, day + 1, 9, 0))
    post_update(member, task, {"progress": 70, "work_done": "Đã bổ sung"},
                now=ict(2026, 11, 12, 10, 0))
    db.session.commit()

    def history(moment):
        facts = TaskFacts(status="returned", start_date=task.start_date,
                          deadline=task.deadline, duty_since=task.duty_since)
        state = TaskState(task.id, task.created_at, facts, str(task.status))
        ids = select(Task.id).where(Task.id == task.id)
        return load_histories([state], ids, load_calendar(), moment)[task.id]

    assert history(ict(2026, 11, 13, 16, 0)).returns == 2
    earlier = history(ict(2026, 11, 6, 16, 0))
    assert earlier.returns == 1
    assert earlier.progress == 40  # the update of the 12th was not known yet
    assert history(ict(2026, 11, 13, 16, 0)).progress == 70


def test_a_past_day_is_replayed_with_the_facts_it_had_then(app, users, units, clock):
    """Due Thursday 19/11 at the cutoff of Tuesday 17/11 (its horizon: 18, 19, 20/11), the
    task was likely red; its deadline moved to 31/12 since, which the replay must not see —
    nor the refusal of a first request, decided after that cutoff."""
    member, supervisor = users["ha_long"], users["supervisor"]
    task = make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 9, 9, 0),
                     deadline="2026-11-19")
    for day in (10, 11, 12, 13, 16, 17):
        post_update(member, task, {"progress": 2 * day, "work_done": "Đã làm"},
                    now=ict(2026, 11, day, 10, 0))
    first = request_extension(member, task, new_deadline="2026-12-31", reason="Nhiều hồ sơ",
                              now=ict(2026, 11, 17, 11, 0))
    decide_extension(supervisor, first, approve=False, note="Chưa đủ căn cứ",
                     now=ict(2026, 11, 18, 8, 0))
    again = request_extension(member, task, new_deadline="2026-12-31", reason="Bổ sung căn cứ",
                              now=ict(2026, 11, 18, 8, 30))
    decide_extension(supervisor, again, approve=True, note=None, now=ict(2026, 11, 18, 9, 0))
    db.session.commit()

    assert likely_at(units["province"], date(2026, 11, 17)) == 1
    assert count_in(units["province"], clock()) == 0  # as it stands now: due 31/12
    cases = replay(select(Task), date(2026, 11, 17))
    assert [(c.task_id, c.predicted, c.guessed) for c in cases] == [(task.id, True, True)]
    state = TaskState(task.id, task.created_at, TaskFacts(
        status="in_progress", start_date=task.start_date, deadline=task.deadline,
        duty_since=task.duty_since), "in_progress")
    ids = select(Task.id).where(Task.id == task.id)
    calendar = load_calendar()
    then = load_histories([state], ids, calendar, calendar.cutoff_moment(date(2026, 11, 17)))
    assert then[task.id].rejections == 0
    assert load_histories([state], ids, calendar, clock())[task.id].rejections == 1


def test_the_loader_reads_many_tasks_in_the_same_few_queries(app, users, units, clock):
    from sqlalchemy import event

    member = users["ha_long"]
    tasks = [make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 9, 9, 0))
             for _ in range(12)]
    for task in tasks:
        post_update(member, task, {"progress": 10, "work_done": "Đã làm"},
                    now=ict(2026, 11, 10, 10, 0))
    db.session.commit()

    def statements(some):
        seen = []

        def count(*_args):
            seen.append(1)
        states = [TaskState(t.id, t.created_at, TaskFacts(
            status="in_progress", start_date=t.start_date, deadline=t.deadline,
            duty_since=t.duty_since), "in_progress") for t in some]
        ids = select(Task.id).where(Task.id.in_([t.id for t in some]))
        calendar = load_calendar()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            found = load_histories(states, ids, calendar, clock())
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert all(found[t.id].progress == 10 for t in some)
        return len(seen)

    assert statements(tasks[:2]) == statements(tasks) == 5
