"""How a transaction ends on PostgreSQL (tracker.database.commit_if_unwritten): one that
wrote nothing is committed — the same for the data, and the connection keeps the
statements the driver prepared — and one that wrote anything, by SQLAlchemy or straight
through the driver, is rolled back as before."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tracker.extensions import db
from tracker.rules.models import Setting

PREPARED = text("SELECT count(*) FROM pg_prepared_statements")
PROBE = "INSERT INTO settings (key, value, updated_at) VALUES ('probe', 'x', now())"


@pytest.fixture
def pg(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's transactions and its driver's prepared statements")
    return app


def _setting(key: str):
    return db.session.scalar(select(Setting.value).where(Setting.key == key))


def test_a_connection_whose_transactions_only_read_keeps_its_prepared_statements(pg):
    """psycopg prepares a statement on its sixth use, and forgets them all at a ROLLBACK:
    read-only transactions ended by one would never keep any."""
    with db.engine.connect() as conn:
        for _ in range(8):
            assert conn.execute(select(Setting.key).where(Setting.key == "none")).all() == []
            conn.rollback()
        assert conn.execute(PREPARED).scalar() >= 1
        conn.rollback()


def test_a_transaction_that_wrote_is_rolled_back(pg):
    with db.engine.connect() as conn:
        for _ in range(8):
            conn.execute(select(Setting.key).where(Setting.key == "none")).all()
            conn.rollback()
        conn.execute(text(PROBE))
        conn.rollback()
        assert conn.execute(PREPARED).scalar() == 0  # psycopg's own rollback ran
    assert _setting("probe") is None


def test_a_write_straight_through_the_driver_is_rolled_back_too(pg):
    """Whether a transaction wrote is PostgreSQL's answer, not what SQLAlchemy saw."""
    with db.engine.connect() as conn:
        conn.execute(select(Setting.key)).all()
        with conn.connection.driver_connection.cursor() as cursor:
            cursor.execute(PROBE)
        conn.rollback()
    assert _setting("probe") is None


def test_a_failed_transaction_is_rolled_back_and_the_connection_serves_again(pg):
    with db.engine.connect() as conn:
        conn.execute(text(PROBE))
        with pytest.raises(DBAPIError):
            conn.execute(text("SELECT 1 / 0"))
        conn.rollback()
        assert conn.execute(text("SELECT 2")).scalar() == 2
        conn.rollback()
    assert _setting("probe") is None
