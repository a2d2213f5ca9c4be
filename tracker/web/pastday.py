"""Pages of a past day (issue 16, item 3): the dashboard, its drill-down to tasks and the red
queue as they stood at a past 16:00 cutoff — rendered here for the dashboard's and the red
queue's views when their `?date=` names a day — and the comparison of two cutoff days, as
a page and as XLSX. Everything is read from what the cutoffs recorded
(`tracker.reports.pastday`, `tracker.reports.compare`); scope is the live pages'
(`tracker.scope.get_unit`: outside the user's subtree, 404)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from tracker import clock
from tracker.audit.security import record_report_export
from tracker.auth.models import Role
from tracker.downloads import attachment
from tracker.extensions import db
from tracker.forecast import stored
from tracker.kiennghi import counts
from tracker.labels import CATEGORY_LABELS
from tracker.paging import requested_page
from tracker.reports import compare as comparing
from tracker.reports import pastday
from tracker.reports.history import day_figures, green_rate_trend
from tracker.rules.units import communes_share
from tracker.scope import REPORT_READERS, get_unit, requires
from tracker.units.models import path_is_within
from tracker.web.charts import trend_chart
from tracker.web.helpers import MAX_ID, breadcrumb, local_today
from tracker.xlsx import MIME, saved

bp = Blueprint("pastday", __name__, url_prefix="/dashboard")
MEMBERS_ELSEWHERE = {Role.MEMBER: "member.today"}
PAGE_LIST = 100  # tasks the comparison page lists of each change (the API: 200; XLSX: all)


def requested_day(name: str = "date") -> date | None:
    """The cutoff day a request's `name` asks for (None when it asks for none: the live
    page); a bad one is refused naming the field (422)."""
    text = request.args.get(name, "").strip()
    if not text:
        return None
    return pastday.cutoff_day(text, name, local_today())


def picker(day: date | None) -> dict:
    """What the date picker shows: the chosen day, the latest and the earliest cutoff."""
    days = pastday.cutoff_days(local_today())
    return {"day": day, "latest": days[0] if days else None,
            "earliest": days[-1] if days else None}


def streaks_and_movement(unit, day: date | None) -> dict:
    """The units' green streaks at `day`'s cutoff (the latest when None) and the week's
    most improved and most declined units below `unit` (item 5)."""
    day = day or pastday.latest_cutoff(local_today())
    if day is None:
        return {"streak_day": None, "streaks": {}, "movement": None}
    ids = [unit.id, *(u.id for u in unit.children)]
    return {"streak_day": day, "streaks": pastday.green_streaks(ids, day),
            "movement": pastday.week_movement(unit, day)}


def past_overview(unit, day: date):
    """The dashboard of `unit` as it stood at `day`'s cutoff."""
    figures = day_figures(unit, day)
    totals = figures["totals"]
    as_of = stored.of_day(day)
    page = None
    if not figures["units"] and not figures["idle_units"]:
        page = pastday.tasks_on(unit, day, request.args.get("colour", ""), requested_page())
    return render_template(
        "dashboard/past.html", unit=unit, day=day, totals=totals, figures=figures,
        communes_share=communes_share(totals), picker=picker(day),
        chart=trend_chart(green_rate_trend(unit, day), day),
        trail=breadcrumb(current_user, unit), page=page,
        colour=request.args.get("colour", ""), CATEGORY_LABELS=CATEGORY_LABELS,
        forecast_day=as_of, likely_red=stored.count_in(unit, as_of) if as_of else None,
        recommendations=counts.day_figures(unit, day), **streaks_and_movement(unit, day))


def past_tasks(unit, day: date):
    """The drill-down's tasks of `unit`'s subtree with their colours at `day`'s cutoff."""
    colour = request.args.get("colour", "")
    page = pastday.tasks_on(unit, day, colour, requested_page())
    return render_template("dashboard/past_tasks.html", unit=unit, day=day, page=page,
                           colour=colour, trail=breadcrumb(current_user, unit),
                           picker=picker(day))


def past_red_queue(unit, day: date, reason: str):
    """The red queue of the user's scope as it stood at `day`'s cutoff."""
    rows = pastday.red_counts_on(current_user.unit, day)
    per_unit: dict[int, tuple[str, int]] = {}
    reasons: dict[str, int] = {}
    total = 0
    for unit_id, name, path, row_reason, n in rows:
        per_unit[unit_id] = (name, per_unit.get(unit_id, (name, 0))[1] + n)
        reasons[row_reason] = reasons.get(row_reason, 0) + n
        if (unit is None or path_is_within(path, unit.path)) and reason in ("", row_reason):
            total += n
    page = pastday.red_queue_on(unit or current_user.unit, day, reason, requested_page(),
                                total)
    return render_template(
        "supervise/red_queue_past.html", page=page, day=day, unit=unit, reason=reason,
        reasons=reasons, total=sum(reasons.values()), picker=picker(day),
        units=[(i, name, n) for i, (name, n) in per_unit.items()])


def _unit_arg():
    unit_id = request.args.get("unit", type=int)
    if unit_id is None or not 0 < unit_id <= MAX_ID:
        return current_user.unit
    return get_unit(current_user, unit_id)


def _two_days() -> tuple[date, date] | None:
    """The two days compared (`from`, `to`), the earlier first; None when not chosen."""
    if not request.args.get("from") and not request.args.get("to"):
        return None
    first = pastday.cutoff_day(request.args.get("from", ""), "from", local_today())
    second = pastday.cutoff_day(request.args.get("to", ""), "to", local_today())
    return (first, second) if first <= second else (second, first)


@bp.route("/compare")
@requires(*REPORT_READERS, elsewhere=MEMBERS_ELSEWHERE)
def compare():
    """The comparison of two cutoff days for the user's unit or one below it; with no day
    chosen, the latest cutoff against the one a week before."""
    unit = _unit_arg()
    days = _two_days() or pastday.default_pair(local_today())
    result = comparing.compare(unit, *days, limit=PAGE_LIST) if days else None
    return render_template("dashboard/compare.html", unit=unit, result=result,
                           days=days, picker=picker(None),
                           trail=breadcrumb(current_user, unit))


@bp.route("/compare.xlsx")
@requires(*REPORT_READERS, elsewhere=MEMBERS_ELSEWHERE)
def compare_download():
    unit = _unit_arg()
    days = _two_days() or pastday.default_pair(local_today())
    if days is None:
        abort(404)  # no cutoff yet
    result = comparing.compare(unit, *days, limit=None)
    data = saved(comparing.compare_xlsx(result))
    record_report_export(current_user, report="day_comparison", unit=unit, day=days[1],
                         fmt="xlsx", at=clock.now())
    db.session.commit()
    return attachment(data, f"so-sanh-{days[0].isoformat()}-{days[1].isoformat()}.xlsx",
                      MIME)
