"""`tracker units …`, `tracker users …`, `tracker token …`: the unit tree, user accounts and
personal API tokens."""

from __future__ import annotations

import sys
import time

import click
from flask.cli import AppGroup

from tracker import clock
from tracker.auth.passwords import local_passwords
from tracker.auth.service import create_user, set_password
from tracker.auth.tokens import create_token
from tracker.auth.two_factor import reset
from tracker.cli.common import fail, fail_with, unit_named, user_named
from tracker.errors import TrackerError
from tracker.extensions import db
from tracker.sso.service import allow_next_link, unlink_identity
from tracker.units.importer import all_provinces, find_province, import_units

units_cli = AppGroup("units", help="The unit tree.")
users_cli = AppGroup("users", help="User accounts.")
token_cli = AppGroup("token", help="Personal API tokens.")
COMMANDS = (units_cli, users_cli, token_cli)


@units_cli.command("import")
@click.option("--province", "province_names", multiple=True,
              help='A province by name, e.g. "Quảng Ninh" (repeatable).')
@click.option("--all", "import_all", is_flag=True, help="All 34 provinces, 3,321 communes.")
def units_import(province_names: tuple[str, ...], import_all: bool) -> None:
    """Load units from the vietnam-provinces package. Re-running changes nothing."""
    if import_all == bool(province_names):
        fail("give --province NAME or --all")
    if import_all:
        provinces = all_provinces()
    else:
        provinces = []
        for name in province_names:
            try:
                provinces.append(find_province(name))
            except LookupError:
                fail(f"no province named {name!r}")
    started = time.perf_counter()
    result = import_units(provinces)
    db.session.commit()
    click.echo(
        f"{result.provinces} provinces, {result.communes} communes: "
        f"{result.created} created, {result.updated} updated "
        f"in {time.perf_counter() - started:.1f}s"
    )


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "supervisor", "member", "viewer"]),
              required=True)
@click.option("--unit", "unit_ref", default="VN", show_default=True,
              help="Home unit: code (e.g. 22), short name (ha_long) or full name.")
@click.option("--full-name", default="")
@click.option("--email", default=None)
@click.option("--no-password", is_flag=True,
              help="A user who logs in only with single sign-on (TRACKER_OIDC_*); implied "
                   "when TRACKER_LOCAL_PASSWORDS=0.")
def users_create(username, role, unit_ref, full_name, email, no_password) -> None:
    """Create a user. The password is read from a prompt, or from stdin when piped."""
    unit = unit_named(unit_ref)
    if unit is None:
        fail(f"no unit {unit_ref!r}; import the units first (tracker units import)")
    password = None if no_password or not local_passwords() else _read_password()
    try:
        user = create_user(None, username=username, password=password, role=role, unit=unit,
                           full_name=full_name, email=email)
    except TrackerError as exc:
        fail_with(exc)
    db.session.commit()
    click.echo(f"Created {user.username} ({user.role}) at {unit.name}.")


@users_cli.command("reset-two-factor")
@click.argument("username")
def users_reset_two_factor(username: str) -> None:
    """Remove a user's authenticator app and recovery codes (a lost phone; the last admin
    locked out); their sessions end. Recorded as a security event."""
    user = user_named(username)
    try:
        reset(None, user, now=clock.now())
    except TrackerError as exc:
        fail_with(exc, fields=False)
    db.session.commit()
    click.echo(f"Two-factor login of {user.username} reset.")


@users_cli.command("set-password")
@click.argument("username")
def users_set_password(username) -> None:
    """Reset a user's password (read from a prompt, or from stdin when piped): their
    sessions end and their API tokens are revoked."""
    user = user_named(username)
    try:
        set_password(None, user, _read_password())
    except TrackerError as exc:
        fail_with(exc)
    db.session.commit()
    click.echo(f"The password of {user.username} was reset; their sessions ended and their "
               "API tokens were revoked.")


@users_cli.command("sso-unlink")
@click.argument("username")
def users_sso_unlink(username: str) -> None:
    """Free USERNAME from the single sign-on identity bound to it (docs/sso.md): the next
    single sign-on login binds a new one (an admin's only when allowed)."""
    user = user_named(username)
    if unlink_identity(None, user, now=clock.now()):
        click.echo(f"The single sign-on account of {user.username} was unlinked.")
    else:
        click.echo(f"{user.username} has no single sign-on account linked.")
    db.session.commit()


@users_cli.command("sso-allow")
@click.argument("username")
def users_sso_allow(username: str) -> None:
    """Let the next single sign-on login bind USERNAME, once — how the first admin of a
    deployment without local passwords gets linked (docs/sso.md)."""
    user = user_named(username)
    try:
        allow_next_link(None, user, now=clock.now())
    except TrackerError as exc:
        fail_with(exc)
    db.session.commit()
    click.echo(f"The next single sign-on login of {user.username} will link the account.")


@token_cli.command("create")
@click.argument("username")
@click.option("--days", type=int, default=90, show_default=True, help="Days until it expires.")
@click.option("--name", default="", help="What the token is for.")
def token_create(username: str, days: int, name: str) -> None:
    """Create an API token for USERNAME; the token alone is printed on the last line.

    It is shown this once: only its hash is kept."""
    user = user_named(username)
    try:
        token, raw = create_token(None, user, name=name, days=days, now=clock.now())
    except TrackerError as exc:
        fail_with(exc)
    db.session.commit()
    click.echo(f"Token {token.name!r} for {user.username}, valid until "
               f"{token.expires_at:%Y-%m-%d %H:%M} UTC. Use it as: Authorization: Bearer <token>")
    click.echo(raw)
