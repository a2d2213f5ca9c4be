"""marshmallow's dump of the API's biggest answers, with the per-field lookups worked out once
per schema rather than for every field of every object.

A page of 100 tasks is about 3,600 fields. For each, marshmallow's `Schema._serialize` asks
the field to `serialize`, which asks the schema's `get_attribute`, which asks
`marshmallow.utils.get_value`, which looks for a dotted name and for `__getitem__` before it
calls `getattr` — four calls before the field's own conversion (`Field._serialize`). For a
plain field on a plain object, `QuickDump` calls `getattr` and that conversion directly
(none at all for a value the conversion gives back unchanged: a `str` of a `String`, an
`int` of an `Integer`, None), and applies `dump_default` and `data_key` as marshmallow
does. Anything else is left to
marshmallow: a field that reads its value its own way (overrides `serialize` or
`get_value`, or has no attribute to read, e.g. `fields.Function`), a dotted `attribute`, a
schema with its own `get_attribute`, and an object read by key (a dict, a row).

Two more shortcuts, each giving what marshmallow's own steps give:

- A value `getattr` would read from the object's `__dict__` is read from it: an ORM
  object's loaded column or relationship (SQLAlchemy's `InstrumentedAttribute.__get__`
  answers `__dict__[key]` when the key is there), or a plain attribute that the class
  does not define. A value not there (an expired column, a class attribute), an attribute
  the class defines otherwise (a property), and an object whose class reads attributes its
  own way (`__getattribute__`) are read by `getattr`.
- A `Date` or `DateTime` converts a value by calling its format's function
  (`SERIALIZATION_FUNCS`, `date.isoformat` for ISO) on it, as `_TemporalField._serialize`
  does, without the method calls around it.

It overrides two private methods of marshmallow: `Schema._serialize`, and `_init_fields` to
work the plan out again when the fields change. tests/test_api_dumping.py checks that both
still exist (marshmallow is pinned in requirements/constraints.txt), and proves the answers
equal to marshmallow's own for every field of real tasks, units and pages.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

from marshmallow import Schema, fields, missing
from sqlalchemy.orm.attributes import InstrumentedAttribute


class _Step(NamedTuple):
    key: str  # in the answer (the field's data_key, or its name)
    name: str  # the field's name in the schema
    attribute: str | None  # read with getattr; None: the field reads it itself
    field: fields.Field
    same: type | None  # the values the field would dump as they are (and None as None)
    convert: Callable[[Any], Any] | None  # the field's conversion of a value (None as None)
    direct: bool  # the value may be read from the object's __dict__ (`_reads_dict`)


_TEMPORAL = fields.DateTime._serialize  # marshmallow's `_TemporalField._serialize`


def _convert(field: fields.Field) -> Callable[[Any], Any] | None:
    """The function a `Date` or `DateTime` field converts a value with: its format's
    (`_TemporalField._serialize` answers None for None, else `function(value)`). Only for
    those classes themselves, whose conversion is known."""
    kind = type(field)
    if kind not in (fields.Date, fields.DateTime) or kind._serialize is not _TEMPORAL:
        return None
    return kind.SERIALIZATION_FUNCS.get(field.format or kind.DEFAULT_FORMAT)


def _reads_dict(kind: type, attribute: str) -> bool:
    """Whether `getattr(obj, attribute)` answers `obj.__dict__[attribute]` whenever that key
    is there, for objects of class `kind`: the class reads attributes as `object` does,
    and defines `attribute` not at all or as an ORM attribute that answers its loaded
    value from `__dict__`."""
    if kind.__getattribute__ is not object.__getattribute__:
        return False
    defined = inspect.getattr_static(kind, attribute, missing)
    if defined is missing:
        return True
    return isinstance(defined, InstrumentedAttribute) and defined.impl.supports_population


def _same(field: fields.Field) -> type | None:
    """The type whose values `field` dumps unchanged: a `String`'s `str`, an `Integer`'s
    `int` (marshmallow's `ensure_text_type` and `int` of one give it back), each with None
    dumped as None. Only for those classes themselves, whose conversion is known."""
    if type(field) is fields.String:
        return str
    if type(field) is fields.Integer and not field.as_string:
        return int
    return None


def _plain(field: fields.Field) -> bool:
    """Whether `field` reads its value as marshmallow's `Field.serialize` does."""
    kind = type(field)
    return (kind.serialize is fields.Field.serialize
            and kind.get_value is fields.Field.get_value
            and field._CHECK_ATTRIBUTE
            and "." not in (field.attribute or ""))


class QuickDump(Schema):
    """A marshmallow schema whose dump reads plain fields of plain objects directly."""

    # The steps of a dump, worked out on the first dump of an object of each class (per
    # instance of the schema; emptied by `_init_fields`, which its __init__ runs).
    _steps: dict[type, tuple[_Step, ...]]

    def _plan(self, kind: type) -> tuple[_Step, ...]:
        """The steps of a dump of a `kind` object; none (marshmallow's own dump) for a
        schema that reads values its own way."""
        if type(self).get_attribute is not Schema.get_attribute:
            return ()
        steps = []
        for name, field in self.dump_fields.items():
            attribute = (field.attribute or name) if _plain(field) else None
            steps.append(_Step(field.data_key if field.data_key is not None else name, name,
                               attribute, field, _same(field), _convert(field),
                               attribute is not None and _reads_dict(kind, attribute)))
        return tuple(steps)

    def _init_fields(self) -> None:
        super()._init_fields()
        self._steps = {}  # worked out again: `only` or `exclude` changed (a Nested's copy)

    def _serialize(self, obj: Any, *, many: bool = False):
        if many and obj is not None:
            return [self._serialize(item) for item in obj]
        kind = type(obj)
        steps = self._steps.get(kind)
        if steps is None:
            steps = self._steps[kind] = self._plan(kind)
        if not steps or hasattr(obj, "__getitem__"):  # read by key, as marshmallow does
            return super()._serialize(obj)
        values = getattr(obj, "__dict__", {})
        answer = self.dict_class()
        for key, name, attribute, field, same, convert, direct in steps:
            if attribute is None:
                value = field.serialize(name, obj, accessor=self.get_attribute)
            else:
                value = values.get(attribute, missing) if direct else missing
                if value is missing:
                    value = getattr(obj, attribute, missing)
                if value is missing:
                    value = field.dump_default() if callable(field.dump_default) \
                        else field.dump_default
                    if value is missing:
                        continue
                if same is None and convert is None:
                    value = field._serialize(value, name, obj)
                elif value is not None and type(value) is not same:  # None dumps as None
                    value = convert(value) if convert is not None \
                        else field._serialize(value, name, obj)
            if value is not missing:
                answer[key] = value
        return answer
