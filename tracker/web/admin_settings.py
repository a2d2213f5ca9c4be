"""Admin pages: the working-day calendar (days off, make-up working days) and the colour
policy's thresholds. (Nested under `admin`; admins only.)"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from tracker.errors import InvalidInput
from tracker.extensions import db
from tracker.rules.calendar import official_holidays
from tracker.rules.models import CalendarDay
from tracker.rules.store import POLICY_DEFAULTS, load_policy
from tracker.scope import ADMINS, manages_deployment, require_deployment_admin, requires
from tracker.settings.service import (
    FIRST_YEAR,
    LAST_YEAR,
    POLICY_LIMITS,
    calendar_day,
    clear_day,
    set_day,
    set_policy,
)
from tracker.web.helpers import DAY_KIND_LABELS, local_today

bp = Blueprint("settings", __name__)


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
    try:
        day = set_day(current_user, values.get("day"), values.get("kind"), values.get("note"))
    except InvalidInput as exc:
        db.session.rollback()
        return _calendar_page(422, values, exc.fields)
    db.session.commit()
    flash(_("%(day)s recorded as: %(kind)s.", day=day.strftime("%d/%m/%Y"),
            kind=DAY_KIND_LABELS[values["kind"]]), "success")
    return redirect(url_for("admin.settings.calendar", year=day.year))


@bp.route("/calendar/<day>/delete", methods=["POST"])
@requires(*ADMINS)
def calendar_remove(day: str):
    require_deployment_admin(current_user)
    parsed = calendar_day(day)
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
