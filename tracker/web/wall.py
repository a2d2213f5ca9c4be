"""The 16:00 wall (màn hình giám sát, issue 16 item 4): a full-screen page for an operations
room's TV and the JSON it polls every 30 seconds (static/js/wall.js), so that it refreshes
without a reload and, when a refresh fails, keeps the last figures and says how old they
are. The page is a frame; every figure comes from `/wall/data.json`, which is read from
`tracker.reports.wall` (the dashboard's counts, rules and stored cutoffs) for the user's
unit or, with `?unit=`, one below it (`tracker.scope.get_unit`: outside the user's
subtree, 404). Every role that may read the reports may open it; members go to their tasks.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from tracker import clock
from tracker.auth.models import Role
from tracker.labels import CATEGORY_LABELS, UNIT_COLOUR_ICONS, UNIT_COLOUR_LABELS, dmy, percent
from tracker.replica import data_as_of, may_lag
from tracker.reports.wall import wall
from tracker.scope import REPORT_READERS, get_unit, requires
from tracker.web.charts import trend_chart
from tracker.web.helpers import MAX_ID, local_today

bp = Blueprint("wall", __name__, url_prefix="/wall")
MEMBERS_ELSEWHERE = {Role.MEMBER: "member.today"}
REFRESH_SECONDS = 30
REFRESH_RANGE = (2, 600)  # `?refresh=` seconds a screen may ask for (tests ask for 2)


def _unit():
    unit_id = request.args.get("unit", type=int)
    if unit_id is None:
        return current_user.unit
    if not 0 < unit_id <= MAX_ID:
        abort(404)
    return get_unit(current_user, unit_id)


@bp.route("")
@requires(*REPORT_READERS, elsewhere=MEMBERS_ELSEWHERE)
def page():
    """The frame; wall.js fills it from the JSON and keeps it current."""
    low, high = REFRESH_RANGE
    refresh = min(max(request.args.get("refresh", REFRESH_SECONDS, type=int), low), high)
    unit = _unit()  # a unit outside the user's subtree: 404 here, not a blank screen
    return render_template("wall/index.html", refresh=refresh, home=unit,
                           start=unit.id if unit.id != current_user.unit_id else None)


def _tile(tile: dict) -> dict:
    live, cutoff = tile["live"], tile["cutoff"]
    # "Thành phố Hồ Chí Minh" as officials abbreviate it, to fit a tile read from afar.
    short = re.sub(r"^Thành phố ", "TP. ", tile["name"])
    return {**tile, "short": short, "live": {**live, "rate_text": percent(live["rate"]),
                             "label": str(UNIT_COLOUR_LABELS[live["colour"]]),
                             "icon": UNIT_COLOUR_ICONS[live["colour"]]},
            "cutoff": None if cutoff is None else {
                **cutoff, "rate_text": percent(cutoff["rate"]),
                "label": str(UNIT_COLOUR_LABELS[cutoff["colour"]]),
                "icon": UNIT_COLOUR_ICONS[cutoff["colour"]]}}


@bp.route("/data.json")
@requires(*REPORT_READERS, elsewhere=MEMBERS_ELSEWHERE)
@may_lag
def data():
    """The wall's figures for the user's unit or `?unit=` below it, as JSON."""
    unit = _unit()
    today = local_today()
    figures = wall(unit, today)
    moment = data_as_of() or clock.now()
    chart = trend_chart(figures["trend"], today)
    live = figures["live"]
    day = figures["cutoff_day"]
    movement = figures["movement"]
    body = {
        "unit": figures["unit"],
        "home": current_user.unit_id,
        "up": (unit.parent_id if unit.id != current_user.unit_id else None),
        "at": moment.isoformat(),
        "at_hhmm": _local_time(moment),
        "at_text": _("Figures at %(at)s", at=_local_time(moment)),
        "cutoff_day": day.isoformat() if day else None,
        "cutoff_text": (_("Last 16:00 cutoff: %(day)s", day=dmy(day)) if day
                        else _("No 16:00 cutoff yet")),
        "layout": figures["layout"], "rows": figures["rows"], "columns": figures["columns"],
        "counts": figures["counts"],
        "live": {**live, "rate_text": percent(live["rate"]),
                 "label": str(UNIT_COLOUR_LABELS[live["colour"]]),
                 "icon": UNIT_COLOUR_ICONS[live["colour"]]},
        "categories": [{"key": key, "label": str(label), "count": figures["counts"][key]}
                       for key, label in CATEGORY_LABELS.items()],
        "tiles": [_tile(tile) for tile in figures["tiles"]],
        "trend": {"width": chart.width, "height": chart.height, "line": chart.line,
                  "area": chart.area,
                  "points": [{"x": round(p.x, 1), "y": round(p.y, 1), "colour": p.colour}
                             for p in chart.points],
                  "y_ticks": [{"y": round(y, 1), "text": text} for y, text in chart.y_ticks],
                  "x_ticks": [{"x": round(x, 1), "text": dmy(d)} for x, d in chart.x_ticks]},
        "movement": None if movement is None else {
            "since": dmy(movement["since"]) if movement["since"] else None,
            "improved": [{"unit": m["unit"], "change": m["change"]}
                         for m in movement["improved"]],
            "declined": [{"unit": m["unit"], "change": m["change"]}
                         for m in movement["declined"]]},
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


def _local_time(moment) -> str:
    """HH:MM in the deployment's zone (ICT): what the stale-data notice names."""
    return moment.astimezone(ZoneInfo(current_app.config["TRACKER_TIMEZONE"])).strftime(
        "%H:%M")
