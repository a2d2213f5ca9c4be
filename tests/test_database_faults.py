"""A database that is down, frozen or busy: every request is answered quickly with 503
and `Retry-After` (a Vietnamese page on the web, JSON on the API), and the app recovers by
itself once the database is back — on PostgreSQL through a TCP relay the test cuts or
freezes (tests/faults.py), on SQLite by another connection holding the write lock."""

from __future__ import annotations

import contextvars
import threading
import time

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tests.conftest import login, make_app
from tests.factories import make_task
from tests.faults import DatabaseOutage
from tracker import clock, fence, ratelimit
from tracker.auth.tokens import create_token
from tracker.database import unavailable
from tracker.extensions import db
from tracker.rules.store import load_calendar

RETRY = 7
LIMITS = {"TRACKER_DB_CONNECT_TIMEOUT": 2, "TRACKER_DB_STATEMENT_TIMEOUT": 3,
          "TRACKER_DB_LOCK_TIMEOUT": 1, "TRACKER_RETRY_AFTER_SECONDS": RETRY,
          "TRACKER_SQLITE_BUSY_TIMEOUT_MS": 500}


def _is_pg(app) -> bool:
    return db.engine.dialect.name == "postgresql"


@pytest.fixture
def outage(app, users):
    token = create_token(None, users["ha_long"], name="faults", now=clock.now())[1]
    db.session.commit()
    db.session.close()
    outage = DatabaseOutage(app.config["SQLALCHEMY_DATABASE_URI"])
    faulty = make_app(outage.url, **LIMITS)
    client = faulty.test_client()
    assert login(client, "ha_long").status_code == 302
    yield outage, client, {"Authorization": f"Bearer {token}"}
    outage.close()
    with faulty.app_context():
        db.engine.dispose()


def _timed(call, give_up: float = 30):
    """The answer and how long it took; a request that hangs fails the test instead of
    hanging it (its thread is left behind)."""
    answers = []
    started = time.monotonic()
    worker = threading.Thread(target=lambda: answers.append(call()), daemon=True)
    worker.start()
    worker.join(give_up)
    assert answers, f"no answer within {give_up} s"
    return answers[0], time.monotonic() - started


def _unavailable(response) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert response.headers["Retry-After"] == str(RETRY)


def _vietnamese_page(response) -> None:
    _unavailable(response)
    page = response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert "Tạm thời chưa phục vụ được" in page


def _json(response) -> None:
    _unavailable(response)
    assert response.get_json()["code"] == "unavailable"


def test_a_database_that_is_down_is_answered_503_at_once_and_the_app_recovers(outage):
    outage, client, api = outage
    assert client.get("/today").status_code == 200
    assert client.get("/api/v1/tasks", headers=api).status_code == 200

    outage.down()
    response, took = _timed(lambda: client.get("/today"))
    _vietnamese_page(response)
    assert took < 3
    response, took = _timed(lambda: client.get("/api/v1/tasks", headers=api))
    _json(response)
    assert took < 3

    outage.up()
    assert client.get("/today").status_code == 200  # the same app, not restarted
    assert client.get("/api/v1/tasks", headers=api).status_code == 200


def test_a_frozen_database_is_answered_503_within_the_connect_limit_and_the_app_recovers(
        outage):
    outage, client, api = outage
    if outage._relay is None:
        pytest.skip("a frozen server is a PostgreSQL fault (SQLite's lock is the test above)")
    assert client.get("/today").status_code == 200

    outage.freeze()
    try:
        response, took = _timed(lambda: client.get("/today"))
        _vietnamese_page(response)
        # One wait for the connect limit, then the answer: a request whose first check went
        # unanswered asks for no further connection (its error page, its session's end).
        assert took < LIMITS["TRACKER_DB_CONNECT_TIMEOUT"] + 1.5
        response, took = _timed(lambda: client.get("/api/v1/tasks", headers=api))
        _json(response)
        assert took < LIMITS["TRACKER_DB_CONNECT_TIMEOUT"] + 1.5
    finally:
        outage.thaw()

    assert client.get("/today").status_code == 200
    assert client.get("/api/v1/tasks", headers=api).status_code == 200


