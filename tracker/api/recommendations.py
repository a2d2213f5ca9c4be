"""Kiến nghị (obstacles and recommendations) over the API: the list in your scope, one
with its colour, and every step — raise, route, forward, merge, answer, accept, ask again —
through the same service as the pages (tracker.kiennghi.service)."""

from __future__ import annotations

import contextlib

from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from tracker import clock
from tracker.api.base import MAX_ID, ApiBlueprint, actor, commit, json_object, load_task
from tracker.api.schemas import PageArgsSchema, UnitBriefSchema, _page_schema, _text
from tracker.api.tasks import body
from tracker.auth.models import Role
from tracker.errors import InvalidInput, NotFound
from tracker.kiennghi import service
from tracker.kiennghi.colour import colour_of, today_and_horizon
from tracker.kiennghi.models import Kind, Level, Recommendation, RecStatus
from tracker.paging import paginate
from tracker.rules import recommendations_sql as twin
from tracker.scope import SUPERVISORS, get_recommendation, requires, visible_recommendations

bp = ApiBlueprint("recommendations", __name__,
                  description="Vướng mắc, kiến nghị: raised by units, routed to one "
                              "responsible unit with a deadline, answered on time.")

REC = f"/recommendations/<int(max={MAX_ID}):rec_id>"
STATUS_CHOICES = [s.value for s in RecStatus] + ["overdue"]


class MergedAnswerSchema(Schema):
    """For a merged duplicate: the kiến nghị that answers it, as far as its raiser sees."""

    code = fields.String()
    status = fields.String()
    responsible_unit = fields.Nested(UnitBriefSchema, allow_none=True)
    response_due = fields.Date(allow_none=True)
    answer = _text()
    answer_documents = _text()
    answered_at = fields.DateTime(allow_none=True)


class RecommendationSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    kind = fields.String(metadata={"enum": [k.value for k in Kind]})
    title = fields.String()
    content = fields.String()
    field = fields.String()
    legal_basis = fields.String()
    level_asked = fields.String(metadata={"enum": [v.value for v in Level]})
    task_id = fields.Integer(allow_none=True)
    raising_unit = fields.Nested(UnitBriefSchema)
    raised_at = fields.DateTime()
    status = fields.String(metadata={"enum": [s.value for s in RecStatus]})
    routing_unit = fields.Nested(UnitBriefSchema)
    responsible_unit = fields.Nested(UnitBriefSchema, allow_none=True)
    response_days = fields.Integer(allow_none=True)
    response_due = fields.Date(allow_none=True)
    answer = _text()
    answer_documents = _text()
    answered_at = fields.DateTime(allow_none=True)
    asked_again = fields.Integer()
    closed_at = fields.DateTime(allow_none=True)
    merged_into = fields.Nested(MergedAnswerSchema, allow_none=True)
    colour = fields.Method("_colour", metadata={
        "type": "string", "nullable": True, "enum": ["green", "yellow", "red", None],
        "description": "By the rule of docs/status-rules.md §9, now."})
    colour_reason = fields.Method("_reason", metadata={"type": "string"})
    category = fields.Method("_category", metadata={
        "type": "string", "nullable": True,
        "enum": ["answered_on_time", "answered_late", "pending", "overdue", None]})

    def _result(self, rec):
        return colour_of(rec, clock.now())

    def _colour(self, rec):
        colour = self._result(rec).colour
        return colour.value if colour else None

    def _reason(self, rec):
        return str(self._result(rec).reason.code)

    def _category(self, rec):
        category = self._result(rec).category
        return category.value if category else None


RecommendationPageSchema = _page_schema("RecommendationPage", RecommendationSchema)


class RecommendationQuerySchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(STATUS_CHOICES), metadata={
        "description": "A status, or `overdue` (waiting for an answer past the deadline)."})


class RaiseSchema(Schema):
    kind = fields.String(metadata={"enum": [k.value for k in Kind]})
    title = fields.String(required=True)
    content = fields.String(required=True)
    field = fields.String(required=True)
    legal_basis = fields.String(required=True)
    level_asked = fields.String(required=True, metadata={"enum": [v.value for v in Level]})
    task_id = fields.Integer(metadata={"description": "The task it is raised on, if any."})


class RouteSchema(Schema):
    responsible_unit_id = fields.Integer(required=True)
    response_days = fields.Integer(required=True, metadata={"description": "1 to 60"})
    note = _text()


class ForwardSchema(Schema):
    note = fields.String(required=True)


class MergeSchema(Schema):
    into_id = fields.Integer(required=True)


class AnswerSchema(Schema):
    answer = fields.String(required=True)
    answer_documents = _text()


