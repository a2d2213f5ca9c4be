"""A backup taken while a member keeps posting updates, the instance destroyed, the archive
restored: every update acknowledged before the backup began is back, every evidence file
comes back with the same bytes, and the restored database is consistent."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tests.backup.conftest import attach_png, png
from tracker.audit.models import AuditEntry
from tracker.auth.models import User
from tracker.auth.tokens import Identity
from tracker.backup import service as backup_service
from tracker.evidence.models import Evidence
from tracker.evidence.service import path_of
from tracker.extensions import db
from tracker.tasks.models import Task
from tracker.updates.models import ProgressUpdate
from tracker.updates.service import post_updates

MAX_UPDATES = 4000
MAX_SECONDS = 90


class Writer(threading.Thread):
    """Posts progress updates through the real service, one transaction each, and every
    tenth one an evidence file; records each one once its commit has returned."""

    def __init__(self, app, member_id: int, task_ids: list[int]):
        super().__init__(daemon=True)
        self.app, self.member_id, self.task_ids = app, member_id, task_ids
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked: list[dict] = []  # updates, in commit order
        self.files: dict[str, bytes] = {}  # evidence written with an acknowledged update
        self.error: BaseException | None = None

    def run(self) -> None:
        deadline = time.monotonic() + MAX_SECONDS
        try:
            with self.app.app_context():
                member = db.session.get(User, self.member_id)
                identity, clock = Identity.of(member), self.app.config["CLOCK"]
                for i in range(MAX_UPDATES):
                    if self.stop.is_set() or time.monotonic() > deadline:
                        break
                    task_id = self.task_ids[i % len(self.task_ids)]
                    work_done = f"Lần cập nhật {i}"
                    [update] = post_updates(identity, [(task_id, {
                        "progress": i % 101, "work_done": work_done})])
                    stored = None
                    if i % 10 == 0:
                        content = png(1000 + i)
                        stored = attach_png(member, db.session.get(Task, task_id), content,
                                            at=clock(), update_id=update["id"]).stored_name
                    db.session.commit()
                    with self.lock:
                        self.acked.append({"id": update["id"], "task_id": task_id,
                                           "progress": i % 101, "work_done": work_done})
                        if stored:
                            self.files[stored] = content
                db.session.remove()
        except BaseException as exc:  # reported by the test
            self.error = exc

    def count(self) -> int:
        with self.lock:
            return len(self.acked)

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.count() < count:
            assert self.error is None, self.error
            assert self.is_alive(), "the writer stopped"
            assert time.monotonic() < deadline, f"only {self.count()} updates in {timeout}s"
            time.sleep(0.01)


def test_a_backup_taken_while_updates_are_written_restores_every_acknowledged_one(
        populated, monkeypatch):
    instance, ids, files = populated
    app = instance.app()
    archive = instance.tmp / "backups" / "tracker.tar.gz"
    writer = Writer(instance.app(), ids["member"], ids["tasks"])
    during = {}

    real_snapshot = backup_service.engines.snapshot

    def snapshot_then_let_writes_happen(*args, **kwargs):
        # The database is copied; the writer carries on while the evidence files are
        # copied after it (20 more updates and 2 more files).
        taken = real_snapshot(*args, **kwargs)
        during["at_snapshot"] = writer.count()
        writer.wait_for(writer.count() + 20)
        return taken

    monkeypatch.setattr(backup_service.engines, "snapshot", snapshot_then_let_writes_happen)
    writer.start()
    try:
        writer.wait_for(50)
        with writer.lock:
            before = list(writer.acked)
            files.update(writer.files)
        result = app.test_cli_runner().invoke(
            args=["tracker", "backup", "--output", str(archive)])
        after_backup = writer.count()
        writer.wait_for(after_backup + 10)  # still writing after it
    finally:
        writer.stop.set()
        writer.join(30)
    assert writer.error is None, writer.error
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == str(archive)
    assert after_backup >= during["at_snapshot"] + 20 > len(before)
    all_acked = {u["id"]: u for u in writer.acked}

    instance.destroy()
    assert not instance.evidence.exists()

    restored = instance.app()
    with restored.app_context():
        runner = restored.test_cli_runner()
        result = runner.invoke(args=["tracker", "restore", str(archive)])
        assert result.exit_code == 0, result.output
        assert "Restored and verified" in result.output

        updates = {u.id: u for u in db.session.scalars(select(ProgressUpdate))}
        for acked in before:  # every update acknowledged before the backup began
            update = updates.get(acked["id"])
            assert update is not None, f"acknowledged update {acked['id']} lost"
            assert (update.task_id, update.progress, update.work_done) == (
                acked["task_id"], acked["progress"], acked["work_done"])
        assert set(updates) <= set(all_acked)  # and nothing that never was
        _assert_consistent(updates)

        for stored_name, content in files.items():  # every file acknowledged before
            path = instance.evidence / stored_name
            assert path.read_bytes() == content, stored_name
        for evidence in db.session.scalars(select(Evidence)):  # no reference without file
            content = path_of(evidence).read_bytes()
            assert hashlib.sha256(content).hexdigest() == evidence.sha256

        check = runner.invoke(args=["tracker", "colours", "check"])
        assert check.exit_code == 0, check.output

        # The audit trail is still one the database refuses to change.
        db.session.rollback()
        with pytest.raises(DBAPIError, match="audit rows are never changed"), \
                db.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_entries"))


def _assert_consistent(updates: dict[int, ProgressUpdate]) -> None:
    """Each update has its audit rows and each audit row of an update its update; each
    task's progress is that of its last update."""
    notes = db.session.scalars(select(AuditEntry.note)
                               .where(AuditEntry.action == "progress_update"))
    assert {int(note.removeprefix("update #")) for note in notes} == set(updates)
    last: dict[int, ProgressUpdate] = {}
    for update in sorted(updates.values(), key=lambda u: u.id):
        last[update.task_id] = update
    for task in db.session.scalars(select(Task).where(Task.id.in_(last))):
        assert task.progress == last[task.id].progress
