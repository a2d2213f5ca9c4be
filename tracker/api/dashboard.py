"""The dashboard of any processed cutoff day and the comparison of two days (issue 16),
as the web pages show them: read from what the cutoffs recorded, in the user's scope."""

from __future__ import annotations

from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from tracker import clock
from tracker.api.base import ApiBlueprint, actor, commit, unit_in_scope
from tracker.api.reports import (
    IdleUnitSchema,
    RankedUnitSchema,
    ReportTotalsSchema,
    ReportUnitSchema,
)
from tracker.api.schemas import UNIT_COLOURS
from tracker.audit.security import record_report_export
from tracker.dates import TypedDate
from tracker.downloads import attachment
from tracker.errors import InvalidInput, NotFound
from tracker.reports import compare as comparing
from tracker.reports import pastday
from tracker.reports.history import day_figures
from tracker.rules.store import load_calendar
from tracker.scope import REPORT_READERS, requires
from tracker.xlsx import MIME, to_bytes

bp = ApiBlueprint("dashboard", __name__,
                  description="The dashboard as it stood at any past 16:00 cutoff, and the "
                              "comparison of two cutoff days.")

UNIT_ID = fields.Integer(validate=validate.Range(1, 2**31 - 1),
                         metadata={"description": "Your own unit by default."})


def _today():
    return load_calendar().local_date(clock.now())


def _unit(args):
    return unit_in_scope(args["unit_id"], "unit_id") if "unit_id" in args else actor().unit


class DayQuerySchema(Schema):
    date = TypedDate(metadata={
        "description": "A processed cutoff day (yyyy-mm-dd or dd/mm/yyyy), the latest by "
                       "default; a day to come or one without a cutoff is refused (422)."})
    unit_id = UNIT_ID


class StreakedUnitSchema(RankedUnitSchema):
    green_streak = fields.Integer(metadata={
        "description": "Cutoffs in a row, up to this day, at which the unit was green."})


class MoverSchema(Schema):
    unit_id = fields.Integer()
    unit = fields.String()
    before = fields.Float(metadata={"description": "Green rate at `since`."})
    now = fields.Float(metadata={"description": "Green rate at the day asked for."})
    change = fields.Float(metadata={"description": "In points of percentage."})


class MovementSchema(Schema):
    since = fields.Date(allow_none=True, metadata={
        "description": "The last cutoff a week or more before; null if none."})
    improved = fields.List(fields.Nested(MoverSchema))
    declined = fields.List(fields.Nested(MoverSchema))


class PastDashboardSchema(Schema):
    date = fields.Date()
    unit = fields.Nested(ReportUnitSchema)
    green_streak = fields.Integer(metadata={"description": "The unit's own green streak."})
    totals = fields.Nested(ReportTotalsSchema)
    units = fields.List(fields.Nested(StreakedUnitSchema), metadata={
        "description": "Units directly below with a task counted, best green rate first."})
    idle_units = fields.List(fields.Nested(IdleUnitSchema))
    movement = fields.Nested(MovementSchema)


@bp.route("/dashboard/day")
@bp.arguments(DayQuerySchema, location="query")
@bp.response(200, PastDashboardSchema)
@requires(*REPORT_READERS)
def past_dashboard(args):
    """The dashboard's figures as they stood at a past cutoff (supervisor, admin, viewer):
    totals by colour and the four categories, the units below ranked with their green
    streaks, and the week's most improved and most declined units."""
    unit = _unit(args)
    if "date" in args:
        day = pastday.cutoff_day(args["date"], "date", _today())
    else:
        day = pastday.latest_cutoff(_today())
        if day is None:
            raise NotFound(_("No cutoff has been processed for this day."))
    figures = day_figures(unit, day)
    streaks = pastday.green_streaks([unit.id, *(r["unit_id"] for r in figures["units"])],
                                    day)
    return {"date": day, "unit": {"id": unit.id, "name": unit.name},
            "green_streak": streaks.get(unit.id, 0), "totals": figures["totals"],
            "units": [dict(r, green_streak=streaks.get(r["unit_id"], 0))
                      for r in figures["units"]],
            "idle_units": figures["idle_units"],
            "movement": pastday.week_movement(unit, day)}


