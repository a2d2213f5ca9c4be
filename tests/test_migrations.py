"""One migration history serves SQLite and PostgreSQL, and matches the models."""

import warnings

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import text
from sqlalchemy.schema import CreateIndex

from tracker.extensions import db


def test_the_database_is_at_the_head_revision(app):
    config = current_app.extensions["migrate"].migrate.get_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    with db.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head


# Indexes on an expression, which SQLAlchemy does not reflect: compared by their definition.
EXPRESSION_INDEXES = {"ix_tasks_worst_first"}


def _not_an_expression_index(_object, name, type_, _reflected, _compare_to) -> bool:
    return not (type_ == "index" and name in EXPRESSION_INDEXES)


def test_models_and_migrations_agree(app):
    with db.engine.connect() as conn, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression")
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_object": _not_an_expression_index})
        assert compare_metadata(context, db.metadata) == []


def test_the_expression_indexes_are_the_models(app):
    """Each expression index is in the database on the model's expression (PostgreSQL
    rewrites the text it stores, so the two are compared as PostgreSQL prints them)."""
    for index in (i for t in db.metadata.tables.values() for i in t.indexes
                  if i.name in EXPRESSION_INDEXES):
        wanted = str(CreateIndex(index).compile(db.engine)).strip()
        with db.engine.connect() as conn:
            if db.engine.dialect.name == "sqlite":
                stored = conn.scalar(text("SELECT sql FROM sqlite_master WHERE name = :n"),
                                     {"n": index.name})
                assert stored == wanted
                continue
            scratch = f"{index.name}_wanted"
            conn.exec_driver_sql(wanted.replace(index.name, scratch, 1))
            stored, expected = (conn.scalar(text(
                "SELECT pg_get_indexdef(to_regclass(:n)) "), {"n": n})
                for n in (index.name, scratch))
            conn.rollback()
            assert stored == expected.replace(scratch, index.name)


def test_sqlite_runs_with_foreign_keys_wal_and_a_busy_timeout(app):
    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000


def test_the_facts_history_rebuilt_from_the_audit_trail_is_what_writers_keep(
        tmp_path, monkeypatch):
    """Revision b7d4e2a91c05 rebuilds, from the audit trail, the facts history of changes
    made before it: the rows equal those the writers keep themselves."""
    from datetime import timedelta

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import delete, select

    from tests.conftest import make_app
    from tests.factories import ict, make_task, make_user
    from tracker.tasks.lifecycle import (
        confirm_completion,
        decide_extension,
        request_extension,
        return_completion,
        submit_completion,
    )
    from tracker.tasks.models import TaskFactsUntil
    from tracker.units.importer import find_province, import_units
    from tracker.units.models import Unit
    from tracker.updates.service import post_update

    app = make_app("sqlite:///" + str(tmp_path / "facts.sqlite3"))
    with app.app_context():
        upgrade()
        import_units([find_province("Quảng Ninh")])
        db.session.commit()
        units = list(db.session.scalars(select(Unit)))
        province = next(u for u in units if u.kind == "province")
        commune = next(u for u in units if u.kind == "commune")
        admin = make_user("admin", "admin", province)
        supervisor = make_user("supervisor", "supervisor", province)
        member = make_user("member", "member", commune)
        db.session.commit()
        at = ict(2026, 11, 16, 9, 0)
        tasks = [make_task(admin, commune, at=at) for _ in range(3)]
        for n, task in enumerate(tasks):
            step = at + timedelta(hours=1 + n)
            post_update(member, task, {"progress": 30, "work_done": "x"}, now=step)
            submit_completion(member, task, result="Xong", now=step + timedelta(hours=1))
            if n == 0:
                confirm_completion(supervisor, task, now=step + timedelta(hours=2))
            else:
                return_completion(supervisor, task, note="Bổ sung",
                                  now=step + timedelta(hours=2))
                request = request_extension(member, task,
                                            new_deadline=task.deadline + timedelta(days=5),
                                            reason="Thêm thời gian",
                                            now=step + timedelta(days=1))
                decide_extension(supervisor, request, approve=True, note=None,
                                 now=step + timedelta(days=1, hours=1))
            db.session.commit()

        def kept():
            return sorted(
                (r.task_id, r.until, str(r.status), r.start_date, r.deadline, r.duty_since,
                 r.submitted_at)
                for r in db.session.scalars(select(TaskFactsUntil)))

        by_writers = kept()
        assert len(by_writers) >= 9
        db.session.execute(delete(TaskFactsUntil))
        db.session.commit()
        db.session.remove()
        downgrade(revision="23416dd9f18e")
        upgrade()
        assert kept() == by_writers
        db.session.remove()
        db.engine.dispose()
