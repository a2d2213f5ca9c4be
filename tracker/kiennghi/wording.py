"""The words of a kiến nghị as users read them, for the pages, the exports and the
notifications: its kind, level, status, colour reason and the steps of its trail."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

KIND_LABELS = {"obstacle": _l("Obstacle"), "recommendation": _l("Recommendation")}
LEVEL_LABELS = {"department": _l("A department"), "province": _l("The province"),
                "centre": _l("The centre")}
STATUS_LABELS = {
    "raised": _l("Awaiting routing"),
    "assigned": _l("Awaiting answer"),
    "answered": _l("Answered"),
    "reopened": _l("Asked again"),
    "closed": _l("Answer accepted"),
    "merged": _l("Merged"),
}
CATEGORY_LABELS = {
    "answered_on_time": _l("Answered on time"),
    "answered_late": _l("Answered late"),
    "pending": _l("Not answered, within deadline"),
    "overdue": _l("Not answered, overdue"),
}
ACTION_LABELS = {
    "raise": _l("Raised"),
    "route": _l("Routed"),
    "forward": _l("Forwarded up a level"),
    "merge": _l("Merged into"),
    "merged_here": _l("A duplicate merged here"),
    "answer": _l("Answered"),
    "accept": _l("Answer accepted"),
    "ask_again": _l("Asked again"),
    "overdue": _l("Overdue"),
    "attach": _l("File attached"),
}
FIELD_LABELS = {
    "responsible_unit_id": _l("Responsible unit"),
    "response_due": _l("Response deadline"),
    "routing_unit_id": _l("Routed by"),
    "merged_into_id": _l("Merged into"),
    "answer": _l("Answer"),
    "files": _l("Attachments"),
    "answer_files": _l("Documents of the answer"),
}


def reason_text(code: str, days: int = 0) -> str:
    """Why a kiến nghị has its colour, in words."""
    if code == "overdue":
        return _("Overdue by %(n)s day(s)", n=days)
    if code == "deadline_soon":
        return _("Due today") if days == 0 else _("Due in %(n)s working day(s)", n=days)
    return {"awaiting_routing": _("Awaiting routing"), "awaiting_answer": _("Within deadline"),
            "answered": _("Answered"), "merged": _("Merged")}.get(code, code)