class AskAgainSchema(Schema):
    reason = fields.String(required=True)


@bp.route("/recommendations")
@bp.arguments(RecommendationQuerySchema, location="query")
@bp.response(200, RecommendationPageSchema)
def recommendation_list(args):
    """Kiến nghị in your scope (those raised in your subtree, or given to a unit of it to
    answer), newest first."""
    query = visible_recommendations(actor())
    status = args.get("status")
    if status == "overdue":
        today, _horizon = today_and_horizon(clock.now())
        query = query.where(twin.overdue(Recommendation.status, Recommendation.response_due,
                                         today))
    elif status:
        query = query.where(Recommendation.status == status)
    return paginate(query.order_by(Recommendation.id.desc()), args["page"], args["per_page"])


def _task(task_id):
    """The task named in the body, if any: unknown or outside scope is a 422 on the field."""
    if task_id is None:
        return None
    if type(task_id) is int and 0 < task_id <= MAX_ID:
        with contextlib.suppress(NotFound):
            return load_task(task_id)
    raise InvalidInput(_("Unknown task or outside your scope."),
                       {"task_id": [_("Unknown task or outside your scope.")]})


@bp.route("/recommendations", methods=["POST"])
@bp.doc(requestBody=body(RaiseSchema))
@bp.response(201, RecommendationSchema)
@requires(Role.MEMBER)
def recommendation_raise():
    """Raise a vướng mắc or kiến nghị in your unit's name (member), on a task you report on
    (`task_id`) or on its own."""
    raw = json_object()
    rec = service.raise_recommendation(actor(), raw, task=_task(raw.get("task_id")))
    commit()
    return rec


@bp.route(REC)
@bp.response(200, RecommendationSchema)
def recommendation_get(rec_id: int):
    return get_recommendation(actor(), rec_id)


def _step(rec_id: int, action):
    rec = get_recommendation(actor(), rec_id)
    action(rec, json_object())
    commit()
    return rec


@bp.route(f"{REC}/route", methods=["POST"])
@bp.doc(requestBody=body(RouteSchema))
@bp.response(200, RecommendationSchema)
@requires(*SUPERVISORS)
def recommendation_route(rec_id: int):
    """Assign one responsible unit (đầu mối) in your subtree and the working days it has
    to answer (supervisor of the raising unit, or of the level it was forwarded to)."""
    return _step(rec_id, lambda rec, raw: service.route(
        actor(), rec, responsible_unit_id=raw.get("responsible_unit_id"),
        response_days=raw.get("response_days"), note=raw.get("note")))


@bp.route(f"{REC}/forward", methods=["POST"])
@bp.doc(requestBody=body(ForwardSchema))
@bp.response(200, RecommendationSchema)
@requires(*SUPERVISORS)
def recommendation_forward(rec_id: int):
    """Forward it up a level, saying why."""
    return _step(rec_id, lambda rec, raw: service.forward(actor(), rec, note=raw.get("note")))


@bp.route(f"{REC}/merge", methods=["POST"])
@bp.doc(requestBody=body(MergeSchema))
@bp.response(200, RecommendationSchema)
@requires(*SUPERVISORS)
def recommendation_merge(rec_id: int):
    """Merge this duplicate into another kiến nghị, which answers it."""
    return _step(rec_id, lambda rec, raw: service.merge(actor(), rec,
                                                        into_id=raw.get("into_id")))


@bp.route(f"{REC}/answer", methods=["POST"])
@bp.doc(requestBody=body(AnswerSchema))
@bp.response(200, RecommendationSchema)
@requires(Role.MEMBER, Role.SUPERVISOR)
def recommendation_answer(rec_id: int):
    """Answer it (the responsible unit's member or supervisor)."""
    return _step(rec_id, lambda rec, raw: service.answer(
        actor(), rec, answer_text=raw.get("answer"), documents=raw.get("answer_documents")))


@bp.route(f"{REC}/accept", methods=["POST"])
@bp.response(200, RecommendationSchema)
@requires(Role.MEMBER)
def recommendation_accept(rec_id: int):
    """Accept the answer (the raising unit's member)."""
    return _step(rec_id, lambda rec, raw: service.accept_answer(actor(), rec))


@bp.route(f"{REC}/ask-again", methods=["POST"])
@bp.doc(requestBody=body(AskAgainSchema))
@bp.response(200, RecommendationSchema)
@requires(Role.MEMBER)
def recommendation_ask_again(rec_id: int):
    """Ask for a new answer, saying why (the raising unit's member)."""
    return _step(rec_id, lambda rec, raw: service.ask_again(actor(), rec,
                                                            reason=raw.get("reason")))
