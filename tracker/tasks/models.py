"""The task: every "6 rõ" field of SPEC §4, its lifecycle status and its stored colour."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    case,
    event,
    exists,
    insert,
    inspect,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, column_property, mapped_column, relationship
from sqlalchemy.sql.elements import Grouping

from tracker.clock import system_now
from tracker.extensions import db
from tracker.rules import colours as rules
from tracker.rules.vietnamese import fold, fold_fields
from tracker.rules.vietnamese_sql import by_name
from tracker.types import UTCDateTime, id_list
from tracker.units.models import Unit


class Status(StrEnum):
    NOT_STARTED = "not_started"  # chưa thực hiện
    IN_PROGRESS = "in_progress"  # đang thực hiện
    SUBMITTED = "submitted"  # chờ xác nhận
    RETURNED = "returned"  # bị trả lại: open again, with its deadline and its duties
    DONE = "done"  # hoàn thành (confirmed by a supervisor)
    CANCELLED = "cancelled"  # đã huỷ


# What "open" means is the rules' (owes updates, can be overdue); the enum members here.
OPEN_STATUSES = tuple(Status(value) for value in sorted(rules.OPEN_STATUSES))


class Priority(StrEnum):
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


task_coordinating_units = Table(
    "task_coordinating_units",
    db.metadata,
    Column("task_id", ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id"), primary_key=True, index=True),
)


def coordinating_order() -> list:
    """The order of a task's coordinating units: by name in Vietnamese, then by id."""
    return [by_name(Unit.name), Unit.id]


