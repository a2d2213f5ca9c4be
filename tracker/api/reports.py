"""The daily supervision report (báo cáo giám sát hằng ngày) of any processed cutoff, as
JSON or as the same XLSX, CSV and PDF downloads as the web UI."""

from __future__ import annotations

from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from tracker import clock
from tracker.api.base import ApiBlueprint, actor, commit, unit_in_scope
from tracker.api.schemas import UNIT_COLOURS
from tracker.audit.security import record_report_export
from tracker.dates import TypedDate
from tracker.downloads import attachment
from tracker.errors import NotFound
from tracker.replica import may_lag
from tracker.reports import formats, history
from tracker.scope import REPORT_READERS, SUPERVISORS, requires

bp = ApiBlueprint("reports", __name__,
                  description="Daily supervision reports, as of each 16:00 cutoff.")



class ReportQuerySchema(Schema):
    date = TypedDate(metadata={"description": "The reporting day (yyyy-mm-dd or dd/mm/yyyy); "
                                              "the latest by default."})
    unit_id = fields.Integer(validate=validate.Range(1, 2**31 - 1),
                             metadata={"description": "Your own unit by default."})
    format = fields.String(load_default="json",
                           validate=validate.OneOf(("json", *formats.MIMETYPES)))


class ReportUnitSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class ReportTotalsSchema(Schema):
    total = fields.Integer()
    green = fields.Integer()
    yellow = fields.Integer()
    red = fields.Integer()
    missed = fields.Integer(metadata={"description": "Updates missed that day."})
    done_on_time = fields.Integer()
    done_late = fields.Integer()
    open_within_deadline = fields.Integer()
    open_overdue = fields.Integer()
    not_started = fields.Integer(metadata={
        "description": "Tasks not started and still green: not counted in the green rate."})
    green_rate = fields.Float(allow_none=True, metadata={
        "description": "green tasks / tasks counted; null when no task is counted."})
    colour = fields.String(validate=validate.OneOf(UNIT_COLOURS))
    communes = fields.Integer()
    communes_green = fields.Integer()
    communes_none = fields.Integer(metadata={
        "description": "Communes with no task counted: neither green nor in the share."})
    communes_share = fields.Float(allow_none=True, metadata={
        "description": "communes_green / (communes - communes_none); null with none."})


class RankedUnitSchema(Schema):
    unit_id = fields.Integer()
    unit = fields.String()
    colour = fields.String(validate=validate.OneOf(UNIT_COLOURS))
    green_rate = fields.Float()
    total = fields.Integer()
    green = fields.Integer()
    yellow = fields.Integer()
    red = fields.Integer()
    not_started = fields.Integer()
    missed = fields.Integer()


class IdleUnitSchema(Schema):
    unit_id = fields.Integer()
    unit = fields.String()
    total = fields.Integer()
    not_started = fields.Integer()


class MissedUnitSchema(Schema):
    unit_id = fields.Integer()
    unit = fields.String()
    missed = fields.Integer()


class RedTaskSchema(Schema):
    task_id = fields.Integer()
    code = fields.String()
    title = fields.String()
    unit = fields.String()
    owner = fields.String()
    reason = fields.String()
    days = fields.Integer()


class ColourChangeSchema(Schema):
    task_id = fields.Integer()
    code = fields.String()
    title = fields.String()
    unit = fields.String()
    from_ = fields.String(data_key="from", attribute="from", allow_none=True)
    to = fields.String()
    reason = fields.String()
    days = fields.Integer()


class RecommendationCountsSchema(Schema):
    received = fields.Integer(metadata={"description": "Kiến nghị raised up to the cutoff."})
    received_today = fields.Integer(metadata={"description": "Of which raised that day."})
    answered_on_time = fields.Integer()
    answered_late = fields.Integer()
    pending = fields.Integer(metadata={
        "description": "Not answered, within the deadline (or not routed yet)."})
    overdue = fields.Integer(metadata={"description": "Not answered, the deadline passed."})
    merged = fields.Integer(metadata={
        "description": "Merged into another kiến nghị, which is counted instead."})


class RecommendationFieldSchema(RecommendationCountsSchema):
    field = fields.String(metadata={"description": "The field (lĩnh vực)."})


class RecommendationUnitSchema(RecommendationCountsSchema):
    unit_id = fields.Integer()
    unit = fields.String(metadata={"description": "The responsible unit (đơn vị đầu mối)."})


