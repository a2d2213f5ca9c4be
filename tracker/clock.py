"""The one place the application reads the time.

Production reads the system clock; tests put a `FixedClock` in `app.config["CLOCK"]` so
that every rule is judged at a moment they choose. Timestamps are always aware UTC.
"""

from __future__ import annotations

import select
from datetime import UTC, datetime, timedelta

from flask import current_app, has_app_context


def system_now() -> datetime:
    return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, moment: datetime):
        self.set(moment)

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.moment = moment.astimezone(UTC)

    def advance(self, **delta: float) -> datetime:
        self.moment += timedelta(**delta)
        return self.moment

    def __call__(self) -> datetime:
        return self.moment


def now() -> datetime:
    """The current moment (aware UTC), from the app's clock."""
    if has_app_context():
        return current_app.config.get("CLOCK", system_now)()
    return system_now()


def pause(seconds: float, wake: int | None = None) -> bool:
    """Wait `seconds` of real time, or until the file descriptor `wake` is readable (then
    returns True). Through select(), whose timeout is relative: a clock shifted by
    libfaketime (in tests and rehearsals) can neither make it wait for ever nor fail, as it
    can a timed wait on a lock (threading.Event.wait) or time.sleep."""
    readable, _w, _x = select.select([wake] if wake is not None else [], [], [], seconds)
    return bool(readable)
