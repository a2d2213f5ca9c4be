"""The one place the application reads the time.

Production reads the system clock; tests put a `FixedClock` in `app.config["CLOCK"]` so
that every rule is judged at a moment they choose. Timestamps are always aware UTC.
"""

from __future__ import annotations

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
