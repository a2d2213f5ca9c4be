"""Fixtures: an app per backend (SQLite always, PostgreSQL when configured), a fixed
clock, the Quảng Ninh unit tree, users of every role and logged-in clients."""

from __future__ import annotations

import contextvars
import os
import re
import tempfile
import uuid

import pytest

os.environ.setdefault("TRACKER_INSTANCE_PATH", tempfile.mkdtemp(prefix="tracker-test-"))

from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import make_url

from tests.factories import PASSWORD, ict, make_user
from tracker import create_app
from tracker.audit import append_only
from tracker.clock import FixedClock
from tracker.extensions import db, limiter
from tracker.tasks import counts
from tracker.tasks.counts import TaskCount, TaskCountDelta

PG_URL = os.environ.get("TRACKER_TEST_DATABASE_URL")
REQUIRE_PG = os.environ.get("TRACKER_REQUIRE_POSTGRES") == "1"


def _backends() -> list[str]:
    if REQUIRE_PG and not PG_URL:
        return ["sqlite", "postgresql-missing"]
    return ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


def _pg_admin_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql", database="postgres") \
        .render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=_backends())
def database_url(request, tmp_path_factory):
    """An empty database for this test session, dropped afterwards."""
    if request.param == "sqlite":
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "tracker.sqlite3")
        return
    if request.param == "postgresql-missing":
        pytest.fail("TRACKER_REQUIRE_POSTGRES=1 but TRACKER_TEST_DATABASE_URL is not set")
    import psycopg

    name = f"tracker_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(_pg_admin_url(PG_URL), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_URL).set(drivername="postgresql+psycopg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_pg_admin_url(PG_URL), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class IsolatedClient(FlaskClient):
    """Each request runs as in production: in its own app context (fresh `g`, its own
    database session), not inside the test's. The test's session is rolled back first so
    that it holds no lock and later reads see what the request committed."""

    def open(self, *args, **kwargs):
        if has_app_context():
            db.session.rollback()
        return contextvars.Context().run(super().open, *args, **kwargs)


def make_app(database_url: str, **extra):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "TRACKER_ARGON2_PROFILE": "CHEAPEST",
        "CLOCK": FixedClock(ict(2026, 11, 18, 10, 0)),  # a Wednesday morning
        # Most tests log in as an admin with the password alone; tests/test_two_factor*.py
        # set "required" (the production default) themselves.
        "TRACKER_ADMIN_2FA": "optional",
        # Tests move the clock by hours with the same login; tests/test_session_limits.py
        # sets the idle limit itself.
        "TRACKER_SESSION_IDLE_MINUTES": 0,
        # A fixed clock never reaches the end of the cutoff's grace (tracker.fence):
        # tests/test_cutoff_fairness.py gives one itself.
        "TRACKER_CUTOFF_GRACE_SECONDS": 0,
    }
    config.update(extra)
    app = create_app(config)
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture(scope="session")
def migrated(database_url):
    """Upgrade the empty database to head through the migrations, once per session; then
    empty it, as every test leaves it for the next (a migration's rows, such as the
    `webhook_events` setting, would otherwise be seen by the session's first test only)."""
    from flask_migrate import upgrade

    app = make_app(database_url)
    with app.app_context():
        upgrade()
        empty_database()
        db.engine.dispose()
    return database_url


@pytest.fixture
def app(migrated):
    app = make_app(migrated)
    with app.app_context():
        yield app
        # Whatever the test did to the tasks, through whichever path, the counts kept by
        # the triggers still equal the tasks counted afresh (tracker.tasks.counts).
        db.session.rollback()
        assert counts.differences() == [], "the kept task counts differ from the tasks"
        empty_database()
        limiter.reset()  # SQLite's rate counts live beside the database (tracker.ratelimit)
        db.engine.dispose()


def empty_database() -> None:
    """Every table emptied, as a test leaves the database for the next one."""
    db.session.remove()
    with db.engine.begin() as conn:
        # The audit tables refuse DELETE (tracker.audit.append_only): lift that for the
        # cleanup only, inside its transaction.
        append_only.drop(conn)
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
        # Deleting the tasks appended their deltas (tracker.tasks.counts), maybe after
        # those tables were emptied: every task is gone, so every count goes too.
        conn.execute(TaskCountDelta.__table__.delete())
        conn.execute(TaskCount.__table__.delete())
        append_only.create(conn)


@pytest.fixture
def clock(app) -> FixedClock:
    return app.config["CLOCK"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def units(app):
    """Quảng Ninh's tree: the nation, the province and its 54 communes, by short name."""
    from sqlalchemy import select

    from tracker.units.importer import find_province, import_units
    from tracker.units.models import Unit

    import_units([find_province("Quảng Ninh")])
    db.session.commit()
    by_name = {u.short_name or u.code: u for u in db.session.scalars(select(Unit))}
    by_name["nation"] = by_name["VN"]
    by_name["province"] = by_name["quang_ninh"]
    return by_name


@pytest.fixture
def users(app, units):
    """One user of each role: province admin, supervisor and viewer; members of two
    communes (ha_long, co_to); a supervisor of one commune."""
    made = {
        "admin": make_user("admin", "admin", units["province"]),
        "supervisor": make_user("supervisor", "supervisor", units["province"]),
        "viewer": make_user("viewer", "viewer", units["province"]),
        "ha_long": make_user("ha_long", "member", units["ha_long"]),
        "co_to": make_user("co_to", "member", units["co_to"]),
        "co_to_supervisor": make_user("co_to_supervisor", "supervisor", units["co_to"]),
        "co_to_viewer": make_user("co_to_viewer", "viewer", units["co_to"]),
    }
    db.session.commit()
    return made


def csrf_token(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token})


@pytest.fixture
def login_as(client, users):
    def _login(name: str):
        response = login(client, name)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client
    return _login