class RecommendationFiguresSchema(Schema):
    totals = fields.Nested(RecommendationCountsSchema)
    by_field = fields.List(fields.Nested(RecommendationFieldSchema),
                           metadata={"description": "In Vietnamese alphabetical order."})
    by_unit = fields.List(fields.Nested(RecommendationUnitSchema), metadata={
        "description": "The responsible units, most overdue first; merged kiến nghị and "
                       "those not routed yet are in the totals and by field only."})


class DailyReportSchema(Schema):
    date = fields.String(metadata={"format": "date"})
    unit = fields.Nested(ReportUnitSchema)
    totals = fields.Nested(ReportTotalsSchema)
    units = fields.List(fields.Nested(RankedUnitSchema),
                        metadata={"description": "Units directly below with a task counted, "
                                               "best green rate first."})
    idle_units = fields.List(fields.Nested(IdleUnitSchema), metadata={
        "description": "Units directly below with no task counted (no task, or only tasks "
                       "not started): not ranked, never green."})
    missed_units = fields.List(fields.Nested(MissedUnitSchema))
    red_tasks = fields.List(fields.Nested(RedTaskSchema),
                            metadata={"description": "Worst first (at most 500)."})
    red_total = fields.Integer()
    likely_red = fields.Integer(allow_none=True, metadata={
        "description": "Open tasks the early warning called likely to turn red within 3 "
                       "working days, as of this cutoff, as stored after it; null while "
                       "that day's forecast has not been computed (docs/forecast.md)."})
    changes = fields.List(fields.Nested(ColourChangeSchema),
                          metadata={"description": "Colour changes since the day before."})
    recommendations = fields.Nested(RecommendationFiguresSchema, metadata={
        "description": "The kiến nghị raised in the unit's subtree or for it to answer, "
                       "as the day's cutoff counted them (docs/recommendations.md)."})


def _day(args):
    """The day asked for, else the latest processed one (None before any cutoff)."""
    if args.get("date") is not None:
        return args["date"]
    latest = history.processed_days(limit=1)
    return latest[0] if latest else None


@bp.route("/reports/daily")
@bp.arguments(ReportQuerySchema, location="query")
@bp.response(200, DailyReportSchema)
@bp.doc(responses={200: {"content": {
    mimetype.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
    for mimetype in formats.MIMETYPES.values()}}})
@requires(*REPORT_READERS)
@may_lag
def daily_report(args):
    """The report of a processed cutoff for a unit's subtree (supervisor, admin, viewer);
    404 if that day's cutoff has not run. ?format=xlsx|csv downloads its data;
    ?format=pdf|docx the administrative document (Decree 30/2020/NĐ-CP)."""
    unit = unit_in_scope(args["unit_id"], "unit_id") if "unit_id" in args else actor().unit
    day = _day(args)
    fmt = args["format"]
    limit = 500 if fmt == "json" else formats.red_limit(fmt)
    report = history.daily_report(unit, day, red_limit=limit) if day else None
    if report is None:
        raise NotFound(_("No cutoff has been processed for this day."))
    if fmt == "json":
        return report
    filename = f"bao-cao-giam-sat-{day.isoformat()}-{unit.id}.{fmt}"
    data = formats.render(fmt, report)
    record_report_export(actor(), report="daily_report", unit=unit, day=day,
                         fmt=fmt, at=clock.now())
    commit()
    return attachment(data, filename, formats.MIMETYPES[fmt])


class SignQuerySchema(Schema):
    date = fields.Date(metadata={"description": "The reporting day; the latest by default."})
    unit_id = fields.Integer(validate=validate.Range(1, 2**31 - 1),
                             metadata={"description": "Your own unit by default."})


@bp.route("/reports/daily/signed", methods=["POST"])
@bp.arguments(SignQuerySchema, location="query")
@bp.doc(responses={200: {"description": "The PDF signed (PAdES) with the unit's certificate.",
                         "content": {"application/pdf": {
                             "schema": {"type": "string", "format": "binary"}}}}})
@requires(*SUPERVISORS)
def daily_report_signed(args):
    """The report's PDF signed with the unit's certificate, by the unit's own supervisors
    and admins (403 for another unit's); 409 if the unit has no valid certificate."""
    from tracker.reports import official

    unit = unit_in_scope(args["unit_id"], "unit_id") if "unit_id" in args else actor().unit
    day = _day(args)
    report = history.daily_report(unit, day, red_limit=official.ROWS) if day else None
    if report is None:
        raise NotFound(_("No cutoff has been processed for this day."))
    data = official.report_pdf_signed(actor(), unit, report)
    commit()
    return attachment(data, f"bao-cao-giam-sat-{day.isoformat()}-{unit.id}-ky-so.pdf",
                      "application/pdf")
