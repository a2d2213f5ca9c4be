"""Admin pages: the working-day calendar (days off, make-up working days) and the colour
policy's thresholds. (Nested under `admin`; admins only.)"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from tracker.errors import InvalidInput
from tracker.extensions import db
from tracker.rules.calendar import official_holidays
from tracker.rules.models import CalendarDay, DayKind
from tracker.rules.store import POLICY_DEFAULTS, load_policy
from tracker.scope import ADMINS, manages_deployment, require_deployment_admin, requires
from tracker.settings.service import POLICY_LIMITS, clear_day, set_day, set_policy
from tracker.tasks.importer import to_iso_date
from tracker.web.helpers import DAY_KIND_LABELS, local_today

bp = Blueprint("settings", __name__)

FIRST_YEAR, LAST_YEAR = 2000, 2100


def _day(text: str) -> date | None:
    try:
        day = date.fromisoformat(to_iso_date((text or "").strip()))
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


def _calendar_page(status: int = 200, values: dict | None = None, errors: dict | None = None):
    today = local_today()
    year = request.args.get("year", type=int) or today.year
    year = min(max(year, FIRST_YEAR), LAST_YEAR)
    language = "vi" if str(get_locale()) == "vi" else "en_US"
    official = sorted(official_holidays(year, language).items())
    days = db.session.scalars(select(CalendarDay).order_by(CalendarDay.day)).all()
    return render_template(
        "admin/calendar.html", days=days, official=official, year=year, today=today,
        values=values or {"kind": "day_off"}, errors=errors or {},
        can_change=manages_deployment(current_user), DAY_KIND_LABELS=DAY_KIND_LABELS), status


@bp.route("/calendar")
@requires(*ADMINS)
def calendar():
    return _calendar_page()


@bp.route("/calendar", methods=["POST"])
@requires(*ADMINS)
def calendar_add():
    require_deployment_admin(current_user)
    values = request.form.to_dict()
    errors: dict[str, list[str]] = {}
    day = _day(values.get("day", ""))
    if day is None:
        errors["day"] = [_("Enter a date as dd/mm/yyyy.")]
    kind = values.get("kind", "")
    if kind not in DayKind.__members__.values():
        errors["kind"] = [_("Choose a day off or a make-up working day.")]
    note = values.get("note", "").strip()
    if len(note) > 300:
        errors["note"] = [_("At most %(n)s characters.", n=300)]
    if errors:
        return _calendar_page(422, values, errors)
    try:
        set_day(current_user, day, kind, note)
    except InvalidInput as exc:  # a day already judged by its cutoff
        db.session.rollback()
        return _calendar_page(422, values, exc.fields)
    db.session.commit()
    flash(_("%(day)s recorded as: %(kind)s.", day=day.strftime("%d/%m/%Y"),
            kind=DAY_KIND_LABELS[kind]), "success")
    return redirect(url_for("admin.settings.calendar", year=day.year))


@bp.route("/calendar/<day>/delete", methods=["POST"])
@requires(*ADMINS)
def calendar_remove(day: str):
    require_deployment_admin(current_user)
    parsed = _day(day)
    if parsed is None:
        abort(404)
    try:
        clear_day(current_user, parsed)
    except InvalidInput as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _calendar_page(422, {}, {})
    db.session.commit()
    flash(_("%(day)s removed from the calendar.", day=parsed.strftime("%d/%m/%Y")), "success")
    return redirect(url_for("admin.settings.calendar", year=parsed.year))


@bp.route("/policy", methods=["GET", "POST"])
@requires(*ADMINS)
def policy():
    current = load_policy()
    values = {key: getattr(current, key) for key in POLICY_DEFAULTS}
    errors: dict[str, list[str]] = {}
    message = None
    if request.method == "POST":
        submitted = {key: request.form.get(key, "") for key in POLICY_DEFAULTS}
        try:
            set_policy(current_user, submitted)
        except InvalidInput as exc:
            db.session.rollback()
            values, errors, message = submitted, exc.fields, exc.message
        else:
            db.session.commit()
            flash(_("The policy was saved and every task recoloured."), "success")
            return redirect(url_for("admin.settings.policy"))
    return render_template(
        "admin/policy.html", values=values, errors=errors, message=message,
        defaults=POLICY_DEFAULTS, limits=POLICY_LIMITS,
        can_change=manages_deployment(current_user),
        cutoff_time=current_app.config["TRACKER_CUTOFF_TIME"],
        zone=current_app.config["TRACKER_TIMEZONE"]), 422 if message else 200
