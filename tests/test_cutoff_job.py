"""The cutoff job against the database: missed updates, history, exactly once, refusals."""

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import cutoff_through, ict, make_task
from tracker.audit.models import AuditEntry
from tracker.cutoff.job import CutoffRefused, run_cutoff
from tracker.cutoff.models import CutoffRun, MissedUpdate, UnitDayStat
from tracker.extensions import db
from tracker.reports.history import colour_on, daily_report, green_rate_trend
from tracker.settings.service import set_day
from tracker.tasks.lifecycle import (
    confirm_completion,
    decide_extension,
    request_extension,
    submit_completion,
)
from tracker.updates.service import post_update

ASSIGNED = ict(2026, 11, 13, 9, 0)  # a Friday: the first day owed is Monday 16 November


@pytest.fixture
def task(users, units):
    return make_task(users["admin"], units["ha_long"], at=ASSIGNED, start_date="2026-11-13",
                     deadline="2026-12-31")


def update(users, task, at, progress=10):
    result = post_update(users["ha_long"], task, {"progress": progress, "work_done": "x"},
                         now=at)
    db.session.commit()
    return result


def cutoff(day, at=None, **kw):
    summary = cutoff_through(day, at or ict(day.year, day.month, day.day, 17, 0), **kw)
    db.session.commit()
    return summary


def missed(task, day) -> bool:
    return db.session.get(MissedUpdate, (day, task.id)) is not None


@pytest.mark.parametrize("hms, is_missed", [
    ((15, 59, 59), False), ((16, 0, 0), False), ((16, 0, 1), True)])
def test_an_update_counts_for_today_up_to_the_cutoff_second(users, task, hms, is_missed):
    update(users, task, ict(2026, 11, 18, *hms))
    cutoff(date(2026, 11, 18))
    assert missed(task, date(2026, 11, 18)) is is_missed


def test_friday_after_the_cutoff_counts_for_monday(users, task):
    posted = update(users, task, ict(2026, 11, 20, 16, 0, 1))
    assert posted["reporting_day"] == date(2026, 11, 23)
    cutoff(date(2026, 11, 20))
    cutoff(date(2026, 11, 23))
    assert missed(task, date(2026, 11, 20))
    assert not missed(task, date(2026, 11, 23))


def test_a_weekend_update_counts_for_monday(users, task):
    assert update(users, task, ict(2026, 11, 21, 10, 0))["reporting_day"] == date(2026, 11, 23)


def test_a_midweek_holiday_has_no_cutoff_and_its_updates_count_for_the_next_day(
        users, units, clock):
    task = make_task(users["admin"], units["ha_long"], at=ict(2026, 8, 20, 9, 0),
                     start_date="2026-08-20", deadline="2026-12-31")
    with pytest.raises(CutoffRefused, match="not a working day"):
        run_cutoff(date(2026, 9, 2), now=ict(2026, 9, 2, 17, 0))  # Quốc khánh, a Wednesday
    assert update(users, task, ict(2026, 9, 2, 10, 0))["reporting_day"] == date(2026, 9, 3)


def test_tet_has_no_cutoff_and_updates_count_after_it(users, units):
    task = make_task(users["admin"], units["ha_long"], at=ict(2026, 2, 2, 9, 0),
                     start_date="2026-02-02", deadline="2026-12-31")
    for day in (16, 17, 18, 19, 20):
        with pytest.raises(CutoffRefused):
            run_cutoff(date(2026, 2, day), now=ict(2026, 2, 24, 17, 0))
    assert update(users, task, ict(2026, 2, 18, 9, 0))["reporting_day"] == date(2026, 2, 23)


def test_a_makeup_saturday_recorded_by_an_admin_is_a_reporting_day(users, task):
    saturday = date(2026, 11, 28)
    with pytest.raises(CutoffRefused):
        run_cutoff(saturday, now=ict(2026, 11, 28, 17, 0))
    set_day(users["admin"], saturday, "makeup_day", "Làm bù", now=ict(2026, 11, 25, 9, 0))
    db.session.commit()
    assert update(users, task, ict(2026, 11, 27, 16, 30))["reporting_day"] == saturday
    assert cutoff(saturday).missed == 0
    assert not missed(task, saturday)


