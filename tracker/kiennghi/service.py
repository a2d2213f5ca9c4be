"""The one write path for kiến nghị: the web forms, the API and the CLI all call these.

Raise → route (assign one responsible unit with a deadline in working days, forward up a
level, or merge into another) → answer → accept, or ask again with a reason (a new
deadline of the same length). Every step is stamped by the server (`stamp`, unless `now`
places it), made on the row re-read under its lock, checked against the scope rule
(tracker.scope), written to the audit trail and announced by signal.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update

from tracker import signals
from tracker.audit.service import record_recommendation
from tracker.auth.models import User
from tracker.errors import Conflict, Forbidden, InvalidInput
from tracker.evidence.models import Evidence, Purpose
from tracker.evidence.service import attach_recommendation_file
from tracker.extensions import db
from tracker.fence import stamp
from tracker.inputs import text
from tracker.kiennghi.models import Kind, Level, Recommendation, RecStatus
from tracker.rules.recommendations import response_due
from tracker.rules.store import load_calendar
from tracker.scope import (
    can_answer,
    can_judge_answer,
    can_merge_into,
    can_raise,
    can_route,
    can_see_unit,
)
from tracker.tasks.models import Task
from tracker.types import MAX_ID
from tracker.units.models import Unit

TITLE_MAX = 500
CONTENT_MAX = 20000
FIELD_MAX = 200
BASIS_MAX = 5000
ANSWER_MAX = 20000
DOCUMENTS_MAX = 500
NOTE_MAX = 5000
MAX_RESPONSE_DAYS = 60  # working days: about three months
MAX_FILES = 10  # files added in one step


def _lock(rec: Recommendation) -> Recommendation:
    """Re-read `rec` under its row lock, so that two decisions never both start from the
    same state. Call it after `stamp()`."""
    locked = db.session.scalars(
        select(Recommendation).where(Recommendation.id == rec.id).with_for_update(
            of=Recommendation).execution_options(populate_existing=True)).one()
    assert locked is rec
    return rec


def _lock_all(recs: list[Recommendation]) -> None:
    """`_lock` for several, in id order."""
    ids = sorted(r.id for r in recs)
    db.session.scalars(
        select(Recommendation).where(Recommendation.id.in_(ids)).order_by(Recommendation.id)
        .with_for_update(of=Recommendation).execution_options(populate_existing=True)).all()


def _by_id(model, value):
    """The row of `model` whose id is `value` (a number or its text), or None."""
    try:
        key = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return db.session.get(model, key) if 0 < key <= MAX_ID else None


def _choice(value, name: str, allowed, errors: dict, default=None):
    if value in (None, "") and default is not None:
        return default
    if value not in {str(a) for a in allowed}:
        errors[name] = [_("Choose one of the values offered.")]
        return None
    return value


def parse_raise_input(raw: dict) -> dict:
    """The fields of a new kiến nghị; one InvalidInput names every field at fault."""
    errors: dict[str, list[str]] = {}
    data = {
        "title": text(raw.get("title"), "title", errors, max_len=TITLE_MAX, required=True),
        "content": text(raw.get("content"), "content", errors, max_len=CONTENT_MAX,
                        required=True),
        "field": text(raw.get("field"), "field", errors, max_len=FIELD_MAX, required=True),
        "legal_basis": text(raw.get("legal_basis"), "legal_basis", errors, max_len=BASIS_MAX,
                            required=True),
        "kind": _choice(raw.get("kind"), "kind", Kind, errors, default=Kind.RECOMMENDATION),
        "level_asked": _choice(raw.get("level_asked"), "level_asked", Level, errors),
    }
    if errors:
        raise InvalidInput(_("The recommendation is not complete."), errors)
    return data


def raise_recommendation(actor: User, raw: dict, *, task: Task | None = None, files=(),
                         now: datetime | None = None) -> Recommendation:
    """A member raises a vướng mắc or kiến nghị in the name of their home unit, on `task`
    (one they report on) or on its own, with `files` (uploads) attached. Numbered
    KN-yyyy-nnnnnn."""
    if not can_raise(actor, task):
        raise Forbidden(_("Only a member of the unit can raise a recommendation here."))
    data = parse_raise_input(raw)
    now = stamp(now)
    rec = Recommendation(
        code=f"tmp-{actor.id}-{now.timestamp()}", **data,
        task_id=task.id if task is not None else None,
        raising_unit_id=actor.unit_id, raised_by_id=actor.id, raised_at=now,
        routing_unit_id=actor.unit_id, status=RecStatus.RAISED, updated_at=now)
    db.session.add(rec)
    db.session.flush()
    rec.code = f"KN-{now:%Y}-{rec.id:06d}"
    record_recommendation(rec, actor, "raise", at=now, new=rec.code, note=rec.title)
    attach(actor, rec, files, purpose=Purpose.RECOMMENDATION, now=now)
    db.session.flush()
    signals.recommendation_raised.send(rec, actor=actor, now=now)
    return rec


OBSTACLE_TITLE_MAX = 120


def raise_obstacle(actor: User, task: Task, *, obstacles: str | None, raw: dict,
                   now: datetime | None = None) -> Recommendation:
    """One step from the daily update form ("Nêu thành kiến nghị"): the obstacle written in
    the update becomes a vướng mắc on its task — the text its content, its first line its
    title — with the field, legal basis and level asked that the member names in `raw`.
    The caller runs it in the update's transaction, so both are written or neither."""
    body = (obstacles or "").strip()
    if not body:
        raise InvalidInput(_("Write the obstacle to raise it."),
                           {"obstacles": [_("Write the obstacle to raise it.")]})
    first = body.splitlines()[0].strip()
    title = first if len(first) <= OBSTACLE_TITLE_MAX \
        else first[:OBSTACLE_TITLE_MAX - 1].rstrip() + "…"
    data = {name: raw.get(name) for name in ("field", "legal_basis", "level_asked")}
    return raise_recommendation(actor, {**data, "kind": Kind.OBSTACLE, "title": title,
                                        "content": body}, task=task, now=now)


