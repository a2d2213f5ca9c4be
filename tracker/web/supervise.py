"""The supervisor's pages (tổ công tác / cơ quan thường trực): the red queue, the actions
on a task (nudge, acknowledge, confirm or return a completion, decide an extension) and
the daily supervision report with its downloads.

Scope is checked on every request: the role by the decorators, the task or unit by
`tracker.scope` (outside the subtree: 404), and the action by the service (403).
"""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from tracker import clock
from tracker.audit.security import record_report_export
from tracker.bulk import in_ids
from tracker.dates import parse_date
from tracker.downloads import attachment
from tracker.errors import Conflict, InvalidInput
from tracker.extensions import db
from tracker.fence import stamp
from tracker.notifications.service import nudge as nudge_service
from tracker.paging import paginate, requested_page
from tracker.replica import may_lag
from tracker.reports import formats, history
from tracker.reports.signing import signing_key
from tracker.rules.vietnamese_sql import by_name
from tracker.scope import (
    REPORT_READERS,
    SUPERVISORS,
    can_sign_report,
    get_task,
    get_unit,
    requires,
)
from tracker.tasks import counts as task_counts
from tracker.tasks import lifecycle
from tracker.tasks.models import Comment, ExtensionRequest, ExtensionStatus, Task
from tracker.tasks.service import add_comment
from tracker.units.models import Unit, path_is_within
from tracker.units.tree import subtree_ids
from tracker.web import pastday
from tracker.web.helpers import MAX_ID, safe_next
from tracker.web.task_forms import (
    AcknowledgeForm,
    ConfirmForm,
    DecisionForm,
    NudgeForm,
    ReturnForm,
)
from tracker.web.task_page import refused

bp = Blueprint("supervise", __name__)

RED_REASONS = ("overdue", "missed_updates")


def _task(task_id: int) -> Task:
    if task_id > MAX_ID:
        abort(404)
    return get_task(current_user, task_id)


def _unit_arg() -> Unit | None:
    unit_id = request.args.get("unit", type=int)
    if unit_id is None or not 0 < unit_id <= MAX_ID:  # no row has such an id
        return None
    return get_unit(current_user, unit_id)


# --- the red queue ------------------------------------------------------------------------


# A red task's first reason is "overdue" or "missed_updates" (tracker.rules.colours), so
# the reason descending puts the overdue ones first; this is the order of the index
# ix_tasks_red_queue, which also holds the lead unit, so a page of ids is read from the
# index alone however deep it is.
RED_ORDER = (Task.colour_reason.desc(), Task.colour_days.desc(), Task.deadline, Task.id)


def _tasks_in_order(ids: list[int]) -> list[Task]:
    """The tasks of a page of red-queue ids, in the ids' order."""
    if not ids:
        return []
    tasks = {t.id: t for t in db.session.scalars(select(Task).where(in_ids(Task.id, ids)))}
    return [tasks[i] for i in ids if i in tasks]


def _red_counts(scope: Unit) -> list[tuple[int, str, str, str | None, int]]:
    """(unit id, name, path, reason, red tasks) for every unit leading red tasks in the
    scope's subtree, in Vietnamese order of the unit's name: from the counts kept as the
    tasks change (tracker.tasks.counts), no task rows."""
    red = task_counts.of_colour("red", subtree_ids(scope)).subquery()
    return db.session.execute(
        select(Unit.id, Unit.name, Unit.path, red.c.reason, red.c.n)
        .join(red, red.c.unit_id == Unit.id).order_by(by_name(Unit.name), Unit.id)
    ).all()


