"""Reads that may lag, on a real streaming replica (issue 15: tracker.replica).

A primary and its replica (pg_basebackup -R) run on ports of their own for this module.
The dashboard, the reports, the exports and the web task list read the replica when it is
close enough behind; the page says so ("Số liệu lúc …"), the API with `Data-As-Of`; a
user who just wrote reads the primary until the replica has replayed that write; a replica
too far behind or down is passed over for the primary; writes always go to the primary.
"""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import event, func, select

from tests.conftest import PG_URL, REQUIRE_PG, csrf_token, login, make_app
from tests.factories import make_user, task_input
from tracker import deadlines, fence, replica
from tracker.deadlines import execute_raw
from tracker.extensions import db

NOTICE = "Số liệu lúc"
MAX_LAG = 6  # seconds, for this module's app (a loaded machine takes a while)


@pytest.fixture(scope="module")
def pair():
    from cluster.pg import Pair, binaries

    if not PG_URL or binaries() is None:
        if REQUIRE_PG:
            pytest.fail("PostgreSQL is required: its server binaries are needed here")
        pytest.skip("no PostgreSQL to run a primary and a replica")
    servers = Pair().start()
    try:
        yield servers
    finally:
        servers.close()


@pytest.fixture(scope="module")
def replicated(pair):
    """An app on the pair's primary, reading the replica; the unit tree and three users."""
    from flask_migrate import upgrade

    from tracker.units.importer import find_province, import_units
    from tracker.units.models import Unit

    name = f"tracker_{uuid.uuid4().hex[:8]}"
    pair.create_database(name)
    app = make_app(pair.primary.url(name), SQLALCHEMY_BINDS={"replica": pair.replica.url(name)},
                   TRACKER_READ_MAX_LAG=MAX_LAG, TRACKER_READ_RETRY_AFTER=30)
    with app.app_context():
        upgrade()
        import_units([find_province("Quảng Ninh")])
        province = db.session.scalar(select(Unit).where(Unit.short_name == "quang_ninh"))
        for username in ("admin", "leader", "other"):
            make_user(username, "admin", province)
        db.session.commit()
        db.session.remove()
    pair.replica.wait_caught_up(pair.primary)
    return app


@pytest.fixture
def healthy(pair, replicated):
    """Each test starts with the replica running, replaying and caught up."""
    if not _running(pair.replica):
        pair.replica.start()
    with pair.replica.connect() as conn:
        conn.execute("SELECT pg_wal_replay_resume()")
    pair.replica.wait_caught_up(pair.primary)
    replica.health.failed(0)  # and not set aside
    return replicated


def _running(server) -> bool:
    try:
        server.connect().close()
        return True
    except Exception:
        return False


def _counting(app, monkeypatch):
    """The statements each engine runs from now on: {"primary": [...], "replica": [...]}
    — through SQLAlchemy, and straight through the driver on one of its connections
    (`execute_raw`: the settings, the token, the rate count, the fence)."""
    seen = {"primary": [], "replica": []}
    with app.app_context():
        engines = {db.engine: "primary", db.engines["replica"]: "replica"}
    for engine, key in engines.items():
        event.listen(engine, "before_cursor_execute",
                     lambda *a, key=key: seen[key].append(a[2]))

    def raw(connection, statement, parameters, **options):
        seen[engines[connection.engine]].append(statement)
        return execute_raw(connection, statement, parameters, **options)

    for module in (deadlines, fence):
        monkeypatch.setattr(module, "execute_raw", raw)
    return seen


def _client(app, username):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def test_the_dashboard_reads_the_replica_and_says_how_old_its_figures_are(healthy, monkeypatch):
    client = _client(healthy, "leader")
    seen = _counting(healthy, monkeypatch)
    page = client.get("/dashboard")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert NOTICE in text and f"tối đa {MAX_LAG} giây" in text
    assert any("FROM tasks" in s for s in seen["replica"])
    assert not any("FROM tasks" in s for s in seen["primary"])
    # The settings (the calendar's version, the policy) too: read with the calendar's days.
    assert any("FROM settings" in s for s in seen["replica"])
    assert not any("FROM settings" in s for s in seen["primary"])
    assert page.headers["Data-As-Of"]


def test_what_a_lagging_read_writes_goes_to_the_primary(healthy):
    from tracker.audit.models import SecurityEvent

    client = _client(healthy, "leader")
    with healthy.app_context():
        before = db.session.scalar(select(func.count()).select_from(SecurityEvent))
    answer = client.get("/tasks/export.xlsx")
    assert answer.status_code == 200 and answer.headers["Data-As-Of"]
    with healthy.app_context():  # the export is recorded, on the primary
        after = db.session.scalar(select(func.count()).select_from(SecurityEvent))
    assert after == before + 1


def test_a_user_who_just_wrote_reads_the_primary_until_the_replica_has_it(healthy, pair):
    client, other = _client(healthy, "admin"), _client(healthy, "other")  # logging in writes
    pair.replica.wait_caught_up(pair.primary)
    with pair.replica.connect() as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
    with healthy.app_context():
        from tracker.units.models import Unit
        lead = db.session.scalar(select(Unit).where(Unit.short_name == "ha_long"))
        data = task_input(lead, title="Rà soát trụ sở dôi dư")
    created = client.post("/admin/tasks/new", data={
        "csrf_token": csrf_token(client, "/admin/tasks/new"), **data})
    assert created.status_code == 302
    # The replica has not replayed the new task: this user reads the primary, and sees it.
    page = client.get("/tasks?q=tru+so+doi+du").get_data(as_text=True)
    assert NOTICE not in page and "Rà soát trụ sở dôi dư" in page
    # Another user, who wrote nothing since, may read the replica (not far behind yet).
    assert NOTICE in other.get("/dashboard").get_data(as_text=True)
    with pair.replica.connect() as conn:
        conn.execute("SELECT pg_wal_replay_resume()")
    pair.replica.wait_caught_up(pair.primary)
    page = client.get("/tasks?q=tru+so+doi+du").get_data(as_text=True)
    assert NOTICE in page and "Rà soát trụ sở dôi dư" in page


def test_a_replica_too_far_behind_is_passed_over(healthy, pair):
    client = _client(healthy, "leader")
    with pair.replica.connect() as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
    with pair.primary.connect(healthy.config["SQLALCHEMY_DATABASE_URI"].rsplit("/", 1)[1]) \
            as conn:  # the primary moves on; the replica receives it but does not replay
        conn.execute("UPDATE units SET name = name WHERE id = (SELECT min(id) FROM units)")
    time.sleep(MAX_LAG + 0.5)
    page = client.get("/dashboard")
    assert page.status_code == 200 and NOTICE not in page.get_data(as_text=True)
    assert "Data-As-Of" not in page.headers


def test_a_replica_down_is_passed_over_and_set_aside(healthy, pair, monkeypatch):
    client = _client(healthy, "leader")
    pair.replica.stop("immediate")
    started = time.monotonic()
    page = client.get("/dashboard")
    assert page.status_code == 200 and NOTICE not in page.get_data(as_text=True)
    assert not replica.health.usable()  # not tried again for a while
    seen = _counting(healthy, monkeypatch)
    assert client.get("/dashboard").status_code == 200 and seen["replica"] == []
    assert time.monotonic() - started < 20


def test_without_a_replica_every_read_is_the_primarys(login_as):
    page = login_as("admin").get("/dashboard")
    assert page.status_code == 200 and "Data-As-Of" not in page.headers
    assert NOTICE not in page.get_data(as_text=True)
