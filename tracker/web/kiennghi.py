"""Kiến nghị pages: the list within one's scope (public: status, responsible unit,
deadline, answer), the raise form (also from a task's page), a kiến nghị with its actions
and trail, the responsible unit's queue, the supervisors' overdue queue and the XLSX export
grouped by field and legal basis."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from tracker import clock
from tracker.audit.models import AuditEntry
from tracker.auth.models import Role
from tracker.downloads import attachment
from tracker.errors import TrackerError
from tracker.evidence.models import Evidence, Purpose
from tracker.evidence.service import download
from tracker.extensions import db, limiter
from tracker.kiennghi import service
from tracker.kiennghi.colour import colour_of, today_and_horizon
from tracker.kiennghi.export import export_filename, recommendations_xlsx
from tracker.kiennghi.models import Recommendation, RecStatus
from tracker.kiennghi.wording import (
    ACTION_LABELS,
    CATEGORY_LABELS,
    FIELD_LABELS,
    KIND_LABELS,
    LEVEL_LABELS,
    STATUS_LABELS,
    reason_text,
)
from tracker.labels import dmy
from tracker.paging import paginate, requested_page
from tracker.rules import recommendations_sql as twin
from tracker.scope import (
    SUPERVISORS,
    can_answer,
    can_judge_answer,
    can_merge_into,
    can_raise,
    can_route,
    can_see_recommendation_file,
    get_recommendation,
    get_task,
    recommendations_to_answer,
    recommendations_to_route,
    requires,
    visible_recommendations,
)
from tracker.types import MAX_ID
from tracker.web.helpers import form_id, unit_options
from tracker.web.kiennghi_forms import (
    AcceptForm,
    AnswerForm,
    AskAgainForm,
    ForwardForm,
    MergeForm,
    RaiseForm,
    RouteForm,
)
from tracker.web.task_forms import apply_errors
from tracker.xlsx import MIME as XLSX

bp = Blueprint("kiennghi", __name__, url_prefix="/kien-nghi")
WRITERS = (Role.MEMBER, Role.SUPERVISOR, Role.ADMIN)
ANSWERERS = (Role.MEMBER, Role.SUPERVISOR)


@bp.context_processor
def _words():
    moment = clock.now()

    def colour(rec: Recommendation):
        return colour_of(rec, moment)

    return {"KN_KIND": KIND_LABELS, "KN_LEVEL": LEVEL_LABELS, "KN_STATUS": STATUS_LABELS,
            "KN_CATEGORY": CATEGORY_LABELS, "KN_ACTION": ACTION_LABELS,
            "KN_FIELD": FIELD_LABELS, "kn_colour": colour, "kn_reason": reason_text}


NEWEST_FIRST = (Recommendation.raised_at.desc(), Recommendation.id.desc())


def _filtered(query, args):
    """The list's filter: a status, or "overdue" (the rule's SQL twin)."""
    status = args.get("status", "")
    if status == "overdue":
        today, _horizon = today_and_horizon(clock.now())
        return query.where(twin.overdue(Recommendation.status, Recommendation.response_due,
                                        today)), status
    if status in STATUS_LABELS:
        return query.where(Recommendation.status == status), status
    return query, ""


@bp.route("")
@login_required
def recommendation_list():
    """Every kiến nghị in one's scope, newest first: public within the scope."""
    query, status = _filtered(visible_recommendations(current_user), request.args)
    page = paginate(query.order_by(*NEWEST_FIRST), requested_page())
    return render_template("kiennghi/list.html", page=page, status=status,
                           title=_("Obstacles and recommendations"),
                           endpoint="kiennghi.recommendation_list")


@bp.route("/queue")
@requires(*WRITERS)
def queue():
    """What waits for the user: to route (supervisors), to answer (the responsible unit),
    answers to judge (the raiser's side), deadline first."""
    to_route = db.session.scalars(recommendations_to_route(current_user)
                                  .order_by(Recommendation.raised_at, Recommendation.id)
                                  .limit(200)).all()
    to_answer = db.session.scalars(recommendations_to_answer(current_user)
                                   .order_by(Recommendation.response_due, Recommendation.id)
                                   .limit(200)).all()
    return render_template("kiennghi/queue.html", to_route=to_route, to_answer=to_answer)