class CompareQuerySchema(Schema):
    from_ = TypedDate(data_key="from", metadata={
        "description": "The earlier cutoff day; with `to`, by default the last cutoff a "
                       "week or more before the latest."})
    to = TypedDate(metadata={"description": "The later cutoff day; the latest by default."})
    unit_id = UNIT_ID
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "xlsx")))


class TotalChangeSchema(Schema):
    before = fields.Float(allow_none=True)
    after = fields.Float(allow_none=True)
    change = fields.Float(allow_none=True)


class UnitMoveSchema(Schema):
    unit_id = fields.Integer()
    unit = fields.String()
    rank_before = fields.Integer(allow_none=True)
    rank_after = fields.Integer(allow_none=True)
    moved = fields.Integer(allow_none=True, metadata={
        "description": "Places risen (positive) or fallen (negative); null if unranked "
                       "on either day."})
    rate_before = fields.Float(allow_none=True)
    rate_after = fields.Float(allow_none=True)
    rate_change = fields.Float(allow_none=True, metadata={"description": "In points."})
    colour_before = fields.String(allow_none=True, validate=validate.OneOf(UNIT_COLOURS))
    colour_after = fields.String(allow_none=True, validate=validate.OneOf(UNIT_COLOURS))


class ChangedTaskSchema(Schema):
    task_id = fields.Integer()
    code = fields.String()
    title = fields.String()
    unit = fields.String()
    from_ = fields.String(data_key="from", attribute="from", allow_none=True)
    reason = fields.String()
    days = fields.Integer()


class ComparisonSchema(Schema):
    unit = fields.Nested(ReportUnitSchema)
    before = fields.String(metadata={"format": "date"})
    after = fields.String(metadata={"format": "date"})
    totals = fields.Dict(keys=fields.String(), values=fields.Nested(TotalChangeSchema))
    units = fields.List(fields.Nested(UnitMoveSchema))
    turned_red = fields.List(fields.Nested(ChangedTaskSchema),
                             metadata={"description": "Worst first (at most 200)."})
    turned_red_total = fields.Integer()
    turned_green = fields.List(fields.Nested(ChangedTaskSchema),
                               metadata={"description": "By code (at most 200)."})
    turned_green_total = fields.Integer()


@bp.route("/dashboard/compare")
@bp.arguments(CompareQuerySchema, location="query")
@bp.response(200, ComparisonSchema)
@bp.doc(responses={200: {"content": {MIME: {"schema": {"type": "string",
                                                        "format": "binary"}}}}})
@requires(*REPORT_READERS)
def compare(args):
    """Two processed cutoff days compared for a unit's subtree: what turned red, what
    turned green, which units rose or fell in the ranking and by how much;
    ?format=xlsx downloads it all as a workbook."""
    unit = _unit(args)
    today = _today()
    pair = pastday.default_pair(today)
    if pair is None:
        raise NotFound(_("No cutoff has been processed for this day."))
    before = pastday.cutoff_day(args["from_"], "from", today) if "from_" in args else pair[0]
    after = pastday.cutoff_day(args["to"], "to", today) if "to" in args else pair[1]
    if before > after:
        raise InvalidInput(_("Some fields are not valid."),
                           {"to": [_("The second day must not come before the first.")]})
    if args["format"] == "json":
        return comparing.compare(unit, before, after)
    data = to_bytes(comparing.compare_xlsx(comparing.compare(unit, before, after,
                                                              limit=None)))
    record_report_export(actor(), report="day_comparison", unit=unit, day=after,
                         fmt="xlsx", at=clock.now())
    commit()
    return attachment(data, f"so-sanh-{before.isoformat()}-{after.isoformat()}-{unit.id}"
                            ".xlsx", MIME)
