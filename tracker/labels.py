"""The domain's words as users read them — colours, statuses, priorities, reasons — and
dates and times as they write them (dd/mm/yyyy, ICT): for the pages and every export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, g, has_app_context
from flask_babel import lazy_gettext as _l

COLOUR_LABELS = {"green": _l("Green"), "yellow": _l("Yellow"), "red": _l("Red")}
COLOUR_ICONS = {"green": "●", "yellow": "▲", "red": "■"}
# A unit's colour has a fourth state: no task counted (tracker.rules.units.UnitColour).
UNIT_COLOUR_LABELS = {**COLOUR_LABELS, "none": _l("No task")}
UNIT_COLOUR_ICONS = {**COLOUR_ICONS, "none": "○"}
# The figures' definitions, one sentence each, as the dashboard and the daily report state
# them (docs/status-rules.md §7, tracker.rules.units).
GREEN_RATE_DEFINITION = _l(
    "Green rate = green tasks ÷ tasks counted; cancelled tasks, and tasks not started that "
    "are still green, are not counted until their unit posts progress or they turn yellow "
    "or red.")
COMMUNES_SHARE_DEFINITION = _l(
    "Share of green communes = green communes ÷ communes with a counted task; a commune "
    "with no task (or only tasks not started) is shown as “no task”, never as green.")
STATUS_LABELS = {
    "not_started": _l("Not started"),
    "in_progress": _l("In progress"),
    "submitted": _l("Awaiting confirmation"),
    "returned": _l("Returned"),
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
}
# The Government's four categories of a task (docs/status-rules.md).
CATEGORY_LABELS = {
    "done_on_time": _l("Completed on time"),
    "done_late": _l("Completed late"),
    "open_within_deadline": _l("Not completed, within deadline"),
    "open_overdue": _l("Not completed, overdue"),
}
PRIORITY_LABELS = {"normal": _l("Normal"), "high": _l("High"), "urgent": _l("Urgent")}
REASON_LABELS = {
    "done": _l("Completed"),
    "cancelled": _l("Cancelled"),
    "awaiting_confirmation": _l("Awaiting confirmation"),
    "not_started_yet": _l("Start date not reached"),
    "on_track": _l("On track"),
    "deadline_soon": _l("Deadline within %(days)s working day(s)"),
    "missed_update": _l("Update missed on %(days)s reporting day(s)"),
    "missed_updates": _l("Updates missed on %(days)s consecutive reporting days"),
    "overdue": _l("Overdue by %(days)s day(s)"),
}

# One per tracker.audit.security.SecurityEventKind (tests/test_security_events_page.py).
SECURITY_EVENT_LABELS = {
    "login": _l("Logged in"),
    "login_failed": _l("Failed login"),
    "login_throttled": _l("Login paused after failures"),
    "logout": _l("Logged out"),
    "sessions_ended": _l("Sessions ended"),
    "user_created": _l("User created"),
    "user_changed": _l("User details changed"),
    "access_changed": _l("Role or unit changed"),
    "user_deactivated": _l("User deactivated"),
    "user_reactivated": _l("User reactivated"),
    "password_changed": _l("Password changed"),
    "password_reset": _l("Password reset"),
    "token_created": _l("API token created"),
    "token_revoked": _l("API token revoked"),
    "two_factor_enabled": _l("Two-factor login turned on"),
    "two_factor_disabled": _l("Two-factor login turned off"),
    "recovery_code_used": _l("Recovery code used"),
    "unit_created": _l("Department added"),
    "unit_renamed": _l("Department renamed"),
    "unit_retired": _l("Department retired"),
    "unit_reactivated": _l("Department reactivated"),
    "calendar_changed": _l("Calendar changed"),
    "policy_changed": _l("Colour policy changed"),
    "report_exported": _l("Report exported"),
    "report_settings_changed": _l("Report letterhead changed"),
    "signing_key_added": _l("Signing certificate added"),
    "signing_key_removed": _l("Signing certificate removed"),
    "report_signed": _l("Report signed"),
    "webhook_created": _l("Webhook registered"),
    "webhook_changed": _l("Webhook changed"),
    "webhook_deleted": _l("Webhook deleted"),
    "calendar_feed_reset": _l("Calendar feed address reset"),
    "sso_linked": _l("Single sign-on account linked"),
    "sso_unlinked": _l("Single sign-on account unlinked"),
    "sso_link_allowed": _l("Single sign-on link allowed on the next login"),
}


def dmy(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(current_app.config["TRACKER_TIMEZONE"])).date()
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"  # strftime: year 1 as "1"


def ict(value: datetime | None, seconds: bool = False) -> str:
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(current_app.config["TRACKER_TIMEZONE"]))
    clock = f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"
    return f"{dmy(local.date())} {clock}"


def translated(label) -> str:
    """A lazy label (one of this module's) in the request's language, looked up once per
    request: a report of a thousand rows names the same few reasons a thousand times."""
    if not has_app_context():
        return str(label)
    seen = g.setdefault("tracker_labels", {})
    text = seen.get(id(label))
    if text is None:
        text = seen[id(label)] = str(label)
    return text


def reason_text(code: str | None, days: int = 0) -> str:
    if not code:
        return ""
    label = REASON_LABELS.get(code)
    return translated(label) % {"days": days} if label is not None else code


def percent(rate: float | None) -> str:
    """A rate as users read it ("85%"), or "–" when there is nothing to rate."""
    return "–" if rate is None else f"{round(rate * 100)}%"


def unit_colour_text(colour: str | None) -> str:
    label = UNIT_COLOUR_LABELS.get(colour or "")
    return str(label) if label is not None else (colour or "")


@dataclass(frozen=True)
class Badge:
    """One badge beside a task: its style (`badge-<kind>`), its icon and its words."""

    kind: str
    icon: str
    text: str


RETURNED_ICON = "↩"


def task_badges(task: Any) -> list[Badge]:
    """What the badges beside a task say (the task list, /today, the task page …).

    Its colour, except that a returned task says "Returned" (Bị trả lại) first: its
    colour is green again while its unit has a day to answer, and a green badge alone
    would tell the unit that all is well (issue 13). A returned task that is also
    yellow or red keeps that colour's badge after it."""
    badges = []
    if task.status == "returned":
        badges.append(Badge("returned", RETURNED_ICON, str(STATUS_LABELS["returned"])))
        if task.colour in (None, "green"):
            return badges
    if task.colour:
        badges.append(Badge(task.colour, COLOUR_ICONS[task.colour],
                            str(COLOUR_LABELS[task.colour])))
    elif not badges:
        badges.append(Badge("none", "", "–"))
    return badges


def task_reason(task: Any) -> str:
    """The reason beside a task's badges: its colour's reason — but not "On track" for a
    returned task, whose return (with the supervisor's reason) is what counts."""
    if task.status == "returned" and task.colour_reason == "on_track":
        return ""
    return reason_text(task.colour_reason, task.colour_days)
