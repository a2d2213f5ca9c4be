"""The early warning (sắp chuyển đỏ): the tasks in your scope likely to turn red within
the next working days, highest risk first, with the reasons in words."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from tracker import clock
from tracker.api.base import ApiBlueprint, actor, unit_in_scope
from tracker.api.schemas import PageArgsSchema
from tracker.forecast.service import warnings
from tracker.forecast.wording import describe, describe_sign
from tracker.paging import Page
from tracker.scope import SUPERVISORS, requires

bp = ApiBlueprint("forecast", __name__,
                  description="The early warning: tasks likely to turn red soon.")


class WarningQuerySchema(PageArgsSchema):
    unit_id = fields.Integer(validate=validate.Range(1, 2**31 - 1),
                             metadata={"description": "Only tasks led in this unit's subtree."})


class SignSchema(Schema):
    code = fields.String(metadata={"description": "deadline, streak, record, returned or "
                                                  "rejected (docs/forecast.md)"})
    values = fields.List(fields.Integer())
    text = fields.String()


class WarningSchema(Schema):
    task_id = fields.Integer()
    code = fields.String()
    title = fields.String()
    unit_id = fields.Integer()
    unit = fields.String()
    deadline = fields.Date()
    colour = fields.String(allow_none=True)
    risk = fields.Integer(metadata={"description": "The chance of red, 0–100 %."})
    horizon_end = fields.Date(metadata={"description": "The horizon's last working day."})
    reasons = fields.String()
    signs = fields.List(fields.Nested(SignSchema))


class WarningPageSchema(Schema):
    items = fields.List(fields.Nested(WarningSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()


def _item(warning) -> dict:
    task, result = warning.task, warning.forecast
    return {"task_id": task.id, "code": task.code, "title": task.title,
            "unit_id": task.lead_unit_id, "unit": task.lead_unit.name,
            "deadline": task.deadline, "colour": task.colour, "risk": result.risk,
            "horizon_end": result.horizon_end, "reasons": describe(result),
            "signs": [{"code": s.code, "values": list(s.values), "text": describe_sign(s)}
                      for s in result.signs]}


@bp.route("/forecast/warnings")
@bp.arguments(WarningQuerySchema, location="query")
@bp.response(200, WarningPageSchema)
@requires(*SUPERVISORS)
def warning_list(args):
    """Tasks you supervise (supervisor, admin) likely to turn red within the next 3
    working days, highest risk first, one page at a time (docs/forecast.md)."""
    unit = unit_in_scope(args["unit_id"], "unit_id") if "unit_id" in args else None
    found = warnings(actor(), clock.now(), unit)
    page, per_page = args["page"], args["per_page"]
    items = [_item(w) for w in found[(page - 1) * per_page:page * per_page]]
    return Page(items=items, page=page, per_page=per_page, total=len(found))
