"""Each unit's task counts, kept by the triggers as the tasks change (tracker.tasks.counts):
always equal to the tasks counted afresh — through every path that changes a task, before
and after the deltas are folded in, beside a writer that has not committed, in the zone's
days — and mended by `tracker counts rebuild` when they are not."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text

from tests.factories import cutoff_through, ict, make_task
from tracker.cutoff.scheduler import every
from tracker.extensions import db
from tracker.reports.live import rollup
from tracker.tasks import counts
from tracker.tasks.counts import TaskCount, TaskCountDelta
from tracker.tasks.editing import reassign_task
from tracker.tasks.lifecycle import cancel_task, confirm_completion, submit_completion
from tracker.updates.service import post_update


def _deltas() -> int:
    return db.session.execute(select(func.count()).select_from(TaskCountDelta)).scalar_one()


def _kept_equal_counted() -> list[tuple]:
    kept = sorted(counts.kept())
    assert kept == sorted(counts.recount())
    assert counts.differences() == []
    return kept


def test_the_kept_counts_follow_every_change_and_survive_folding(app, users, units):
    admin, supervisor = users["admin"], users["supervisor"]
    member = users["ha_long"]
    at = ict(2026, 11, 16, 9, 0)
    tasks = [make_task(admin, units["ha_long"], at=at, start_date="2026-11-10",
                       deadline=deadline)
             for deadline in ("2026-11-13", "2026-11-17", "2026-11-20", "2026-12-20")]
    before = _kept_equal_counted()
    assert before and _deltas() > 0  # the inserts were counted by the triggers

    post_update(member, tasks[3], {"progress": 40, "work_done": "Đang làm"},
                now=ict(2026, 11, 16, 10, 0))
    submit_completion(member, tasks[2], result="Đã xong", now=ict(2026, 11, 16, 11, 0))
    confirm_completion(supervisor, tasks[2], now=ict(2026, 11, 16, 14, 0))
    submit_completion(member, tasks[0], result="Xong muộn", now=ict(2026, 11, 16, 11, 0))
    confirm_completion(supervisor, tasks[0], now=ict(2026, 11, 16, 14, 0))
    cancel_task(admin, tasks[1], note="Không còn cần", now=ict(2026, 11, 16, 15, 0))
    reassign_task(admin, tasks[3], {"lead_unit_id": units["co_to"].id},
                  now=ict(2026, 11, 16, 15, 30))
    db.session.commit()
    cutoff_through(ict(2026, 11, 18, 16, 0).date(), ict(2026, 11, 18, 16, 0, 5))
    db.session.commit()
    kept = _kept_equal_counted()
    by_unit = {(unit_id, status): row for unit_id, status, *row in kept}
    # One done on time, one done late; the reassigned task counted under Cô Tô now.
    done = by_unit[(units["ha_long"].id, "done")]
    assert done[0] == 2 and done[4] == 1
    assert any(unit_id == units["co_to"].id for unit_id, _status, *_ in kept)

    moved = counts.compact()
    db.session.commit()
    assert moved > 0 and _deltas() == 0
    assert sorted(counts.kept()) == kept  # folding in changes nothing a reader sees
    assert db.session.execute(select(func.count()).select_from(TaskCount)
                              .where(TaskCount.n == 0)).scalar_one() == 0
    assert counts.compact() == 0  # nothing left to fold


def test_a_done_task_is_in_time_by_the_zones_day_not_by_utcs(app, users, units):
    """Submitted at 00:30 on the day after the deadline in Vietnam — still the deadline's
    day in UTC — is late; at 23:30 on the deadline's day, in time."""
    admin, supervisor, member = users["admin"], users["supervisor"], users["ha_long"]
    late = make_task(admin, units["ha_long"], at=ict(2026, 11, 16, 8, 0),
                     start_date="2026-11-10", deadline="2026-11-17")
    in_time = make_task(admin, units["ha_long"], at=ict(2026, 11, 16, 8, 0),
                        start_date="2026-11-10", deadline="2026-11-17")
    submit_completion(member, late, result="Xong", now=ict(2026, 11, 18, 0, 30))
    submit_completion(member, in_time, result="Xong", now=ict(2026, 11, 17, 23, 30))
    for task in (late, in_time):
        confirm_completion(supervisor, task, now=ict(2026, 11, 18, 8, 0))
    db.session.commit()
    totals = rollup(units["ha_long"])[units["ha_long"].id]
    assert (totals["done_on_time"], totals["done_late"]) == (1, 1)
    _kept_equal_counted()


def test_a_fold_beside_an_uncommitted_writer_counts_its_task_once(app, users, units):
    """The writer's delta is invisible to the fold until it commits, then folded next time:
    never lost, never counted twice."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 16, 9, 0))
    written, go_on = threading.Event(), threading.Event()

    def writer():
        with app.app_context():
            make_task_uncommitted = users["admin"]
            from tests.factories import task_input
            from tracker.tasks.service import create_task
            admin = db.session.merge(make_task_uncommitted)
            create_task(admin, task_input(units["co_to"]), now=ict(2026, 11, 16, 9, 5))
            db.session.flush()
            written.set()
            go_on.wait(30)
            db.session.commit()
            db.session.remove()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert written.wait(30)
        assert counts.compact() > 0
        db.session.commit()
    finally:
        go_on.set()
        thread.join(30)
    assert _deltas() > 0  # the writer's, committed after the fold
    _kept_equal_counted()
    counts.compact()
    db.session.commit()
    assert _deltas() == 0
    _kept_equal_counted()


def test_counts_that_went_wrong_are_found_and_rebuilt(app, users, units):
    make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 16, 9, 0))
    counts.compact()
    db.session.execute(text("UPDATE task_counts SET n = n + 5"))
    db.session.commit()
    runner = app.test_cli_runner()
    found = runner.invoke(args=["tracker", "counts", "check"])
    assert found.exit_code == 1 and "kept 6 != counted 1" in found.output
    rebuilt = runner.invoke(args=["tracker", "counts", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert runner.invoke(args=["tracker", "counts", "check"]).exit_code == 0
    _kept_equal_counted()


def test_the_fold_runs_only_on_the_active_scheduler(app, users, units):
    make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 16, 9, 0))
    pending = _deltas()
    db.session.commit()
    every(app, lambda: False, counts.compact, "folding the task counts")
    assert _deltas() == pending
    db.session.rollback()  # (SQLite: this session's read holds the one write lock)
    every(app, lambda: True, counts.compact, "folding the task counts")
    db.session.rollback()
    assert _deltas() == 0
    _kept_equal_counted()
