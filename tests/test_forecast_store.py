"""The stored forecast (issue 16 items 1 and 3): each day's forecast stored once after its
cutoff, by the same function the evaluation replays, and read by the dashboard, the list
and the daily report — what the live forecast said at that cutoff, every day of a seeded
history, however the tasks changed since; recomputed the same; read within scope.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import login
from tests.factories import cutoff_through, ict, make_task, make_user
from tracker.extensions import db
from tracker.forecast import stored
from tracker.forecast.evaluate import likely_at
from tracker.forecast.models import ForecastDay, TaskForecast, decode_signs
from tracker.forecast.service import candidates, forecast_tasks
from tracker.forecast.store import (
    ForecastRefused,
    days_to_forecast,
    forecast_due,
    run_forecast,
)
from tracker.rules.store import load_calendar
from tracker.tasks.editing import update_task
from tracker.tasks.lifecycle import submit_completion
from tracker.tasks.models import Task
from tracker.updates.service import post_update

DAYS = [date(2026, 11, d) for d in (9, 10, 11, 12, 13, 16, 17)]


def _live(moment):
    """The live forecast (the pages' function) of every task likely at `moment`."""
    ids = candidates(select(Task), load_calendar(), moment)
    return {w.task.id: (w.task.lead_unit_id, w.forecast.risk, w.forecast.signs)
            for w in forecast_tasks(ids, moment) if w.forecast.likely}


def _stored(day):
    return {r.task_id: (r.lead_unit_id, r.risk, decode_signs(r.signs))
            for r in db.session.scalars(select(TaskForecast).where(TaskForecast.day == day))}


@pytest.fixture
def history(app, users, units, clock):
    """Two weeks of work in four communes: tasks due on different days, units that report
    every day, every other day, or stop; each day's cutoff run as it comes, and the live
    forecast noted right after it."""
    admin = users["admin"]
    communes = [units["ha_long"], units["co_to"], units["bai_chay"], units["van_don"]]
    tasks = []
    for i, unit in enumerate(communes):
        for j, deadline in enumerate(("2026-11-12", "2026-11-16", "2026-11-19",
                                      "2026-11-20", "2026-12-31")):
            tasks.append(make_task(admin, unit, at=ict(2026, 11, 6, 9, 0),
                                   title=f"Việc {i}-{j}", deadline=deadline))
    member = {units["ha_long"].id: users["ha_long"], units["co_to"].id: users["co_to"],
              units["bai_chay"].id: make_user("bai_chay", "member", units["bai_chay"]),
              units["van_don"].id: make_user("van_don", "member", units["van_don"])}
    db.session.commit()
    live = {}
    for n, day in enumerate(DAYS):
        for k, task in enumerate(tasks):
            # Steady, every other day, or silent from the 12th; progress at 6 %/day.
            if k % 3 == 0 or (k % 3 == 1 and n % 2 == 0) or (k % 3 == 2 and day < DAYS[3]):
                post_update(member[task.lead_unit_id], task,
                            {"progress": min(100, 6 * (n + 1) + k % 4),
                             "work_done": "Đã làm"}, now=ict(day.year, day.month, day.day, 10))
        db.session.commit()
        moment = load_calendar().cutoff_moment(day)
        cutoff_through(day, moment + timedelta(minutes=1))
        db.session.commit()
        live[day] = _live(moment)
    # What changes afterwards must not change any past day's forecast.
    update_task(admin, tasks[2], {"deadline": "2027-01-15"}, now=ict(2026, 11, 18, 9, 0))
    submit_completion(member[tasks[7].lead_unit_id], tasks[7], result="Xong",
                      now=ict(2026, 11, 18, 9, 30))
    db.session.commit()
    clock.set(ict(2026, 11, 18, 10, 0))
    return tasks, live


def test_the_stored_forecast_is_what_the_live_one_said_at_each_cutoff(history, units):
    _tasks, live = history
    assert sum(bool(v) for v in live.values()) >= 4, "the history has warnings to store"
    for day in DAYS:
        record = run_forecast(day, batch=7)  # several batches of a few ids
        assert record.finished_at is not None and record.likely == len(live[day])
        assert _stored(day) == live[day], day
        # The replay the daily report once ran agrees too (one function for all three).
        assert likely_at(units["province"], day) == len(live[day])
        assert stored.count_in(units["province"], stored.of_day(day)) == len(live[day])


def test_recomputing_a_day_replaces_it_with_the_same_rows(history):
    day = DAYS[-1]
    run_forecast(day)
    first = _stored(day)
    db.session.add(TaskForecast(day=day, task_id=999_999, lead_unit_id=first and
                                next(iter(first.values()))[0], deadline=day, risk=99,
                                signs=""))
    db.session.commit()
    run_forecast(day, batch=5)
    assert _stored(day) == first  # a stray row in a batch's range is gone
    assert db.session.scalar(select(ForecastDay.likely).where(ForecastDay.day == day)) \
        == len(first)


def test_a_day_paused_between_batches_is_not_read(history):
    day = DAYS[-1]
    run_forecast(DAYS[-2])
    calls = []

    def once():
        calls.append(1)
        return len(calls) < 2  # the first batch, then stop

    assert run_forecast(day, keep_going=once, batch=5) is None
    assert stored.latest().day == DAYS[-2]  # the half-computed day is not shown
    assert stored.of_day(day) is None
    assert forecast_due() == day  # the scheduler's next look computes it again, whole
    assert stored.latest().day == day
    assert days_to_forecast() == [d for d in reversed(DAYS[-5:]) if d not in DAYS[-2:]]


def test_a_day_whose_cutoff_has_not_run_is_refused(history):
    with pytest.raises(ForecastRefused):
        run_forecast(date(2026, 11, 18))


def test_the_command_computes_a_day(history, app):
    out = app.test_cli_runner().invoke(args=["tracker", "forecast", "run",
                                             "--date", DAYS[-1].isoformat()])
    assert out.exit_code == 0, out.output
    assert out.output.startswith(f"{DAYS[-1].isoformat()}: {len(history[1][DAYS[-1]])} ")
    refused = app.test_cli_runner().invoke(args=["tracker", "forecast", "run",
                                                 "--date", "2026-11-18"])
    assert refused.exit_code == 2 and "2026-11-18" in refused.output


def _as(app, name):
    """A client of its own, logged in as `name`."""
    client = app.test_client()
    assert login(client, name).status_code == 302
    return client


def test_the_pages_read_the_stored_day_within_scope(history, app, units, users):
    _tasks, live = history
    day = DAYS[-1]
    run_forecast(day)
    expected = live[day]
    co_to = {t for t, v in expected.items() if v[0] == units["co_to"].id}
    assert co_to and len(co_to) < len(expected)

    client = _as(app, "supervisor")
    page = client.get("/supervise/warnings").get_data(as_text=True)
    assert "tính đến 16 giờ 00 ngày 17/11/2026" in page
    assert f"{len(expected)} nhiệm vụ có khả năng chuyển đỏ" in page
    risks = [v[1] for v in expected.values()]
    assert page.count('data-testid="warning-row"') == min(len(expected), 50)
    assert f"Khả năng {max(risks)} %" in page

    local = _as(app, "co_to_supervisor")
    page = local.get("/supervise/warnings").get_data(as_text=True)
    assert f"{len(co_to)} nhiệm vụ có khả năng chuyển đỏ" in page
    assert page.count('data-testid="warning-row"') == len(co_to)
    assert local.get(f"/supervise/warnings?unit={units['ha_long'].id}").status_code == 404

    viewer = _as(app, "viewer")
    page = viewer.get("/dashboard").get_data(as_text=True)
    assert f'data-testid="count-likely-red">{len(expected)}<' in page
    assert "tính đến 16 giờ 00 ngày 17/11/2026" in page
    page = viewer.get(f"/dashboard/units/{units['co_to'].id}").get_data(as_text=True)
    assert f'data-testid="count-likely-red">{len(co_to)}<' in page

    report = client.get(f"/reports/daily?date={day.isoformat()}").get_data(as_text=True)
    assert f'data-testid="report-likely-red">{len(expected)}<' in report
    earlier = client.get(f"/reports/daily?date={DAYS[-2].isoformat()}").get_data(as_text=True)
    assert 'data-testid="report-likely-red-none"' in earlier  # that day not computed


def test_the_api_pages_the_stored_list_highest_risk_first(history, client, users):
    from tracker import clock as app_clock
    from tracker.auth.tokens import create_token

    _tasks, live = history
    run_forecast(DAYS[-1])
    _token, raw = create_token(None, users["supervisor"], name="t", now=app_clock.now())
    db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    body = client.get("/api/v1/forecast/warnings?per_page=3&page=2",
                      headers=headers).get_json()
    assert body["as_of"] == DAYS[-1].isoformat() and body["total"] == len(live[DAYS[-1]])
    everything = client.get("/api/v1/forecast/warnings?per_page=100",
                            headers=headers).get_json()["items"]
    keys = [(-i["risk"], i["deadline"], i["task_id"]) for i in everything]
    assert keys == sorted(keys)
    assert [i["task_id"] for i in body["items"]] == [i["task_id"] for i in everything[3:6]]
    assert {i["task_id"] for i in everything} == set(live[DAYS[-1]])


def test_with_nothing_computed_the_pages_say_so(history, app, users):
    page = _as(app, "supervisor").get("/supervise/warnings").get_data(as_text=True)
    assert 'data-testid="warning-none"' in page and "Chưa có dự báo" in page
    assert 'data-testid="warning-row"' not in page
    dash = _as(app, "viewer").get("/dashboard").get_data(as_text=True)
    assert 'data-testid="likely-red-none"' in dash and "chưa tính" in dash


def test_the_scheduler_stores_the_forecast_after_the_cutoff_and_never_before_it(
        history, app, clock):
    from tracker.cutoff.models import CutoffRun
    from tracker.cutoff.scheduler import KeepUp

    _tasks, live = history
    seen = []

    def after(keep_going):
        # The cutoff of the day is committed before the forecast starts.
        seen.append(db.session.scalar(select(func.max(CutoffRun.day))))
        return forecast_due(keep_going)

    clock.set(ict(2026, 11, 18, 16, 0, 30))  # Wednesday's cutoff is due
    keep_up = KeepUp(app, name="host:1", after_cutoff=after)
    keep_up.after_tick()  # beside the cutoff, while the 18th is due: it waits for it
    assert seen == [] and stored.latest() is None
    db.session.rollback()  # SQLite: a reader here would hold the one write lock
    assert keep_up.tick()
    keep_up.after_tick()
    assert seen == [date(2026, 11, 18)]
    assert stored.latest().day == date(2026, 11, 18)
    db.session.rollback()
    for _ in range(4):  # then the recent days still without one, newest first
        keep_up.after_tick()
    assert {d for d in DAYS[-4:]} <= {r.day for r in db.session.scalars(
        select(ForecastDay).where(ForecastDay.finished_at.is_not(None)))}
    assert _stored(DAYS[-1]) == live[DAYS[-1]]


def test_a_failing_forecast_does_not_stop_the_cutoff(history, app, clock):
    from tracker.cutoff.scheduler import KeepUp

    def broken(_keep_going):
        raise RuntimeError("forecast failed")

    clock.set(ict(2026, 11, 18, 16, 0, 30))
    keep_up = KeepUp(app, name="host:1", after_cutoff=broken)
    assert keep_up.tick()  # the cutoff's tick succeeds; the forecast waits a minute
    keep_up.after_tick()
    assert keep_up.failures == 0 and keep_up.after_retry_at > 0
