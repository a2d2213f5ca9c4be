"""Reading the security events (nhật ký an ninh): one filter and one query for the admin
page (/admin/security-events), its CSV and the API (GET /api/v1/security-events) — newest
first, within the admin's scope (`tracker.scope.visible_security_events`), narrowed by
kind, username and a range of days in the deployment's zone."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate
from sqlalchemy import Select, func
from sqlalchemy.orm import selectinload

from tracker.audit.models import SecurityEvent
from tracker.audit.security import USERNAME_MAX, SecurityEventKind
from tracker.dates import EARLIEST, LATEST, TypedDate
from tracker.downloads import csv_writer
from tracker.errors import InvalidInput
from tracker.inputs import storable
from tracker.labels import SECURITY_EVENT_LABELS, ict
from tracker.scope import visible_security_events

KINDS = tuple(kind.value for kind in SecurityEventKind)
_DATE = {"validate": validate.Range(min=EARLIEST, max=LATEST, error=_l("Not a plausible date.")),
         "error_messages": {"invalid": _l("Enter a date as dd/mm/yyyy.")}}


class SecurityEventFilterSchema(Schema):
    """The list's parameters; blank means "any", as an untouched form control sends it."""

    class Meta:
        unknown = EXCLUDE

    kind = fields.String(validate=validate.OneOf(KINDS, error=_l("Not a valid value.")),
                         metadata={"description": "One kind of event."})
    user = fields.String(validate=[validate.Length(max=USERNAME_MAX,
                                                   error=_l("At most {max} characters.")),
                                   storable],
                         metadata={"description": "The username concerned (as typed at a "
                                                  "failed login), any case."})
    date_from = TypedDate(metadata={"description": "From this day (yyyy-mm-dd or "
                                                   "dd/mm/yyyy), in Vietnam's time."}, **_DATE)
    date_to = TypedDate(metadata={"description": "To this day, included."}, **_DATE)

    @pre_load
    def _blank_means_any(self, data, **_kwargs):
        if not isinstance(data, Mapping):
            return data
        return {name: value.strip() if isinstance(value, str) else value
                for name, value in data.items()
                if not (isinstance(value, str) and not value.strip())}


_schema = SecurityEventFilterSchema()


@dataclass(frozen=True)
class EventFilter:
    kind: str | None = None
    user: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def from_args(cls, raw: Mapping) -> EventFilter:
        """The filter from parameters as sent; InvalidInput names every bad one."""
        try:
            args = _schema.load(dict(raw))
        except ValidationError as exc:
            raise InvalidInput(_("Some fields are not valid."), {
                name: [str(m) for m in (messages if isinstance(messages, list) else [messages])]
                for name, messages in exc.normalized_messages().items()}) from None
        return cls.from_loaded(args)

    @classmethod
    def from_loaded(cls, args: Mapping) -> EventFilter:
        start, end = args.get("date_from"), args.get("date_to")
        if start and end and end < start:
            message = _("The end is before the start.")
            raise InvalidInput(message, {"date_to": [message]})
        return cls(kind=args.get("kind"), user=(args.get("user") or "").lower(),
                   date_from=start, date_to=end)

    def apply(self, query: Select) -> Select:
        zone = ZoneInfo(current_app.config["TRACKER_TIMEZONE"])
        if self.kind:
            query = query.where(SecurityEvent.kind == self.kind)
        if self.user:
            query = query.where(func.lower(SecurityEvent.username) == self.user)
        if self.date_from:
            query = query.where(SecurityEvent.at >= datetime.combine(self.date_from, time(),
                                                                     zone))
        if self.date_to:
            end = datetime.combine(self.date_to + timedelta(days=1), time(), zone)
            query = query.where(SecurityEvent.at < end)
        return query

    def args(self) -> dict[str, str]:
        """The filter as query parameters, for the links to other pages and the CSV."""
        values = {"kind": self.kind, "user": self.user,
                  "date_from": self.date_from and self.date_from.isoformat(),
                  "date_to": self.date_to and self.date_to.isoformat()}
        return {name: str(value) for name, value in values.items() if value}


def events(actor, flt: EventFilter) -> Select:
    """The events `actor` may read that `flt` asks for, newest first."""
    return flt.apply(visible_security_events(actor)) \
        .options(selectinload(SecurityEvent.actor), selectinload(SecurityEvent.user)) \
        .order_by(SecurityEvent.at.desc(), SecurityEvent.id.desc())


def kind_label(kind: str) -> str:
    label = SECURITY_EVENT_LABELS.get(kind)
    return str(label) if label is not None else kind


# --- CSV ------------------------------------------------------------------------------------

CSV_HEADER = (_l("Time (Vietnam)"), _l("Event"), _l("Username"), _l("By"), _l("Unit"),
              _l("Address"), _l("Detail"))


def csv_chunks(rows: Iterable[SecurityEvent], units: Mapping[int, str],
               rows_per_chunk: int = 1000) -> Iterator[bytes]:
    """The events as CSV (UTF-8 with a byte-order mark for spreadsheet programs), a chunk
    at a time; every cell a user's text reaches is neutralised."""
    out = io.StringIO()
    writer = csv_writer(out)  # every cell neutralised against formulas
    yield "\ufeff".encode()
    writer.writerow([str(h) for h in CSV_HEADER])
    for count, event in enumerate(rows, start=1):
        writer.writerow((
            ict(event.at, seconds=True), kind_label(event.kind), event.username,
            event.actor.username if event.actor else "", units.get(event.unit_id, ""),
            event.address, event.detail))
        if count % rows_per_chunk == 0:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode()
