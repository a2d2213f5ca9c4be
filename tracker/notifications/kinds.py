"""The kinds of notification, the groups a user chooses a delivery for, and their labels."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# Each group of kinds is delivered as the user chose (tracker.notifications.preferences).
GROUPS: dict[str, tuple[str, ...]] = {
    # to the lead unit's members: what a supervisor decided, what an admin changed
    "decisions": ("confirmed", "returned", "extension_approved", "extension_rejected",
                  "edited", "reassigned", "cancelled", "kn_routed", "kn_answered"),
    # to the supervisors: what waits for their decision
    "requests": ("submitted", "extension_requested", "kn_raised"),
    "comments": ("comment",),
    "nudges": ("nudge",),
    # before and at the cutoff
    "reminders": ("reminder", "red", "report", "kn_overdue"),
}
GROUP_OF = {kind: group for group, kinds in GROUPS.items() for kind in kinds}

GROUP_LABELS = {
    "decisions": _l("Decisions on my unit's tasks (confirmed, returned, extensions; "
                    "changed, reassigned or cancelled by an admin)"),
    "requests": _l("Requests waiting for my decision (completions, extensions)"),
    "comments": _l("Comments"),
    "nudges": _l("Nudges"),
    "reminders": _l("Reminders, red tasks and the daily report"),
}

KIND_LABELS = {
    "reminder": _l("Reminder"),
    "nudge": _l("Nudge"),
    "red": _l("Red task"),
    "report": _l("Daily supervision report"),
    "confirmed": _l("Completion confirmed"),
    "returned": _l("Completion returned"),
    "extension_approved": _l("Extension approved"),
    "extension_rejected": _l("Extension rejected"),
    "submitted": _l("Completion awaiting confirmation"),
    "extension_requested": _l("Extension request"),
    "comment": _l("Comment"),
    "edited": _l("Task changed"),
    "reassigned": _l("Task reassigned"),
    "cancelled": _l("Task cancelled"),
    "kn_raised": _l("Recommendation to route"),
    "kn_routed": _l("Recommendation routed"),
    "kn_answered": _l("Recommendation answered"),
    "kn_overdue": _l("Recommendation overdue"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))
