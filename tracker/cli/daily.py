"""`tracker cutoff …`, `tracker colours …`, `tracker remind`, `tracker scheduler`: the day's
16:00 cutoff, the stored colours, the reminders and the scheduler that runs them."""

from __future__ import annotations

import json
import logging
import sys
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from tracker import clock
from tracker.cli.common import fail
from tracker.cutoff.backlog import cutoff_status, process_due
from tracker.cutoff.job import CutoffRefused, refuse_unless_passed, run_cutoff
from tracker.cutoff.scheduler import remind, run_scheduler
from tracker.extensions import db
from tracker.forecast.store import forecast_due
from tracker.kiennghi.service import announce_overdue
from tracker.notifications.mail import deliver_emails
from tracker.tasks import counts
from tracker.tasks.colour import mismatches, recolour_all
from tracker.webhooks import delivery as webhook_delivery

cutoff_cli = AppGroup("cutoff", help="The daily 16:00 cutoff.")
colours_cli = AppGroup("colours", help="Stored colours.")
counts_cli = AppGroup("counts", help="Each unit's task counts, kept as the tasks change.")


def _wait_seconds() -> float:
    return current_app.config["TRACKER_CUTOFF_WAIT_SECONDS"]


def _print_summary(summary) -> None:
    click.echo(json.dumps(summary.public(), ensure_ascii=False))


@cutoff_cli.command("run")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), required=True,
              help="The reporting day, YYYY-MM-DD.")
@click.option("--force", is_flag=True, help="Recompute a day already processed.")
def cutoff_run(day, force: bool) -> None:
    """Process one reporting day, after every earlier day still due (in date order); the
    last line printed is the day's JSON summary."""
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
        fail(str(exc))
    deliver_emails(clock.now())
    _print_summary(summary)


@cutoff_cli.command("catch-up")
def cutoff_catch_up() -> None:
    """Process every due cutoff that has not run, oldest first (one JSON line each)."""
    for summary in process_due(wait_seconds=_wait_seconds()):
        _print_summary(summary)
    deliver_emails(clock.now())


@cutoff_cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="As the health endpoint answers.")
def cutoff_status_command(as_json: bool) -> None:
    """The last processed day, the days due and not yet processed (and how late), and
    each scheduler's state. Exits 1 when something needs an operator."""
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
    if public["election"]:
        active = public["active_scheduler"]
        lines.append(f"active scheduler: {active['name']} (since {active['since']}, lease "
                     f"until {active['lease_until']})" if active else
                     "active scheduler: none holds the lease (a standby takes it over)")
    if not public["schedulers"]:
        lines.append("schedulers: none has reported")
    for s in public["schedulers"]:
        state = s["state"] if s["alive"] else f"silent since {s['seen_at']}"
        role = "active" if s["role"] == "active" else "standing by"
        line = f"scheduler {s['name']}: {state}, {role}"
        if s["last_error"]:
            line += f"; last error at {s['last_error_at']}: {s['last_error']}"
        lines.append(line)
    lines.append("stored colours: " + ("fresh" if public["colours_fresh"] else
                                       "to be refreshed (the scheduler does it)"))
    lines.append("status: " + (public["status"] if not public["problems"] else
                               "needs attention: " + ", ".join(public["problems"])))
    return lines


@colours_cli.command("check")
def colours_check() -> None:
    """Recompute every task's colour; exit 1 listing the tasks whose stored colour differs."""
    found = 0
    for task_id, _version, stored, computed in mismatches(clock.now()):
        found += 1
        click.echo(f"task {task_id}: stored {stored} != computed {computed}")
    if found:
        click.echo(f"{found} task(s) differ.", err=True)
        sys.exit(1)
    click.echo("All stored colours are correct.")
    _check_counts()


def _check_counts() -> None:
    wrong = counts.differences()
    for key, kept, counted in wrong:
        click.echo(f"count of {key}: kept {kept} != counted {counted}")
    if wrong:
        click.echo(f"{len(wrong)} task count(s) differ: `flask tracker counts rebuild` "
                   "counts them afresh.", err=True)
        sys.exit(1)
    click.echo("All kept task counts are correct.")


@counts_cli.command("check")
def counts_check() -> None:
    """Count every unit's tasks afresh; exit 1 listing the kept counts that differ."""
    _check_counts()


@counts_cli.command("rebuild")
def counts_rebuild() -> None:
    """Count every unit's tasks afresh into the kept counts (after a change of
    TRACKER_TIMEZONE, or to mend what `check` found)."""
    keys = counts.rebuild()
    db.session.commit()
    click.echo(f"{keys} count(s) kept.")


@counts_cli.command("compact")
def counts_compact() -> None:
    """Fold the counts' pending changes in now (the scheduler does it on its own)."""
    moved = counts.compact()
    db.session.commit()
    click.echo(f"{moved} change(s) folded in.")


@colours_cli.command("refresh")
def colours_refresh() -> None:
    """Bring every stored colour up to date now."""
    changed = recolour_all(clock.now(), separately=True)
    db.session.commit()
    click.echo(f"{changed} task(s) recoloured.")


@click.command("remind")
def remind_now() -> None:
    """Send the reminders to units that still owe today's update."""
    click.echo(f"{remind(current_app._get_current_object())} reminder(s) sent.")


@click.command("scheduler")
def scheduler() -> None:
    """Run the scheduler until stopped: every due cutoff as soon as it is due, the
    colours after midnight, the reminders, the webhooks' deliveries, the task counts'
    folding."""
    # The libraries' lines (APScheduler) on the root logger; Tracker's own have their
    # handler already (tracker.logs), so they do not go through the root's as well.
    logging.getLogger("tracker").propagate = False
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = current_app._get_current_object()
    run_scheduler(app, after_cutoff=after_cutoff, intervals=[
        (webhook_delivery.deliver_due, app.config["TRACKER_WEBHOOK_POLL_SECONDS"], "webhooks",
         "webhook delivery"),
        (counts.compact, app.config["TRACKER_COUNTS_COMPACT_SECONDS"], "task-counts",
         "folding the task counts")])


def after_cutoff(keep_going=lambda: True):
    """The scheduler's work when no cutoff is due: announce the kiến nghị that have just
    passed their response deadline (once each: at the first tick after midnight), then
    store the newest day's forecast."""
    announce_overdue(clock.now())
    db.session.commit()
    return forecast_due(keep_going)


@click.command("recommendations-overdue")
def recommendations_overdue() -> None:
    """Announce the kiến nghị whose response deadline has passed with no answer (the
    scheduler does it on its own; each is announced once)."""
    count = announce_overdue(clock.now())
    db.session.commit()
    click.echo(f"{count} overdue recommendation(s) announced.")


COMMANDS = (cutoff_cli, colours_cli, counts_cli, remind_now, scheduler, recommendations_overdue)
