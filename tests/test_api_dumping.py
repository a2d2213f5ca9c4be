"""`QuickDump` (tracker.api.dumping) answers exactly as marshmallow's own dump does: for
every task, unit and page of the demo, and for each kind of field it hands back to
marshmallow."""

from __future__ import annotations

import inspect
from datetime import UTC, date, datetime
from types import SimpleNamespace

from marshmallow import Schema, fields
from sqlalchemy import select

from tracker.api.dumping import QuickDump
from tracker.api.schemas import TaskPageSchema, TaskSchema, UnitDetailSchema
from tracker.demo.loader import load_demo
from tracker.extensions import db
from tracker.paging import Page
from tracker.tasks.models import Status, Task
from tracker.units.models import Unit


def _as_marshmallow(monkeypatch, dump):
    """`dump()` with QuickDump switched off: marshmallow's own `_serialize` throughout."""
    with monkeypatch.context() as patched:
        patched.setattr(QuickDump, "_serialize", Schema._serialize)
        return dump()


def test_marshmallow_still_has_the_methods_quick_dump_overrides():
    parameters = inspect.signature(Schema._serialize).parameters
    assert list(parameters) == ["self", "obj", "many"]
    assert parameters["many"].kind is inspect.Parameter.KEYWORD_ONLY
    assert list(inspect.signature(Schema._init_fields).parameters) == ["self"]


def test_every_demo_task_unit_and_page_is_answered_as_marshmallow_answers_it(
        app, clock, monkeypatch):
    load_demo(now=clock())
    db.session.commit()
    tasks = db.session.scalars(select(Task).order_by(Task.id)).unique().all()
    units = db.session.scalars(select(Unit).order_by(Unit.id)).all()
    for task in tasks[:3]:  # the demo assigns none
        task.coordinating_units = [u for u in units if u.id != task.lead_unit_id][:2]
    db.session.commit()
    # The demo holds what the fields must cope with: empty and set dates and times,
    # coordinating units, every colour.
    assert len(tasks) > 20
    assert any(t.coordinating_units for t in tasks)
    assert any(t.submitted_at is None for t in tasks)
    assert any(t.submitted_at is not None for t in tasks)
    assert {t.colour for t in tasks} >= {"green", "yellow", "red"}
    page = Page(items=tasks, page=1, per_page=len(tasks), total=len(tasks),
                total_exact=True)
    for schema, data in ((TaskSchema(many=True), tasks), (TaskPageSchema(), page),
                         (UnitDetailSchema(many=True), units)):
        expected = _as_marshmallow(monkeypatch, lambda s=schema, d=data: type(s)(
            many=s.many).dump(d))
        db.session.expire_all()  # nothing loaded: QuickDump's getattr loads it again
        assert schema.dump(data) == expected
        assert schema.dump(data) == expected  # the plan kept; the values read as loaded


def _kinds(base: type[Schema]) -> type[Schema]:
    class Kinds(base):
        number = fields.Integer(data_key="Number")
        text = fields.String(dump_default="default")
        when = fields.Date(allow_none=True)
        doubled = fields.Function(
            lambda o: 2 * ((o["number"] if isinstance(o, dict) else o.number) or 0))
        named = fields.Method("_named")
        inner = fields.String(attribute="inner.name")
        renamed = fields.String(attribute="label", dump_only=True)
        nested = fields.Nested(UnitLike, allow_none=True)
        at = fields.DateTime(allow_none=True)
        at_rfc = fields.DateTime(format="rfc", attribute="at", dump_only=True)
        at_format = fields.DateTime(format="%d/%m/%Y %H:%M", attribute="at", dump_only=True)

        def _named(self, obj):
            return f"#{obj['number'] if isinstance(obj, dict) else obj.number}"

    return Kinds


class UnitLike(QuickDump):
    id = fields.Integer()
    name = fields.String()


class Plain:
    """Objects read as `object` reads attributes (QuickDump reads their `__dict__`), with
    a property that hides a key of the same name in it, and a class attribute."""

    text = "of the class"

    def __init__(self, **values):
        self.__dict__.update(values)

    @property
    def label(self):
        return f"label of {self.number}"


def test_each_kind_of_field_is_answered_as_marshmallow_answers_it(monkeypatch):
    moment = datetime(2026, 12, 2, 9, 5, 7, 250, tzinfo=UTC)
    objects = [
        SimpleNamespace(number=3, text="ba", label="Ba", when=None, inner=SimpleNamespace(name="x"),
                        nested=SimpleNamespace(id=1, name="Cô Tô"), at=moment),
        Plain(number=8, label="hidden by the property", when=moment.date(), at=None,
              inner=SimpleNamespace(name="p"), nested=Plain(id=3, name="Hạ Long")),
        Plain(number=9, text="tám", when=moment, at=moment.replace(microsecond=0),
              inner=Plain(name="q"), nested=None),
        SimpleNamespace(number=4, inner=SimpleNamespace(name="y"), nested=None),
        # Values the fields convert (a number as text, text as a number, a bool, an enum
        # of text, a float) and None: only a str of a String and an int of an Integer pass
        # unchanged.
        SimpleNamespace(number="7", text=12, label=Status.IN_PROGRESS, when=date(2026, 12, 2),
                        inner=SimpleNamespace(name=None), nested=None),
        SimpleNamespace(number=True, text=None, label=None, inner=SimpleNamespace(name=1.5),
                        nested=SimpleNamespace(id=2.0, name=None)),
        SimpleNamespace(number=None, text="", inner=SimpleNamespace(name=""), nested=None),
        {"number": 5, "text": "năm", "when": None, "inner": {"name": "z"}, "nested": None},
    ]
    plain, quick = _kinds(Schema), _kinds(QuickDump)
    expected = _as_marshmallow(monkeypatch, lambda: plain(many=True).dump(objects))
    # The same values of the same types (1 is not True, a str not an enum of text).
    assert repr(quick(many=True).dump(objects)) == repr(expected)
    assert expected[3]["text"] == "default" and "renamed" not in expected[3]
    assert expected[0]["Number"] == 3 and expected[0]["doubled"] == 6
    assert expected[4]["Number"] == 7 and expected[4]["text"] == "12"
    assert expected[5]["Number"] == 1 and expected[5]["nested"]["id"] == 2
    assert expected[0]["at"] == "2026-12-02T09:05:07.000250+00:00"
    assert expected[0]["at_format"] == "02/12/2026 09:05"
    assert expected[1]["text"] == "of the class" and expected[1]["renamed"] == "label of 8"
    assert expected[2]["when"] == "2026-12-02"  # a Date given a datetime: its date


def test_a_schema_whose_fields_change_after_a_dump_answers_with_its_new_fields():
    unit = SimpleNamespace(id=1, name="Cô Tô")
    schema = UnitLike()
    assert schema.dump(unit) == {"id": 1, "name": "Cô Tô"}
    # Nested copies the instance and narrows its fields (`only`) after it has dumped.
    narrowed = fields.Nested(schema, only=("id",))
    assert narrowed.serialize("unit", SimpleNamespace(unit=unit)) == {"id": 1}
    schema.only = {"name"}
    schema._init_fields()
    assert schema.dump(unit) == {"name": "Cô Tô"}
