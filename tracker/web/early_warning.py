"""The early warning page (Sắp chuyển đỏ): the tasks a supervisor or an admin supervises
that the latest stored forecast judged likely to turn red within the next working days,
highest risk first, with the reasons in words; filtered by unit, fifty to a page. Read from
the stored day (tracker.forecast.stored), labelled with the cutoff it is as of; nothing is
computed on request (docs/forecast.md)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from tracker.forecast import stored
from tracker.forecast.wording import describe_sign
from tracker.paging import PER_PAGE, Page, requested_page
from tracker.rules.vietnamese import sort_key
from tracker.scope import SUPERVISORS, get_unit, requires
from tracker.web import pastday
from tracker.web.helpers import MAX_ID

bp = Blueprint("early_warning", __name__)


@bp.route("/supervise/warnings")
@requires(*SUPERVISORS)
def warning_list():
    """Every task in scope judged likely to turn red, the highest risk first: by the
    latest stored forecast, or with `?date=` by the one stored after that day's cutoff."""
    unit = None
    unit_id = request.args.get("unit", type=int)
    if unit_id is not None:
        if not 0 < unit_id <= MAX_ID:
            abort(404)
        unit = get_unit(current_user, unit_id)
    day = pastday.requested_day()
    as_of = stored.latest() if day is None else stored.of_day(day)
    number = requested_page()
    items, total, units = [], 0, []
    if as_of is not None:
        items, total = stored.warnings_page(current_user, as_of, unit, number, PER_PAGE)
        units = sorted(stored.per_unit(current_user, as_of),
                       key=lambda u: (sort_key(u[1]), u[0]))
    page = Page(items=items, page=number, per_page=PER_PAGE, total=total)
    return render_template("supervise/warnings.html", page=page, units=units, unit=unit,
                           total=sum(n for _i, _name, n in units), sign_text=describe_sign,
                           as_of=as_of, day=day)
