"""`tracker forecast evaluate`: the early warning replayed against the stored history."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from tracker.forecast.evaluate import evaluate, report_lines
from tracker.rules.forecast import HORIZON_DAYS

forecast_cli = AppGroup("forecast", help="The early warning (sắp chuyển đỏ).")


@forecast_cli.command("evaluate")
@click.option("--from", "first", type=click.DateTime(formats=["%Y-%m-%d"]), required=True,
              help="The first cutoff day, YYYY-MM-DD.")
@click.option("--to", "last", type=click.DateTime(formats=["%Y-%m-%d"]), required=True,
              help="The last cutoff day, YYYY-MM-DD.")
@click.option("--days", type=click.IntRange(1, 20), default=HORIZON_DAYS, show_default=True,
              help="The horizon N, in working days.")
def forecast_evaluate(first, last, days: int) -> None:
    """For each cutoff day from FIRST to LAST whose next N working days have been judged,
    forecast every open task as of that cutoff and check which turned red within N working
    days; print precision and recall beside the baseline "deadline within N working days",
    overall and per province (docs/forecast.md)."""
    result = evaluate(first.date(), last.date(), days)
    for line in report_lines(result):
        click.echo(line)


COMMANDS = [forecast_cli]