def test_a_day_off_recorded_by_an_admin_has_no_cutoff(users, task):
    set_day(users["admin"], date(2026, 11, 27), "day_off", "", now=ict(2026, 11, 25, 9, 0))
    db.session.commit()
    with pytest.raises(CutoffRefused):
        run_cutoff(date(2026, 11, 27), now=ict(2026, 11, 27, 17, 0))


def test_a_late_update_clears_the_colour_but_the_missed_day_stays_missed(users, task, clock):
    update(users, task, ict(2026, 11, 17, 10, 0))
    cutoff(date(2026, 11, 18))
    assert missed(task, date(2026, 11, 18))
    assert task.colour == "yellow" and task.colour_reason == "missed_update"
    update(users, task, ict(2026, 11, 18, 17, 30))
    assert task.colour == "green"
    assert missed(task, date(2026, 11, 18))


def test_two_missed_days_turn_a_task_red(users, task):
    update(users, task, ict(2026, 11, 16, 10, 0))
    cutoff(date(2026, 11, 17))
    summary = cutoff(date(2026, 11, 18))
    assert task.colour == "red" and task.colour_reason == "missed_updates"
    assert task.colour_days == 2
    assert summary.red == 1 and summary.missed == 1


def test_an_approved_extension_moves_the_deadline_and_keeps_the_history(users, units):
    task = make_task(users["admin"], units["ha_long"], at=ASSIGNED, start_date="2026-11-13",
                     deadline="2026-11-16")
    update(users, task, ict(2026, 11, 18, 9, 0))
    assert task.colour == "red" and task.colour_reason == "overdue"
    request = request_extension(users["ha_long"], task, new_deadline=date(2026, 12, 31),
                                reason="Chờ kinh phí", now=ict(2026, 11, 18, 10, 0))
    decide_extension(users["supervisor"], request, approve=True, note="Đồng ý",
                     now=ict(2026, 11, 19, 10, 0))
    db.session.commit()
    assert task.deadline == date(2026, 12, 31)
    assert task.original_deadline == date(2026, 11, 16)
    assert task.colour == "green"
    change = db.session.scalar(select(AuditEntry).where(AuditEntry.field == "deadline"))
    assert (change.old_value, change.new_value) == ("2026-11-16", "2026-12-31")
    # The 18 November cutoff, run late, still judges that day by the old deadline.
    cutoff(date(2026, 11, 18), at=ict(2026, 11, 19, 11, 0))
    assert colour_on(task.id, date(2026, 11, 18)).reason == "overdue"


def test_completion_before_and_after_the_deadline(users, units):
    on_time = make_task(users["admin"], units["ha_long"], at=ASSIGNED, deadline="2026-11-17")
    late = make_task(users["admin"], units["ha_long"], at=ASSIGNED, deadline="2026-11-17")
    submit_completion(users["ha_long"], on_time, result="Xong", now=ict(2026, 11, 17, 23, 59))
    submit_completion(users["ha_long"], late, result="Xong", now=ict(2026, 11, 18, 0, 0))
    confirm_completion(users["supervisor"], on_time, now=ict(2026, 11, 19, 9, 0))
    confirm_completion(users["supervisor"], late, now=ict(2026, 11, 19, 9, 0))
    db.session.commit()
    summary = cutoff(date(2026, 11, 19))
    assert (summary.done_on_time, summary.done_late, summary.green) == (1, 1, 2)
    assert on_time.colour == late.colour == "green"


def test_a_repeated_run_changes_nothing_and_a_forced_run_gives_the_same_result(users, task):
    first = cutoff(date(2026, 11, 18))
    again = cutoff(date(2026, 11, 18))
    forced = cutoff(date(2026, 11, 18), force=True)
    assert not first.already_processed and again.already_processed
    assert {**again.public(), "already_processed": False} == first.public() == forced.public()
    assert db.session.get(CutoffRun, date(2026, 11, 18)).runs == 2
    assert db.session.scalar(select(func.count()).select_from(MissedUpdate).where(
        MissedUpdate.day == date(2026, 11, 18))) == first.missed


