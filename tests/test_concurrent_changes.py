"""A task change starts from the task re-read under its row lock: a decision made
meanwhile by someone else is seen, never made twice (PostgreSQL, whose readers do not
block writers; SQLite's writers take turns)."""

from __future__ import annotations

import threading

import pytest

from tests.factories import ict, make_task
from tracker.auth.models import User
from tracker.errors import Conflict
from tracker.extensions import db
from tracker.tasks.lifecycle import confirm_completion, return_completion, submit_completion
from tracker.tasks.models import Status, Task


@pytest.fixture
def submitted(app, users, units):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writers take turns: no change can fall in between")
    task = make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 16, 9, 0))
    submit_completion(users["ha_long"], task, result="Xong", now=ict(2026, 11, 17, 9, 0))
    db.session.commit()
    return task


def _in_another_session(app, work):
    errors = []

    def run():
        with app.app_context():
            try:
                work()
                db.session.commit()
            except BaseException as exc:  # reported below
                errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert not thread.is_alive() and not errors, errors


def test_a_completion_confirmed_meanwhile_cannot_be_returned(app, users, submitted):
    task_id, supervisor_id = submitted.id, users["supervisor"].id
    assert submitted.status == Status.SUBMITTED  # what this page loaded

    _in_another_session(app, lambda: confirm_completion(
        db.session.get(User, supervisor_id), db.session.get(Task, task_id)))

    with pytest.raises(Conflict):
        return_completion(users["supervisor"], submitted, note="Bổ sung hồ sơ")
    db.session.rollback()
    assert db.session.get(Task, task_id).status == Status.DONE
