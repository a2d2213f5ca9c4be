"""Units: the tree in your scope, and the colour summary (xanh hoá) of a unit's subtree."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from tracker.api.base import MAX_ID, ApiBlueprint, actor
from tracker.api.schemas import (
    COLOURS,
    UnitBriefSchema,
    UnitDetailSchema,
    UnitQuerySchema,
    UnitSchema,
)
from tracker.extensions import db
from tracker.reports.live import rollup
from tracker.rules.units import green_rate, unit_colour
from tracker.rules.vietnamese_sql import by_name
from tracker.scope import REPORT_READERS, get_unit, requires, visible_units
from tracker.search import unit_matches
from tracker.units.models import Unit

bp = ApiBlueprint("units", __name__,
                  description="The unit tree (nation → province → commune, departments).")

UNIT = f"/units/<int(max={MAX_ID}):unit_id>"


class ColourCountsSchema(Schema):
    total = fields.Integer(metadata={"description": "Tasks not cancelled."})
    green = fields.Integer()
    yellow = fields.Integer()
    red = fields.Integer()
    green_rate = fields.Float(metadata={"description": "green / total; 1.0 with no tasks."})
    colour = fields.String(validate=validate.OneOf(COLOURS), metadata={
        "description": "red if any task is red, else yellow if any is yellow, else green."})


class ChildSummarySchema(ColourCountsSchema):
    unit = fields.Nested(UnitBriefSchema)


class UnitSummarySchema(ColourCountsSchema):
    unit = fields.Nested(UnitBriefSchema)
    children = fields.List(fields.Nested(ChildSummarySchema), metadata={
        "description": "The same for each unit directly below, with its subtree."})


def _counts(counts) -> dict:
    return {"total": counts["total"], "green": counts["green"], "yellow": counts["yellow"],
            "red": counts["red"], "green_rate": green_rate(counts),
            "colour": unit_colour(counts)}


@bp.route("/units")
@bp.arguments(UnitQuerySchema, location="query")
@bp.response(200, UnitSchema(many=True))
def unit_list(args):
    """Every unit in your scope (your unit and all below it), parents before children,
    each level in Vietnamese alphabetical order; `q` searches as the unit picker does."""
    query = visible_units(actor())
    if "parent_id" in args:
        query = query.where(Unit.parent_id == args["parent_id"])
    if "kind" in args:
        query = query.where(Unit.kind == args["kind"])
    if args.get("q"):
        query = query.where(unit_matches(args["q"]))
    return db.session.scalars(query.order_by(Unit.depth, by_name(Unit.name), Unit.id)).all()


@bp.route(UNIT)
@bp.response(200, UnitDetailSchema)
def unit_detail(unit_id: int):
    return get_unit(actor(), unit_id)


@bp.route(f"{UNIT}/summary")
@bp.response(200, UnitSummarySchema)
@requires(*REPORT_READERS)
def unit_summary(unit_id: int):
    """Counts by colour of the tasks led in the unit's subtree, from their stored colours,
    and the same for each unit directly below (supervisor, admin, viewer)."""
    unit = get_unit(actor(), unit_id)
    totals = rollup(unit)  # the dashboard's live counts, one pass per subtree
    children = [{"unit": c, **_counts(totals[c.id])} for c in unit.children]
    return {"unit": unit, **_counts(totals[unit.id]), "children": children}
