"""`flask --app wsgi tracker …`: the operator's commands, one module per area — the people
(`people`: units, users, tokens), the day (`daily`: cutoff, colours, reminders, scheduler),
the work (`work`: demo data, progress updates, the calendar), the province's systems
(`integration`: webhooks) — and backup and restore
(tracker/backup/commands.py). Each command calls the same service as the pages and the API."""

from __future__ import annotations

from flask.cli import AppGroup

from tracker.backup.commands import backup_command, restore_command
from tracker.cli import daily, forecast, integration, people, work

tracker_cli = AppGroup("tracker", help="Tracker operations.")
for command in (*people.COMMANDS, *daily.COMMANDS, *work.COMMANDS, *forecast.COMMANDS,
                *integration.COMMANDS, backup_command, restore_command):
    tracker_cli.add_command(command)
