"""Property: after any sequence of updates, completions, returns, extensions and cutoffs,
the stored colour equals the colour rules' verdict on the task's whole history."""

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from tests.factories import cutoff_through, ict, make_task
from tracker.audit import append_only
from tracker.cutoff.job import CutoffRefused
from tracker.errors import TrackerError
from tracker.extensions import db
from tracker.models import (
    AuditEntry,
    CutoffRun,
    ExtensionRequest,
    MissedUpdate,
    Notification,
    ProgressUpdate,
    RedTaskDay,
    Setting,
    Task,
    TaskColourChange,
    UnitDayStat,
)
from tracker.rules.colours import task_colour
from tracker.rules.store import load_calendar, load_policy
from tracker.tasks.colour import facts_of, mismatches, stored_values
from tracker.tasks.lifecycle import (
    confirm_completion,
    decide_extension,
    request_extension,
    return_completion,
    submit_completion,
)
from tracker.tasks.models import TaskFactsUntil
from tracker.updates.service import post_update

ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["update", "update", "update", "submit", "confirm", "return",
                         "extend", "cutoff"]),
        st.integers(min_value=0, max_value=3 * 24 * 60),  # minutes before the action
    ),
    min_size=1, max_size=12,
)


def _clean():
    """A fresh timeline for the next example (time starts again on 16/11)."""
    append_only.drop(db.session.connection())  # the audit trail refuses DELETE
    for model in (Notification, MissedUpdate, TaskColourChange, RedTaskDay, UnitDayStat,
                  CutoffRun, ProgressUpdate, ExtensionRequest, AuditEntry, TaskFactsUntil,
                  Task, Setting):
        db.session.execute(delete(model))
    append_only.create(db.session.connection())
    db.session.commit()


def _act(kind, task, users, now):
    member, supervisor = users["ha_long"], users["supervisor"]
    calendar = load_calendar()
    if kind == "update":
        post_update(member, task, {"progress": 50, "work_done": "x"}, now=now)
    elif kind == "submit":
        submit_completion(member, task, result="Xong", now=now)
    elif kind == "confirm":
        confirm_completion(supervisor, task, now=now)
    elif kind == "return":
        return_completion(supervisor, task, note="Bổ sung", now=now)
    elif kind == "extend":
        request = request_extension(member, task, new_deadline=task.deadline + timedelta(7),
                                    reason="Cần thêm thời gian", now=now)
        decide_extension(supervisor, request, approve=True, note=None, now=now)
    elif kind == "cutoff":
        cutoff_through(calendar.last_cutoff_day(now), now, force=True)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(actions=ACTIONS)
def test_stored_colour_always_equals_the_rules(users, units, actions):
    now = ict(2026, 11, 16, 9, 0)
    task = make_task(users["admin"], units["ha_long"], at=now, start_date="2026-11-16",
                     deadline="2026-11-24")
    try:
        for kind, minutes in actions:
            now += timedelta(minutes=minutes)
            try:
                _act(kind, task, users, now)
                db.session.commit()
            except (TrackerError, CutoffRefused):
                db.session.rollback()
                continue
            db.session.refresh(task)
            updates = list(db.session.scalars(
                select(ProgressUpdate.created_at).where(ProgressUpdate.task_id == task.id)))
            expected = task_colour(facts_of(task), updates, load_calendar(), load_policy(),
                                   now)
            assert (task.colour, task.colour_reason, task.colour_days) == \
                stored_values(expected), (kind, now)
            assert list(mismatches(now)) == []
    finally:
        db.session.rollback()
        _clean()

