"""Revision b169fb9b0cf1 composes the text stored before it (NFD → NFC) and fills the
folded search columns of the rows already there, on SQLite and PostgreSQL: afterwards the
search finds them as it finds rows written since."""

from __future__ import annotations

import unicodedata
import uuid

import pytest
from sqlalchemy import make_url, select, text

from tests.conftest import PG_URL, REQUIRE_PG, _pg_admin_url, make_app
from tests.factories import ict, make_task, make_user
from tracker.extensions import db

BEFORE = "9f26195dcdb9"


def nfd(value: str) -> str:
    return unicodedata.normalize("NFD", value)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    """An empty database of its own (the session's is shared by the other tests)."""
    if request.param == "sqlite":
        yield "sqlite:///" + str(tmp_path / "vi.sqlite3")
        return
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("TRACKER_REQUIRE_POSTGRES=1 but TRACKER_TEST_DATABASE_URL is not set")
        pytest.skip("no PostgreSQL configured")
    import psycopg

    name = f"tracker_vi_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_pg_admin_url(PG_URL), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_URL).set(drivername="postgresql+psycopg", database=name) \
            .render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_pg_admin_url(PG_URL), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_text_stored_before_is_composed_and_found_by_the_search(fresh_url):
    from flask_migrate import downgrade, upgrade

    from tracker.auth.models import User
    from tracker.search import task_matches, unit_matches, user_matches
    from tracker.tasks.models import Task
    from tracker.units.importer import find_province, import_units
    from tracker.units.models import Unit

    app = make_app(fresh_url)
    with app.app_context():
        upgrade()
        import_units([find_province("Quảng Ninh")])
        db.session.commit()
        province = db.session.scalar(select(Unit).where(Unit.code == "22"))
        admin = make_user("admin", "admin", province, full_name="Quản trị")
        db.session.commit()
        task = make_task(admin, province, at=ict(2026, 11, 16, 9, 0), title="Rà soát trụ sở")
        ids = (task.id, admin.id, province.id)
        db.session.remove()
        downgrade(revision=BEFORE)
        with db.engine.begin() as conn:  # as a decomposing keyboard left them
            conn.execute(text("UPDATE tasks SET title = :t, owner_name = :o WHERE id = :id"),
                         {"t": nfd("Đôn đốc giải ngân"), "o": nfd("Chủ tịch UBND"),
                          "id": ids[0]})
            conn.execute(text("UPDATE users SET full_name = :n WHERE id = :id"),
                         {"n": nfd("Nguyễn Thị Hằng"), "id": ids[1]})
            conn.execute(text("UPDATE units SET name = :n WHERE id = :id"),
                         {"n": nfd("Tỉnh Quảng Ninh"), "id": ids[2]})
        upgrade()
        task, user, unit = (db.session.get(Task, ids[0]), db.session.get(User, ids[1]),
                            db.session.get(Unit, ids[2]))
        assert (task.title, task.owner_name) == ("Đôn đốc giải ngân", "Chủ tịch UBND")
        assert user.full_name == "Nguyễn Thị Hằng" and unit.name == "Tỉnh Quảng Ninh"
        assert db.session.scalars(select(Task.id).where(task_matches("don doc"))).all() == \
            [ids[0]]
        assert db.session.scalars(select(User.id).where(user_matches("hang"))).all() == [ids[1]]
        assert ids[2] in db.session.scalars(select(Unit.id).where(unit_matches("QUANG NINH"))).all()
        assert db.session.scalar(select(Unit.search_text).where(Unit.code == "22")) \
            .startswith("tinh quang ninh")
        db.session.remove()
        db.engine.dispose()
