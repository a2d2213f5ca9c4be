"""`flask --app wsgi tracker …`: the operator's commands."""

from __future__ import annotations

import sys
import time

import click
from flask.cli import AppGroup
from sqlalchemy import or_, select

from tracker import clock
from tracker.backup.commands import backup_command, restore_command
from tracker.errors import TrackerError
from tracker.extensions import db

tracker_cli = AppGroup("tracker", help="Tracker operations.")
tracker_cli.add_command(backup_command)  # tracker backup / tracker restore
tracker_cli.add_command(restore_command)


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


@users_cli.command("reset-two-factor")
@click.argument("username")
def users_reset_two_factor(username: str) -> None:
    """Remove a user's authenticator app and recovery codes (a lost phone; the last admin
    locked out); their sessions end. Recorded as a security event."""
    from tracker.auth.models import User
    from tracker.auth.two_factor import reset

    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        _fail(f"no user {username!r}")
    try:
        reset(None, user, now=clock.now())
    except TrackerError as exc:
        _fail(exc.message)
    db.session.commit()
    click.echo(f"Two-factor login of {user.username} reset.")


@users_cli.command("set-password")
@click.argument("username")
def users_set_password(username) -> None:
    """Reset a user's password (read from a prompt, or from stdin when piped): their
    sessions end and their API tokens are revoked."""
    from tracker.auth.models import User
    from tracker.auth.service import set_password

    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        _fail(f"no user {username!r}")
    try:
        set_password(None, user, _read_password())
    except TrackerError as exc:
        _fail(f"{exc.message} {exc.fields}")
    db.session.commit()
    click.echo(f"The password of {user.username} was reset; their sessions ended and their "
               "API tokens were revoked.")


# --- demo --------------------------------------------------------------------------------


@tracker_cli.command("demo")
def demo() -> None:
    """Load the Quảng Ninh demo: 54 units, demo users and realistic tasks, with their
    past days judged by the cutoff as they happened.

    Does nothing if the database already has users."""
    from tracker.demo.history import judge_past_days
    from tracker.demo.loader import DemoExists, admin_note, load_demo

    now = clock.now()
    try:
        logins = load_demo(now=now)
    except DemoExists:
        click.echo("Demo data already present; nothing loaded.")
        return
    db.session.commit()
    judge_past_days(now)
    click.echo("Demo loaded. Logins (username / password):")
    for username, password in logins:
        click.echo(f"  {username:<14} {password}")
    if admin_note():
        click.echo(f"  {admin_note()}")


# --- cutoff, colours, scheduler ----------------------------------------------------------

cutoff_cli = AppGroup("cutoff", help="The daily 16:00 cutoff.")
tracker_cli.add_command(cutoff_cli)


def _wait_seconds() -> float:
    from flask import current_app

    return current_app.config["TRACKER_CUTOFF_WAIT_SECONDS"]


def _print_summary(summary) -> None:
    import json

    click.echo(json.dumps(summary.public(), ensure_ascii=False))


@cutoff_cli.command("run")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), required=True,
              help="The reporting day, YYYY-MM-DD.")
@click.option("--force", is_flag=True, help="Recompute a day already processed.")
def cutoff_run(day, force: bool) -> None:
    """Process one reporting day, after every earlier day still due (in date order); the
    last line printed is the day's JSON summary."""
    from tracker.cutoff.backlog import process_due
    from tracker.cutoff.job import CutoffRefused, refuse_unless_passed, run_cutoff
    from tracker.notifications.mail import deliver_emails

    day = day.date()
    try:
        refuse_unless_passed(day, clock.now())
        summaries = process_due(through=day, wait_seconds=_wait_seconds())
        for summary in summaries:
            if summary.date != day.isoformat():
                click.echo(f"(an earlier day still due) {summary.date}: "
                           f"processed first", err=True)
                _print_summary(summary)
        done = {summary.date: summary for summary in summaries}
        if force and day.isoformat() in done:
            force = False  # just processed: nothing to recompute
        summary = done.get(day.isoformat()) or run_cutoff(
            day, now=clock.now(), force=force, wait_seconds=_wait_seconds())
    except CutoffRefused as exc:
        db.session.rollback()
        _fail(str(exc))
    deliver_emails(clock.now())
    _print_summary(summary)