@bp.route("/supervise/red")
@requires(*SUPERVISORS)
def red_queue():
    """Every red task whose lead unit is in scope, worst first: overdue longest, then the
    longest run of missed updates; with `?date=`, as it stood at that day's cutoff."""
    unit = _unit_arg()
    reason = request.args.get("reason", "")
    if reason not in RED_REASONS:
        reason = ""
    day = pastday.requested_day()
    if day is not None:  # the queue as it stood at that day's 16:00
        return pastday.past_red_queue(unit, day, reason)
    rows = _red_counts(current_user.unit)
    per_unit: dict[int, tuple[str, int]] = {}
    reasons: dict[str | None, int] = {}
    total = 0  # the red tasks matching the filters
    for unit_id, name, path, row_reason, n in rows:
        per_unit[unit_id] = (name, per_unit.get(unit_id, (name, 0))[1] + n)
        reasons[row_reason] = reasons.get(row_reason, 0) + n
        if (unit is None or path_is_within(path, unit.path)) and reason in ("", row_reason):
            total += n
    units = [(unit_id, name, n) for unit_id, (name, n) in per_unit.items()]

    ids = select(Task.id).where(
        Task.colour == "red", Task.lead_unit_id.in_(subtree_ids(unit or current_user.unit)))
    if reason:
        ids = ids.where(Task.colour_reason == reason)
    # The total comes from the grouped counts already read, and a page's task ids from the
    # index in queue order — no query at all past the end.
    page = paginate(ids.order_by(*RED_ORDER), requested_page(), total=total)
    page = page.with_items(_tasks_in_order(list(page.items)))
    page_ids = [t.id for t in page.items]
    acks: dict[int, Comment] = {}
    for comment in db.session.scalars(
        select(Comment).where(in_ids(Comment.task_id, page_ids), Comment.kind == "acknowledge")
        .order_by(Comment.at)
    ):
        acks[comment.task_id] = comment  # the latest wins
    pending = set(db.session.scalars(
        select(ExtensionRequest.task_id).where(
            in_ids(ExtensionRequest.task_id, page_ids),
            ExtensionRequest.status == ExtensionStatus.PENDING)))
    return render_template(
        "supervise/red_queue.html", page=page, units=units, reasons=reasons,
        total=sum(reasons.values()), unit=unit, reason=reason, acks=acks, pending=pending,
        picker=pastday.picker(None),
    )


# --- actions on a task --------------------------------------------------------------------


def _act(task_id: int, name: str, form, action, done_message: str):
    """Run one supervisor action from the task page: commit once, or show the errors."""
    task = _task(task_id)
    if not form.validate_on_submit():
        abort(400)
    try:
        action(task, form, stamp())  # the fence first, then the task's lock
    except (InvalidInput, Conflict) as exc:
        return refused(task, name, form, exc)
    db.session.commit()
    flash(done_message, "success")
    back = request.form.get("next")  # the inbox, when decided from its list
    return redirect(safe_next(back) if back else url_for("tasks.task_detail", task_id=task.id))


@bp.route("/supervise/tasks/<int:task_id>/nudge", methods=["POST"])
@requires(*SUPERVISORS)
def nudge(task_id: int):
    return _act(task_id, "nudge", NudgeForm(prefix="nudge"),
                lambda task, form, now: nudge_service(current_user, task, form.message.data,
                                                      now=now),
                _("The unit has been nudged."))


@bp.route("/supervise/tasks/<int:task_id>/acknowledge", methods=["POST"])
@requires(*SUPERVISORS)
def acknowledge(task_id: int):
    return _act(task_id, "acknowledge", AcknowledgeForm(prefix="ack"),
                lambda task, form, now: add_comment(current_user, task, form.body.data,
                                                    now=now, kind="acknowledge"),
                _("Acknowledged, with your note."))


@bp.route("/supervise/tasks/<int:task_id>/confirm", methods=["POST"])
@requires(*SUPERVISORS)
def confirm(task_id: int):
    return _act(task_id, "confirm", ConfirmForm(prefix="confirm"),
                lambda task, form, now: lifecycle.confirm_completion(
                    current_user, task, now=now, note=form.note.data),
                _("The completion has been confirmed."))


@bp.route("/supervise/tasks/<int:task_id>/return", methods=["POST"])
@requires(*SUPERVISORS)
def return_completion(task_id: int):
    return _act(task_id, "return", ReturnForm(prefix="return"),
                lambda task, form, now: lifecycle.return_completion(
                    current_user, task, note=form.note.data, now=now),
                _("The completion has been returned to the unit."))


