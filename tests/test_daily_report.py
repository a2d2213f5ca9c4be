"""The daily report reads what the cutoff wrote for the day: red tasks as of that cutoff in
the report's order, colour changes, and counts from the unit stats."""

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import cutoff_through, ict, make_task
from tracker.cutoff.models import RedTaskDay, UnitDayStat, red_rank
from tracker.extensions import db
from tracker.reports.history import daily_report
from tracker.tasks.lifecycle import cancel_task
from tracker.updates.service import post_update

ASSIGNED = ict(2026, 11, 13, 9, 0)  # a Friday: Monday 16 November is the first day owed


def cutoff(day, at=None, **kw):
    summary = cutoff_through(day, at or ict(day.year, day.month, day.day, 17, 0), **kw)
    db.session.commit()
    return summary


@pytest.fixture
def reds(users, units):
    """Red tasks at the 18th: two overdue (3 and 8 days), two missing updates (3 days),
    in two communes, and a green one."""
    def task(unit, **kw):
        return make_task(users["admin"], units[unit], at=ASSIGNED, start_date="2026-11-01",
                         **kw)

    made = {
        "overdue_3": task("ha_long", deadline="2026-11-15"),
        "overdue_8": task("co_to", deadline="2026-11-10"),
        "silent_a": task("co_to"),
        "silent_b": task("ha_long"),
        "green": task("ha_long"),
    }
    for day in (16, 17, 18):
        post_update(users["ha_long"], made["green"], {"progress": 10, "work_done": "x"},
                    now=ict(2026, 11, day, 10, 0))
    db.session.commit()
    return made


def test_red_tasks_come_worst_first_overdue_longest_then_missed_updates(units, reds):
    cutoff(date(2026, 11, 18))
    report = daily_report(units["province"], date(2026, 11, 18))
    silent = sorted([reds["silent_a"].code, reds["silent_b"].code])
    assert [r["code"] for r in report["red_tasks"]] == [
        reds["overdue_8"].code, reds["overdue_3"].code, *silent]
    assert [(r["reason"], r["days"]) for r in report["red_tasks"]] == [
        ("overdue", 8), ("overdue", 3), ("missed_updates", 3), ("missed_updates", 3)]
    assert report["red_total"] == report["totals"]["red"] == 4


def test_red_tasks_show_their_days_as_of_the_reported_cutoff(units, reds):
    cutoff(date(2026, 11, 17))
    cutoff(date(2026, 11, 18))
    days = {r["code"]: r["days"] for r in daily_report(units["province"],
                                                       date(2026, 11, 17))["red_tasks"]}
    assert days[reds["overdue_8"].code] == 7
    days = {r["code"]: r["days"] for r in daily_report(units["province"],
                                                       date(2026, 11, 18))["red_tasks"]}
    assert days[reds["overdue_8"].code] == 8


def test_the_lists_stop_at_the_limit_but_the_totals_count_every_task(units, reds):
    cutoff(date(2026, 11, 18))
    report = daily_report(units["province"], date(2026, 11, 18), red_limit=2)
    assert [r["code"] for r in report["red_tasks"]] == [reds["overdue_8"].code,
                                                        reds["overdue_3"].code]
    assert report["red_total"] == 4
    everything = daily_report(units["province"], date(2026, 11, 18), red_limit=None)
    assert len(list(everything["red_tasks"])) == 4 and list(everything["changes"]) == []
    # The first cutoff (Friday 13th, the day they were assigned) records every task.
    first = daily_report(units["province"], date(2026, 11, 13), red_limit=2)
    assert len(first["changes"]) == 2 and first["changes_total"] == 5
    whole = daily_report(units["province"], date(2026, 11, 13), red_limit=None)
    assert len(list(whole["red_tasks"])) == 1 and len(list(whole["changes"])) == 5


def test_a_commune_report_has_only_the_communes_rows(units, reds):
    cutoff(date(2026, 11, 18))
    report = daily_report(units["co_to"], date(2026, 11, 18))
    assert {r["code"] for r in report["red_tasks"]} == {reds["overdue_8"].code,
                                                        reds["silent_a"].code}
    assert report["red_total"] == 2
    assert report["missed_units"] == [{"unit_id": units["co_to"].id,
                                       "unit": units["co_to"].name, "missed": 2}]
    first = daily_report(units["co_to"], date(2026, 11, 13))
    assert {c["code"] for c in first["changes"]} == {reds["overdue_8"].code,
                                                     reds["silent_a"].code}
    assert first["changes_total"] == 2


def test_missed_units_count_their_own_tasks_most_first(units, reds):
    cutoff(date(2026, 11, 18))
    report = daily_report(units["nation"], date(2026, 11, 18))
    # Hạ Long: overdue_3 and silent_b missed (green reported); Cô Tô: both of its tasks;
    # a tie in Vietnamese order ("Đặc khu Cô Tô" before "Phường Hạ Long").
    assert [(m["unit"], m["missed"]) for m in report["missed_units"]] == [
        (units["co_to"].name, 2), (units["ha_long"].name, 2)]
    stat = db.session.get(UnitDayStat, (units["province"].id, date(2026, 11, 18)))
    assert (stat.missed, stat.missed_own) == (4, 0)


def test_changes_list_red_first_then_those_with_a_colour_before(users, units, reds):
    cutoff(date(2026, 11, 16))
    post_update(users["ha_long"], reds["silent_b"], {"progress": 10, "work_done": "x"},
                now=ict(2026, 11, 17, 10, 0))
    db.session.commit()
    cutoff(date(2026, 11, 17))
    report = daily_report(units["province"], date(2026, 11, 17))
    # The 16th: the silent tasks were yellow (one day missed); at the 17th silent_a is red
    # and silent_b, updated that day, green. The overdue ones stay red: no change.
    assert [(c["code"], c["from"], c["to"]) for c in report["changes"]] == [
        (reds["silent_a"].code, "yellow", "red"), (reds["silent_b"].code, "yellow", "green")]
    assert report["changes_total"] == 2


def test_a_cancelled_task_leaves_the_red_list(users, units, reds):
    cutoff(date(2026, 11, 17))
    cancel_task(users["admin"], reds["overdue_8"], note="Không còn cần thiết",
                now=ict(2026, 11, 18, 9, 0))
    db.session.commit()
    cutoff(date(2026, 11, 18))
    codes = {r["code"] for r in daily_report(units["province"], date(2026, 11, 18))
             ["red_tasks"]}
    assert reds["overdue_8"].code not in codes
    codes = {r["code"] for r in daily_report(units["province"], date(2026, 11, 17))
             ["red_tasks"]}
    assert reds["overdue_8"].code in codes


def test_a_forced_run_rewrites_the_days_rows_once(units, reds):
    cutoff(date(2026, 11, 18))
    before = daily_report(units["province"], date(2026, 11, 18))
    cutoff(date(2026, 11, 18), force=True)
    assert daily_report(units["province"], date(2026, 11, 18)) == before
    assert db.session.scalar(select(func.count()).select_from(RedTaskDay).where(
        RedTaskDay.day == date(2026, 11, 18))) == 4


def test_red_rank_orders_overdue_first_then_by_days():
    ranks = [red_rank("overdue", 30), red_rank("overdue", 2), red_rank("missed_updates", 9),
             red_rank("missed_updates", 2)]
    assert ranks == sorted(ranks)
    assert red_rank("overdue", 10**9) < red_rank("missed_updates", 10**9)
