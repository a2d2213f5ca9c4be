"""The unit tree, stored with a materialised path so that a subtree is one indexed range."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.clock import system_now
from tracker.extensions import db
from tracker.rules.vietnamese_sql import by_name, keep_search_text
from tracker.types import UTCDateTime


class UnitKind(StrEnum):
    NATION = "nation"
    PROVINCE = "province"
    COMMUNE = "commune"
    DEPARTMENT = "department"


class Unit(db.Model):
    """A unit (đơn vị): the nation, a province, a commune-level unit or a department.

    `path` is the chain of ids from the root, e.g. ``/1/2/57/``; the subtree of a unit is
    every unit whose path starts with its path, which an index on `path` answers as a
    range scan even with 3,321 communes.
    """

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[UnitKind] = mapped_column(String(16))
    division_type: Mapped[str | None] = mapped_column(String(32))
    codename: Mapped[str | None] = mapped_column(String(100))
    short_name: Mapped[str | None] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), default="")
    depth: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=system_now)
    # What a unit search compares: name and code folded
    # (tracker.rules.vietnamese.fold_fields), kept on every write (`keep_search_text`).
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="", deferred=True)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent",
                                                order_by=lambda: by_name(Unit.name))

    __table_args__ = (
        # varchar_pattern_ops lets PostgreSQL use the index for `path LIKE '/1/2/%'`
        # whatever the database collation; SQLite ignores the option.
        Index(
            "ix_units_path",
            "path",
            postgresql_ops={"path": "varchar_pattern_ops"},
        ),
        # The search's trigram index (pg_trgm); empty on SQLite, which scans (as tasks').
        Index("ix_units_search_text", "search_text", postgresql_using="gin",
              postgresql_ops={"search_text": "gin_trgm_ops"}, sqlite_where=text("0")),
    )

    def __repr__(self) -> str:
        return f"<Unit {self.code} {self.name}>"

    def is_within(self, other: Unit) -> bool:
        """True if this unit lies in `other`'s subtree (itself included)."""
        return path_is_within(self.path, other.path)


keep_search_text(Unit, ("name", "code"))


def path_is_within(path: str, top_path: str) -> bool:
    """A unit's path lies in the subtree of the unit at `top_path` (itself included); the
    SQL form is `tracker.units.tree.path_within`."""
    return path.startswith(top_path)
