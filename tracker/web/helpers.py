"""Small pieces the admin and dashboard pages share: ids from forms, unit choices, labels,
today's date in the zone."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_

from tracker import clock
from tracker.extensions import db
from tracker.rules.vietnamese import sort_key
from tracker.scope import visible_units
from tracker.tasks.models import WORST_FIRST
from tracker.types import MAX_ID
from tracker.units.models import Unit

ROLE_LABELS = {
    "admin": _l("Admin"),
    "supervisor": _l("Supervisor"),
    "member": _l("Member"),
    "viewer": _l("Viewer"),
}
KIND_LABELS = {
    "nation": _l("Nation"),
    "province": _l("Province"),
    "commune": _l("Commune"),
    "department": _l("Department"),
}
DAY_KIND_LABELS = {"day_off": _l("Day off"), "makeup_day": _l("Make-up working day")}


def form_id(value: str | None) -> int | str | None:
    """A submitted id for a service: None if blank, an int if it could be a row id, 0 (an
    id no row has) for a number out of range, the text itself otherwise (for the service to
    name as "not a valid integer")."""
    text = (value or "").strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        number = int(text)
        return number if 1 <= number <= MAX_ID else 0
    return text


def unit_options(user, keep: int | None = None) -> list[tuple[int, str, int]]:
    """(id, name, depth below the user's unit) for every unit in scope that takes new work
    and people (not a retired department, unless it is `keep`, the one already chosen), as
    a tree: each unit followed by its children in Vietnamese alphabetical order."""
    units = list(db.session.scalars(
        visible_units(user).where(or_(Unit.active, Unit.id == keep))))
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    out: list[tuple[int, str, int]] = []

    def walk(unit: Unit, depth: int) -> None:
        out.append((unit.id, unit.name, depth))
        for child in sorted(children.get(unit.id, []), key=lambda u: sort_key(u.name)):
            walk(child, depth + 1)

    walk(user.unit, 0)
    return out


def local_today() -> date:
    """Today's date in the deployment's zone (ICT), by the app's clock."""
    return clock.now().astimezone(ZoneInfo(current_app.config["TRACKER_TIMEZONE"])).date()


def breadcrumb(user, unit: Unit) -> list[Unit]:
    """The chain from the user's home unit down to `unit` (both included)."""
    chain = []
    current: Unit | None = unit
    while current is not None:
        chain.append(current)
        if current.id == user.unit_id:
            break
        current = current.parent
    return list(reversed(chain))


# Worst first: the order of every list of tasks on the pages (served by an index).
COLOUR_ORDER = WORST_FIRST


# Set in a session begun by single sign-on whose provider used several factors and is
# trusted for it (TRACKER_OIDC_TRUST_MFA, tracker.web.sso): the admins' enrolment gate
# (tracker.web.two_factor) lets it pass.
PROVIDER_MFA_KEY = "mfa_by_provider"
# The push endpoints this browser subscribed during the session (tracker.web.push): the
# logout forgets them on the server, with or without the page's script.
PUSH_ENDPOINTS_KEY = "push_endpoints"
MAX_PUSH_ENDPOINTS = 3


# Browsers read a backslash as a slash ("/\evil.example" is "//evil.example", another
# site) and drop tabs and line breaks from a URL, so none of these may be in a path we
# redirect to; nor any other control character.
_UNSAFE_IN_NEXT = re.compile(r"[\\\x00-\x1f\x7f]")


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site, else the home page."""
    if target and not _UNSAFE_IN_NEXT.search(target):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") \
                and not target.startswith("//"):
            return target
    return url_for("web.home")
