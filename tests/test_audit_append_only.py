"""The audit trail and the security events are append-only in the database itself: raw
SQL that updates, deletes (or truncates) their rows is refused, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from tests.factories import ict, make_task
from tracker.audit.models import AuditEntry, SecurityEvent
from tracker.audit.security import SecurityEventKind, record_security
from tracker.extensions import db


@pytest.fixture
def rows(app, users, units):
    task = make_task(users["admin"], units["ha_long"])
    record_security(SecurityEventKind.LOGIN, at=ict(2026, 11, 18, 9, 0), user=users["admin"],
                    address="192.0.2.7")
    db.session.commit()
    return task


RAW = [
    "UPDATE audit_entries SET note = 'rewritten'",
    "DELETE FROM audit_entries",
    "UPDATE security_events SET address = '203.0.113.1'",
    "DELETE FROM security_events",
]


@pytest.mark.parametrize("statement", RAW)
def test_raw_sql_cannot_change_or_delete_audit_rows(rows, statement):
    before = (db.session.scalar(select(func.count()).select_from(AuditEntry)),
              db.session.scalar(select(func.count()).select_from(SecurityEvent)))
    assert before[0] > 0 and before[1] > 0
    db.session.commit()
    with pytest.raises(DatabaseError, match="never changed"):
        db.session.execute(text(statement))
    db.session.rollback()
    after = (db.session.scalar(select(func.count()).select_from(AuditEntry)),
             db.session.scalar(select(func.count()).select_from(SecurityEvent)))
    assert after == before
    assert db.session.scalar(select(SecurityEvent.address)
                             .where(SecurityEvent.kind == "login")) == "192.0.2.7"


def test_truncate_is_refused_on_postgresql(rows):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    with pytest.raises(DatabaseError, match="never changed"):
        db.session.execute(text("TRUNCATE audit_entries, security_events"))
    db.session.rollback()


def test_new_rows_are_still_written(rows, users):
    record_security(SecurityEventKind.LOGOUT, at=ict(2026, 11, 18, 9, 5), user=users["admin"])
    db.session.commit()
    kinds = db.session.scalars(select(SecurityEvent.kind).order_by(SecurityEvent.id)).all()
    assert kinds[-2:] == ["login", "logout"]
    event = db.session.scalars(select(SecurityEvent).order_by(SecurityEvent.id.desc())).first()
    assert event.unit_id == users["admin"].unit_id and event.username == "admin"