class Task(db.Model):
    """A task (nhiệm vụ). One lead unit, one accountable owner, one final responsibility."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    # rõ việc
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text)
    # rõ người
    lead_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    owner_name: Mapped[str] = mapped_column(String(200))
    # rõ thời gian
    start_date: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    original_deadline: Mapped[date] = mapped_column(Date)
    # rõ trách nhiệm
    leader_in_charge: Mapped[str] = mapped_column(String(200))
    # rõ sản phẩm
    expected_output: Mapped[str] = mapped_column(Text)
    # rõ thẩm quyền
    assigning_authority: Mapped[str] = mapped_column(String(300))
    source_doc_number: Mapped[str] = mapped_column(String(100))
    source_doc_date: Mapped[date] = mapped_column(Date)

    field: Mapped[str | None] = mapped_column(String(200))  # lĩnh vực
    priority: Mapped[Priority] = mapped_column(String(16), default=Priority.NORMAL)
    progress: Mapped[int] = mapped_column(default=0)
    result: Mapped[str | None] = mapped_column(Text)

    status: Mapped[Status] = mapped_column(String(16), default=Status.NOT_STARTED)
    # When daily updates started being owed: assignment, or the last return.
    duty_since: Mapped[datetime] = mapped_column(UTCDateTime(), default=system_now)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # The stored colour: always equal to the colour function of the facts (checked by
    # `tracker colours check`).
    colour: Mapped[str | None] = mapped_column(String(8))
    colour_reason: Mapped[str | None] = mapped_column(String(32))
    colour_days: Mapped[int] = mapped_column(default=0)
    last_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=system_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=system_now)
    version: Mapped[int] = mapped_column(default=1)

    lead_unit: Mapped[Unit] = relationship(foreign_keys=[lead_unit_id], lazy="joined")
    coordinating_units: Mapped[list[Unit]] = relationship(
        secondary=task_coordinating_units, order_by=coordinating_order
    )
    # What the search compares is in a table of its own: `TaskSearchText`.

    __table_args__ = (
        # A unit's tasks by status, and the live counts (tracker.reports.live): grouped on
        # the first two columns and counted from the others, all from the index alone.
        Index("ix_tasks_live_counts", "lead_unit_id", "status", "colour", "colour_reason",
              "deadline", "submitted_at"),
        Index("ix_tasks_deadline", "deadline"),
        # The first task ever assigned: where the days due for a cutoff begin.
        Index("ix_tasks_created_at", "created_at"),
        # The few cancelled tasks, for the past days' reads (a task cancelled by a cutoff is
        # not shown at it): found without a scan of every task.
        Index("ix_tasks_cancelled_at", "cancelled_at", "id",
              postgresql_where=text("cancelled_at IS NOT NULL"),
              sqlite_where=text("cancelled_at IS NOT NULL")),
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def __repr__(self) -> str:
        return f"<Task {self.code}>"


# The ids of the task's coordinating units, in the relationship's order, as a
# value of the task's own row: a page of tasks reads them in its own statement
# (`undefer(Task.coordinating_unit_ids)`, `tracker.tasks.listing.task_page`), not by one
# more; a task read alone loads them when first asked (one statement, as the relationship
# would).
Task.coordinating_unit_ids = column_property(
    id_list(select(task_coordinating_units.c.unit_id)
            .join(Unit, Unit.id == task_coordinating_units.c.unit_id)
            .where(task_coordinating_units.c.task_id == Task.__table__.c.id)
            .order_by(*coordinating_order())),
    deferred=True)


# The fields a search finds a task by, besides its units' names.
SEARCHED_FIELDS = ("code", "title", "description", "owner_name", "leader_in_charge")
# What else makes the folded text change: the units the task names.
_UNIT_ATTRIBUTES = ("lead_unit_id", "lead_unit", "coordinating_units")


def task_search_text(values: Iterable[str | None], lead_unit_name: str | None,
                     coordinating_unit_names: Iterable[str]) -> str:
    """A task's stored folded text: its SEARCHED_FIELDS' `values`, then its lead unit's name,
    then its coordinating units' names in the order of their folded forms — one column, so
    that one trigram index answers every search of a task (a unit's tasks are found by its
    name without a join)."""
    coordinating = sorted(fold(name) for name in coordinating_unit_names)
    return fold_fields(*values, lead_unit_name, *coordinating)


class TaskSearchText(db.Model):
    """What the search compares (tracker.search): a task's folded text, `task_search_text`
    of its SEARCHED_FIELDS and of its lead and coordinating units' names, kept on every write
    that changes one of them (`_keep_search_text`) and when a unit is renamed
    (`_units_renamed`).

    In a narrow table of its own, with the trigram index: a write of a task's progress or
    colour (every update; the cutoff rewrites up to a million tasks a day) changes indexed
    columns, so PostgreSQL writes a new entry into each of the task's indexes — and a
    trigram index takes one entry per distinct trigram of the text, hundreds per task. Here
    that index is written only when the text itself changes: the cutoff's rewrite of the
    same rows took half the time without it (docs/performance.md)."""

    __tablename__ = "task_search_texts"

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"),
                                         primary_key=True, autoincrement=False)
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")

    __table_args__ = (
        # The search's trigram index (pg_trgm): a substring LIKE on the folded text is
        # answered from it. SQLite has no such index and scans; the partial index there is
        # empty (WHERE 0) so that one model describes both databases.
        Index("ix_task_search_texts_search_text", "search_text", postgresql_using="gin",
              postgresql_ops={"search_text": "gin_trgm_ops"}, sqlite_where=text("0")),
    )


def _lead_unit_name(task: Task, connection) -> str | None:
    lead = task.__dict__.get("lead_unit")  # as set or loaded, without loading it
    if lead is not None and lead.id in (task.lead_unit_id, None):
        return lead.name
    if task.lead_unit_id is None:
        return None
    return connection.scalar(select(Unit.name).where(Unit.id == task.lead_unit_id))


def search_text_of(task: Task, connection=None) -> str:
    """The task's folded text as its fields and units (their names as the session has
    them) are now."""
    if connection is None:
        connection = db.session.connection()
    return task_search_text(
        (getattr(task, f) for f in SEARCHED_FIELDS), _lead_unit_name(task, connection),
        (unit.name for unit in task.coordinating_units))


def _store_search_text(task: Task, connection) -> None:
    connection.execute(update(TaskSearchText).where(TaskSearchText.task_id == task.id)
                       .values(search_text=search_text_of(task, connection)))


@event.listens_for(Session, "after_flush")
def _first_search_texts(session: Session, _context) -> None:
    """For every task the flush inserted, whichever service writes: one statement for all
    of them (a directive assigned to every commune inserts thousands)."""
    new = [task for task in session.new if isinstance(task, Task)]
    if new:
        connection = session.connection()
        connection.execute(insert(TaskSearchText), [
            {"task_id": task.id, "search_text": search_text_of(task, connection)}
            for task in new])


@event.listens_for(Task, "after_update")
def _keep_search_text(_mapper, connection, task: Task) -> None:
    """On every update that changes a searched field or the units (a progress update or a
    colour changes none, and costs nothing here)."""
    state = inspect(task)
    if any(state.attrs[name].history.has_changes()
           for name in (*SEARCHED_FIELDS, *_UNIT_ATTRIBUTES)):
        _store_search_text(task, connection)


@event.listens_for(Session, "before_flush")
def _units_renamed(session: Session, _context, _instances) -> None:
    """A unit renamed (a department by its admin, an official unit by the tree's import):
    the folded text of every task it leads or coordinates follows, in the same
    transaction."""
    renamed = [unit.id for unit in session.dirty if isinstance(unit, Unit)
               and inspect(unit).attrs.name.history.has_changes()]
    if not renamed:
        return
    coordinated = exists().where(task_coordinating_units.c.task_id == Task.id,
                                 task_coordinating_units.c.unit_id.in_(renamed))
    with session.no_autoflush:
        for task in session.scalars(select(Task).where(
                or_(Task.lead_unit_id.in_(renamed), coordinated))):
            _store_search_text(task, session.connection())


# Worst first (red, yellow, green, then no colour; the nearest deadline first): the order of
# the lists of tasks on the pages (the task list, the dashboard's drill-down). The constants
# are written into the statement, never bound, so that PostgreSQL matches the expression to
# the index below whatever plan it caches; a page of the list is then read from the index in
# its order and stops at the page — with a search too, when the phrase is common.
def worst_colour_first(task=Task):
    """Red, yellow, green, then no colour (a SQL CASE over `task`'s colour)."""
    return case(*((task.colour == literal_column(f"'{colour}'"), literal_column(str(rank)))
                  for rank, colour in enumerate(("red", "yellow", "green"))),
                else_=literal_column("3"))


WORST_FIRST = worst_colour_first()


def worst_first() -> tuple:
    """The task lists' order: the worst colour first, then the nearest deadline, then id."""
    return (worst_colour_first(), Task.deadline, Task.id)
Index("ix_tasks_worst_first", Grouping(WORST_FIRST), Task.deadline, Task.id)

# The red queue's order (tracker.web.supervise.RED_ORDER), with the lead unit last so that a
# page of ids, the per-unit counts and the scope filter are all read from the index alone;
# it also serves every filter on the colour alone.
Index("ix_tasks_red_queue", Task.colour, Task.colour_reason.desc(), Task.colour_days.desc(),
      Task.deadline, Task.id, Task.lead_unit_id)


# The supervisors' inbox (tracker.tasks.inbox): the completions awaiting confirmation, oldest
# first, with the lead unit for the scope — a few rows among many, counted and listed from
# this index alone.
Index("ix_tasks_awaiting_confirmation", Task.submitted_at, Task.id, Task.lead_unit_id,
      sqlite_where=text("status = 'submitted'"), postgresql_where=text("status = 'submitted'"))


class ExtensionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ExtensionRequest(db.Model):
    """A request to move a deadline (đề nghị gia hạn); the task keeps its original
    deadline and every change in its history."""

    __tablename__ = "extension_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"),
                                         index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=system_now)
    current_deadline: Mapped[date] = mapped_column(Date)
    requested_deadline: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ExtensionStatus] = mapped_column(String(16),
                                                    default=ExtensionStatus.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(Text)


class Comment(db.Model):
    """A comment on a task, or a supervisor's acknowledgement of a red item with a note."""

    __tablename__ = "task_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"),
                                         index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=system_now)
    kind: Mapped[str] = mapped_column(String(16), default="comment")  # comment, acknowledge
    body: Mapped[str] = mapped_column(Text)


class TaskFactsUntil(db.Model):
    """The facts the colour rules read of a task (`tracker.rules.colours.TaskFacts`) as
    they stood until a change to any of them at `until`: one row per such change, written
    by the change itself (`tracker.tasks.facts`). The cutoff rebuilds a past day's facts
    from these rows; the audit trail stays the human record."""

    __tablename__ = "task_facts_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    until: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[Status] = mapped_column(String(16))
    start_date: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    duty_since: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_task_facts_history_until", "until"),)
