"""The member's pages (cán bộ đơn vị): today's duties with the time left to the cutoff,
the daily update one task at a time or all at once, completion with its product and
evidence, and extension requests.

Every write goes through the services; a view only reads the form, calls them, and
commits once on success or rolls back and shows the errors next to the fields.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, case, func, select

from tracker import clock
from tracker.auth.tokens import Identity
from tracker.errors import Conflict, InvalidInput
from tracker.evidence.models import Purpose
from tracker.evidence.service import attach_file, attach_link
from tracker.extensions import db
from tracker.fence import stamp
from tracker.forecast.service import likely_among
from tracker.forecast.wording import warning_line
from tracker.labels import ict
from tracker.paging import paginate, requested_page
from tracker.rules import sql as rules_sql
from tracker.rules.colours import is_required, still_owes
from tracker.rules.store import load_calendar
from tracker.scope import MEMBERS, can_report_on, get_task, requires, tasks_to_report
from tracker.tasks.colour import facts_of
from tracker.tasks.lifecycle import request_extension as request_extension_service
from tracker.tasks.lifecycle import submit_completion as submit_completion_service
from tracker.tasks.models import OPEN_STATUSES, Status, Task
from tracker.tasks.requests import request_states
from tracker.updates.service import Refused, post_update, post_updates
from tracker.web.helpers import COLOUR_ORDER, MAX_ID
from tracker.web.once import (
    flash_all,
    json_answer,
    json_bad_form,
    json_refusal,
    post_once,
    recorded,
    wants_json,
)
from tracker.web.task_forms import (
    BulkUpdateForm,
    CompletionForm,
    EvidenceUpdateForm,
    ExtensionForm,
    apply_errors,
)
from tracker.web.update_form import raise_ticked_obstacle

bp = Blueprint("member", __name__)

BULK_LIMIT = 200
BULK_FIELDS = ("progress", "work_done", "obstacles", "next_steps", "evidence_url")


def _own_tasks():
    """Tasks led by a unit in the member's subtree (those they report on)."""
    return tasks_to_report(current_user)


def _task(task_id: int) -> Task:
    if task_id > MAX_ID:
        abort(404)
    return get_task(current_user, task_id)


class Duty:
    """Today's duty: the current reporting day and its window, and the rules' SQL twins
    for each task (`tracker.rules.sql`), as of `now`."""

    def __init__(self, now: datetime):
        self.now = now
        self.calendar = load_calendar()
        self.day = self.calendar.reporting_day(now)
        self.start, self.end = self.calendar.window(self.day)
        self.owed = rules_sql.owes_update(Task, self.calendar, self.day)
        self.reported = rules_sql.reported_in_window(Task, self.calendar, self.day)
        self.missing = rules_sql.still_owes(Task, self.calendar, self.day)

    def of(self, task: Task) -> str:
        """'submitted', 'reported', 'missing' or 'not_owed' for one task."""
        if task.status == Status.SUBMITTED:
            return "submitted"
        facts = facts_of(task)
        if not is_required(facts, self.calendar, self.day):
            return "not_owed"
        if still_owes(facts, task.last_update_at, self.calendar, self.day):
            return "missing"
        return "reported"

    @property
    def is_today(self) -> bool:
        """Whether the reporting day is today: before today's cutoff on a working day.
        After it, and on days off, updates count for a later day, named by its date."""
        return self.calendar.local_date(self.now) == self.day

    def says(self, state: str, task: Task) -> str:
        """What a row says of the duty (`state`: `of`), in the words of the moment:
        "today" only while today's window is open."""
        day = format_date(self.day, "EEEE dd/MM/yyyy")
        today = self.is_today
        if state == "reported":
            time = ict(task.last_update_at)[-5:]
            return "✔ " + (_("Today's update is in (%(time)s)", time=time) if today else
                           _("The update for %(day)s is in (%(time)s)", day=day, time=time))
        if state == "missing":
            return "✖ " + (_("Today's update is not in yet") if today else
                           _("The update for %(day)s is not in yet", day=day))
        if state == "submitted":
            return "… " + _("Awaiting confirmation – no daily update needed")
        if task.status == Status.RETURNED:
            return "↩ " + _("Progress updates are owed again from the next reporting day")
        return "– " + (_("No update needed today") if today else
                       _("No update needed for %(day)s", day=day))

    def all_in(self) -> str:
        """The summary's thanks once every owed update is in."""
        if self.is_today:
            return _("All of today's updates are in. Thank you!")
        return _("All updates for %(day)s are in. Thank you!",
                 day=format_date(self.day, "EEEE dd/MM/yyyy"))

    def context(self) -> dict:
        seconds = max(0, int((self.end - self.now).total_seconds()))
        return {
            "day": self.day,
            "day_label": format_date(self.day, "EEEE dd/MM/yyyy"),
            "is_today": self.is_today,
            "all_in": self.all_in(),
            "cutoff": self.end,
            "cutoff_hm": self.end.astimezone(ZoneInfo(self.calendar.zone)).strftime("%H:%M"),
            "seconds_left": seconds,
            "time_left": time_left_text(seconds),
            "now": self.now,
        }


