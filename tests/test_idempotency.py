"""Exactly once under concurrency (PostgreSQL, whose writers run at the same time): a
request whose key is in flight is told so at once (409), and even with that lock bypassed
the unique key and the shared transaction let only one write commit."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from sqlalchemy import func, select, text

from tests.factories import ict, make_task
from tracker import clock
from tracker.auth.models import User
from tracker.extensions import db
from tracker.idempotency import service
from tracker.idempotency.models import IdempotencyKey
from tracker.idempotency.service import Answer, KeyInFlight, once
from tracker.tasks.models import Task
from tracker.updates.models import ProgressUpdate
from tracker.updates.service import post_update

BODY = b'{"progress": 20, "work_done": "x"}'


@pytest.fixture
def task(app, users, units):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writers take turns: no request is ever in flight beside another")
    task = make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 16, 9, 0))
    db.session.commit()
    return task


def _post(app, user_id: int, task_id: int, *, entered=None, release=None):
    """`once` around a real update, in a session of its own; the write may pause."""
    def write() -> Answer:
        update = post_update(db.session.get(User, user_id), db.session.get(Task, task_id),
                             {"progress": 20, "work_done": "x"})
        if entered is not None:
            entered.set()
            assert release.wait(30)
        return Answer(201, str(update["id"]))

    with app.app_context():
        try:
            answer = once(user_id, "k-1", "POST", f"/api/v1/tasks/{task_id}/updates", BODY,
                          write, now=clock.now(), field="Idempotency-Key")
            db.session.commit()
            return answer
        except BaseException:
            db.session.rollback()
            raise


def _in_thread(work):
    outcome = {}

    def run():
        try:
            outcome["answer"] = work()
        except BaseException as exc:  # reported by the test
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_retry_while_the_first_is_in_flight_is_told_so_then_replayed(app, users, task):
    user_id, task_id = users["ha_long"].id, task.id
    entered, release = threading.Event(), threading.Event()
    db.session.rollback()
    first, outcome = _in_thread(lambda: _post(app, user_id, task_id, entered=entered,
                                              release=release))
    assert entered.wait(30), outcome
    started = time.monotonic()
    with pytest.raises(KeyInFlight):
        _post(app, user_id, task_id)
    assert time.monotonic() - started < 5  # told at once, not after the first one ends
    release.set()
    first.join(30)
    assert "error" not in outcome, outcome
    replay = _post(app, user_id, task_id)
    assert replay.replayed and replay.body == outcome["answer"].body
    assert _count(ProgressUpdate) == 1 and _count(IdempotencyKey) == 1


def test_the_unique_key_alone_keeps_a_second_write_from_committing(app, users, task,
                                                                    monkeypatch):
    # Every call gets a lock of its own: both requests pass it and both write.
    numbers = itertools.count(1)
    monkeypatch.setattr(service, "_lock_id", lambda _user, _key: next(numbers))
    user_id, task_id = users["ha_long"].id, task.id
    entered, release = threading.Event(), threading.Event()
    db.session.rollback()
    first, first_outcome = _in_thread(lambda: _post(app, user_id, task_id, entered=entered,
                                                    release=release))
    assert entered.wait(30)
    second, second_outcome = _in_thread(lambda: _post(app, user_id, task_id))
    # The second has found no key (the first's is not committed) and now waits for the
    # task's row lock, held by the first.
    deadline = time.monotonic() + 30
    while db.session.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'")) == 0:
        db.session.rollback()
        assert time.monotonic() < deadline, "the second request never waited"
        time.sleep(0.05)
    db.session.rollback()
    release.set()
    first.join(30)
    second.join(30)
    assert "error" not in first_outcome, first_outcome
    assert isinstance(second_outcome.get("error"), KeyInFlight), second_outcome
    assert _count(ProgressUpdate) == 1 and _count(IdempotencyKey) == 1
