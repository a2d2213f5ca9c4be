"""Posting a progress update: the daily duty of a unit on each open task.

Two ways in, one set of rules (`_apply`): `post_update` for a task already loaded as an ORM
object (the web forms, the demo), and `post_updates` for task ids, set-based, for the API's
single and batch requests — one statement checks the scope of every task and locks them
in id order, then the updates, the tasks and the audit trail are written in bulk, the
colours recomputed in one pass, all in the caller's one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from types import SimpleNamespace
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, pre_load, validate
from sqlalchemy import bindparam, insert, select, text, update

from tracker.audit.service import append_rows, change_rows, record, record_changes
from tracker.auth.models import Role, User
from tracker.auth.tokens import Identity
from tracker.cutoff.context import load_calendar, load_policy
from tracker.cutoff.recolour import colour_of, refresh_colour, stored_values
from tracker.errors import Conflict, Forbidden, InvalidInput, NotFound, TrackerError
from tracker.extensions import db
from tracker.scope import can_report_on, visible_tasks
from tracker.tasks.models import OPEN_STATUSES, Status, Task
from tracker.tasks.schemas import INT_MESSAGES, MESSAGES
from tracker.types import MAX_ID
from tracker.units.models import Unit
from tracker.updates.models import ProgressUpdate


def _http_url(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValidationError(_("Must be an http:// or https:// link."))


_LONG = validate.Length(max=5000, error=_l("At most {max} characters."))


class UpdateInputSchema(Schema):
    """An update as a unit types it: text is stripped, and empty optional text is None."""

    @pre_load
    def _clean(self, data, **_kwargs):
        if not isinstance(data, dict):
            return data
        cleaned = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
        for name in ("obstacles", "next_steps", "evidence_url", "work_done"):
            if cleaned.get(name) == "":
                cleaned[name] = None
        return cleaned

    progress = fields.Integer(
        required=True, strict=False, error_messages=INT_MESSAGES,
        validate=validate.Range(min=0, max=100, error=_l("Enter a number from 0 to 100.")),
    )
    work_done = fields.String(required=True, error_messages=MESSAGES, validate=[
        validate.Length(min=1, error=_l("Required.")), _LONG])
    obstacles = fields.String(load_default=None, allow_none=True, error_messages=MESSAGES,
                              validate=_LONG)
    next_steps = fields.String(load_default=None, allow_none=True, error_messages=MESSAGES,
                               validate=_LONG)
    evidence_url = fields.String(load_default=None, allow_none=True, error_messages=MESSAGES,
                                 validate=[validate.Length(max=1000), _http_url])


_schema = UpdateInputSchema()
_OPTIONAL_TEXT = ("obstacles", "next_steps")
_FIELDS = frozenset(("progress", "work_done", *_OPTIONAL_TEXT, "evidence_url"))


def quick_load(raw, extra: frozenset[str] = frozenset()) -> dict | None:
    """What `UpdateInputSchema` loads from `raw` (unknown fields refused, besides `extra`),
    for the plain case only — a whole-number progress from 0 to 100, short text, no
    evidence link; None for anything else, which the schema itself must then judge.
    A batch of a thousand updates is thus not validated field object by field object."""
    if type(raw) is not dict or not raw.keys() <= _FIELDS | extra:
        return None
    progress, work_done = raw.get("progress"), raw.get("work_done")
    if type(progress) is not int or not 0 <= progress <= 100 or type(work_done) is not str:
        return None
    work_done = work_done.strip()
    evidence_url = raw.get("evidence_url")
    if not work_done or len(work_done) > 5000 or not (
            evidence_url is None or (type(evidence_url) is str and not evidence_url.strip())):
        return None
    data = {"progress": progress, "work_done": work_done, "evidence_url": None}
    for name in _OPTIONAL_TEXT:
        value = raw.get(name)
        if isinstance(value, str):
            value = value.strip() or None
            if value is not None and len(value) > 5000:
                return None
        elif value is not None:
            return None
        data[name] = value
    return data


def parse_update_input(raw: dict) -> dict:
    try:
        return _schema.load(raw, unknown="exclude")
    except ValidationError as exc:
        fields_ = {k: [str(m) for m in (v if isinstance(v, list) else [v])]
                   for k, v in exc.messages_dict.items()}
        raise InvalidInput(_("Some fields are not valid."), fields_) from exc


def _apply(task, progress: int, now: datetime) -> dict[str, tuple]:
    """What an update does to its task (a Task or a row's state): the changed fields as
    field → (old, new), for the audit trail; the task's attributes are set."""
    changes = {}
    if task.progress != progress:
        changes["progress"] = (task.progress, progress)
        task.progress = progress
    if task.status != Status.IN_PROGRESS:
        changes["status"] = (task.status, Status.IN_PROGRESS)
        task.status = Status.IN_PROGRESS
    task.last_update_at = now
    task.updated_at = now
    task.version += 1
    return changes


def _refuse_closed(status) -> None:
    if status not in OPEN_STATUSES:
        raise Conflict(_("This task is not open for updates (status: %(s)s).", s=status))


def post_update(actor: User, task: Task, raw: dict, *, now: datetime) -> ProgressUpdate:
    """Record an update stamped `now` (the server's clock) and recolour the task.

    An update after the cutoff is accepted and counts for the next reporting day.
    """
    if not can_report_on(actor, task):
        raise Forbidden(_("Only a member of the lead unit can report on this task."))
    _refuse_closed(task.status)
    data = parse_update_input(raw)
    update = ProgressUpdate(
        task_id=task.id,
        author_id=actor.id,
        created_at=now,
        reporting_day=load_calendar().reporting_day(now),
        **data,
    )
    db.session.add(update)
    changes = _apply(task, data["progress"], now)
    db.session.flush()
    note = f"update #{update.id}"
    if changes:
        record_changes(task, actor, "progress_update", changes, at=now, note=note)
    else:
        record(task, actor, "progress_update", at=now, note=note)
    refresh_colour(task, now)
    return update


# --- the set-based path -------------------------------------------------------------------

_tasks, _units, _updates = Task.__table__, Unit.__table__, ProgressUpdate.__table__
_STATE = (_tasks.c.id, _tasks.c.lead_unit_id, _tasks.c.status, _tasks.c.progress,
          _tasks.c.version, _tasks.c.start_date, _tasks.c.deadline, _tasks.c.duty_since,
          _tasks.c.submitted_at)
# The scope check (the lead unit lies in the reporter's subtree), the row locks (in id
# order, as the cutoff's bulk update takes them, so that two writers of overlapping tasks
# cannot deadlock; SQLite's BEGIN IMMEDIATE already serialises writers) and a fresh read,
# in one statement. FOR NO KEY UPDATE, since no key changes: it still excludes every other
# writer of the task but not the key-share locks of rows that merely refer to it (the
# cutoff's missed updates and history), which would otherwise wait on us, and we on them.
_LOCK = (
    select(*_STATE)
    .join(_units, _units.c.id == _tasks.c.lead_unit_id)
    .where(_tasks.c.id.in_(bindparam("ids", expanding=True)),
           _units.c.path.startswith(bindparam("within")))
    .order_by(_tasks.c.id)
    .with_for_update(of=_tasks, key_share=True)
)
_INSERT = insert(_updates).returning(_updates.c.id, sort_by_parameter_order=True)
_UPDATE_TASK = (
    update(_tasks).where(_tasks.c.id == bindparam("b_id"))
    .values(progress=bindparam("b_progress"), status=bindparam("b_status"),
            last_update_at=bindparam("b_at"), updated_at=bindparam("b_updated_at"),
            version=bindparam("b_version"), colour=bindparam("b_colour"),
            colour_reason=bindparam("b_reason"), colour_days=bindparam("b_days"))
)


class Refused(TrackerError):
    """Some items of `post_updates` were refused (and nothing was written): `errors`
    maps each refused item's index to its error."""

    status = 422
    code = "invalid"

    def __init__(self, errors: dict[int, TrackerError]):
        super().__init__(_("Some fields are not valid."))
        self.errors = errors


def _refusal(reporter: Identity, task_id: int, unit_id: int | None) -> TrackerError:
    """Why a task outside the reporter's reach is refused, without telling anything about
    tasks they may not see."""
    user = db.session.get(User, reporter.user_id)
    visible = user is not None and 0 < task_id <= MAX_ID and db.session.scalar(
        visible_tasks(user).where(Task.id == task_id).with_only_columns(Task.id)) is not None
    if not visible:
        return NotFound(_("task not found"))
    if unit_id is not None:
        return InvalidInput(_("Not a task of this unit."),
                            {"task_id": [_("Not a task of this unit.")]})
    return Forbidden(_("Only a member of the lead unit can report on this task."))


def post_updates(reporter: Identity, items: Sequence[tuple[int, dict]], *, now: datetime,
                 unit_id: int | None = None, data_loaded: bool = False,
                 check_version: Callable[[int], None] | None = None) -> list[dict]:
    """Record one update per (task id, input) item, stamped `now`, all or nothing; with
    `unit_id`, every task must be led by that unit. Returns the updates as dicts, in the
    items' order. Raises `Refused` naming each refused item (scope, closed task, input).

    `data_loaded`: the inputs were already loaded by `UpdateInputSchema` (the API's
    parser), so they are not validated twice. `check_version(version)` is called with
    each task's locked version (the API's If-Match) and may raise.
    """
    rows = {row.id: row for row in db.session.execute(
        _LOCK, {"ids": sorted({task_id for task_id, _raw in items}),
                "within": reporter.unit_path})}
    can_report = reporter.active and reporter.role == Role.MEMBER
    errors: dict[int, TrackerError] = {}
    accepted: list[tuple[int, dict]] = []
    for index, (task_id, raw) in enumerate(items):
        try:
            row = rows.get(task_id)
            if row is None or (unit_id is not None and row.lead_unit_id != unit_id):
                raise _refusal(reporter, task_id, unit_id)
            if check_version is not None:
                check_version(row.version)
            if not can_report:
                raise Forbidden(_("Only a member of the lead unit can report on this task."))
            _refuse_closed(row.status)
            accepted.append((task_id, raw if data_loaded else parse_update_input(raw)))
        except TrackerError as exc:
            errors[index] = exc
    if errors:
        raise Refused(errors)
    return _write(reporter, rows, accepted, now)


# PostgreSQL: the whole write is one statement over arrays, whatever the number of items —
# the updates (their ids drawn from the sequence up front, so that the audit rows can name
# them), the tasks and the audit rows. `n` numbers the items from 1.
_PG_WRITE = text("""
WITH new AS MATERIALIZED (
    SELECT u.*, nextval(pg_get_serial_sequence('progress_updates', 'id')) AS id
    FROM unnest(CAST(:task_id AS integer[]), CAST(:progress AS integer[]),
                CAST(:work_done AS text[]), CAST(:obstacles AS text[]),
                CAST(:next_steps AS text[]), CAST(:evidence_url AS text[]))
         WITH ORDINALITY AS u(task_id, progress, work_done, obstacles, next_steps,
                              evidence_url, n)
), inserted AS (
    INSERT INTO progress_updates (id, task_id, author_id, created_at, reporting_day,
                                  progress, work_done, obstacles, next_steps, evidence_url)
    SELECT id, task_id, :author_id, :at, :day, progress, work_done, obstacles, next_steps,
           evidence_url FROM new ORDER BY n
), changed AS (
    UPDATE tasks SET progress = t.progress, status = t.status, last_update_at = :at,
                     updated_at = :at, version = t.version, colour = t.colour,
                     colour_reason = t.reason, colour_days = t.days
    FROM unnest(CAST(:t_id AS integer[]), CAST(:t_progress AS integer[]),
                CAST(:t_status AS text[]), CAST(:t_version AS integer[]),
                CAST(:t_colour AS text[]), CAST(:t_reason AS text[]),
                CAST(:t_days AS integer[])) AS t(id, progress, status, version, colour,
                                                 reason, days)
    WHERE tasks.id = t.id
), audited AS (
    INSERT INTO audit_entries (task_id, actor_id, at, action, field, old_value, new_value,
                               note)
    SELECT new.task_id, :author_id, :at, 'progress_update', a.field, a.old_value,
           a.new_value, 'update #' || new.id
    FROM unnest(CAST(:a_n AS integer[]), CAST(:a_field AS text[]),
                CAST(:a_old AS text[]), CAST(:a_new AS text[])) AS a(n, field, old_value,
                                                                     new_value)
    JOIN new ON new.n = a.n
)
SELECT n, id FROM new
""")

# The same for one update, with scalars: cheaper for PostgreSQL to plan than arrays.
_PG_WRITE_ONE = text("""
WITH new AS (
    INSERT INTO progress_updates (task_id, author_id, created_at, reporting_day, progress,
                                  work_done, obstacles, next_steps, evidence_url)
    VALUES (:task_id, :author_id, :at, :day, :progress, :work_done, :obstacles, :next_steps,
            :evidence_url)
    RETURNING id
), changed AS (
    UPDATE tasks SET progress = :progress, status = :t_status, last_update_at = :at,
                     updated_at = :at, version = :t_version, colour = :t_colour,
                     colour_reason = :t_reason, colour_days = :t_days
    WHERE id = :task_id
), audited AS (
    INSERT INTO audit_entries (task_id, actor_id, at, action, field, old_value, new_value,
                               note)
    SELECT :task_id, :author_id, :at, 'progress_update', a.field, a.old_value, a.new_value,
           'update #' || new.id
    FROM new, unnest(CAST(:a_field AS text[]), CAST(:a_old AS text[]),
                     CAST(:a_new AS text[])) AS a(field, old_value, new_value)
)
SELECT id FROM new
""")


def _write(reporter: Identity, rows: dict, accepted: list[tuple[int, dict]],
           now: datetime) -> list[dict]:
    """Write the accepted (task id, data) items: every value, the audit rows included, is
    computed first; the database then only stores them."""
    calendar, policy = load_calendar(), load_policy()
    day: date = calendar.reporting_day(now)
    new = [{"task_id": task_id, "author_id": reporter.user_id, "author": reporter.username,
            "created_at": now, "reporting_day": day, "progress": data["progress"],
            "work_done": data["work_done"], "obstacles": data.get("obstacles"),
            "next_steps": data.get("next_steps"), "evidence_url": data.get("evidence_url")}
           for task_id, data in accepted]
    states: dict[int, SimpleNamespace] = {}
    audit: list[dict] = []  # with "n", the item's number from 1; the note comes later
    for n, item in enumerate(new, start=1):
        task_id = item["task_id"]
        state = states.get(task_id)
        if state is None:
            state = states[task_id] = SimpleNamespace(**rows[task_id]._asdict())
        for row in change_rows(task_id, reporter.user_id, "progress_update",
                               _apply(state, item["progress"], now), at=now):
            row["n"] = n
            audit.append(row)
    tasks = []
    verdicts: dict[tuple, tuple] = {}  # the rules are a pure function of these facts
    for state in states.values():
        facts = (str(state.status), state.start_date, state.deadline, state.duty_since,
                 state.submitted_at)
        verdict = verdicts.get(facts)
        if verdict is None:
            verdict = verdicts[facts] = stored_values(colour_of(state, now, calendar, policy))
        tasks.append((state, verdict))

    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres and len(new) == 1:
        [item], [(state, (colour, reason, days))] = new, tasks
        item["id"] = db.session.execute(_PG_WRITE_ONE, {
            **{k: v for k, v in item.items() if k not in ("author", "created_at")},
            "at": now, "day": day, "t_status": str(state.status), "t_version": state.version,
            "t_colour": colour, "t_reason": reason, "t_days": days,
            "a_field": [row["field"] for row in audit],
            "a_old": [row["old_value"] for row in audit],
            "a_new": [row["new_value"] for row in audit],
        }).scalar_one()
        return new
    if postgres:
        ids = dict(db.session.execute(_PG_WRITE, {
            "author_id": reporter.user_id, "at": now, "day": day,
            **{name: [item[name] for item in new] for name in (
                "task_id", "progress", "work_done", "obstacles", "next_steps",
                "evidence_url")},
            "t_id": [state.id for state, _v in tasks],
            "t_progress": [state.progress for state, _v in tasks],
            "t_status": [str(state.status) for state, _v in tasks],
            "t_version": [state.version for state, _v in tasks],
            "t_colour": [verdict[0] for _s, verdict in tasks],
            "t_reason": [verdict[1] for _s, verdict in tasks],
            "t_days": [verdict[2] for _s, verdict in tasks],
            "a_n": [row["n"] for row in audit], "a_field": [row["field"] for row in audit],
            "a_old": [row["old_value"] for row in audit],
            "a_new": [row["new_value"] for row in audit],
        }).all())
        for n, item in enumerate(new, start=1):
            item["id"] = ids[n]
        return new

    # Elsewhere (SQLite): a few executemany, in the same transaction.
    ids = db.session.execute(_INSERT, [
        {k: v for k, v in item.items() if k != "author"} for item in new]).scalars().all()
    for item, update_id in zip(new, ids, strict=True):
        item["id"] = update_id
    for row in audit:
        row["note"] = f"update #{new[row.pop('n') - 1]['id']}"
    db.session.execute(_UPDATE_TASK, [
        {"b_id": state.id, "b_progress": state.progress, "b_status": str(state.status),
         "b_at": now, "b_updated_at": now, "b_version": state.version, "b_colour": colour,
         "b_reason": reason, "b_days": days} for state, (colour, reason, days) in tasks])
    append_rows(audit)
    return new