@bp.route("/supervise/tasks/<int:task_id>/extensions/<int:request_id>", methods=["POST"])
@requires(*SUPERVISORS)
def decide_extension(task_id: int, request_id: int):
    task = _task(task_id)
    extension = db.session.get(ExtensionRequest, request_id) if request_id <= MAX_ID else None
    if extension is None or extension.task_id != task.id:
        abort(404)
    decision = request.form.get("decision")
    if decision not in ("approve", "reject"):
        abort(400)
    approve = decision == "approve"
    return _act(task_id, "decision", DecisionForm(prefix="decision"),
                lambda task, form, now: lifecycle.decide_extension(
                    current_user, extension, approve=approve, note=form.note.data, now=now),
                _("The extension has been approved.") if approve
                else _("The extension has been rejected."))


# --- the daily supervision report ---------------------------------------------------------


def _report_day(days: list[date]) -> date | None:
    """The day asked for (dd/mm/yyyy or yyyy-mm-dd, as the API reads it), the latest
    processed one by default; a text that is no date is refused naming the field (422)."""
    text = request.args.get("date")
    if not text:
        return days[0] if days else None
    day = parse_date(text)
    if day is None:
        raise InvalidInput(_("Some fields are not valid."),
                           {"date": [_("Not a valid date (dd/mm/yyyy).")]})
    return day


@bp.route("/reports/daily")
@requires(*REPORT_READERS)
@may_lag
def daily_report():
    """The báo cáo giám sát hằng ngày of any processed cutoff (the latest by default),
    for the user's unit or a unit below it."""
    days = history.processed_days(limit=366)
    unit = _unit_arg() or current_user.unit
    day = _report_day(days)
    report = history.daily_report(unit, day) if day else None
    status = 404 if day is not None and report is None else 200
    older = [d for d in days if day and d < day]
    newer = [d for d in days if day and d > day]
    return render_template(
        "supervise/daily_report.html", report=report, days=days, day=day, unit=unit,
        previous_day=older[0] if older else None, next_day=newer[-1] if newer else None,
        downloads=formats.MIMETYPES, may_sign=can_sign_report(current_user, unit)
        and signing_key(unit) is not None,
    ), status


@bp.route("/reports/daily/signed.pdf", methods=["POST"])
@requires(*SUPERVISORS)
def daily_report_signed():
    """The report's PDF signed with the unit's certificate (the unit's own office only:
    tracker.scope.can_sign_report, checked by the service)."""
    from tracker.reports import official

    unit_id = request.form.get("unit", type=int)
    unit = (get_unit(current_user, unit_id) if unit_id and 0 < unit_id <= MAX_ID
            else current_user.unit)
    text = request.form.get("date") or ""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        abort(404)
    report = history.daily_report(unit, day, red_limit=official.ROWS)
    if report is None:
        abort(404)
    try:
        data = official.report_pdf_signed(current_user, unit, report)
    except Conflict as exc:  # no certificate, or an expired one
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("supervise.daily_report", date=day.isoformat(), unit=unit.id))
    db.session.commit()
    return attachment(data, f"bao-cao-giam-sat-{day.isoformat()}-ky-so.pdf", "application/pdf")


@bp.route("/reports/daily.<any(csv, xlsx, pdf, docx):fmt>")
@requires(*REPORT_READERS)
@may_lag
def daily_report_download(fmt: str):
    unit = _unit_arg() or current_user.unit
    day = _report_day(history.processed_days(limit=1))
    report = history.daily_report(unit, day, red_limit=formats.red_limit(fmt)) if day else None
    if report is None:
        abort(404)
    data = formats.render(fmt, report)
    record_report_export(current_user, report="daily_report", unit=unit, day=day, fmt=fmt,
                         at=clock.now())
    db.session.commit()
    return attachment(data, f"bao-cao-giam-sat-{day.isoformat()}.{fmt}",
                      formats.MIMETYPES[fmt])
