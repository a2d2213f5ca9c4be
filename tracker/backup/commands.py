"""`flask --app wsgi tracker backup` and `… tracker restore`: the commands, registered
under the `tracker` group by tracker/cli; the work is in tracker.backup.service."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from tracker.backup.service import (
    BackupError,
    RestoreUnverified,
    check_archive,
    create_backup,
    restore_backup,
)


def _summary(manifest: dict) -> str:
    rows = sum(manifest["tables"].values())
    return (f"{manifest['database_kind']} database at revision {manifest['alembic_revision']}, "
            f"{rows} rows in {len(manifest['tables'])} tables, "
            f"{manifest['evidence']['files']} evidence file(s); made {manifest['created_at']} "
            f"by Tracker {manifest['app_version']}")


@click.command("backup")
@click.option("--output", type=click.Path(), default=None,
              help="The archive to write (.tar.gz, or .tar uncompressed), or a folder for it "
                   "(an existing one, or a path ending in /). "
                   "Default: TRACKER_BACKUP_DIR, else instance/backups.")
@with_appcontext
def backup_command(output: str | None) -> None:
    """Write one archive: the database as of one moment (while the app keeps running), the
    evidence files and a manifest with row counts and checksums. The archive's path is
    printed alone on the last line. Exit 1 if evidence files were missing, 2 on failure."""
    try:
        outcome = create_backup(output)
    except BackupError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    for warning in outcome.warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(f"Backup: {_summary(outcome.manifest)}; "
               f"{outcome.path.stat().st_size} bytes.")
    click.echo(str(outcome.path))
    if outcome.warnings:
        sys.exit(1)


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--check", "check_only", is_flag=True,
              help="Only check the archive (every checksum, the database kind, the schema "
                   "revision); restore nothing.")
@with_appcontext
def restore_command(archive: Path, check_only: bool) -> None:
    """Restore ARCHIVE into this instance, which must be empty (its database without any
    table, its evidence folder empty), then check every table's row count against the
    archive's manifest. A damaged archive, or one made for the other kind of database or
    by a newer Tracker, is refused before anything is changed (exit 2); a restore whose
    counts differ exits 1."""
    try:
        outcome = check_archive(archive) if check_only else restore_backup(archive)
    except RestoreUnverified as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except BackupError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    for warning in outcome.warnings:
        click.echo(f"Warning: {warning}", err=True)
    verb = "Intact and restorable here" if check_only else "Restored and verified"
    click.echo(f"{verb}: {_summary(outcome.manifest)}.")
