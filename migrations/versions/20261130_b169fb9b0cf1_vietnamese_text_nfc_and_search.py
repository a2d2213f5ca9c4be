"""vietnamese text: NFC and folded search columns

Text typed with a decomposed (NFD) keyboard is stored in the composed form (NFC), as
every write now stores it; tasks, units and users get the folded column a search compares
(tracker.rules.vietnamese.fold_fields), filled here, with a trigram index on PostgreSQL
(pg_trgm; an empty partial index on SQLite, which scans). The audit trail and the security
events are append-only and stay as they were recorded.

Revision ID: b169fb9b0cf1
Revises: 5e1a7c3b9d20
Create Date: 2026-11-30 05:40:00

"""
import sqlalchemy as sa
from alembic import op

from tracker.rules.vietnamese import fold_fields, nfc

# revision identifiers, used by Alembic.
revision = 'b169fb9b0cf1'
down_revision = "5e1a7c3b9d20"
branch_labels = None
depends_on = None

# The text people type, table by table (the append-only audit tables excepted).
TYPED_TEXT = {
    "tasks": ("code", "title", "description", "owner_name", "leader_in_charge",
              "expected_output", "assigning_authority", "source_doc_number", "field",
              "result"),
    "units": ("name", "short_name"),
    "users": ("full_name",),
    "task_comments": ("body",),
    "extension_requests": ("reason", "decision_note"),
    "progress_updates": ("work_done", "obstacles", "next_steps"),
    "evidence": ("filename",),
    "calendar_days": ("note",),
    "notifications": ("message",),
}
# The fields each search finds its rows by (the models' keep_search_text).
SEARCHED = {
    "tasks": ("code", "title", "description", "owner_name", "leader_in_charge"),
    "units": ("name", "code"),
    "users": ("username", "full_name", "email"),
}
BATCH = 2000


def _normalise_text(bind) -> None:
    if bind.dialect.name == "postgresql":
        for table, columns in TYPED_TEXT.items():
            for column in columns:
                op.execute(f"UPDATE {table} SET {column} = normalize({column}, NFC) "
                           f"WHERE {column} IS NOT NFC NORMALIZED")
        return
    bind.connection.driver_connection.create_function(
        "tracker_nfc", 1, lambda value: nfc(value) if isinstance(value, str) else value,
        deterministic=True)
    for table, columns in TYPED_TEXT.items():
        for column in columns:
            op.execute(f"UPDATE {table} SET {column} = tracker_nfc({column}) "
                       f"WHERE {column} <> tracker_nfc({column})")


def _fill_search_text(bind, table: str, columns: tuple[str, ...]) -> None:
    """A batch of rows at a time, in id order (no cursor left open across the writes)."""
    read = sa.text(f"SELECT id, {', '.join(columns)} FROM {table} WHERE id > :last "
                   f"ORDER BY id LIMIT {BATCH}")
    update = sa.text(f"UPDATE {table} SET search_text = :s WHERE id = :id")
    last = 0
    while rows := bind.execute(read, {"last": last}).fetchall():
        bind.execute(update, [{"id": row[0], "s": fold_fields(*row[1:])} for row in rows])
        last = rows[-1][0]


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # A trusted extension: the database's owner may create it (PostgreSQL 13+).
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    _normalise_text(bind)
    for table, columns in SEARCHED.items():
        # Plain ALTER (no batch copy): the users table is referred to by many keys.
        op.add_column(table, sa.Column("search_text", sa.Text(), server_default="",
                                       nullable=False))
        _fill_search_text(bind, table, columns)
        op.create_index(f"ix_{table}_search_text", table, ["search_text"],
                        postgresql_using="gin",
                        postgresql_ops={"search_text": "gin_trgm_ops"},
                        sqlite_where=sa.text("0"))


def downgrade():
    for table in SEARCHED:
        op.drop_index(f"ix_{table}_search_text", table_name=table)
        op.execute(f"ALTER TABLE {table} DROP COLUMN search_text")