def _frozen_half_way(outage, statement):
    """In the current request: take the session's connection (checked, in a transaction),
    freeze the server, and run `statement(connection)` from another thread of the same
    request; (the OperationalError it raised or None, how long it took)."""
    connection = db.session.connection()
    connection.execute(text("SELECT 1"))
    outage.freeze()
    context = contextvars.copy_context()  # the same request, from the waiting thread

    def frozen_statement():
        try:
            context.run(statement, connection)
        except OperationalError as exc:
            return exc
        return None

    try:
        return _timed(frozen_statement)
    finally:
        outage.thaw()


def test_a_statement_that_freezes_half_way_is_ended_by_the_client_after_its_limit(outage):
    """The server's statement_timeout cannot help when no answer gets through: the
    client's own deadline (tracker.deadlines) shuts the connection."""
    outage, _client, _api = outage
    if outage._relay is None:
        pytest.skip("PostgreSQL only")
    faulty = make_app(outage.url, **LIMITS)
    with faulty.test_request_context():
        raised, took = _frozen_half_way(
            outage, lambda _connection: db.session.execute(text("SELECT 2")))
        assert isinstance(raised, OperationalError) and raised.connection_invalidated
        assert took < LIMITS["TRACKER_DB_STATEMENT_TIMEOUT"] + 4
        db.session.rollback()
        assert db.session.execute(text("SELECT 3")).scalar() == 3  # a new connection
        db.session.rollback()
        db.engine.dispose()


@pytest.mark.parametrize("statement", ["fence", "rate_count"])
def test_a_statement_sent_straight_through_the_driver_is_ended_by_the_client_too(
        outage, statement):
    """The fence's registration and the rate count skip SQLAlchemy's execution (they run
    before every write and API request of the rush): a freeze half-way through them is
    ended by the same deadline, raised as SQLAlchemy's error (a 503) with the connection
    given up — never a worker's thread held until TCP gives up."""
    outage, _client, _api = outage
    if outage._relay is None:
        pytest.skip("PostgreSQL only")
    faulty = make_app(outage.url, **LIMITS)
    with faulty.test_request_context():
        if statement == "fence":  # the registration itself: the calendar read before it
            epoch = load_calendar().epoch(clock.now())
            raised, took = _frozen_half_way(outage, lambda _connection: fence._register(epoch))
        else:
            raised, took = _frozen_half_way(outage, lambda connection: ratelimit._count(
                connection, "faults", 1, 0.0, 60.0))
        assert isinstance(raised, OperationalError) and raised.connection_invalidated
        assert unavailable(raised)
        assert took < LIMITS["TRACKER_DB_STATEMENT_TIMEOUT"] + 4
        db.session.rollback()
    with faulty.test_request_context():  # the next request connects afresh
        assert db.session.execute(text("SELECT 3")).scalar() == 3
        db.session.rollback()
    with faulty.app_context():
        db.engine.dispose()


def test_a_write_kept_waiting_at_the_fence_is_answered_503_after_the_lock_timeout(
        app, users, units):
    """The fence's registration waits only while a cutoff closes its epoch; held longer
    than the lock limit, the write is refused as a 503 (try again), not a 500."""
    if not _is_pg(app):
        pytest.skip("SQLite has one write lock: the outage test above holds it")
    task = make_task(users["admin"], units["ha_long"])
    token = create_token(None, users["ha_long"], name="faults", now=clock.now())[1]
    epoch = load_calendar().epoch(clock.now())
    db.session.commit()
    task_id = task.id
    db.session.close()
    faulty = make_app(app.config["SQLALCHEMY_DATABASE_URI"], **LIMITS)
    client = faulty.test_client()
    holder = psycopg.connect(app.config["SQLALCHEMY_DATABASE_URI"].replace(
        "postgresql+psycopg", "postgresql"))
    post = lambda: client.post(  # noqa: E731
        f"/api/v1/tasks/{task_id}/updates", headers={"Authorization": f"Bearer {token}"},
        json={"progress": 10, "work_done": "Chờ ở hàng rào"})
    try:
        holder.execute("SELECT pg_advisory_xact_lock(%s, %s)", (fence.NAMESPACE, epoch))
        response, took = _timed(post)
        _json(response)
        assert took < LIMITS["TRACKER_DB_LOCK_TIMEOUT"] + 2
    finally:
        holder.rollback()
        holder.close()
    assert post().status_code == 201
    with faulty.app_context():
        db.engine.dispose()


