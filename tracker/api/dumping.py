"""marshmallow's dump of the API's biggest answers, with the per-field lookups worked out once
per schema and class rather than for every field of every object.

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

The steps of a dump are worked out once per schema and class, and written out as one
Python function (`_compiled`: each field's choices already made, no loop over the fields
and no test of what kind each is), which answers every later dump of an object of that
class. Three more shortcuts, each giving what marshmallow's own steps give:

- A value `getattr` would read from the object's `__dict__` is read from it: an ORM
  object's loaded column or relationship (SQLAlchemy's `InstrumentedAttribute.__get__`
  answers `__dict__[key]` when the key is there), or a plain attribute that the class
  does not define. When every such value is there (an ORM object loaded whole), they are
  taken at once by one `operator.itemgetter`; when one is not (an expired column, a class
  attribute), each value is read on its own, by `getattr` where `__dict__` lacks it. An
  attribute the class defines otherwise (a property), and an object whose class reads
  attributes its own way (`__getattribute__`), are read by `getattr`.
- A `Date` or `DateTime` converts a value by calling its format's function
  (`SERIALIZATION_FUNCS`, `date.isoformat` for ISO) on it, as `_TemporalField._serialize`
  does, without the method calls around it.
- A `Nested` field (or a `List` of one) whose schema is a `QuickDump` with no dump hooks
  calls that schema's `_serialize`, which is all `Nested._serialize` and `Schema.dump`
  come to for it.

It overrides two private methods of marshmallow: `Schema._serialize`, and `_init_fields` to
work the plan out again when the fields change. tests/test_api_dumping.py checks that both
still exist (marshmallow is pinned in requirements/constraints.txt), and proves the answers
equal to marshmallow's own for every field of real tasks, units and pages, loaded whole
and expired.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from operator import itemgetter
from typing import Any, NamedTuple

from marshmallow import Schema, fields, missing
from marshmallow.decorators import POST_DUMP, PRE_DUMP
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


def _nested(field: fields.Field) -> Callable[[Any], Any] | None:
    """The conversion of a `Nested` field, or a `List` of one, whose schema is a
    `QuickDump` with no dump hooks: that schema's own `_serialize`, as
    `Nested._serialize` reaches it through `Schema.dump` (which, without hooks, only
    calls it). Only for those classes themselves, whose conversion is known."""
    inner = field.inner if type(field) is fields.List else field
    if type(inner) is not fields.Nested:
        return None
    schema = inner.schema
    if not isinstance(schema, QuickDump) or schema._hooks[PRE_DUMP] \
            or schema._hooks[POST_DUMP]:
        return None
    many = schema.many or inner.many
    if inner is field:
        return lambda value: schema._serialize(value, many=many)
    return lambda values: [None if value is None else schema._serialize(value, many=many)
                           for value in values]


def _converted(i: int, step: _Step, value: str) -> list[str]:
    """The lines that convert `value` (a present value) as step `i`'s field does and put
    it in the answer."""
    key, name = repr(step.key), repr(step.name)
    if step.same is None and step.convert is None:
        return [f"{value} = field{i}._serialize({value}, {name}, obj)",
                f"if {value} is not MISSING: answer[{key}] = {value}"]
    if step.convert is not None:  # None dumps as None, anything else is converted
        return [f"answer[{key}] = None if {value} is None else convert{i}({value})"]
    return [f"answer[{key}] = {value} if {value} is None or type({value}) is same{i}"
            f" else field{i}._serialize({value}, {name}, obj)"]


def _read(i: int, step: _Step) -> list[str]:
    """The lines that read step `i`'s value as `value` and put it in the answer as
    marshmallow would: from `__dict__` or by `getattr`, its default if it has none."""
    if step.attribute is None:  # the field reads it itself
        return [f"value = field{i}.serialize({step.name!r}, obj, accessor=get_attribute)",
                f"if value is not MISSING: answer[{step.key!r}] = value"]
    attribute = repr(step.attribute)
    lines = [f"value = values.get({attribute}, MISSING)",
             "if value is MISSING:",
             f"    value = getattr(obj, {attribute}, MISSING)"] if step.direct \
        else [f"value = getattr(obj, {attribute}, MISSING)"]
    return [*lines, "if value is MISSING:",
            f"    default = field{i}.dump_default",
            "    value = default() if callable(default) else default",
            "if value is not MISSING:", *("    " + line for line in _converted(i, step, "value"))]


def _compiled(steps: tuple[_Step, ...], get_attribute, dict_class) -> Callable[[Any], Any]:
    """A function answering a dump of one object by `steps`, written out field by field
    with the choices each step makes made once, here. When the object's `__dict__` holds
    every value read from it (an ORM object loaded whole), they are taken from it at once
    (`operator.itemgetter`); otherwise each is read on its own (`_read`). The source is
    made of the schema's own names (as `repr` literals) and numbered variables, never of
    the data it dumps."""
    space: dict[str, Any] = {"MISSING": missing, "get_attribute": get_attribute,
                             "dict_class": dict_class, "EMPTY": {}}
    for i, step in enumerate(steps):
        space[f"field{i}"], space[f"same{i}"] = step.field, step.same
        space[f"convert{i}"] = step.convert
    each = ["def each(obj):", "    values = getattr(obj, '__dict__', EMPTY)",
            "    answer = dict_class()",
            *("    " + line for i, step in enumerate(steps) for line in _read(i, step)),
            "    return answer"]
    direct = [i for i, step in enumerate(steps) if step.direct]
    if not direct:
        source = "\n".join(each)
    else:
        at_once = ["def dump(obj):", "    values = getattr(obj, '__dict__', EMPTY)",
                   "    try:", f"        {''.join(f'v{i}, ' for i in direct)}= ALL(values)",
                   "    except KeyError:", "        return each(obj)",
                   "    answer = dict_class()"]
        for i, step in enumerate(steps):
            at_once += ["    " + line for line in (_converted(i, step, f"v{i}")
                                                   if step.direct else _read(i, step))]
        at_once.append("    return answer")
        getter = itemgetter(*(steps[i].attribute for i in direct))
        space["ALL"] = getter if len(direct) > 1 else lambda values: (getter(values),)
        source = "\n".join(each + at_once)
    exec(compile(source, f"<QuickDump of {len(steps)} fields>", "exec"), space)
    return space["dump" if direct else "each"]


class QuickDump(Schema):
    """A marshmallow schema whose dump reads plain fields of plain objects directly."""

    # The dump of an object of each class, worked out on the first dump of one (per
    # instance of the schema; emptied by `_init_fields`, which its __init__ runs); None for
    # marshmallow's own.
    _dumps: dict[type, Callable[[Any], Any] | None]

    def _plan(self, kind: type) -> Callable[[Any], Any] | None:
        """The dump of a `kind` object; None (marshmallow's own dump) for a schema that
        reads values its own way, or an object read by key (a dict, a row)."""
        if type(self).get_attribute is not Schema.get_attribute \
                or hasattr(kind, "__getitem__"):
            return None
        steps = []
        for name, field in self.dump_fields.items():
            attribute = (field.attribute or name) if _plain(field) else None
            convert = None if attribute is None else _convert(field) or _nested(field)
            steps.append(_Step(field.data_key if field.data_key is not None else name, name,
                               attribute, field, _same(field), convert,
                               attribute is not None and _reads_dict(kind, attribute)))
        return _compiled(tuple(steps), self.get_attribute, self.dict_class)

    def _init_fields(self) -> None:
        super()._init_fields()
        self._dumps = {}  # worked out again: `only` or `exclude` changed (a Nested's copy)

    def _serialize(self, obj: Any, *, many: bool = False):
        if many and obj is not None:
            return [self._serialize(item) for item in obj]
        kind = type(obj)
        try:
            dump = self._dumps[kind]
        except KeyError:
            dump = self._dumps[kind] = self._plan(kind)
        return super()._serialize(obj) if dump is None else dump(obj)