def _require_routing(actor: User, rec: Recommendation) -> None:
    if rec.status != RecStatus.RAISED:
        raise Conflict(_("This recommendation has already been routed."))
    if not can_route(actor, rec):
        raise Forbidden(_("Only a supervisor of the raising unit can route this recommendation."))


def _response_days(value, errors: dict) -> int | None:
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        errors["response_days"] = [_("Enter a whole number of working days.")]
        return None
    if not 1 <= days <= MAX_RESPONSE_DAYS:
        errors["response_days"] = [_("Between 1 and %(n)s working days.",
                                     n=MAX_RESPONSE_DAYS)]
        return None
    return days


def _set_deadline(rec: Recommendation, days: int, now: datetime) -> None:
    calendar = load_calendar()
    rec.response_days = days
    rec.response_due = response_due(calendar.local_date(now), days, calendar)
    rec.response_due_end = calendar.deadline_end(rec.response_due)
    rec.overdue_noticed_at = None


def route(actor: User, rec: Recommendation, *, responsible_unit_id, response_days,
          note: str | None = None, now: datetime | None = None) -> None:
    """Accept the kiến nghị and assign exactly one responsible unit (đầu mối) — one in the
    supervisor's subtree — to answer within `response_days` working days."""
    now = stamp(now)
    _lock(rec)
    _require_routing(actor, rec)
    errors: dict[str, list[str]] = {}
    unit = _by_id(Unit, responsible_unit_id)
    if unit is None or not can_see_unit(actor, unit):
        errors["responsible_unit_id"] = [_("Unknown unit or outside your scope.")]
    elif not unit.active:
        errors["responsible_unit_id"] = [_("This unit is retired.")]
    days = _response_days(response_days, errors)
    note = text(note, "note", errors, max_len=NOTE_MAX)
    if errors:
        raise InvalidInput(_("Choose the responsible unit and the deadline."), errors)
    rec.responsible_unit = unit
    rec.status = RecStatus.ASSIGNED
    rec.routed_at, rec.routed_by_id, rec.updated_at = now, actor.id, now
    _set_deadline(rec, days, now)
    record_recommendation(rec, actor, "route", at=now, field="responsible_unit_id",
                          new=unit.name, note=note or None)
    record_recommendation(rec, actor, "route", at=now, field="response_due",
                          new=rec.response_due)
    db.session.flush()
    signals.recommendation_routed.send(rec, actor=actor, now=now, forwarded=False)


