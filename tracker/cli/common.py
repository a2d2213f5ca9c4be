"""What the commands share: failing with a message, and finding a user or a unit as an
operator names them."""

from __future__ import annotations

import sys
from typing import NoReturn

import click
from sqlalchemy import or_, select

from tracker.auth.models import User
from tracker.errors import TrackerError
from tracker.extensions import db
from tracker.units.models import Unit


def fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


def fail_with(exc: TrackerError, *, fields: bool = True) -> NoReturn:
    """A service refused: nothing of the command's change is kept."""
    db.session.rollback()
    fail(f"{exc.message} {exc.fields}" if fields else exc.message)


def user_named(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        fail(f"no user {username!r}")
    return user


def unit_named(ref: str) -> Unit | None:
    """A unit by its code (e.g. 22), short name (ha_long) or full name; the highest first."""
    return db.session.scalar(
        select(Unit).where(or_(Unit.code == ref, Unit.short_name == ref, Unit.name == ref))
        .order_by(Unit.depth).limit(1)
    )
