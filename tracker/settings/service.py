"""Recording days off and make-up working days, and the colour policy's thresholds: the
only write path for the calendar and the policy settings."""

from __future__ import annotations

import re
from datetime import date, datetime

from flask_babel import gettext as _

from tracker.audit.security import SecurityEventKind, record_security
from tracker.audit.service import record
from tracker.auth.models import Role, User
from tracker.dates import parse_date
from tracker.errors import InvalidInput
from tracker.extensions import db
from tracker.fence import stamp
from tracker.inputs import text
from tracker.rules.models import CalendarDay, DayKind, Setting
from tracker.rules.store import (
    POLICY_DEFAULTS,
    bump_calendar_version,
    bump_rules_version,
    load_calendar,
    load_policy,
)
from tracker.scope import require_deployment_admin, require_role
from tracker.tasks.colour import recolour_all

NOTE_MAX = 300
# The years the calendar can hold: a day outside them is a typing mistake.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def calendar_day(value) -> date | None:
    """A day of the calendar as given (a date, or typed as dd/mm/yyyy or yyyy-mm-dd);
    None if it is not one."""
    day = parse_date(value)
    return day if day is not None and FIRST_YEAR <= day.year <= LAST_YEAR else None


def _refuse_past(day: date, now: datetime) -> None:
    """A day whose cutoff has passed has been (or is being) judged as a working day or
    not; changing it now would give that day, or the next, a second answer."""
    calendar = load_calendar()
    if now >= calendar.cutoff_moment(day):
        message = _("%(day)s is past its cutoff: its calendar can no longer change.",
                    day=day.strftime("%d/%m/%Y"))
        raise InvalidInput(message, {"day": [message]})


def set_day(actor: User | None, day, kind, note, *, now: datetime | None = None) -> date:
    """Record `day` (a date, or as typed: dd/mm/yyyy or yyyy-mm-dd) as a day off or a
    make-up working day (the whole deployment's), and return it. Only days whose cutoff
    is still ahead can change."""
    if actor is not None:
        require_role(actor, Role.ADMIN)
    require_deployment_admin(actor)
    now = stamp(now)
    errors: dict[str, list[str]] = {}
    parsed = calendar_day(day)
    if parsed is None:
        errors["day"] = [_("Enter a date as dd/mm/yyyy.")]
    if not isinstance(kind, str) or kind not in {k.value for k in DayKind}:
        errors["kind"] = [_("Choose a day off or a make-up working day.")]
    note = text(note, "note", errors, max_len=NOTE_MAX)
    if errors:
        raise InvalidInput(_("The day was not recorded."), errors)
    _refuse_past(parsed, now)
    bump_rules_version()
    row = db.session.get(CalendarDay, parsed) or CalendarDay(day=parsed)
    before = DayKind(row.kind).value if row.kind is not None else "working_day"
    row.kind = DayKind(kind)
    row.note = note
    row.created_by_id = actor.id if actor else None
    row.created_at = now
    db.session.add(row)
    bump_calendar_version()
    record_security(SecurityEventKind.CALENDAR_CHANGED, at=now, actor=actor,
                    detail=f"{parsed.isoformat()}: {before} -> {DayKind(kind).value}"
                           + (f" ({note})" if note else ""))
    db.session.flush()
    recolour_all(now)  # the warning window counts working days
    return parsed


def clear_day(actor: User | None, day: date, *, now: datetime | None = None) -> None:
    if actor is not None:
        require_role(actor, Role.ADMIN)
    require_deployment_admin(actor)
    now = stamp(now)
    _refuse_past(day, now)
    row = db.session.get(CalendarDay, day)
    if row is not None:
        bump_rules_version()
        record_security(SecurityEventKind.CALENDAR_CHANGED, at=now, actor=actor,
                        detail=f"{day.isoformat()}: {DayKind(row.kind).value} removed")
        db.session.delete(row)
        bump_calendar_version()
        db.session.flush()
        recolour_all(now)


POLICY_LIMITS = {"warning_working_days": (0, 60), "missed_days_to_red": (1, 30)}


def set_policy(actor: User | None, values: dict, *,
               now: datetime | None = None) -> dict[str, int]:
    """Change the colour thresholds (warning window, missed days to red) and recolour every
    task at once, so that stored colours keep equal to the rules. Unknown keys are refused;
    keys left out keep their value. Each change is written to the audit trail."""
    if actor is not None:
        require_role(actor, Role.ADMIN)
    require_deployment_admin(actor)
    errors: dict[str, list[str]] = {}
    for key in sorted(set(values) - set(POLICY_DEFAULTS)):
        errors[key] = [_("Unknown setting.")]
    parsed: dict[str, int] = {}
    for key, raw in values.items():
        if key not in POLICY_LIMITS:
            continue
        low, high = POLICY_LIMITS[key]
        text = str(raw).strip() if raw is not None else ""
        if not re.fullmatch(r"-?[0-9]{1,6}", text):
            errors[key] = [_("Enter a whole number.")]
            continue
        number = int(text)
        if not low <= number <= high:
            errors[key] = [_("Enter a number from %(low)s to %(high)s.", low=low, high=high)]
            continue
        parsed[key] = number
    if errors:
        raise InvalidInput(_("The settings were not saved."), errors)
    now = stamp(now)
    changed: list[str] = []
    for key, number in parsed.items():
        row = db.session.get(Setting, key)
        old = int(row.value) if row is not None else POLICY_DEFAULTS[key]
        if old == number:
            continue
        if row is None:
            row = Setting(key=key)
            db.session.add(row)
        row.value = str(number)
        row.updated_at = now
        record(None, actor, "policy", at=now, field=key, old=old, new=number)
        changed.append(f"{key}: {old} -> {number}")
    if changed:
        record_security(SecurityEventKind.POLICY_CHANGED, at=now, actor=actor,
                        detail="; ".join(changed))
        bump_rules_version()
        db.session.flush()
        recolour_all(now)
    policy = load_policy()
    return {key: getattr(policy, key) for key in POLICY_DEFAULTS}
