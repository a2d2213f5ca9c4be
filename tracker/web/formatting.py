"""Template filters and globals: the domain's labels (`tracker.labels`), the reporting day."""

from __future__ import annotations

from flask_babel import format_decimal, get_locale

from tracker.labels import (
    COLOUR_ICONS,
    COLOUR_LABELS,
    COMMUNES_SHARE_DEFINITION,
    GREEN_RATE_DEFINITION,
    PRIORITY_LABELS,
    STATUS_LABELS,
    UNIT_COLOUR_ICONS,
    UNIT_COLOUR_LABELS,
    dmy,
    ict,
    percent,
    reason_text,
    task_badges,
    task_reason,
)
from tracker.replica import data_as_of
from tracker.rules.store import load_calendar
from tracker.rules.vietnamese import fold
from tracker.web.inbox import waiting_count
from tracker.web.notifications import unread_count


def reporting_day(moment):
    """The working day whose cutoff a write stamped at `moment` counts for, by today's
    calendar (so it follows a day off or a make-up day added later, as the cutoff does)."""
    return load_calendar().reporting_day(moment)


def register(app) -> None:
    app.jinja_env.filters.update(dmy=dmy, ict=ict, percent=percent,
                                 reporting_day=reporting_day, fold=fold,
                                 number=format_decimal)
    app.jinja_env.globals.update(unread_count=unread_count, waiting_count=waiting_count,
                                 data_as_of=data_as_of)
    app.jinja_env.globals.update(
        COLOUR_LABELS=COLOUR_LABELS,
        COLOUR_ICONS=COLOUR_ICONS,
        UNIT_COLOUR_LABELS=UNIT_COLOUR_LABELS,
        UNIT_COLOUR_ICONS=UNIT_COLOUR_ICONS,
        GREEN_RATE_DEFINITION=GREEN_RATE_DEFINITION,
        COMMUNES_SHARE_DEFINITION=COMMUNES_SHARE_DEFINITION,
        STATUS_LABELS=STATUS_LABELS,
        PRIORITY_LABELS=PRIORITY_LABELS,
        reason_text=reason_text,
        badges_of=task_badges,
        task_reason=task_reason,
        get_locale=get_locale,
    )
