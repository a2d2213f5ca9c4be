"""The database itself refuses to change or delete audit rows (ASVS 16.4.2): triggers on
`audit_entries` and `security_events`, on PostgreSQL and on SQLite, created by the
migrations. The ORM hook in models.py says the same earlier, with a clearer error.

A database owner can still drop a trigger; what the triggers stop is every path the app,
an operator's SQL session or a script takes without doing so on purpose."""

from __future__ import annotations

from sqlalchemy import text

TABLES = ("audit_entries", "security_events")
MESSAGE = "audit rows are never changed or deleted"


def _postgresql(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION tracker_refuse_audit_change()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION tracker_refuse_audit_change()",
    ]


def _sqlite(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    ]


def create_statements(dialect: str, tables=TABLES) -> list[str]:
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION tracker_refuse_audit_change() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege'; "
            "END $$",
            *(s for table in tables for s in _postgresql(table)),
        ]
    return [s for table in tables for s in _sqlite(table)]


def drop_statements(dialect: str, tables=TABLES) -> list[str]:
    if dialect == "postgresql":
        return [s for table in tables for s in (
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")]
    return [s for table in tables for s in (
        f"DROP TRIGGER IF EXISTS {table}_no_update",
        f"DROP TRIGGER IF EXISTS {table}_no_delete")]


def create(connection, tables=TABLES) -> None:
    for statement in create_statements(connection.dialect.name, tables):
        connection.execute(text(statement))


def drop(connection, tables=TABLES) -> None:
    for statement in drop_statements(connection.dialect.name, tables):
        connection.execute(text(statement))
