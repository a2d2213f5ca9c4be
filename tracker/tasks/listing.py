"""The task list's filter, one for the web page (/tasks) and the API (GET /api/v1/tasks):
the same parameters, refused the same way, and the same search.

`TaskFilter.from_args(actor, raw)` reads the parameters as sent (a query string) and refuses
bad ones with `InvalidInput` naming each; `apply(query)` narrows a query of tasks that is
already limited to the user's scope (`tracker.scope.visible_tasks`). Blank parameters mean
"any", as an untouched form control sends them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate
from sqlalchemy import Select, literal_column, not_, select
from sqlalchemy.orm import lazyload, undefer
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from tracker import clock
from tracker.auth.models import User
from tracker.bulk import in_ids
from tracker.dates import EARLIEST, LATEST, TypedDate
from tracker.errors import InvalidInput
from tracker.extensions import db
from tracker.paging import PER_PAGE, Page, count_rows, paginate, paginate_counted
from tracker.rules import sql as rules_sql
from tracker.rules.store import load_calendar
from tracker.scope import can_see_unit, sees_every_unit
from tracker.search import search_field, task_matches
from tracker.tasks.models import (
    OPEN_STATUSES,
    Status,
    Task,
    worst_first,
)
from tracker.tasks.schemas import DATE_MESSAGES, INT_MESSAGES, MESSAGES
from tracker.types import MAX_ID
from tracker.units.models import Unit
from tracker.units.tree import subtree_ids

COLOURS = ("green", "yellow", "red")
STATUS_CHOICES = (*(s.value for s in Status), "open")
CHOICE = _l("Not a valid value.")


def _date(description: str) -> TypedDate:
    return TypedDate(error_messages=DATE_MESSAGES, metadata={"description": description},
                     validate=validate.Range(min=EARLIEST, max=LATEST,
                                             error=_l("Not a plausible date.")))


class TaskFilterSchema(Schema):
    """The task list's parameters; the API's query schema extends it with paging."""

    class Meta:
        unknown = EXCLUDE

    q = search_field("Text in the code, title, description, owner, leader in charge, or "
                     "the name of the lead or a coordinating unit", error_messages=MESSAGES)
    status = fields.String(error_messages=MESSAGES,
                           validate=validate.OneOf(STATUS_CHOICES, error=CHOICE),
                           metadata={"description": "open = not started, in progress or "
                                                    "returned."})
    colour = fields.String(error_messages=MESSAGES, validate=validate.OneOf(COLOURS, error=CHOICE))
    unit_id = fields.Integer(strict=False, error_messages=INT_MESSAGES, validate=validate.Range(
        min=1, max=MAX_ID, error=_l("Unknown unit or outside your scope.")),
        metadata={"description": "Tasks led by this unit or any unit below it."})
    overdue = fields.Boolean(error_messages=MESSAGES,
                             metadata={"description": "Past the deadline and not done."})
    deadline_from = _date("The deadline on or after this day (yyyy-mm-dd or dd/mm/yyyy).")
    deadline_to = _date("The deadline on or before this day (yyyy-mm-dd or dd/mm/yyyy).")

    @pre_load
    def _blank_means_any(self, data, **_kwargs):
        if not isinstance(data, Mapping):
            return data
        cleaned = {}
        for name, value in data.items():
            if name in FILTER_FIELDS and isinstance(value, str):
                value = value.strip()
                if not value:
                    continue
            cleaned[name] = value
        return cleaned


_schema = TaskFilterSchema()
FILTER_FIELDS = frozenset(_schema.fields)


@dataclass(frozen=True)
class TaskFilter:
    """What a user asked the task list for; the defaults ask for every task in scope."""

    q: str = ""
    status: str | None = None
    colour: str | None = None
    unit: Unit | None = None
    overdue: bool | None = None
    deadline_from: date | None = None
    deadline_to: date | None = None

    @classmethod
    def from_args(cls, actor: User, raw: Mapping) -> TaskFilter:
        """The filter from parameters as sent; InvalidInput names every bad one."""
        try:
            args = _schema.load(raw)
        except ValidationError as exc:
            raise InvalidInput(_("Some fields are not valid."), {
                name: [str(m) for m in (messages if isinstance(messages, list) else [messages])]
                for name, messages in exc.normalized_messages().items()}) from None
        return cls.from_loaded(actor, args)

    @classmethod
    def from_loaded(cls, actor: User, args: Mapping) -> TaskFilter:
        """The filter from parameters already loaded by `TaskFilterSchema` (or a schema
        extending it): what is left to check is that the unit is one the actor sees."""
        unit = None
        if args.get("unit_id") is not None:
            unit = db.session.get(Unit, args["unit_id"])
            if unit is None or not can_see_unit(actor, unit):
                message = _("Unknown unit or outside your scope.")
                raise InvalidInput(message, {"unit_id": [message]})
        return cls(q=args.get("q") or "", status=args.get("status"), colour=args.get("colour"),
                   unit=unit, overdue=args.get("overdue"),
                   deadline_from=args.get("deadline_from"), deadline_to=args.get("deadline_to"))

    def apply(self, query: Select) -> Select:
        """`query` (tasks in the user's scope) narrowed to what the filter asks for."""
        if self.unit is not None:  # its units as a list: see `scope.visible_tasks`
            query = query.where(Task.lead_unit_id.in_(list(db.session.scalars(
                subtree_ids(self.unit)))))
        if self.colour:
            query = query.where(Task.colour == self.colour)
        statuses = OPEN_STATUSES if self.status == "open" else (self.status,) if self.status \
            else None
        if statuses is not None:
            query = query.where(Task.status.in_(statuses) if len(statuses) > 1
                                else Task.status == statuses[0])
        if self.overdue is not None:
            condition = rules_sql.is_overdue(Task, load_calendar(), clock.now(),
                                             among=statuses)
            query = query.where(condition if self.overdue else not_(condition))
        if self.deadline_from:
            query = query.where(Task.deadline >= self.deadline_from)
        if self.deadline_to:
            query = query.where(Task.deadline <= self.deadline_to)
        if self.q:
            query = query.where(task_matches(self.q))
        return query

    def narrow(self, actor: User) -> bool:
        """Whether the list is of some units' tasks only: a unit chosen, or a scope that is
        not every unit (`in_order`)."""
        return self.unit is not None or not sees_every_unit(actor)

    def args(self, without: tuple[str, ...] = ()) -> dict[str, str]:
        """The filter as query parameters (but those `without`), for links to other pages
        of the same list."""
        values = {"q": self.q, "status": self.status, "colour": self.colour,
                  "unit_id": self.unit.id if self.unit is not None else None,
                  "overdue": None if self.overdue is None else str(self.overdue).lower(),
                  "deadline_from": self.deadline_from and self.deadline_from.isoformat(),
                  "deadline_to": self.deadline_to and self.deadline_to.isoformat()}
        return {name: str(value) for name, value in values.items()
                if value not in (None, "") and name not in without}


def by_id() -> tuple:
    """The API's order of tasks."""
    return (Task.id,)


def task_page(query: Select, order=worst_first, *, narrow: bool, page: int,
              per_page: int = PER_PAGE, count_at_most: int, coordinating: bool = False) -> Page:
    """Page `page` of `query`'s tasks in `order`, counted up to `count_at_most`. A list
    counted whole (at most that many: a search naming one commune, a filter that leaves a
    few hundred) is read as a set and sorted, like a list narrowed to some units
    (`in_order`); only a list past the bound (the nation's tasks, a common word) walks its
    order's index and stops at the page. The tasks' lead units are read after the page
    (`load_lead_units`); their coordinating units' ids, if asked, with the page itself
    (`Task.coordinating_unit_ids`)."""
    query = query.options(lazyload(Task.lead_unit))
    if coordinating:
        query = query.options(undefer(Task.coordinating_unit_ids))
    if narrow:  # read as a set whatever its count: counted in the page's own statement
        found = paginate_counted(in_order(query, order, narrow=True), page, per_page,
                                 count_at_most=count_at_most)
    else:
        total, exact = count_rows(query, page, per_page, count_at_most=count_at_most)
        ordered = in_order(query, order, narrow=exact)
        found = paginate(ordered, page, per_page, total=total, total_exact=exact)
    load_lead_units(found.items)
    return found


def load_lead_units(tasks: list[Task]) -> None:
    """Give a page of tasks their lead units, as the task's joined load would, but by id:
    the units the session holds already (a commune's own, loaded with its member) are not
    read again, and the others in one statement. Joined to the page, PostgreSQL hashed
    every unit of the country (3,356) to find a commune's one: three quarters of the time
    of its page of 100 tasks (docs/performance.md, "Prepared statements kept")."""
    units: dict[int, Unit] = {}
    missing = []
    for unit_id in {task.lead_unit_id for task in tasks}:
        unit = db.session.identity_map.get(identity_key(Unit, unit_id))
        if unit is None:
            missing.append(unit_id)
        else:
            units[unit_id] = unit
    if missing:
        units.update((unit.id, unit) for unit in
                     db.session.scalars(select(Unit).where(in_ids(Unit.id, missing))))
    for task in tasks:
        set_committed_value(task, "lead_unit", units[task.lead_unit_id])


def in_order(query: Select, order=worst_first, *, narrow: bool) -> Select:
    """`query`'s tasks in `order` (a function giving its keys: `worst_first`, `by_id`).

    A list narrowed to some units (`narrow`: `TaskFilter.narrow`) is read as a set first,
    then sorted: its tasks lie in runs of the index's order
    (a province's are one stretch of ids, assigned together), and walking that order until
    a page is found — which the planner, counting on the units being spread evenly,
    prefers — read most of the country's tasks for a province at the end (2–5 s
    nationally). So its first key is sorted by as `key + 0`, the same order in a form no
    index holds: the planner reads the set from the lead unit's index (or the search's)
    and sorts it. The whole country's list keeps walking its order's index and stops at
    the page. (The set was once a subquery kept apart by `OFFSET 0` and the task entity
    aliased over it: building that alias was 8 % of the instructions of a commune's page
    of 100 tasks.)"""
    first, *rest = order()
    return query.order_by(first + literal_column("0") if narrow else first, *rest)
