"""The working-day calendar (lịch làm việc): the official public holidays, and the days off
and make-up working days the deployment's admin records — read, set and cleared through
`tracker.settings.service`, the same write path as the admin's calendar page."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from tracker import clock
from tracker.api.base import ApiBlueprint, actor, commit, json_object
from tracker.errors import InvalidInput
from tracker.extensions import db
from tracker.rules.calendar import official_holidays
from tracker.rules.models import CalendarDay, DayKind
from tracker.scope import ADMINS, manages_deployment, requires
from tracker.settings.service import (
    FIRST_YEAR,
    LAST_YEAR,
    NOTE_MAX,
    calendar_day,
    clear_day,
    set_day,
)

bp = ApiBlueprint("calendar", __name__,
                  description="The working-day calendar: public holidays, days off and "
                              "make-up working days (admin).")

DAY = "/calendar/<day>"
KINDS = [kind.value for kind in DayKind]
_DAY_PARAMETER = {"in": "path", "name": "day", "required": True,
                  "schema": {"type": "string", "example": "2026-12-24"},
                  "description": "The day, as YYYY-MM-DD or dd-mm-yyyy."}


class CalendarQuerySchema(Schema):
    year = fields.Integer(validate=validate.Range(FIRST_YEAR, LAST_YEAR), metadata={
        "description": "This year (ICT) by default."})


class CalendarDaySchema(Schema):
    day = fields.Date()
    kind = fields.String(validate=validate.OneOf(KINDS), metadata={
        "description": "day_off (ngày nghỉ bổ sung) or makeup_day (ngày làm bù)."})
    note = fields.String()
    created_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class HolidaySchema(Schema):
    day = fields.Date()
    name = fields.String()


class CalendarSchema(Schema):
    year = fields.Integer()
    can_change = fields.Boolean(metadata={
        "description": "Whether you may set or clear days: the admin of the whole "
                       "deployment only."})
    holidays = fields.List(fields.Nested(HolidaySchema), metadata={
        "description": "The official public holidays of the year (ngày lễ)."})
    days = fields.List(fields.Nested(CalendarDaySchema), metadata={
        "description": "The days off and make-up working days recorded for the year."})


class CalendarDayInputSchema(Schema):
    """As `tracker.settings.service.set_day` checks it."""

    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    note = fields.String(allow_none=True, validate=validate.Length(max=NOTE_MAX))


def _this_year() -> int:
    zone = ZoneInfo(current_app.config["TRACKER_TIMEZONE"])
    return min(max(clock.now().astimezone(zone).year, FIRST_YEAR), LAST_YEAR)


@bp.route("/calendar")
@bp.arguments(CalendarQuerySchema, location="query")
@bp.response(200, CalendarSchema)
@requires(*ADMINS)
def calendar(args):
    """A year of the calendar, as the admin's calendar page shows it (admin)."""
    year = args.get("year") or _this_year()
    language = "vi" if str(get_locale()) == "vi" else "en_US"
    days = db.session.scalars(
        select(CalendarDay)
        .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
        .order_by(CalendarDay.day)).all()
    return {"year": year, "can_change": manages_deployment(actor()),
            "holidays": [{"day": d, "name": n}
                         for d, n in sorted(official_holidays(year, language).items())],
            "days": days}


@bp.route(DAY, methods=["PUT"], parameters=[_DAY_PARAMETER])
@bp.doc(requestBody={"required": True,
                     "content": {"application/json": {"schema": CalendarDayInputSchema}}})
@bp.response(200, CalendarDaySchema)
@requires(*ADMINS)
def calendar_set(day: str):
    """Record a day off or a make-up working day (admin of the whole deployment; 403 for
    others). Only a day whose cutoff is still ahead can change; every task is recoloured."""
    raw = json_object()
    recorded = set_day(actor(), day, raw.get("kind"), raw.get("note"), now=clock.now())
    commit()
    return db.session.get(CalendarDay, recorded)


@bp.route(DAY, methods=["DELETE"], parameters=[_DAY_PARAMETER])
@bp.response(204)
@requires(*ADMINS)
def calendar_clear(day: str):
    """Make the day an ordinary one again (admin of the whole deployment); clearing a day
    that holds nothing changes nothing."""
    parsed = calendar_day(day)
    if parsed is None:
        raise InvalidInput(_("The day was not recorded."),
                           {"day": [_("Enter a date as dd/mm/yyyy.")]})
    clear_day(actor(), parsed, now=clock.now())
    commit()
