"""A task's folded search text holds its lead and coordinating units' names (issue 14: one
trigram-indexed condition answers every task search at national size). It follows every
change of the units the task names — created, reassigned, coordinating units changed, a unit
renamed — and the migration fills it for the tasks stored before, the same way."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from tests.factories import ict, make_department, make_task
from tests.test_migration_vietnamese_text import fresh_url  # noqa: F401 (a fixture)
from tracker.departments.service import rename_department
from tracker.extensions import db
from tracker.rules.vietnamese import fold_fields
from tracker.search import task_matches
from tracker.tasks.editing import reassign_task, update_task
from tracker.tasks.models import SEARCHED_FIELDS, Task, TaskSearchText, search_text_of

AT = ict(2026, 11, 16, 9, 0)


def stored(task: Task) -> str:
    return db.session.scalar(select(TaskSearchText.search_text)
                             .where(TaskSearchText.task_id == task.id))


def found(q: str) -> list[int]:
    return list(db.session.scalars(select(Task.id).where(task_matches(q)).order_by(Task.id)))


def test_a_task_is_found_by_its_lead_and_coordinating_units_names(users, units):
    task = make_task(users["admin"], units["ha_long"], at=AT, title="Rà soát trụ sở",
                     coordinating_unit_ids=[units["co_to"].id])
    other = make_task(users["admin"], units["co_to"], at=AT, title="Đôn đốc giải ngân")
    assert stored(task) == fold_fields(
        *(getattr(task, f) for f in SEARCHED_FIELDS), "Phường Hạ Long", "Đặc khu Cô Tô")
    assert found("ha long") == [task.id]
    assert found("CÔ TÔ") == [task.id, other.id]
    assert found("dac khu co to\nra soat") == []  # never across two fields


def test_the_text_follows_a_reassignment_and_the_coordinating_units(users, units):
    task = make_task(users["admin"], units["ha_long"], at=AT,
                     coordinating_unit_ids=[units["co_to"].id])
    reassign_task(users["admin"], task, {"lead_unit_id": units["co_to"].id}, now=AT)
    db.session.commit()
    assert found("ha long") == [] and found("co to") == [task.id]
    update_task(users["admin"], task, {"coordinating_unit_ids": [units["ha_long"].id]}, now=AT)
    db.session.commit()
    assert found("ha long") == [task.id]
    update_task(users["admin"], task, {"coordinating_unit_ids": []}, now=AT)
    db.session.commit()
    assert found("ha long") == []


def test_a_renamed_department_is_found_by_its_new_name_only(users, units):
    department = make_department(units["province"], "Sở Tài chính", users["admin"])
    db.session.commit()
    led = make_task(users["admin"], department, at=AT)
    helped = make_task(users["admin"], units["ha_long"], at=AT,
                       coordinating_unit_ids=[department.id])
    make_task(users["admin"], units["co_to"], at=AT)
    assert found("so tai chinh") == [led.id, helped.id]
    rename_department(users["admin"], department, "Sở Tài chính – Kế hoạch", now=AT)
    db.session.commit()
    assert found("ke hoach") == [led.id, helped.id]
    assert found("so tai chinh –") == [led.id, helped.id]
    db.session.expire_all()
    for task in (led, helped):  # stored as the write path computes it
        assert stored(task) == search_text_of(task)


def test_the_migration_fills_the_units_names_of_tasks_stored_before(fresh_url):  # noqa: F811
    from flask_migrate import downgrade, upgrade

    from tests.conftest import make_app
    from tests.factories import make_user
    from tracker.units.importer import find_province, import_units
    from tracker.units.models import Unit

    app = make_app(fresh_url)
    with app.app_context():
        upgrade()
        import_units([find_province("Quảng Ninh")])
        db.session.commit()
        by_code = {u.short_name: u for u in db.session.scalars(select(Unit))}
        admin = make_user("admin", "admin", by_code["quang_ninh"])
        db.session.commit()
        tasks = [make_task(admin, by_code["ha_long"], at=AT, title="Rà soát trụ sở",
                           coordinating_unit_ids=[by_code["co_to"].id, by_code["van_don"].id]),
                 make_task(admin, by_code["co_to"], at=AT, title="Đôn đốc giải ngân")]
        expected = {task.id: stored(task) for task in tasks}
        db.session.remove()
        downgrade(revision="b169fb9b0cf1")
        with db.engine.connect() as conn:  # the old text: the task's own fields only
            before = dict(conn.execute(text("SELECT id, search_text FROM tasks")).all())
        assert all("phuong ha long" not in value for value in before.values())
        upgrade()
        with db.engine.connect() as conn:  # in a table of its own since d7f3b9e2a4c6
            after = dict(conn.execute(text("SELECT task_id, search_text "
                                           "FROM task_search_texts")).all())
        assert after == expected
        assert found("van don") == [tasks[0].id]
        db.session.remove()
        db.engine.dispose()


def test_the_task_lists_order_is_read_from_its_index_on_postgresql(users, units):
    """The page of the nation's task list, worst first, with or without a search, can be
    read from ix_tasks_worst_first in its order (PostgreSQL walks it and stops at the page
    when the search is common): the query's order is the index's expression, constants and
    all. A list narrowed to some units is read as a set first and sorted
    (`listing.in_order`): its tasks lie in runs of that order."""
    from tests.factories import make_user
    from tracker.scope import visible_tasks
    from tracker.tasks.listing import TaskFilter, in_order
    from tracker.tasks.models import worst_first

    if db.engine.dialect.name != "postgresql":
        return  # SQLite has the same index; its planner is not what this pins
    make_task(users["admin"], units["ha_long"], at=AT, title="Rà soát trụ sở")
    nation = make_user("nation_admin", "admin", units["nation"])

    def plan(user, q):
        chosen = TaskFilter(q=q)
        query = in_order(chosen.apply(visible_tasks(user)), worst_first,
                         narrow=chosen.narrow(user)).limit(50)
        compiled = query.compile(db.engine, compile_kwargs={"render_postcompile": True})
        connection = db.session.connection()
        connection.exec_driver_sql("SET LOCAL enable_sort = off")
        connection.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        return "\n".join(row[0] for row in connection.exec_driver_sql(
            "EXPLAIN " + str(compiled), compiled.params))

    for q in ("", "ra soat"):
        walked = plan(nation, q)
        assert "ix_tasks_worst_first" in walked and "Sort" not in walked.split("SubPlan")[0], \
            walked
        narrowed = plan(users["ha_long"], q)
        assert "ix_tasks_worst_first" not in narrowed and "Sort" in narrowed, narrowed
    db.session.rollback()


def test_a_progress_update_and_the_cutoff_leave_the_search_text_row_alone(users, units):
    """The folded text has its own table (TaskSearchText), so that the writes of every day —
    progress, colours — never write its trigram index: PostgreSQL's row version (xmin) of a
    task's text stays the same through an update and a cutoff that recolours the task, and
    changes when the title does. The table is never scanned in parallel."""
    from datetime import date

    from tests.factories import cutoff_through
    from tracker.updates.service import post_update

    if db.engine.dialect.name != "postgresql":
        pytest.skip("row versions and storage parameters are PostgreSQL's")
    task = make_task(users["admin"], units["ha_long"], at=AT, title="Rà soát trụ sở")

    def version() -> tuple[str, str]:
        row = db.session.execute(text(
            "SELECT xmin::text, search_text FROM task_search_texts WHERE task_id = :id"),
            {"id": task.id}).one()
        db.session.rollback()
        return tuple(row)

    first = version()
    post_update(users["ha_long"], task, {"progress": 40, "work_done": "Đang làm"},
                now=ict(2026, 11, 16, 10, 0))
    db.session.commit()
    updated = db.session.get(Task, task.id)
    before = (updated.progress, updated.colour, updated.colour_reason)
    db.session.rollback()
    cutoff_through(date(2026, 11, 17), ict(2026, 11, 17, 16, 5))
    recoloured = db.session.get(Task, task.id)
    assert before[0] == 40 and (recoloured.colour, recoloured.colour_reason) != before[1:], \
        "the cutoff recolours the task (no update on the 17th)"
    db.session.rollback()
    assert version() == first
    update_task(users["admin"], task, {"title": "Đôn đốc giải ngân"}, now=AT)
    db.session.commit()
    assert version()[0] != first[0] and "don doc giai ngan" in version()[1]
    options = db.session.scalar(text(
        "SELECT reloptions FROM pg_class WHERE relname = 'task_search_texts'"))
    assert "parallel_workers=0" in options
