"""The dashboard (bảng điều hành) for supervisors, admins and viewers: counts by colour and
by the four categories, the 30-day green-rate trend, the units below ranked by green rate,
the kiến nghị counted (tracker.kiennghi.counts) and the drill-down province → commune →
tasks. Members go to their tasks instead.

Counts are live, from the tasks' stored colours in the user's subtree; the trend comes
from what each cutoff stored; the early warning's count from the latest stored forecast
(tracker.forecast.stored), as of its cutoff.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from tracker import clock
from tracker.auth.models import Role
from tracker.extensions import db
from tracker.forecast import stored
from tracker.kiennghi.counts import live_figures
from tracker.labels import CATEGORY_LABELS
from tracker.paging import LIST_COUNTED, requested_page
from tracker.replica import may_lag
from tracker.reports.history import green_rate_trend
from tracker.reports.live import CATEGORIES, children_of, rollup
from tracker.rules.units import communes_share, green_rate, rated, unit_colour
from tracker.rules.vietnamese import sort_key
from tracker.scope import REPORT_READERS, get_unit, requires
from tracker.tasks.listing import task_page
from tracker.tasks.models import Status, Task, worst_first
from tracker.units.tree import subtree_ids
from tracker.web import pastday
from tracker.web.charts import trend_chart
from tracker.web.helpers import KIND_LABELS, MAX_ID, breadcrumb, local_today

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

MEMBERS_ELSEWHERE = {Role.MEMBER: "member.today"}  # their unit's tasks


def _unit(unit_id: int | None):
    if unit_id is None:
        return current_user.unit
    if unit_id > MAX_ID:
        abort(404)
    return get_unit(current_user, unit_id)


def _tasks_page(unit):
    """Tasks led in the unit's subtree, worst first; optionally one colour."""
    query = db.select(Task).where(Task.lead_unit_id.in_(subtree_ids(unit)),
                                  Task.status != Status.CANCELLED)
    colour = request.args.get("colour", "")
    if colour in ("green", "yellow", "red"):
        query = query.where(Task.colour == colour)
    return task_page(query, worst_first, narrow=unit.parent_id is not None,
                     page=requested_page(), count_at_most=LIST_COUNTED), colour


@bp.route("")
@bp.route("/units/<int:unit_id>")
@requires(*REPORT_READERS, elsewhere=MEMBERS_ELSEWHERE)
@may_lag
def overview(unit_id: int | None = None):
    """Live; or with `?date=` a processed cutoff day, as it stood at that 16:00."""
    unit = _unit(unit_id)
    day = pastday.requested_day()
    if day is not None:
        return pastday.past_overview(unit, day)
    moment = clock.now()
    today = local_today()
    totals = rollup(unit)
    counts = totals[unit.id]
    children = [(child, totals[child.id]) for child in children_of(unit)]
    # Only units with a counted task are ranked; the others are named apart (no task).
    ranked = sorted(((c, n, green_rate(n)) for c, n in children if green_rate(n) is not None),
                    key=lambda row: (-row[2], sort_key(row[0].name)))
    idle = [(c, n) for c, n in children if green_rate(n) is None]
    page, colour = _tasks_page(unit) if not children else (None, "")
    as_of = stored.latest()
    return render_template(
        "dashboard/index.html", unit=unit, counts=counts, rate=green_rate(counts),
        rated=rated(counts), communes_share=communes_share(counts),
        unit_colour=unit_colour(counts), moment=moment, ranked=ranked, idle=idle,
        chart=trend_chart(green_rate_trend(unit, today), today),
        trail=breadcrumb(current_user, unit), page=page, colour=colour,
        CATEGORIES=CATEGORIES, CATEGORY_LABELS=CATEGORY_LABELS, KIND_LABELS=KIND_LABELS,
        colour_of=unit_colour, likely_red=stored.count_in(unit, as_of) if as_of else None,
        forecast_day=as_of, day=None, picker=pastday.picker(None),
        recommendations=live_figures(unit, moment),
        **pastday.streaks_and_movement(unit, None))


@bp.route("/units/<int:unit_id>/tasks")
@requires(*REPORT_READERS, elsewhere=MEMBERS_ELSEWHERE)
@may_lag
def unit_tasks(unit_id: int):
    unit = _unit(unit_id)
    day = pastday.requested_day()
    if day is not None:
        return pastday.past_tasks(unit, day)
    page, colour = _tasks_page(unit)
    return render_template("dashboard/tasks.html", unit=unit, page=page, colour=colour,
                           trail=breadcrumb(current_user, unit))
