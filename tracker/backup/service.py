"""`tracker backup` and `tracker restore`: one archive holding a consistent copy of the
database and the evidence files it refers to, and its restore into an empty instance.

The database is copied first (tracker.backup.engines: one moment, while the app keeps
writing); the evidence files that copy refers to are added after it. A file is written
before the row that refers to it commits (tracker.evidence.service), so every file the
copy refers to is already on disk: the archive has no reference without its file. Files
uploaded after the copy are left out — their rows are not in it either.

A restore refuses, before it changes anything: an archive that is damaged (truncated, a
member missing or changed), one made for the other kind of database (no conversion
between SQLite and PostgreSQL is offered), one whose schema revision this code does not
know (made by a newer Tracker), and an instance that is not empty (a database with any
table, or evidence files). It then loads the database, puts the evidence files in place
and checks every table's row count against the manifest.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app
from sqlalchemy.exc import OperationalError

from tracker import clock
from tracker.backup import archive, engines
from tracker.backup.archive import EVIDENCE_PREFIX, ArchiveDamaged
from tracker.evidence.service import storage_dir
from tracker.extensions import db


class BackupError(Exception):
    """A backup or restore refused or failed; the message says why and what to do."""


class RestoreUnverified(BackupError):
    """The restore ran, but the restored database does not hold what the manifest says."""


@dataclass
class Outcome:
    path: Path
    manifest: dict
    warnings: list[str] = field(default_factory=list)


def _app_version() -> str:
    try:
        return metadata.version("tracker")
    except metadata.PackageNotFoundError:
        return "unknown"


def backup_dir() -> Path:
    return Path(current_app.config.get("TRACKER_BACKUP_DIR")
                or Path(current_app.instance_path) / "backups")


def _target(output: str | Path | None, created_at: datetime) -> Path:
    """The archive's path: `output` if it names a file, else the default name in the
    folder `output` names (an existing folder, or a path ending in a slash)."""
    name = f"tracker-{created_at:%Y%m%dT%H%M%SZ}.tar.gz"
    if output is None or str(output) == "":
        return backup_dir() / name
    if str(output).endswith(("/", os.sep)) or Path(output).is_dir():
        return Path(output) / name
    if not str(output).endswith((".tar", ".tar.gz", ".tgz")):
        raise BackupError(f"{output}: an archive's name ends in .tar.gz (or .tar, not "
                          "compressed); to name a folder, end it with /")
    return Path(output)


def _pg_bin() -> str | None:
    return current_app.config.get("TRACKER_PG_BIN") or None


def create_backup(output: str | Path | None = None) -> Outcome:
    """Write one archive: the database as of one moment, the evidence files it refers to,
    and the manifest. `output` is a file (`.tar.gz`, or `.tar` uncompressed) or a folder
    (default: TRACKER_BACKUP_DIR, else instance/backups)."""
    created_at = clock.now()
    path = _target(output, created_at).resolve()
    if path.exists():
        raise BackupError(f"{path} already exists; an archive is never overwritten")
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = db.engine
    warnings: list[str] = []
    try:
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=".tracker-backup-") as work, \
                archive.ArchiveWriter(path, mtime=created_at.timestamp()) as writer:
            snap = engines.snapshot(engine, Path(work), pg_bin=_pg_bin())
            writer.add_file(snap.member, snap.file)
            snap.file.unlink()
            files = _add_evidence(writer, snap.evidence, warnings)
            manifest = {
                "format": archive.FORMAT, "format_version": archive.FORMAT_VERSION,
                "app_version": _app_version(), "created_at": created_at.isoformat(),
                "database_kind": snap.kind, "database_member": snap.member,
                "database_tool": snap.tool, "alembic_revision": snap.alembic_revision,
                "tables": snap.tables, "evidence": files,
            }
            writer.commit(manifest)
    except engines.DatabaseError as exc:
        raise BackupError(str(exc)) from exc
    except OperationalError as exc:
        raise BackupError(f"the database does not answer: {exc.orig}") from exc
    except FileExistsError as exc:
        raise BackupError(f"{path} already exists; an archive is never overwritten") from exc
    return Outcome(path, {**manifest, "members": writer.members}, warnings)


def _add_evidence(writer, referenced, warnings: list[str]) -> dict:
    folder = storage_dir()
    missing, changed = [], []
    for stored_name, sha256 in referenced:
        source = folder / stored_name
        if not archive.safe_name(stored_name) or "/" in stored_name or not source.is_file():
            missing.append(stored_name)
            continue
        entry = writer.add_file(EVIDENCE_PREFIX + stored_name, source)
        if sha256 and entry["sha256"] != sha256:
            changed.append(stored_name)
    if missing:
        warnings.append(f"{len(missing)} evidence file(s) the database refers to are missing "
                        f"from {folder}: {', '.join(missing[:10])}")
    if changed:
        warnings.append(f"{len(changed)} evidence file(s) differ from the checksum recorded "
                        f"at upload: {', '.join(changed[:10])}")
    return {"folder": str(folder), "files": len(referenced) - len(missing),
            "missing": missing, "changed": changed}


# --- restore -----------------------------------------------------------------------------


def _script_directory():

    return ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())


def check_archive(path: Path) -> Outcome:
    """The archive's manifest, if the archive is intact and fits this code and this
    instance's kind of database; raises `BackupError` saying why not. Changes nothing."""
    try:
        manifest = archive.verify(Path(path))
    except ArchiveDamaged as exc:
        raise BackupError(f"refused: {path} is damaged: {exc}") from exc
    kind = engines.kind_of(db.engine)
    if manifest.get("database_kind") != kind:
        raise BackupError(
            f"refused: the archive holds a {manifest.get('database_kind')} database and this "
            f"instance is configured for {kind} (DATABASE_URL); Tracker offers no conversion "
            "between them — restore into an instance of the same kind")
    if manifest.get("database_member") not in manifest["members"]:
        raise BackupError(f"refused: {path} is damaged: it holds no database")
    warnings = []
    revision = manifest.get("alembic_revision")
    script = _script_directory()
    try:
        known = revision is not None and script.get_revision(revision) is not None
    except CommandError:  # an id alembic does not know
        known = False
    if not known:
        raise BackupError(
            f"refused: the archive's database is at schema revision {revision!r}, which this "
            f"code does not know (it was made by a newer Tracker, {manifest.get('app_version')}"
            "); restore it with that version or newer")
    if revision not in script.get_heads():
        warnings.append(f"the restored database is at revision {revision}, older than this "
                        "code: run `flask --app wsgi db upgrade` before starting the app")
    return Outcome(Path(path), manifest, warnings)