def time_left_text(seconds: int) -> str:
    """e.g. 05:59:30, or "2 ngày 05:59:30" when the cutoff is days away."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    clock_text = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return clock_text if not days else _("%(days)s day(s) %(clock)s", days=days,
                                         clock=clock_text)


@bp.route("/today")
@requires(*MEMBERS)
def today():
    return _render_today(Duty(clock.now()))


def _render_today(duty: Duty, forms: dict[int, EvidenceUpdateForm] | None = None,
                  status: int = 200):
    forms = forms or {}
    open_or_submitted = _own_tasks().where(
        Task.status.in_((*OPEN_STATUSES, Status.SUBMITTED)))
    query = open_or_submitted.order_by(case((duty.missing, 0), else_=1), COLOUR_ORDER,
                                       Task.deadline, Task.id)
    page = paginate(query, requested_page())
    counts = db.session.execute(
        select(func.count(Task.id),
               func.coalesce(func.sum(case((duty.owed, 1), else_=0)), 0),
               func.coalesce(func.sum(case((and_(duty.owed, duty.reported), 1),
                                           else_=0)), 0))
        .where(Task.id.in_(open_or_submitted.with_only_columns(Task.id)))
    ).one()
    rows = []
    states = request_states(list(page.items))
    likely = likely_among([t.id for t in page.items], duty.now)
    for task in page.items:
        form = forms.get(task.id) or EvidenceUpdateForm(formdata=None, prefix=f"t{task.id}")
        state = duty.of(task)
        warning = likely.get(task.id)
        rows.append({"task": task, "duty": state, "says": duty.says(state, task),
                     "form": form, "state": states[task.id],
                     "warning": warning_line(warning) if warning else None})
    return render_template(
        "member/today.html", rows=rows, page=page, total=counts[0], owed=counts[1],
        reported=counts[2], **duty.context(),
    ), status


@bp.route("/today/tasks/<int:task_id>/update", methods=["POST"])
@requires(*MEMBERS)
def post_task_update(task_id: int):
    task = _task(task_id)
    form = EvidenceUpdateForm(prefix=f"t{task.id}")
    if not form.validate_on_submit():
        if wants_json():
            return json_bad_form(form)
        abort(400)
    code = task.code

    def write() -> dict:
        update = post_update(current_user, task, form.raw(),
                             evidence_file=form.evidence_file.data)
        answer = recorded(update, _("Your update on %(code)s has been recorded.", code=code))
        answer["messages"] += raise_ticked_obstacle(form, current_user, task, update)
        return answer

    try:
        answer = post_once(form, write)
    except (InvalidInput, Conflict) as exc:
        db.session.rollback()
        if wants_json():
            return json_refusal(exc)
        for message in apply_errors(form, getattr(exc, "fields", {})):
            flash(message, "error")
        flash(_("%(code)s: %(message)s", code=code, message=exc.message), "error")
        return _render_today(Duty(clock.now()), {task_id: form}, exc.status)
    db.session.commit()
    if wants_json():
        return json_answer(answer)
    flash_all(answer["messages"])
    return redirect(url_for("member.today", page=request.args.get("page", type=int),
                            _anchor=f"task-{task_id}"))


@bp.route("/today/all", methods=["GET", "POST"])
@requires(*MEMBERS)
def update_all():
    """All owed tasks on one page; saved all together or not at all."""
    duty = Duty(clock.now())
    form = BulkUpdateForm()
    if request.method == "GET":
        tasks = db.session.scalars(
            _own_tasks().where(duty.missing).order_by(COLOUR_ORDER, Task.deadline, Task.id)
            .limit(BULK_LIMIT)).all()
        rows = [{"task": t, "values": {"progress": str(t.progress)}, "errors": {}}
                for t in tasks]
        return _render_bulk(form, rows, duty)
    if not form.validate_on_submit():
        abort(400)
    ids = list(dict.fromkeys(int(x) for x in request.form.getlist("task_id")
                             if x.isdigit() and int(x) <= MAX_ID))[:BULK_LIMIT]
    found = {t.id: t for t in db.session.scalars(_own_tasks().where(Task.id.in_(ids)))}
    if len(found) != len(ids):
        abort(404)
    rows = []
    for task_id in ids:
        task = found[task_id]
        values = {name: request.form.get(f"{name}-{task_id}", "") for name in BULK_FIELDS}
        touched = values["progress"].strip() not in ("", str(task.progress)) or any(
            values[name].strip() for name in BULK_FIELDS if name != "progress")
        rows.append({"task": task, "values": values, "errors": {}, "touched": touched})
    chosen = [row for row in rows if row["touched"]]
    if not chosen:
        flash(_("Nothing to save: fill in what was done for at least one task."), "error")
        return _render_bulk(form, rows, duty, 422)

    def write() -> dict:
        updates = post_updates(Identity.of(current_user),
                               [(row["task"].id, row["values"]) for row in chosen])
        return recorded(updates[0], ngettext("%(num)s update recorded.",
                                             "%(num)s updates recorded.", len(updates)))

    try:
        answer = post_once(form, write)
    except Refused as refused:
        db.session.rollback()
        for index, exc in refused.errors.items():
            chosen[index]["errors"] = exc.fields if isinstance(exc, InvalidInput) \
                else {"task": [exc.message]}
        failed = [row for row in chosen if row["errors"]]
        flash(ngettext("Nothing was saved: %(num)s row has errors.",
                       "Nothing was saved: %(num)s rows have errors.", len(failed)), "error")
        return _render_bulk(form, rows, duty, 422)
    except (InvalidInput, Conflict) as exc:  # the form's key: sent before, or in flight
        db.session.rollback()
        flash(exc.message, "error")
        return _render_bulk(form, rows, duty, exc.status)
    db.session.commit()
    flash_all(answer["messages"])
    return redirect(url_for("member.today"))


def _render_bulk(form, rows, duty: Duty, status: int = 200):
    return render_template("member/update_all.html", form=form, rows=rows,
                           labels=EvidenceUpdateForm(formdata=None, meta={"csrf": False}),
                           **duty.context()), status


def _collect(*steps) -> dict[str, list[str]]:
    """Run each step; gather the field errors of all of them, so that the form shows
    every problem at once. A conflict or refusal stops at once."""
    errors: dict[str, list[str]] = {}
    for step in steps:
        try:
            step()
        except InvalidInput as exc:
            for name, messages in exc.fields.items():
                errors.setdefault(name, []).extend(messages)
    return errors


def _reporter_task(task_id: int) -> Task:
    task = _task(task_id)
    if not can_report_on(current_user, task):
        abort(403)  # a coordinating unit sees the task but does not report on it
    return task


@bp.route("/tasks/<int:task_id>/complete", methods=["GET", "POST"])
@requires(*MEMBERS)
def submit_completion(task_id: int):
    task = _reporter_task(task_id)
    form = CompletionForm()
    status = 200
    if form.validate_on_submit():
        now = stamp()  # inside the cutoff's fence, before the task is locked
        url = (form.evidence_url.data or "").strip()
        upload = form.evidence_file.data
        try:
            errors = _collect(
                lambda: submit_completion_service(current_user, task,
                                                  result=form.result.data, now=now),
                lambda: url and attach_link(current_user, task, url, now=now,
                                            purpose=Purpose.COMPLETION),
                lambda: upload and attach_file(current_user, task, upload, now=now,
                                               purpose=Purpose.COMPLETION),
            )
        except Conflict as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return render_template("member/complete.html", task=_task(task_id),
                                   form=form), exc.status
        if not errors:
            db.session.commit()
            flash(_("The completion has been submitted for confirmation."), "success")
            return redirect(url_for("tasks.task_detail", task_id=task.id))
        db.session.rollback()
        task = _task(task_id)
        for message in apply_errors(form, errors):
            flash(message, "error")
        flash(_("Nothing was submitted; please correct the fields below."), "error")
        status = 422
    return render_template("member/complete.html", task=task, form=form), status


@bp.route("/tasks/<int:task_id>/extension", methods=["GET", "POST"])
@requires(*MEMBERS)
def request_extension(task_id: int):
    task = _reporter_task(task_id)
    form = ExtensionForm()
    status = 200
    if form.validate_on_submit():
        try:
            request_extension_service(current_user, task,
                                      new_deadline=form.requested_deadline.data,
                                      reason=form.reason.data)
        except (InvalidInput, Conflict) as exc:
            db.session.rollback()
            task = _task(task_id)
            for message in apply_errors(form, exc.fields):
                flash(message, "error")
            flash(exc.message, "error")
            status = exc.status
        else:
            db.session.commit()
            flash(_("Your extension request has been sent to the supervisors."), "success")
            return redirect(url_for("tasks.task_detail", task_id=task.id))
    return render_template("member/extension.html", task=task, form=form), status
