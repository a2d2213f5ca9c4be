"""`flask --app wsgi tracker …`: the operator's commands."""

from __future__ import annotations

import sys
import time

import click
from flask.cli import AppGroup
from sqlalchemy import or_, select

from tracker import clock
from tracker.errors import TrackerError
from tracker.extensions import db

tracker_cli = AppGroup("tracker", help="Tracker operations.")


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


# --- units -------------------------------------------------------------------------------

units_cli = AppGroup("units", help="The unit tree.")
tracker_cli.add_command(units_cli)


@units_cli.command("import")
@click.option("--province", "province_names", multiple=True,
              help='A province by name, e.g. "Quảng Ninh" (repeatable).')
@click.option("--all", "import_all", is_flag=True, help="All 34 provinces, 3,321 communes.")
def units_import(province_names: tuple[str, ...], import_all: bool) -> None:
    """Load units from the vietnam-provinces package. Re-running changes nothing."""
    from tracker.units.importer import all_provinces, find_province, import_units

    if import_all == bool(province_names):
        _fail("give --province NAME or --all")
    if import_all:
        provinces = all_provinces()
    else:
        provinces = []
        for name in province_names:
            try:
                provinces.append(find_province(name))
            except LookupError:
                _fail(f"no province named {name!r}")
    started = time.perf_counter()
    result = import_units(provinces)
    db.session.commit()
    click.echo(
        f"{result.provinces} provinces, {result.communes} communes: "
        f"{result.created} created, {result.updated} updated "
        f"in {time.perf_counter() - started:.1f}s"
    )


# --- users -------------------------------------------------------------------------------

users_cli = AppGroup("users", help="User accounts.")
tracker_cli.add_command(users_cli)


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


def _find_unit(ref: str):
    from tracker.units.models import Unit

    return db.session.scalar(
        select(Unit).where(or_(Unit.code == ref, Unit.short_name == ref, Unit.name == ref))
        .order_by(Unit.depth).limit(1)
    )


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "supervisor", "member", "viewer"]),
              required=True)
@click.option("--unit", "unit_ref", default="VN", show_default=True,
              help="Home unit: code (e.g. 22), short name (ha_long) or full name.")
@click.option("--full-name", default="")
@click.option("--email", default=None)
def users_create(username, role, unit_ref, full_name, email) -> None:
    """Create a user. The password is read from a prompt, or from stdin when piped."""
    from tracker.auth.service import create_user

    unit = _find_unit(unit_ref)
    if unit is None:
        _fail(f"no unit {unit_ref!r}; import the units first (tracker units import)")
    password = _read_password()
    try:
        user = create_user(None, username=username, password=password, role=role, unit=unit,
                           full_name=full_name, email=email)
    except TrackerError as exc:
        _fail(f"{exc.message} {exc.fields}")
    db.session.commit()
    click.echo(f"Created {user.username} ({user.role}) at {unit.name}.")


# --- demo --------------------------------------------------------------------------------


@tracker_cli.command("demo")
def demo() -> None:
    """Load the Quảng Ninh demo: 54 units, demo users and realistic tasks.

    Does nothing if the database already has users."""
    from tracker.demo.loader import DemoExists, load_demo

    try:
        logins = load_demo(now=clock.now())
    except DemoExists:
        click.echo("Demo data already present; nothing loaded.")
        return
    db.session.commit()
    click.echo("Demo loaded. Logins (username / password):")
    for username, password in logins:
        click.echo(f"  {username:<14} {password}")