def _require_empty(evidence: Path) -> None:
    if not engines.is_empty(db.engine):
        raise BackupError(
            "refused: the database is not empty. A restore only goes into an empty instance: "
            "for SQLite move the database file away; for PostgreSQL create a new empty "
            "database (createdb) or drop and re-create this one — after making sure "
            "nothing in it is needed")
    if evidence.exists() and any(evidence.iterdir()):
        raise BackupError(f"refused: the evidence folder {evidence} is not empty; move it "
                          "away first")


def restore_backup(path: Path) -> Outcome:
    """Restore the archive into this empty instance, then check every table's row count
    against the manifest (`RestoreUnverified` if one differs)."""
    checked = check_archive(path)
    manifest = checked.manifest
    evidence = storage_dir()
    try:
        _require_empty(evidence)
    except OperationalError as exc:
        raise BackupError(f"refused: the database does not answer ({exc.orig}); for "
                          "PostgreSQL, create the empty database first (createdb)") from exc
    evidence.parent.mkdir(parents=True, exist_ok=True)
    instance = Path(current_app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=evidence.parent, prefix=".evidence-restoring-"))
    try:
        with tempfile.TemporaryDirectory(dir=instance, prefix=".tracker-restore-") as work:
            dump = Path(work) / "database"

            def destination(name: str) -> Path | None:
                if name == manifest["database_member"]:
                    return dump
                if name.startswith(EVIDENCE_PREFIX):
                    return staging / name[len(EVIDENCE_PREFIX):]
                return None

            archive.extract(Path(path), manifest, destination)
            engines.restore(db.engine, dump, pg_bin=_pg_bin())
        if evidence.exists():
            evidence.rmdir()  # empty, as checked
        os.replace(staging, evidence)
    except ArchiveDamaged as exc:
        raise BackupError(f"refused: {path} is damaged: {exc}") from exc
    except engines.DatabaseError as exc:
        raise BackupError(f"the restore failed and was undone: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _verify_counts(manifest)
    return checked


def _verify_counts(manifest: dict) -> None:
    with db.engine.connect() as conn:
        tables, revision, _evidence = engines.describe(conn)
    expected = manifest.get("tables", {})
    differ = {name: (expected.get(name), tables.get(name))
              for name in set(expected) | set(tables) if expected.get(name) != tables.get(name)}
    if differ or revision != manifest.get("alembic_revision"):
        details = [f"{name}: archive {want}, restored {got}"
                   for name, (want, got) in sorted(differ.items())]
        if revision != manifest.get("alembic_revision"):
            details.append(f"revision: archive {manifest.get('alembic_revision')}, "
                           f"restored {revision}")
        raise RestoreUnverified("the restored database does not match the manifest: "
                                + "; ".join(details))