@bp.route("/overdue")
@requires(*SUPERVISORS)
def overdue():
    """The supervisors' overdue kiến nghị (the red queue's counterpart): in scope, waiting
    for an answer past the deadline, the oldest deadline first."""
    today, _horizon = today_and_horizon(clock.now())
    query = visible_recommendations(current_user).where(
        twin.overdue(Recommendation.status, Recommendation.response_due, today)) \
        .order_by(Recommendation.response_due, Recommendation.id)
    page = paginate(query, requested_page())
    return render_template("kiennghi/list.html", page=page, status="overdue",
                           title=_("Overdue recommendations"), endpoint="kiennghi.overdue")


@bp.route("/export.xlsx")
@login_required
@limiter.limit("20/hour", key_func=lambda: f"user:{current_user.id}", scope="kn-export")
def export():
    """The kiến nghị in scope (with the list's filter) as a workbook grouped by field and
    legal basis — the province's compilation of "ý kiến của các địa phương"."""
    query, _status = _filtered(visible_recommendations(current_user), request.args)
    at = clock.now()
    data = recommendations_xlsx(query, at=at)
    db.session.commit()
    return attachment(data, export_filename(at), XLSX)


@bp.route("/new", methods=["GET", "POST"])
@requires(Role.MEMBER)
def raise_form():
    """Raise a vướng mắc or kiến nghị, on a task (?task_id=) or on its own."""
    task_id = form_id(request.values.get("task_id"))
    task = get_task(current_user, task_id) if isinstance(task_id, int) else None
    form = RaiseForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("kiennghi/new.html", form=form, task=task), 400
        try:
            rec = service.raise_recommendation(current_user, form.raw(), task=task,
                                               files=form.files.data)
        except TrackerError as exc:
            db.session.rollback()
            for message in apply_errors(form, exc.fields):
                flash(message, "error")
            flash(exc.message, "error")
            status = exc.status
        else:
            db.session.commit()
            flash(_("Recommendation %(code)s has been sent to your supervisor.",
                    code=rec.code), "success")
            return redirect(url_for("kiennghi.detail", rec_id=rec.id))
    elif task is not None and not can_raise(current_user, task):
        status = 403
    return render_template("kiennghi/new.html", form=form, task=task), status


def _merge_choices(rec: Recommendation) -> list[tuple[int, str]]:
    candidates = db.session.scalars(
        visible_recommendations(current_user)
        .where(Recommendation.id != rec.id,
               Recommendation.status.not_in((RecStatus.MERGED, RecStatus.CLOSED)))
        .order_by(*NEWEST_FIRST).limit(200)).all()
    return [(r.id, f"{r.code} · {r.raising_unit.name} · {r.title}") for r in candidates
            if can_merge_into(current_user, r)]


def _render_detail(rec: Recommendation, forms: dict | None = None, status: int = 200):
    all_forms = {"route": RouteForm(prefix="route"), "forward": ForwardForm(prefix="forward"),
                 "merge": MergeForm(prefix="merge"), "answer": AnswerForm(prefix="answer"),
                 "accept": AcceptForm(prefix="accept"),
                 "ask_again": AskAgainForm(prefix="again")}
    all_forms.update(forms or {})
    allowed = {"route": can_route(current_user, rec), "answer": can_answer(current_user, rec),
               "judge": can_judge_answer(current_user, rec)}
    choices = {"units": [], "merge": []}
    if allowed["route"]:
        choices["units"] = [(str(i), ("· " * depth) + name)
                            for i, name, depth in unit_options(current_user)]
        choices["merge"] = [(str(i), label) for i, label in _merge_choices(rec)]
    trail = db.session.scalars(select(AuditEntry).where(
        AuditEntry.recommendation_id == rec.id).order_by(AuditEntry.at, AuditEntry.id)).all()
    primary = rec.merged_into if rec.status == RecStatus.MERGED else None
    duplicates = db.session.scalars(visible_recommendations(current_user).where(
        Recommendation.merged_into_id == rec.id).order_by(Recommendation.id)).all()
    return render_template("kiennghi/detail.html", rec=rec, forms=all_forms, allowed=allowed,
                           trail=trail, primary=primary, duplicates=duplicates,
                           choices=choices, files=_files(rec),
                           primary_files=_files(primary, Purpose.ANSWER) if primary else []
                           ), status


