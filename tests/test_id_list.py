"""`tracker.types.id_list`, the SQL form that reads a list of ids as one value of a row,
answers what the rule says on SQLite and PostgreSQL: `Task.coordinating_unit_ids` is a
task's coordinating units in Vietnamese order of their names (`vietnamese.sort_key`), then
by id — read with a page of tasks (undeferred) or alone (loaded when first asked)."""

from __future__ import annotations

import random

from sqlalchemy import select
from sqlalchemy.orm import undefer

from tests.factories import make_task
from tracker.extensions import db
from tracker.rules.vietnamese import sort_key
from tracker.tasks.models import Task, task_coordinating_units
from tracker.types import id_list
from tracker.units.models import Unit


def _expected(task_id: int) -> list[int]:
    """The rule in Python: the task's coordinating units by name in Vietnamese, then id."""
    links = task_coordinating_units.c
    found = db.session.execute(select(Unit.id, Unit.name).join(
        task_coordinating_units, links.unit_id == Unit.id).where(links.task_id == task_id))
    return [unit_id for unit_id, name in sorted(found, key=lambda u: (sort_key(u[1]), u[0]))]


def test_a_tasks_coordinating_unit_ids_are_its_units_in_vietnamese_order(app, units, users):
    communes = [u for u in units.values() if u.kind == "commune"]
    rng = random.Random(15)
    # Two communes with the same name: the tie is broken by id.
    communes[1].name = communes[2].name
    db.session.commit()
    made = []
    for count in (0, 1, 2, 3, 7, 0, 1, 5):
        lead = rng.choice(communes)
        others = rng.sample([u for u in communes if u.id != lead.id], count)
        if count >= 3:  # the two namesakes, in the order that ids would not give
            others = [u for u in others if u not in communes[1:3]] + [communes[2], communes[1]]
        made.append(make_task(users["admin"], lead,
                              coordinating_unit_ids=[u.id for u in others]))
    expected = {task.id: _expected(task.id) for task in made}
    assert any(len(ids) >= 3 for ids in expected.values())
    assert any(ids and ids != sorted(ids) for ids in expected.values())
    assert any(not ids for ids in expected.values())
    db.session.expunge_all()

    # Read with a page of tasks: one statement for the page and every list.
    paged = db.session.execute(select(Task.id, Task.coordinating_unit_ids)
                               .where(Task.id.in_(expected)).order_by(Task.id)).all()
    assert dict(paged) == expected
    db.session.expunge_all()
    loaded = db.session.scalars(select(Task).where(Task.id.in_(expected))
                                .options(undefer(Task.coordinating_unit_ids))).all()
    assert {task.id: task.__dict__["coordinating_unit_ids"] for task in loaded} == expected
    db.session.expunge_all()
    # Read alone: loaded when asked, the same as the relationship's own order.
    for task_id, ids in expected.items():
        task = db.session.get(Task, task_id)
        assert "coordinating_unit_ids" not in task.__dict__
        assert task.coordinating_unit_ids == ids
        assert sorted(task.coordinating_unit_ids) == sorted(u.id for u in
                                                            task.coordinating_units)


def test_an_id_list_of_nothing_is_an_empty_list_and_keeps_a_selects_order(app, units):
    ordered = [u.id for u in units.values()][:5]
    chosen = select(Unit.id).where(Unit.id.in_(ordered))
    assert db.session.scalar(select(id_list(chosen.order_by(Unit.id.desc())))) \
        == sorted(ordered, reverse=True)
    assert db.session.scalar(select(id_list(chosen.order_by(Unit.id)))) == sorted(ordered)
    assert db.session.scalar(select(id_list(chosen.where(Unit.id < 0)))) == []
