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

It overrides two private methods of marshmallow: `Schema._serialize`, and `_init_fields` to
work the plan out again when the fields change. tests/test_api_dumping.py checks that both
still exist (marshmallow is pinned in requirements/constraints.txt), and proves the answers
equal to marshmallow's own for every field of real tasks, units and pages.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from marshmallow import Schema, fields, missing


class _Step(NamedTuple):
    key: str  # in the answer (the field's data_key, or its name)
    name: str  # the field's name in the schema
    attribute: str | None  # read with getattr; None: the field reads it itself
    field: fields.Field
    same: type | None  # the values the field would dump as they are (and None as None)


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

    _steps: tuple[_Step, ...] | None = None  # worked out on the first dump (per instance)

    def _plan(self) -> tuple[_Step, ...]:
        """The steps of a dump; none (marshmallow's own dump) for a schema that reads
        values its own way."""
        if type(self).get_attribute is not Schema.get_attribute:
            return ()
        return tuple(
            _Step(field.data_key if field.data_key is not None else name, name,
                  (field.attribute or name) if _plain(field) else None, field, _same(field))
            for name, field in self.dump_fields.items())

    def _init_fields(self) -> None:
        super()._init_fields()
        self._steps = None  # worked out again: `only` or `exclude` changed (a Nested's copy)

    def _serialize(self, obj: Any, *, many: bool = False):
        if many and obj is not None:
            return [self._serialize(item) for item in obj]
        steps = self._steps
        if steps is None:
            steps = self._steps = self._plan()
        if not steps or hasattr(obj, "__getitem__"):  # read by key, as marshmallow does
            return super()._serialize(obj)
        answer = self.dict_class()
        for key, name, attribute, field, same in steps:
            if attribute is None:
                value = field.serialize(name, obj, accessor=self.get_attribute)
            else:
                value = getattr(obj, attribute, missing)
                if value is missing:
                    value = field.dump_default() if callable(field.dump_default) \
                        else field.dump_default
                    if value is missing:
                        continue
                if same is None or (value is not None and type(value) is not same):
                    value = field._serialize(value, name, obj)
            if value is not missing:
                answer[key] = value
        return answer
