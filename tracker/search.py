"""The one search, for the pages and the API alike: tasks, units and users found by what
people type, in any case, with or without diacritics, composed or not ("ha long",
"HẠ LONG" and "Phường Hạ Long" typed in NFD all find "Phường Hạ Long"; "đ" is found by "d").

Each entity keeps a folded column (`search_text`, tracker.rules.vietnamese.fold_fields of
its searchable fields, kept on every write; a task's in a table of its own); a search folds
what was typed the same way and matches it as a literal substring (`%` and `_` are plain
characters), one LIKE that a trigram index answers on PostgreSQL
(tracker.rules.vietnamese_sql.folded_contains).

- a unit: its name or code (not its short name, a codename such as "ha_long");
- a user: username, full name, e-mail, or their home unit's name;
- a task: code, title, description, owner (rõ người), leader in charge (rõ trách nhiệm),
  or the name of its lead unit or of one of its coordinating units (all in its folded
  text, kept when a unit is renamed).

The conditions narrow a query already limited to the user's scope (tracker.scope); they
decide nothing about who sees what.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate
from sqlalchemy import ColumnElement, Select, exists, select, true

from tracker.auth.models import User
from tracker.inputs import storable
from tracker.rules.vietnamese_sql import folded_contains, like_pattern
from tracker.tasks.models import Task, TaskSearchText
from tracker.units.models import Unit

SEARCH_MAX = 200


def search_field(description: str, **kwargs) -> fields.String:
    """The `q` parameter of a list (web and API read it with the same schema)."""
    return fields.String(
        **kwargs,
        validate=[validate.Length(max=SEARCH_MAX, error=_l("At most {max} characters.")),
                  storable],
        metadata={"description": f"{description}: any case, with or without diacritics "
                                 "(đ = d), composed or not; % and _ are plain characters."})


def unit_matches(q: str) -> ColumnElement[bool]:
    """The units whose name or code contains `q` (folded)."""
    return folded_contains(Unit.search_text, q)


def matching_unit_ids(q: str) -> Select:
    return select(Unit.id).where(unit_matches(q))


def user_matches(q: str) -> ColumnElement[bool]:
    """The users whose username, full name or e-mail contains `q`, or whose home unit's
    name does (folded)."""
    if like_pattern(q) is None:
        return true()
    return folded_contains(User.search_text, q) | User.unit_id.in_(matching_unit_ids(q))


def task_matches(q: str) -> ColumnElement[bool]:
    """The tasks whose own text contains `q`, or that are led or coordinated by a unit
    whose name does (folded): one LIKE on the task's folded text, which holds its units'
    names too (tracker.tasks.models.TaskSearchText), one row per task. One condition on one
    column lets PostgreSQL choose, from the column's statistics, between the trigram index
    (a rare phrase) and walking the list's order, looking each task's text up by its key,
    and stopping at the page (a common one)."""
    if like_pattern(q) is None:
        return true()
    return exists().where(TaskSearchText.task_id == Task.id,
                          folded_contains(TaskSearchText.search_text, q))