def _files(rec: Recommendation, *purposes: Purpose) -> list[Evidence]:
    query = select(Evidence).where(Evidence.recommendation_id == rec.id)
    if purposes:
        query = query.where(Evidence.purpose.in_(purposes))
    return list(db.session.scalars(query.order_by(Evidence.uploaded_at, Evidence.id)))


@bp.route("/files/<int:file_id>")
@login_required
def file_download(file_id: int):
    """A file of a kiến nghị or of its answer, to whoever may see it
    (tracker.scope.can_see_recommendation_file; 404 to anyone else)."""
    item = db.session.get(Evidence, file_id) if file_id <= MAX_ID else None
    if item is None or item.recommendation_id is None:
        abort(404)
    rec = db.session.get(Recommendation, item.recommendation_id)
    response = download(item) \
        if can_see_recommendation_file(current_user, rec, item.purpose) else None
    if response is None:
        abort(404)
    return response


@bp.route("/<int:rec_id>")
@login_required
def detail(rec_id: int):
    return _render_detail(get_recommendation(current_user, rec_id))


def _act(rec_id: int, name: str, form, action):
    """Run one action of the page: a refusal is shown on the page with the fields named
    (4xx), a success is committed and announced."""
    rec = get_recommendation(current_user, rec_id)
    if not form.validate_on_submit():
        return _render_detail(rec, {name: form}, 400)
    try:
        message = action(rec)
    except TrackerError as exc:
        db.session.rollback()
        rec = get_recommendation(current_user, rec_id)
        for text in apply_errors(form, exc.fields):
            flash(text, "error")
        flash(exc.message, "error")
        return _render_detail(rec, {name: form}, exc.status)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("kiennghi.detail", rec_id=rec_id))


@bp.route("/<int:rec_id>/route", methods=["POST"])
@requires(*SUPERVISORS)
def route(rec_id: int):
    form = RouteForm(prefix="route")

    def action(rec):
        service.route(current_user, rec, responsible_unit_id=form.responsible_unit_id.data,
                      response_days=form.response_days.data, note=form.note.data)
        return _("Routed to %(unit)s; answer due %(day)s.", unit=rec.responsible_unit.name,
                 day=dmy(rec.response_due))
    return _act(rec_id, "route", form, action)


@bp.route("/<int:rec_id>/forward", methods=["POST"])
@requires(*SUPERVISORS)
def forward(rec_id: int):
    form = ForwardForm(prefix="forward")

    def action(rec):
        service.forward(current_user, rec, note=form.note.data)
        return _("Forwarded to %(unit)s.", unit=rec.routing_unit.name)
    return _act(rec_id, "forward", form, action)


@bp.route("/<int:rec_id>/merge", methods=["POST"])
@requires(*SUPERVISORS)
def merge(rec_id: int):
    form = MergeForm(prefix="merge")

    def action(rec):
        service.merge(current_user, rec, into_id=form.into_id.data)
        return _("Merged into %(code)s.", code=rec.merged_into.code)
    return _act(rec_id, "merge", form, action)


@bp.route("/<int:rec_id>/answer", methods=["POST"])
@requires(*ANSWERERS)
def answer(rec_id: int):
    form = AnswerForm(prefix="answer")

    def action(rec):
        service.answer(current_user, rec, answer_text=form.answer.data,
                       documents=form.answer_documents.data, files=form.files.data)
        return _("Your answer has been sent.")
    return _act(rec_id, "answer", form, action)


@bp.route("/<int:rec_id>/accept", methods=["POST"])
@requires(Role.MEMBER)
def accept(rec_id: int):
    form = AcceptForm(prefix="accept")

    def action(rec):
        service.accept_answer(current_user, rec)
        return _("The answer has been accepted.")
    return _act(rec_id, "accept", form, action)


@bp.route("/<int:rec_id>/ask-again", methods=["POST"])
@requires(Role.MEMBER)
def ask_again(rec_id: int):
    form = AskAgainForm(prefix="again")

    def action(rec):
        service.ask_again(current_user, rec, reason=form.reason.data)
        return _("The responsible unit has been asked to answer again.")
    return _act(rec_id, "ask_again", form, action)