def forward(actor: User, rec: Recommendation, *, note: str,
            now: datetime | None = None) -> None:
    """Forward it up a level (chuyển cấp trên): the supervisors of the routing unit's
    parent route it from now on."""
    now = stamp(now)
    _lock(rec)
    _require_routing(actor, rec)
    errors: dict[str, list[str]] = {}
    note = text(note, "note", errors, max_len=NOTE_MAX, required=True)
    if errors:
        raise InvalidInput(_("Say why it is forwarded."), errors)
    parent = rec.routing_unit.parent
    if parent is None:
        raise Conflict(_("There is no level above this one."))
    old = rec.routing_unit.name
    rec.routing_unit = parent
    rec.updated_at = now
    record_recommendation(rec, actor, "forward", at=now, field="routing_unit_id", old=old,
                          new=parent.name, note=note)
    db.session.flush()
    signals.recommendation_routed.send(rec, actor=actor, now=now, forwarded=True)


def merge(actor: User, rec: Recommendation, *, into_id, now: datetime | None = None) -> None:
    """Merge a duplicate (several communes raising the same thing) into another kiến nghị:
    it is answered by that one, whose answer reaches its raisers too. Duplicates already
    merged into `rec` follow it."""
    now = stamp(now)
    target = _by_id(Recommendation, into_id)
    # Both rows under their locks, in id order (two merges the other way round cannot
    # deadlock), and both re-read: the target may have been merged elsewhere meanwhile.
    _lock_all([rec] if target is None or target.id == rec.id else [rec, target])
    _require_routing(actor, rec)
    if target is None or target.id == rec.id or not can_merge_into(actor, target):
        raise InvalidInput(_("Choose the recommendation to merge into."),
                           {"into_id": [_("Unknown recommendation, or one that cannot be "
                                          "merged into.")]})
    rec.status = RecStatus.MERGED
    rec.merged_into_id = target.id
    rec.updated_at = now
    db.session.execute(update(Recommendation).where(Recommendation.merged_into_id == rec.id,
                                                    Recommendation.id != rec.id)
                       .values(merged_into_id=target.id))
    record_recommendation(rec, actor, "merge", at=now, field="merged_into_id",
                          new=target.code)
    record_recommendation(target, actor, "merged_here", at=now, new=rec.code)
    db.session.flush()
    signals.recommendation_routed.send(rec, actor=actor, now=now, forwarded=False,
                                       merged_into=target)


def answer(actor: User, rec: Recommendation, *, answer_text: str, documents: str | None = None,
           files=(), now: datetime | None = None) -> None:
    """The responsible unit answers (with the numbers of its documents, and the documents
    themselves as `files`)."""
    now = stamp(now)
    _lock(rec)
    if not rec.awaiting_answer:
        raise Conflict(_("No answer is owed on this recommendation now."))
    if not can_answer(actor, rec):
        raise Forbidden(_("Only the responsible unit can answer this recommendation."))
    errors: dict[str, list[str]] = {}
    answer_text = text(answer_text, "answer", errors, max_len=ANSWER_MAX, required=True)
    documents = text(documents, "answer_documents", errors, max_len=DOCUMENTS_MAX)
    if errors:
        raise InvalidInput(_("Write the answer."), errors)
    attach(actor, rec, files, purpose=Purpose.ANSWER, now=now)
    old = rec.answer
    rec.answer, rec.answer_documents = answer_text, documents or None
    rec.answered_at, rec.answered_by_id = now, actor.id
    rec.status = RecStatus.ANSWERED
    rec.updated_at = now
    record_recommendation(rec, actor, "answer", at=now, field="answer", old=old,
                          new=answer_text, note=documents or None)
    db.session.flush()
    signals.recommendation_answered.send(rec, actor=actor, now=now)


def _uploads(files) -> list:
    """The uploads actually given (a form's empty file input sends one with no name)."""
    return [f for f in files or () if f is not None and getattr(f, "filename", None)]


