"""Dates as people type them: dd/mm/yyyy, as dates are written in Vietnam (also with "." or
"-"), or yyyy-mm-dd, as date pickers, the API and files send them.

The services read every typed date through here, so that a web form, the API and an import
accept the same texts and refuse the same ones.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from marshmallow import ValidationError, fields

# Dates far outside any plan's life are typing mistakes (and overflow date arithmetic).
EARLIEST, LATEST = date(1900, 1, 1), date(2199, 12, 31)

_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def to_iso_date(text: str) -> str:
    """ISO text for dd/mm/yyyy; anything else is passed on for the caller to judge."""
    match = _DMY.match(text)
    if match:
        day, month, year = (int(x) for x in match.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            return text
    return text


class TypedDate(fields.Date):
    """marshmallow's date, also accepting dd/mm/yyyy as typed in a form."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = to_iso_date(value.strip())
        return super()._deserialize(value, attr, data, **kwargs)


_TYPED_DATE = TypedDate()


def parse_date(value) -> date | None:
    """A date given as a date or typed as `TypedDate` reads it; None for anything else (a
    blank, a non-date, an impossible day such as 31/02)."""
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    try:
        return _TYPED_DATE.deserialize(value)
    except ValidationError:
        return None
