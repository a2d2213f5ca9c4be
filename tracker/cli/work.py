"""`tracker demo`, `tracker updates post`, `tracker calendar …`: demo data, a progress update
as a member posts it, and the days off and make-up days."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup
from sqlalchemy import select

from tracker import clock
from tracker.cli.common import fail, fail_with, user_named
from tracker.demo.history import judge_past_days
from tracker.demo.loader import DemoExists, admin_note, load_demo
from tracker.errors import TrackerError
from tracker.extensions import db
from tracker.settings.service import clear_day, set_day
from tracker.tasks.models import Task
from tracker.updates.service import post_update

updates_cli = AppGroup("updates", help="Progress updates.")
calendar_cli = AppGroup("calendar", help="Days off and make-up working days.")


@click.command("demo")
def demo() -> None:
    """Load the Quảng Ninh demo: 54 units, demo users and realistic tasks, with their
    past days judged by the cutoff as they happened.

    Does nothing if the database already has users."""
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
    user = user_named(username)
    task = db.session.scalar(select(Task).where(Task.code == task_ref))
    if task is None and task_ref.isdigit() and int(task_ref) <= 2**31 - 1:
        task = db.session.get(Task, int(task_ref))
    if task is None:
        fail(f"no task {task_ref!r}")
    try:
        update = post_update(user, task, {
            "progress": progress, "work_done": work_done, "obstacles": obstacles,
            "next_steps": next_steps, "evidence_url": evidence_url})
    except TrackerError as exc:
        fail_with(exc)
    db.session.commit()
    click.echo(json.dumps({
        "id": update["id"], "task_id": update["task_id"], "progress": update["progress"],
        "created_at": update["created_at"].isoformat(),
        "reporting_day": update["reporting_day"].isoformat()}, ensure_ascii=False))


@calendar_cli.command("set")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("kind", type=click.Choice(["day_off", "makeup_day"]))
@click.option("--note", default="")
def calendar_set(day, kind: str, note: str) -> None:
    """Record DAY as a day off or a make-up working day."""
    try:
        set_day(None, day.date(), kind, note)
    except TrackerError as exc:
        fail_with(exc)
    db.session.commit()
    click.echo(f"{day.date().isoformat()}: {kind}")


@calendar_cli.command("clear")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
def calendar_clear(day) -> None:
    """Remove what was recorded for DAY."""
    try:
        clear_day(None, day.date())
    except TrackerError as exc:
        fail_with(exc)
    db.session.commit()
    click.echo(f"{day.date().isoformat()}: cleared")


COMMANDS = (demo, updates_cli, calendar_cli)
