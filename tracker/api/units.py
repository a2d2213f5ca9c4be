"""Units: the tree in your scope, and the colour summary (xanh hoá) of a unit's subtree;
departments (sở, ngành) added, renamed, retired and reactivated (admin)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from tracker import clock
from tracker.api.base import MAX_ID, ApiBlueprint, actor, commit, json_object
from tracker.api.schemas import (
    UNIT_COLOURS,
    UnitBriefSchema,
    UnitDetailSchema,
    UnitQuerySchema,
    UnitSchema,
)
from tracker.departments.service import (
    CODE_MAX,
    NAME_MAX,
    add_department,
    rename_department,
    set_department_active,
)
from tracker.extensions import db
from tracker.reports.live import rollup
from tracker.rules.units import green_rate, unit_colour
from tracker.rules.vietnamese_sql import by_name
from tracker.scope import ADMINS, REPORT_READERS, get_unit, requires, visible_units
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
    not_started = fields.Integer(metadata={
        "description": "Tasks not started and still green: not counted in the green rate."})
    green_rate = fields.Float(allow_none=True, metadata={
        "description": "green tasks / tasks counted (not cancelled, less `not_started`); "
                       "null when no task is counted."})
    colour = fields.String(validate=validate.OneOf(UNIT_COLOURS), metadata={
        "description": "red if any task is red, else yellow if any is yellow, else green "
                       "if a task is counted; none (no task) otherwise."})


class ChildSummarySchema(ColourCountsSchema):
    unit = fields.Nested(UnitBriefSchema)


class UnitSummarySchema(ColourCountsSchema):
    unit = fields.Nested(UnitBriefSchema)
    children = fields.List(fields.Nested(ChildSummarySchema), metadata={
        "description": "The same for each unit directly below, with its subtree."})


class DepartmentCreateSchema(Schema):
    """A new department, as `tracker.departments.service.add_department` checks it."""

    parent_id = fields.Integer(required=True, metadata={
        "description": "The nation or a province of your scope."})
    name = fields.String(required=True, validate=validate.Length(1, NAME_MAX), metadata={
        "description": "Not the name of another unit under the same parent."})
    code = fields.String(validate=validate.Length(max=CODE_MAX), metadata={
        "description": "Letters, digits, . _ -; left out, the next free one (e.g. 22-01)."})


class DepartmentChangeSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, NAME_MAX))


def _counts(counts) -> dict:
    return {"total": counts["total"], "green": counts["green"], "yellow": counts["yellow"],
            "red": counts["red"], "not_started": counts["not_started"],
            "green_rate": green_rate(counts),
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


@bp.route("/units", methods=["POST"])
@bp.doc(requestBody={"required": True,
                     "content": {"application/json": {"schema": DepartmentCreateSchema}}})
@bp.response(201, UnitSchema)
@requires(*ADMINS)
def department_create():
    """Add a department under the nation or a province of your scope (admin). Whoever sees
    the parent sees it; the fields at fault are named as on the unit's page."""
    raw = json_object()
    unit = add_department(actor(), parent=raw.get("parent_id"), name=raw.get("name"),
                          code=raw.get("code"), now=clock.now())
    commit()
    return unit


@bp.route(UNIT, methods=["PATCH"])
@bp.doc(requestBody={"required": True,
                     "content": {"application/json": {"schema": DepartmentChangeSchema}}})
@bp.response(200, UnitSchema)
@requires(*ADMINS)
def department_rename(unit_id: int):
    """Rename a department of your scope (admin); the official units are not renamed."""
    unit = get_unit(actor(), unit_id)
    rename_department(actor(), unit, json_object().get("name"), now=clock.now())
    commit()
    return unit


@bp.route(f"{UNIT}/retire", methods=["POST"])
@bp.response(200, UnitSchema)
@requires(*ADMINS)
def department_retire(unit_id: int):
    """Retire a department (admin): refused (409) while it leads or coordinates an open
    task or is the home unit of an active user, naming them in `fields.tasks` and
    `fields.users`. A retired department keeps its history and takes no new task or user."""
    unit = get_unit(actor(), unit_id)
    set_department_active(actor(), unit, False, now=clock.now())
    commit()
    return unit


@bp.route(f"{UNIT}/reactivate", methods=["POST"])
@bp.response(200, UnitSchema)
@requires(*ADMINS)
def department_reactivate(unit_id: int):
    unit = get_unit(actor(), unit_id)
    set_department_active(actor(), unit, True, now=clock.now())
    commit()
    return unit
