"""Admin pages for security: the security events of the admin's subtree (nhật ký an ninh)
— read, filter, export as CSV — and resetting a user's two-factor login (a lost phone).
(Nested under `admin`; admins only.)"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from tracker import clock
from tracker.audit.security import SecurityEventKind, record_security
from tracker.audit.security_listing import KINDS, EventFilter, csv_chunks, events, kind_label
from tracker.auth import two_factor
from tracker.auth.models import User
from tracker.downloads import attachment
from tracker.errors import Conflict, Forbidden, InvalidInput
from tracker.extensions import db
from tracker.labels import dmy
from tracker.paging import paginate, requested_page
from tracker.reports.export import spooled
from tracker.scope import ADMINS, can_see_user, may_reset_second_factor, requires
from tracker.units.models import Unit
from tracker.web.helpers import MAX_ID

bp = Blueprint("security", __name__)


@bp.app_template_global()
def second_factor_state(user: User) -> str:
    """"on", "pending" (scanned, not confirmed) or "off", for the admin's user page."""
    factor = two_factor.factor_of(user)
    if factor is None:
        return "off"
    return "on" if factor.confirmed_at is not None else "pending"


def _filter() -> tuple[EventFilter, dict]:
    try:
        return EventFilter.from_args(request.args), {}
    except InvalidInput as exc:
        return EventFilter(), exc.fields


@bp.route("/security-events")
@requires(*ADMINS)
def event_list():
    """Newest first, 50 to a page; times in Vietnam's time."""
    flt, errors = _filter()
    page = paginate(events(current_user, flt), requested_page())
    unit_ids = {e.unit_id for e in page.items if e.unit_id}
    units = dict(db.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids)))
                 .all()) if unit_ids else {}
    return render_template(
        "admin/security_events.html", page=page, flt=flt, values=request.args,
        errors=errors, kinds=[(k, kind_label(k)) for k in KINDS], kind_label=kind_label,
        units=units), 422 if errors else 200


@bp.route("/security-events.csv")
@requires(*ADMINS)
def event_csv():
    """The filtered events as CSV (every user-typed cell neutralised against formulas)."""
    flt, errors = _filter()
    if errors:
        abort(422)
    query = events(current_user, flt)
    units = dict(db.session.execute(select(Unit.id, Unit.name)).all())
    body = spooled(csv_chunks(db.session.scalars(query.execution_options(yield_per=500)),
                              units))
    now = clock.now()
    record_security(SecurityEventKind.REPORT_EXPORTED, at=now, actor=current_user,
                    user=current_user, detail="security events, csv")
    db.session.commit()
    filename = f"nhat-ky-an-ninh-{dmy(now).replace('/', '-')}.csv"
    return attachment(body, filename, "text/csv")


@bp.route("/users/<int:user_id>/two-factor/reset", methods=["POST"])
@requires(*ADMINS)
def reset_second_factor(user_id: int):
    user = db.session.get(User, user_id) if user_id <= MAX_ID else None
    if user is None or not can_see_user(current_user, user):
        abort(404)
    if not may_reset_second_factor(current_user, user):
        abort(403)
    try:
        two_factor.reset(current_user, user, now=clock.now())
    except (Conflict, Forbidden) as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("admin.users.user_detail", user_id=user.id))
    db.session.commit()
    flash(_("The two-factor login of %(name)s was reset; their sessions were ended.",
            name=user.username), "success")
    return redirect(url_for("admin.users.user_detail", user_id=user.id))