def attach(actor: User, rec: Recommendation, files, *, purpose: Purpose, now: datetime,
           field: str = "files") -> list[Evidence]:
    """Add `files` (uploads) to the kiến nghị as raised or to its answer, through the one
    upload path (tracker.evidence: type by content, size limit), each written to its trail.
    A step of the raise, the answer and `attach_alone`, which have stamped and locked."""
    uploads = _uploads(files)
    if len(uploads) > MAX_FILES:
        raise InvalidInput(_("Too many files."),
                           {field: [_("At most %(n)s files at a time.", n=MAX_FILES)]})
    added = []
    for upload in uploads:
        item = attach_recommendation_file(actor, rec, upload, now=now,
                                          purpose=purpose, field=field)
        record_recommendation(rec, actor, "attach", at=item.uploaded_at, new=item.filename,
                              field="answer_files" if purpose == Purpose.ANSWER else "files")
        added.append(item)
    return added


def attach_alone(actor: User, rec: Recommendation, files, *, purpose: str,
                 now: datetime | None = None) -> list[Evidence]:
    """Files added on their own (the API): to the kiến nghị while it is open, or to the
    answer about to be given while an answer is owed."""
    now = stamp(now)
    _lock(rec)
    errors: dict[str, list[str]] = {}
    if purpose not in (Purpose.RECOMMENDATION, Purpose.ANSWER):
        errors["purpose"] = [_("Choose recommendation or answer.")]
    if not _uploads(files):
        errors["file"] = [_("Choose a file.")]
    if errors:
        raise InvalidInput(_("The file was not added."), errors)
    added = attach(actor, rec, files, purpose=Purpose(purpose), now=now, field="file")
    rec.updated_at = now
    db.session.flush()
    return added


def _require_judging(actor: User, rec: Recommendation) -> None:
    if rec.status != RecStatus.ANSWERED:
        raise Conflict(_("Only an answered recommendation can be accepted or asked again."))
    if not can_judge_answer(actor, rec):
        raise Forbidden(_("Only the raising unit can accept the answer or ask again."))


def accept_answer(actor: User, rec: Recommendation, *, now: datetime | None = None) -> None:
    now = stamp(now)
    _lock(rec)
    _require_judging(actor, rec)
    rec.status = RecStatus.CLOSED
    rec.closed_at = rec.updated_at = now
    record_recommendation(rec, actor, "accept", at=now)
    db.session.flush()
    signals.recommendation_judged.send(rec, actor=actor, now=now, accepted=True, reason=None)


def ask_again(actor: User, rec: Recommendation, *, reason: str,
              now: datetime | None = None) -> None:
    """The answer does not settle it: the responsible unit owes a new one, within as many
    working days as it was first given, counted from today."""
    now = stamp(now)
    _lock(rec)
    _require_judging(actor, rec)
    errors: dict[str, list[str]] = {}
    reason = text(reason, "reason", errors, max_len=NOTE_MAX, required=True)
    if errors:
        raise InvalidInput(_("Say why the answer does not settle it."), errors)
    old_due = rec.response_due
    rec.status = RecStatus.REOPENED
    rec.answered_at = None
    rec.asked_again += 1
    rec.updated_at = now
    _set_deadline(rec, rec.response_days, now)
    record_recommendation(rec, actor, "ask_again", at=now, field="response_due", old=old_due,
                          new=rec.response_due, note=reason)
    db.session.flush()
    signals.recommendation_judged.send(rec, actor=actor, now=now, accepted=False,
                                       reason=reason)


def announce_overdue(now: datetime) -> int:
    """Announce, once per deadline, each kiến nghị whose response deadline has passed with
    no answer (the scheduler calls it after each cutoff; `tracker kiennghi overdue` too).
    Returns how many were announced."""
    today = load_calendar().local_date(now)
    due = db.session.scalars(select(Recommendation).where(
        Recommendation.status.in_((RecStatus.ASSIGNED, RecStatus.REOPENED)),
        Recommendation.response_due < today, Recommendation.overdue_noticed_at.is_(None))
        .order_by(Recommendation.id).with_for_update(skip_locked=True,
                                                     of=Recommendation)).all()
    for rec in due:
        rec.overdue_noticed_at = now
        record_recommendation(rec, None, "overdue", at=now, new=rec.response_due)
    db.session.flush()
    for rec in due:
        signals.recommendation_overdue.send(rec, actor=None, now=now)
    return len(due)