def test_a_cutoff_still_ahead_is_refused(users, task):
    with pytest.raises(CutoffRefused, match="has not passed yet"):
        run_cutoff(date(2026, 11, 18), now=ict(2026, 11, 18, 15, 59, 59))


def test_cli_prints_a_json_summary_as_its_last_line(app, users, task, clock):
    clock.set(ict(2026, 11, 18, 16, 0, 1))
    result = app.test_cli_runner().invoke(args=["tracker", "cutoff", "run", "--date",
                                                "2026-11-18"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert {"date", "tasks", "missed", "green", "yellow", "red",
            "already_processed"} <= set(summary)
    assert summary["date"] == "2026-11-18" and summary["tasks"] == 1


def test_cli_refuses_a_non_working_day_with_a_clear_message(app, clock):
    clock.set(ict(2026, 11, 23, 9, 0))
    result = app.test_cli_runner().invoke(args=["tracker", "cutoff", "run", "--date",
                                                "2026-11-22"])
    assert result.exit_code == 2
    assert "2026-11-22 is not a working day" in result.output


def test_colours_check_passes_and_catches_a_tampered_colour(app, users, task, clock):
    runner = app.test_cli_runner()
    cutoff(date(2026, 11, 17), at=clock())  # the Wednesday morning after Tuesday's cutoff
    assert runner.invoke(args=["tracker", "colours", "check"]).exit_code == 0
    task.colour = "green" if task.colour != "green" else "red"
    db.session.commit()
    result = runner.invoke(args=["tracker", "colours", "check"])
    assert result.exit_code == 1
    assert f"task {task.id}" in result.output


def test_unit_stats_roll_up_to_the_province_with_the_share_of_green_communes(users, units,
                                                                             task):
    make_task(users["admin"], units["co_to"], at=ASSIGNED)  # owes updates: will be yellow
    update(users, task, ict(2026, 11, 16, 10, 0))
    update(users, task, ict(2026, 11, 17, 10, 0))
    cutoff(date(2026, 11, 17))
    province = db.session.get(UnitDayStat, (units["province"].id, date(2026, 11, 17)))
    assert (province.total, province.green, province.colour) == (2, 1, "red")
    assert province.green_rate == 0.5
    # Hạ Long is green, Cô Tô red; the other 52 have no task: counted apart, never green.
    assert (province.communes, province.communes_green, province.communes_none) == (54, 1, 52)
    bai_chay = db.session.get(UnitDayStat, (units["bai_chay"].id, date(2026, 11, 17)))
    assert (bai_chay.colour, bai_chay.green_rate) == ("none", None)


def test_the_daily_report_and_the_trend_come_from_the_stored_history(users, units, task):
    other = make_task(users["admin"], units["co_to"], at=ASSIGNED)
    update(users, task, ict(2026, 11, 16, 10, 0))
    cutoff(date(2026, 11, 16))
    cutoff(date(2026, 11, 17))
    report = daily_report(units["province"], date(2026, 11, 17))
    assert report["totals"]["red"] == 1 and report["totals"]["yellow"] == 1
    assert [r["code"] for r in report["red_tasks"]] == [other.code]
    assert {m["unit"] for m in report["missed_units"]} == {"Phường Hạ Long", "Đặc khu Cô Tô"}
    assert report["units"][0]["unit"] == "Phường Hạ Long"  # ranked by green rate
    assert {(c["code"], c["from"], c["to"]) for c in report["changes"]} == {
        (other.code, "yellow", "red"), (task.code, "green", "yellow")}
    assert colour_on(other.id, date(2026, 11, 16)).colour == "yellow"
    trend = green_rate_trend(units["province"], date(2026, 11, 17))
    # Every day since the tasks were assigned (Friday the 13th) was judged, in order.
    # On the 13th both tasks were new, not started and green: no task counted, no rate.
    assert [(s.day.day, s.green_rate) for s in trend] == [(13, None), (16, 0.5), (17, 0.0)]
    assert [s.not_started for s in trend] == [2, 0, 0]
    assert daily_report(units["province"], date(2026, 11, 19)) is None