@cutoff_cli.command("catch-up")
def cutoff_catch_up() -> None:
    """Process every due cutoff that has not run, oldest first (one JSON line each)."""
    from tracker.cutoff.backlog import process_due
    from tracker.notifications.mail import deliver_emails

    for summary in process_due(wait_seconds=_wait_seconds()):
        _print_summary(summary)
    deliver_emails(clock.now())


@cutoff_cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="As the health endpoint answers.")
def cutoff_status_command(as_json: bool) -> None:
    """The last processed day, the days due and not yet processed (and how late), and
    each scheduler's state. Exits 1 when something needs an operator."""
    import json
    from datetime import timedelta

    from flask import current_app

    from tracker.cutoff.backlog import cutoff_status

    status = cutoff_status(clock.now())
    grace = timedelta(seconds=current_app.config["TRACKER_CUTOFF_LATE_SECONDS"])
    public = status.public(grace)
    if as_json:
        click.echo(json.dumps(public, ensure_ascii=False, indent=2))
    else:
        for line in _status_lines(public):
            click.echo(line)
    sys.exit(1 if public["problems"] else 0)


def _status_lines(public: dict) -> list[str]:
    lines = [f"now: {public['now']}",
             f"last processed day: {public['last_processed_day'] or 'none yet'}"
             + (f" (ran {public['last_started_at']} → {public['last_finished_at']})"
                if public["last_processed_day"] else "")]
    if public["due"]:
        for due in public["due"]:
            lines.append(f"DUE, not processed: {due['day']} (cutoff {due['cutoff']}, "
                         f"{due['late_seconds']:.0f} s ago)")
    else:
        lines.append("due and not processed: none")
    if not public["schedulers"]:
        lines.append("schedulers: none has reported")
    for s in public["schedulers"]:
        state = s["state"] if s["alive"] else f"silent since {s['seen_at']}"
        line = f"scheduler {s['name']}: {state}"
        if s["last_error"]:
            line += f"; last error at {s['last_error_at']}: {s['last_error']}"
        lines.append(line)
    lines.append("stored colours: " + ("fresh" if public["colours_fresh"] else
                                       "to be refreshed (the scheduler does it)"))
    lines.append("status: " + (public["status"] if not public["problems"] else
                               "needs attention: " + ", ".join(public["problems"])))
    return lines


colours_cli = AppGroup("colours", help="Stored colours.")
tracker_cli.add_command(colours_cli)


@colours_cli.command("check")
def colours_check() -> None:
    """Recompute every task's colour; exit 1 listing the tasks whose stored colour differs."""
    from tracker.tasks.colour import mismatches

    found = 0
    for task_id, _version, stored, computed in mismatches(clock.now()):
        found += 1
        click.echo(f"task {task_id}: stored {stored} != computed {computed}")
    if found:
        click.echo(f"{found} task(s) differ.", err=True)
        sys.exit(1)
    click.echo("All stored colours are correct.")


@colours_cli.command("refresh")
def colours_refresh() -> None:
    """Bring every stored colour up to date now."""
    from tracker.tasks.colour import recolour_all

    changed = recolour_all(clock.now(), separately=True)
    db.session.commit()
    click.echo(f"{changed} task(s) recoloured.")


@tracker_cli.command("remind")
def remind_now() -> None:
    """Send the reminders to units that still owe today's update."""
    from flask import current_app

    from tracker.cutoff.scheduler import remind

    click.echo(f"{remind(current_app._get_current_object())} reminder(s) sent.")


@tracker_cli.command("scheduler")
def scheduler() -> None:
    """Run the scheduler until stopped: every due cutoff as soon as it is due, the
    colours after midnight, the reminders."""
    import logging

    from flask import current_app

    from tracker.cutoff.scheduler import run_scheduler

    # The libraries' lines (APScheduler) on the root logger; Tracker's own have their
    # handler already (tracker.logs), so they do not go through the root's as well.
    logging.getLogger("tracker").propagate = False
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    run_scheduler(current_app._get_current_object())


