"""An instance of its own for each backup test — its database (a SQLite file, or a
PostgreSQL database created for the test and dropped after it) and its evidence folder —
which the test may destroy and restore into."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import make_url
from werkzeug.datastructures import FileStorage

from tests.conftest import PG_URL, REQUIRE_PG, _backends, _pg_admin_url, make_app
from tests.factories import ict, make_task, make_user
from tracker.extensions import db

PNG = b"\x89PNG\r\n\x1a\n"


@dataclass
class Instance:
    kind: str
    url: str
    evidence: Path
    tmp: Path
    apps: list = field(default_factory=list)

    def app(self):
        """A new app on this instance (a new engine, as a new process would have)."""
        app = make_app(self.url, TRACKER_EVIDENCE_PATH=str(self.evidence))
        self.apps.append(app)
        return app

    def close(self) -> None:
        """Close every connection the apps made."""
        for app in self.apps:
            with app.app_context():
                db.engine.dispose()

    def migrate(self) -> None:
        from flask_migrate import upgrade

        app = self.app()
        with app.app_context():
            upgrade()
            db.engine.dispose()

    def destroy(self) -> None:
        """The database and the evidence files are gone; an empty database (PostgreSQL: the
        configured one, created again) is what is left to restore into."""
        import shutil

        self.close()
        if self.kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{make_url(self.url).database}{suffix}").unlink(missing_ok=True)
        else:
            _recreate(self.url)
        shutil.rmtree(self.evidence, ignore_errors=True)


def _pg_name(url: str) -> str:
    return make_url(url).database


def _recreate(url: str) -> None:
    import psycopg

    with psycopg.connect(_pg_admin_url(PG_URL), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{_pg_name(url)}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{_pg_name(url)}"')


@pytest.fixture(params=_backends())
def instance(request, tmp_path):
    """A fresh, migrated instance of the backend's kind."""
    if request.param == "postgresql-missing":
        pytest.fail("TRACKER_REQUIRE_POSTGRES=1 but TRACKER_TEST_DATABASE_URL is not set")
    evidence = tmp_path / "evidence"
    if request.param == "sqlite":
        (tmp_path / "db").mkdir()
        made = Instance("sqlite", "sqlite:///" + str(tmp_path / "db" / "tracker.sqlite3"),
                        evidence, tmp_path)
        made.migrate()
        yield made
        made.close()
        return
    import psycopg

    name = f"tracker_backup_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(_pg_admin_url(PG_URL), autocommit=True, connect_timeout=5) as a:
            a.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    url = make_url(PG_URL).set(drivername="postgresql+psycopg", database=name) \
        .render_as_string(hide_password=False)
    made = Instance("postgresql", url, evidence, tmp_path)
    try:
        made.migrate()
        yield made
    finally:
        made.close()
        with psycopg.connect(_pg_admin_url(PG_URL), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def png(n: int) -> bytes:
    """A distinct small PNG-typed file."""
    return PNG + hashlib.sha256(str(n).encode()).digest() * 64 + os.urandom(16)


def attach_png(member, task, content: bytes, *, at, update_id=None):
    from tracker.evidence.service import attach_file

    return attach_file(member, task, FileStorage(io.BytesIO(content), filename="anh.png"),
                       now=at, update_id=update_id)


@pytest.fixture
def populated(instance):
    """Quảng Ninh's units, an admin, a member of Hạ Long, four of its tasks and three
    evidence files; returns the instance and the ids and files made."""
    from tracker.units.importer import find_province, import_units
    from tracker.units.models import Unit

    app = instance.app()
    with app.app_context():
        import_units([find_province("Quảng Ninh")])
        db.session.commit()
        province = db.session.query(Unit).filter_by(short_name="quang_ninh").one()
        ha_long = db.session.query(Unit).filter_by(short_name="ha_long").one()
        admin = make_user("admin", "admin", province)
        member = make_user("ha_long", "member", ha_long)
        db.session.commit()
        tasks = [make_task(admin, ha_long, at=ict(2026, 11, 13, 9, 0)) for _ in range(4)]
        files = {}
        for n, task in enumerate(tasks[:3]):
            content = png(n)
            evidence = attach_png(member, task, content, at=ict(2026, 11, 16, 9, n))
            db.session.commit()
            files[evidence.stored_name] = content
        ids = {"member": member.id, "tasks": [t.id for t in tasks]}
        db.session.remove()
        db.engine.dispose()
    return instance, ids, files


def rewrite(archive: Path, target: Path, change) -> Path:
    """A copy of `archive` with `change(members)` applied to its {name: bytes} first."""
    with tarfile.open(archive, "r:*") as tar:
        members = {info.name: tar.extractfile(info).read() for info in tar}
    change(members)
    with tarfile.open(target, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return target
