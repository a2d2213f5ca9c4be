"""The early warning page (Sắp chuyển đỏ): the tasks a supervisor or an admin supervises
that are likely to turn red within the next working days, highest risk first, with the
reasons in words; filtered by unit, fifty to a page (docs/forecast.md)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from tracker import clock
from tracker.forecast.service import warnings
from tracker.forecast.wording import describe_sign
from tracker.paging import PER_PAGE, Page, requested_page
from tracker.rules.vietnamese import sort_key
from tracker.scope import SUPERVISORS, get_unit, requires
from tracker.units.models import path_is_within
from tracker.web.helpers import MAX_ID

bp = Blueprint("early_warning", __name__)


@bp.route("/supervise/warnings")
@requires(*SUPERVISORS)
def warning_list():
    """Every task in scope likely to turn red, the highest risk first."""
    unit = None
    unit_id = request.args.get("unit", type=int)
    if unit_id is not None:
        if not 0 < unit_id <= MAX_ID:
            abort(404)
        unit = get_unit(current_user, unit_id)
    found = warnings(current_user, clock.now())
    per_unit: dict[int, list] = {}
    for w in found:
        per_unit.setdefault(w.task.lead_unit_id, [w.task.lead_unit.name, 0])[1] += 1
    units = sorted(((i, name, n) for i, (name, n) in per_unit.items()),
                   key=lambda u: (sort_key(u[1]), u[0]))
    if unit is not None:
        found = [w for w in found if path_is_within(w.task.lead_unit.path, unit.path)]
    number = requested_page()
    start = (number - 1) * PER_PAGE
    page = Page(items=found[start:start + PER_PAGE], page=number, per_page=PER_PAGE,
                total=len(found))
    return render_template("supervise/warnings.html", page=page, units=units, unit=unit,
                           total=sum(n for _i, _name, n in units), sign_text=describe_sign)
