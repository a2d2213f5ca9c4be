"""What `tracker restore` refuses — a damaged archive, one made for the other database or by
a newer Tracker, an instance that is not empty — before it changes anything; and what a
backup that cannot finish leaves behind: no archive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.backup.conftest import rewrite
from tracker.backup import service as backup_service
from tracker.extensions import db
from tracker.tasks.models import Task


def _backup(instance, name: str = "tracker.tar.gz") -> Path:
    archive = instance.tmp / "backups" / name
    result = instance.app().test_cli_runner().invoke(
        args=["tracker", "backup", "--output", str(archive)])
    assert result.exit_code == 0, result.output
    return archive


def _restore(instance, archive: Path, *extra: str):
    return instance.app().test_cli_runner().invoke(
        args=["tracker", "restore", str(archive), *extra])


def _assert_refused(result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.output, result.output


def _assert_nothing_restored(instance) -> None:
    app = instance.app()
    with app.app_context():
        from tracker.backup.engines import is_empty

        assert is_empty(db.engine)
    assert not instance.evidence.exists() or not any(instance.evidence.iterdir())


@pytest.fixture
def backed_up(populated):
    """A populated instance, its archive, and the instance destroyed: ready to restore."""
    instance, _ids, files = populated
    archive = _backup(instance)
    instance.destroy()
    return instance, archive, files


def test_an_intact_archive_restores_and_check_changes_nothing(backed_up):
    instance, archive, files = backed_up
    assert archive.stat().st_mode & 0o777 == 0o600  # it holds password hashes
    check = _restore(instance, archive, "--check")
    assert check.exit_code == 0 and "Intact" in check.output, check.output
    _assert_nothing_restored(instance)
    assert _restore(instance, archive).exit_code == 0
    assert {p.name: p.read_bytes() for p in instance.evidence.iterdir()} == files


@pytest.mark.parametrize("name", ["tracker.tar.gz", "tracker.tar"])
def test_a_truncated_archive_is_refused(populated, name):
    instance, _ids, _files = populated
    archive = _backup(instance, name)
    instance.destroy()
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) * 2 // 3])
    _assert_refused(_restore(instance, archive), "damaged")
    _assert_nothing_restored(instance)


def test_a_changed_member_is_refused(backed_up):
    instance, archive, files = backed_up
    name = "evidence/" + sorted(files)[0]

    def flip_a_byte(members):
        data = bytearray(members[name])
        data[-1] ^= 0xFF
        members[name] = bytes(data)

    damaged = rewrite(archive, instance.tmp / "changed.tar.gz", flip_a_byte)
    _assert_refused(_restore(instance, damaged), "damaged", "checksum mismatch", name)
    _assert_nothing_restored(instance)


def test_a_changed_database_is_refused(backed_up):
    instance, archive, _files = backed_up

    def truncate_database(members):
        name = next(n for n in members if n.startswith("database/"))
        members[name] = members[name][:-4096]

    damaged = rewrite(archive, instance.tmp / "changed.tar.gz", truncate_database)
    _assert_refused(_restore(instance, damaged), "checksum mismatch")
    _assert_nothing_restored(instance)


def test_a_missing_member_is_refused(backed_up):
    instance, archive, files = backed_up
    name = "evidence/" + sorted(files)[1]
    damaged = rewrite(archive, instance.tmp / "missing.tar.gz",
                      lambda members: members.pop(name))
    _assert_refused(_restore(instance, damaged), "missing", name)
    _assert_nothing_restored(instance)


def _with_manifest(archive: Path, target: Path, **changes) -> Path:
    def change(members):
        manifest = json.loads(members["manifest.json"])
        manifest.update(changes)
        members["manifest.json"] = json.dumps(manifest).encode()

    return rewrite(archive, target, change)


def test_an_archive_from_a_newer_schema_is_refused(backed_up):
    instance, archive, _files = backed_up
    newer = _with_manifest(archive, instance.tmp / "newer.tar.gz",
                           alembic_revision="ffffffffffff", app_version="9.0.0")
    _assert_refused(_restore(instance, newer), "ffffffffffff", "newer Tracker")
    _assert_nothing_restored(instance)


def test_an_archive_of_the_other_kind_of_database_is_refused(backed_up):
    instance, archive, _files = backed_up
    other = "postgresql" if instance.kind == "sqlite" else "sqlite"
    mismatched = _with_manifest(archive, instance.tmp / "other.tar.gz", database_kind=other)
    _assert_refused(_restore(instance, mismatched), f"holds a {other} database",
                    "no conversion")
    _assert_nothing_restored(instance)


def test_a_restore_into_a_database_that_is_not_empty_is_refused(populated):
    instance, _ids, files = populated
    archive = _backup(instance)
    app = instance.app()
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Task))
        db.session.rollback()
        _assert_refused(_restore(instance, archive), "database is not empty")
        assert db.session.scalar(select(func.count()).select_from(Task)) == before == 4
    assert {p.name: p.read_bytes() for p in instance.evidence.iterdir()} == files

    instance.destroy()
    instance.migrate()  # the schema without rows is not an empty database either
    _assert_refused(_restore(instance, archive), "database is not empty")
    assert not instance.evidence.exists()


def test_a_restore_beside_evidence_files_is_refused(backed_up):
    instance, archive, _files = backed_up
    instance.evidence.mkdir()
    (instance.evidence / "left-over").write_bytes(b"x")
    _assert_refused(_restore(instance, archive), "evidence folder", "not empty")
    _assert_nothing_restored_but_the_file(instance)


def _assert_nothing_restored_but_the_file(instance) -> None:
    app = instance.app()
    with app.app_context():
        from tracker.backup.engines import is_empty

        assert is_empty(db.engine)
    assert [p.name for p in instance.evidence.iterdir()] == ["left-over"]


def test_a_backup_that_fails_half_way_leaves_no_archive(populated, monkeypatch):
    instance, _ids, _files = populated
    folder = instance.tmp / "backups"
    folder.mkdir()

    def fail(*_args, **_kwargs):
        raise OSError("disk full (simulated) while copying the evidence files")

    # The database is already in the partial archive when this fails.
    monkeypatch.setattr(backup_service, "_add_evidence", fail)
    result = instance.app().test_cli_runner().invoke(
        args=["tracker", "backup", "--output", str(folder / "tracker.tar.gz")])
    assert result.exit_code != 0
    assert list(folder.iterdir()) == []


def test_an_existing_archive_is_never_overwritten(populated):
    instance, _ids, _files = populated
    archive = _backup(instance)
    before = archive.read_bytes()
    result = instance.app().test_cli_runner().invoke(
        args=["tracker", "backup", "--output", str(archive)])
    _assert_refused(result, "already exists")
    assert archive.read_bytes() == before


def test_a_missing_evidence_file_is_reported_and_the_rest_restores(populated):
    instance, _ids, files = populated
    lost = sorted(files)[0]
    (instance.evidence / lost).unlink()
    archive = instance.tmp / "backups" / "tracker.tar.gz"
    result = instance.app().test_cli_runner().invoke(
        args=["tracker", "backup", "--output", str(archive)])
    assert result.exit_code == 1 and lost in result.output, result.output
    instance.destroy()
    assert _restore(instance, archive).exit_code == 0
    assert sorted(p.name for p in instance.evidence.iterdir()) == sorted(set(files) - {lost})


def test_a_folder_for_the_archives_is_made_and_a_name_that_is_no_archive_refused(populated):
    instance, _ids, _files = populated
    runner = instance.app().test_cli_runner()
    folder = instance.tmp / "new" / "backups"
    result = runner.invoke(args=["tracker", "backup", "--output", f"{folder}/"])
    assert result.exit_code == 0, result.output
    [archive] = folder.iterdir()
    assert archive.name.startswith("tracker-") and archive.name.endswith(".tar.gz")
    assert result.output.strip().splitlines()[-1] == str(archive)
    result = runner.invoke(args=["tracker", "backup", "--output", str(folder / "b.zip")])
    _assert_refused(result, ".tar.gz")
    assert list(folder.iterdir()) == [archive]
