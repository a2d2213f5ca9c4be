"""Posting progress updates (báo cáo tiến độ): the daily duty of a unit on each open task.

One write path: the web forms (one task, or all of a unit's at once), the API (one, or a
unit's batch), the CLI and the demo all call `post_updates`. It stamps the write
(`tracker.fence`: the server's clock, read inside the cutoff's fence), checks the
scope of every task and locks them in id order in one statement, validates every item, then
writes the updates, the tasks (progress, status, stored colour) and the audit trail — each
table in one statement through the `tracker.bulk` seam, the audit rows by the audit module,
all in the caller's one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from types import SimpleNamespace
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, pre_load, validate
from sqlalchemy import bindparam, select

from tracker import signals
from tracker.audit.service import append_rows, change_rows
from tracker.auth.models import User
from tracker.auth.tokens import Identity
from tracker.bulk import BulkUpdate, insert_rows, one_trip, reserve_ids
from tracker.errors import Conflict, Forbidden, InvalidInput, NotFound, TrackerError
from tracker.evidence.service import attach_file
from tracker.extensions import db
from tracker.fence import stamp
from tracker.rules.store import load_calendar, load_policy
from tracker.scope import MEMBERS, has_role, in_reporters_subtree, visible_tasks
from tracker.tasks.colour import colour_of, stored_values
from tracker.tasks.facts import facts_now, rows_for
from tracker.tasks.facts import write_rows as write_fact_rows
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
    """What an update does to its task (a row's state): the changed fields as
    field → (old, new), for the audit trail; the state's attributes are set."""
    changes = {}
    if task.progress != progress:
        changes["progress"] = (task.progress, progress)
        task.progress = progress
    if task.status != Status.IN_PROGRESS:
        changes["status"] = (task.status, Status.IN_PROGRESS)
        task.status = Status.IN_PROGRESS
    if task.last_update_at is None or now > task.last_update_at:
        task.last_update_at = now  # (a write stamped a little later may have come first)
    task.updated_at = now
    task.version += 1
    return changes


def _refuse_closed(status) -> None:
    if status not in OPEN_STATUSES:
        raise Conflict(_("This task is not open for updates (status: %(s)s).", s=status))


_tasks, _units = Task.__table__, Unit.__table__
_STATE = (_tasks.c.id, _tasks.c.lead_unit_id, _tasks.c.status, _tasks.c.progress,
          _tasks.c.version, _tasks.c.start_date, _tasks.c.deadline, _tasks.c.duty_since,
          _tasks.c.submitted_at, _tasks.c.last_update_at, _tasks.c.colour)
# The scope check (the lead unit lies in the reporter's subtree), the row locks (in id
# order, as the cutoff's colour refresh takes them, so that two writers of overlapping tasks
# cannot deadlock; SQLite's BEGIN IMMEDIATE already serialises writers) and a fresh read,
# in one statement. FOR NO KEY UPDATE, since no key changes: it still excludes every other
# writer of the task but not the key-share locks of rows that merely refer to it (the
# cutoff's missed updates and history), which would otherwise wait on us, and we on them.
_LOCK = (
    select(*_STATE)
    .join(_units, _units.c.id == _tasks.c.lead_unit_id)
    .where(_tasks.c.id.in_(bindparam("ids", expanding=True)),
           in_reporters_subtree(_units.c.path, bindparam("within")))
    .order_by(_tasks.c.id)
    .with_for_update(of=_tasks, key_share=True)
)
# What an update changes in its task, written for all of them by one statement.
_TASK_COLUMNS = ("progress", "status", "last_update_at", "updated_at", "version", "colour",
                 "colour_reason", "colour_days")
_UPDATE_COLUMNS = ("task_id", "author_id", "created_at", "progress", "work_done", "obstacles",
                   "next_steps", "evidence_url")


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


def post_updates(reporter: Identity, items: Sequence[tuple[int, dict]], *,
                 now: datetime | None = None, unit_id: int | None = None,
                 data_loaded: bool = False,
                 check_version: Callable[[int], None] | None = None) -> list[dict]:
    """Record one update per (task id, input) item, all or nothing; with `unit_id`, every
    task must be led by that unit. Returns the updates as dicts, in the items' order.
    Raises `Refused` naming each refused item (scope, closed task, input).

    Every update is stamped by the server (`stamp`): it counts for the reporting day
    whose window holds that stamp. `now` places the write at a chosen moment instead (the
    demo's history; tests). `data_loaded`: the inputs were already loaded by
    `UpdateInputSchema` (the API's parser). `check_version(version)` is called with each
    task's locked version (the API's If-Match) and may raise.
    """
    now = stamp(now)
    rows = {row.id: row for row in db.session.execute(
        _LOCK, {"ids": sorted({task_id for task_id, _raw in items}),
                "within": reporter.unit_path})}
    can_report = has_role(reporter, *MEMBERS)
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


def post_update(actor: User, task, raw: dict, *, now: datetime | None = None,
                evidence_file=None) -> dict:
    """One update by `actor` on `task` (a Task): `post_updates` with one item, its refusal
    raised as it is; with `evidence_file` (an upload), the file is kept as the update's
    evidence, in the same transaction. The task object is expired, as its row has
    changed."""
    try:
        [update] = post_updates(Identity.of(actor), [(task.id, raw)], now=now)
    except Refused as exc:
        raise exc.errors[0] from None
    db.session.expire(task)
    if evidence_file:
        attach_file(actor, task, evidence_file, now=update["created_at"],
                    update_id=update["id"])
    return update


def _write(reporter: Identity, rows: dict, accepted: list[tuple[int, dict]],
           now: datetime) -> list[dict]:
    """Write the accepted (task id, data) items: every value is computed first (the new
    state of each task, its colour, the audit rows); the database then only stores them."""
    calendar, policy = load_calendar(), load_policy()
    day = calendar.reporting_day(now)  # one stamp for the whole batch: one reporting day
    new = [{"task_id": task_id, "author_id": reporter.user_id, "author": reporter.username,
            "created_at": now, "reporting_day": day,
            "progress": data["progress"], "work_done": data["work_done"],
            "obstacles": data.get("obstacles"), "next_steps": data.get("next_steps"),
            "evidence_url": data.get("evidence_url")}
           for task_id, data in accepted]
    states: dict[int, SimpleNamespace] = {}
    before: dict[int, dict] = {}  # each task's facts before the first of its updates
    changes: list[tuple[int, dict]] = []  # (item index, field → (old, new))
    for index, item in enumerate(new):
        task_id = item["task_id"]
        state = states.get(task_id)
        if state is None:
            state = states[task_id] = SimpleNamespace(**rows[task_id]._asdict())
            before[task_id] = facts_now(state)
        changes.append((index, _apply(state, item["progress"], now)))
    verdicts: dict[tuple, tuple] = {}  # the rules are a pure function of these facts
    task_rows = []
    colour_changes = []  # (task id, old, new), announced with the updates
    for state in states.values():
        facts = (str(state.status), state.start_date, state.deadline, state.duty_since,
                 state.submitted_at, state.last_update_at)
        verdict = verdicts.get(facts)
        if verdict is None:
            verdict = verdicts[facts] = stored_values(colour_of(state, now, calendar, policy))
        task_rows.append((state.id, state.progress, str(state.status),
                          state.last_update_at, now, state.version, *verdict))
        if state.colour is not None and verdict[0] != state.colour:
            colour_changes.append((state.id, state.colour, verdict[0]))

    for item, update_id in zip(new, reserve_ids(ProgressUpdate.__table__, len(new)),
                               strict=True):
        item["id"] = update_id
    audit = [row for index, fields in changes for row in change_rows(
        new[index]["task_id"], reporter.user_id, "progress_update", fields, at=now,
        note=f"update #{new[index]['id']}")]
    tasks = BulkUpdate(Task.__table__, "id", _TASK_COLUMNS, lock=False)  # locked above
    with one_trip():  # PostgreSQL: the three statements in one round trip
        insert_rows(ProgressUpdate.__table__, ("id", *_UPDATE_COLUMNS),
                    [tuple(item[name] for name in ("id", *_UPDATE_COLUMNS)) for item in new])
        tasks.add(task_rows)
        append_rows(audit)
        write_fact_rows(rows_for(((task_id, before[task_id], facts_now(state))
                                  for task_id, state in states.items()), now))
    tasks.apply()
    signals.updates_posted.send(None, reporter=reporter, now=now, updates=new,
                                colour_changes=colour_changes)
    return new