# --- progress updates --------------------------------------------------------------------

updates_cli = AppGroup("updates", help="Progress updates.")
tracker_cli.add_command(updates_cli)


@updates_cli.command("post")
@click.argument("task_ref")
@click.option("--user", "username", required=True, help="The member who reports.")
@click.option("--progress", required=True, help="Progress, 0–100 %.")
@click.option("--work-done", required=True, help="What was done.")
@click.option("--obstacles", default="", help="Obstacles met, if any.")
@click.option("--next-steps", default="", help="What comes next.")
@click.option("--evidence-url", default="", help="A link to the evidence, if any.")
def updates_post(task_ref: str, username: str, progress: str, work_done: str,
                 obstacles: str, next_steps: str, evidence_url: str) -> None:
    """Post a progress update on TASK_REF (its code, or its id) as a member — the same
    service as the web form and the API; stamped by the server's clock. Prints the update
    as JSON."""
    import json

    from tracker.auth.models import User
    from tracker.tasks.models import Task
    from tracker.updates.service import post_update

    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        _fail(f"no user {username!r}")
    task = db.session.scalar(select(Task).where(Task.code == task_ref))
    if task is None and task_ref.isdigit() and int(task_ref) <= 2**31 - 1:
        task = db.session.get(Task, int(task_ref))
    if task is None:
        _fail(f"no task {task_ref!r}")
    try:
        update = post_update(user, task, {
            "progress": progress, "work_done": work_done, "obstacles": obstacles,
            "next_steps": next_steps, "evidence_url": evidence_url})
    except TrackerError as exc:
        db.session.rollback()
        _fail(f"{exc.message} {exc.fields}")
    db.session.commit()
    click.echo(json.dumps({
        "id": update["id"], "task_id": update["task_id"], "progress": update["progress"],
        "created_at": update["created_at"].isoformat(),
        "reporting_day": update["reporting_day"].isoformat()}, ensure_ascii=False))


# --- calendar ----------------------------------------------------------------------------

calendar_cli = AppGroup("calendar", help="Days off and make-up working days.")
tracker_cli.add_command(calendar_cli)


@calendar_cli.command("set")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("kind", type=click.Choice(["day_off", "makeup_day"]))
@click.option("--note", default="")
def calendar_set(day, kind: str, note: str) -> None:
    """Record DAY as a day off or a make-up working day."""
    from tracker.settings.service import set_day

    try:
        set_day(None, day.date(), kind, note)
    except TrackerError as exc:
        db.session.rollback()
        _fail(f"{exc.message} {exc.fields}")
    db.session.commit()
    click.echo(f"{day.date().isoformat()}: {kind}")


@calendar_cli.command("clear")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
def calendar_clear(day) -> None:
    """Remove what was recorded for DAY."""
    from tracker.settings.service import clear_day

    try:
        clear_day(None, day.date())
    except TrackerError as exc:
        db.session.rollback()
        _fail(f"{exc.message} {exc.fields}")
    db.session.commit()
    click.echo(f"{day.date().isoformat()}: cleared")


# --- API tokens --------------------------------------------------------------------------

token_cli = AppGroup("token", help="Personal API tokens.")
tracker_cli.add_command(token_cli)


@token_cli.command("create")
@click.argument("username")
@click.option("--days", type=int, default=90, show_default=True, help="Days until it expires.")
@click.option("--name", default="", help="What the token is for.")
def token_create(username: str, days: int, name: str) -> None:
    """Create an API token for USERNAME; the token alone is printed on the last line.

    It is shown this once: only its hash is kept."""
    from tracker.auth.models import User
    from tracker.auth.tokens import create_token

    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        _fail(f"no user {username!r}")
    try:
        token, raw = create_token(None, user, name=name, days=days, now=clock.now())
    except TrackerError as exc:
        _fail(f"{exc.message} {exc.fields}")
    db.session.commit()
    click.echo(f"Token {token.name!r} for {user.username}, valid until "
               f"{token.expires_at:%Y-%m-%d %H:%M} UTC. Use it as: Authorization: Bearer <token>")
    click.echo(raw)