def test_a_lock_held_too_long_is_answered_503_after_the_lock_timeout(app, outage):
    outage, client, api = outage
    if not _is_pg(app):
        pytest.skip("SQLite has one write lock: the outage test above holds it")
    holder = psycopg.connect(app.config["SQLALCHEMY_DATABASE_URI"].replace(
        "postgresql+psycopg", "postgresql"))
    try:
        holder.execute("LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE")
        response, took = _timed(lambda: client.get("/api/v1/tasks", headers=api))
        _json(response)
        assert took < LIMITS["TRACKER_DB_LOCK_TIMEOUT"] + 2
    finally:
        holder.rollback()
        holder.close()
    assert client.get("/api/v1/tasks", headers=api).status_code == 200


def test_web_requests_and_jobs_get_their_own_time_limits(app):
    if not _is_pg(app):
        pytest.skip("PostgreSQL's settings")
    app.config.update(TRACKER_DB_STATEMENT_TIMEOUT=30, TRACKER_DB_LOCK_TIMEOUT=10,
                      TRACKER_DB_IDLE_TIMEOUT=60, TRACKER_DB_JOB_STATEMENT_TIMEOUT=600)
    show = "SELECT current_setting('statement_timeout'), current_setting('lock_timeout'), " \
           "current_setting('idle_in_transaction_session_timeout'), " \
           "current_setting('plan_cache_mode')"
    db.session.close()
    with app.test_request_context():
        # A reading request's statements, prepared by the driver, planned for their
        # parameters every time; a writing request's as PostgreSQL chooses.
        assert tuple(db.session.execute(text(show)).one()) == \
            ("30s", "10s", "1min", "force_custom_plan")
        db.session.close()
    with app.test_request_context(method="POST"):
        assert tuple(db.session.execute(text(show)).one()) == ("30s", "10s", "1min", "auto")
        db.session.close()
    # The cutoff, the commands, migrations: outside a request.
    assert tuple(db.session.execute(text(show)).one()) == ("10min", "0", "0", "auto")
    db.session.close()


def test_a_database_error_that_is_a_fault_of_the_app_stays_a_500(app):
    """Only an unavailable database is a 503: an error in a statement is the app's."""

    with pytest.raises(Exception) as raised:
        db.session.execute(text("SELECT * FROM no_such_table"))
    db.session.rollback()
    assert not unavailable(raised.value)


def test_sqlite_commits_are_durable_through_power_loss(app):
    if _is_pg(app):
        pytest.skip("SQLite's setting")
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL




def test_a_connection_is_checked_once_per_request_however_often_it_is_taken(app, monkeypatch):
    """The check before use (tracker.deadlines) is one round trip per connection per
    request: a connection the request gave back (the rate count's, taken again by its
    session) is not checked twice; the next request checks it again."""
    if not _is_pg(app):
        pytest.skip("PostgreSQL's check")
    db.session.close()
    db.engine.dispose()  # one connection in the pool from here on
    with app.test_request_context():
        db.session.execute(text("SELECT 2"))
        db.session.close()
    sent: list[str] = []
    real = psycopg.Cursor.execute

    def execute(self, query, *args, **kwargs):
        sent.append(str(query))
        return real(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", execute)

    def checks() -> int:
        return sum(q == "SELECT 1" or q.startswith("SELECT set_config") for q in sent)

    with app.test_request_context():
        for _ in range(3):
            with db.engine.connect() as conn:
                assert conn.exec_driver_sql("SELECT 2").scalar() == 2
        assert checks() == 1
    with app.test_request_context():
        with db.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 2")
        assert checks() == 2
    with db.engine.connect() as conn:  # a job's (no request): checked each time
        conn.exec_driver_sql("SELECT 2")
    with db.engine.connect() as conn:
        conn.exec_driver_sql("SELECT 2")
    assert checks() == 4
