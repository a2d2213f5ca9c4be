"""Raw input as the services read it — a web form's strings, the API's JSON values, the
CLI's arguments — so that every caller gets the same answer for the same input: text is
stripped and in one Unicode form (NFC), and a value of the wrong type, a blank required one
or one over its length is named by its field, in the words users read.

Text enters in NFC at the boundary: every request's query string and form fields are read
through `NFCRequest` (the app's request class), the API's JSON body through
`tracker.rules.vietnamese.nfc_deep` (tracker.api.base.load_body); what enters by another
door (an imported file, the command line) is composed by the services' readers — `text`
here, `tracker.tasks.service.parse_task_input`."""

from __future__ import annotations

from flask import Request
from flask_babel import gettext as _
from marshmallow import ValidationError
from werkzeug.datastructures import ImmutableMultiDict, iter_multi_items

from tracker.errors import InvalidInput
from tracker.rules.vietnamese import nfc


class NFCMultiDict(ImmutableMultiDict):
    """A query string's or a form's fields, names and text values in NFC (files as sent)."""

    def __init__(self, mapping=None):
        if mapping is not None:
            mapping = [(nfc(key) if isinstance(key, str) else key,
                        nfc(value) if isinstance(value, str) else value)
                       for key, value in iter_multi_items(mapping)]
        super().__init__(mapping)


class NFCRequest(Request):
    """The app's request: `args` and `form` hold text in NFC."""

    parameter_storage_class = NFCMultiDict


def storable(value: str) -> None:
    """A marshmallow validator: text PostgreSQL cannot store (a NUL character) is refused
    here, for every caller, rather than by the database (a 500 there, stored on SQLite)."""
    if "\x00" in value:
        raise ValidationError(_("Must not contain NUL characters."))


def text(value, name: str, errors: dict[str, list[str]], *, max_len: int,
         required: bool = False) -> str:
    """`value` as stripped text in NFC ("" when absent). What is wrong with it goes to
    `errors[name]`: not text, not storable, blank though `required`, longer than `max_len`."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = [_("Not valid text.")]
        return ""
    try:
        storable(value)
    except ValidationError as exc:
        errors[name] = [str(m) for m in exc.messages]
        return ""
    value = nfc(value.strip())
    if required and not value:
        errors[name] = [_("Required.")]
    elif len(value) > max_len:
        errors[name] = [_("At most %(n)s characters.", n=max_len)]
    return value


def one_text(value, name: str, *, max_len: int, required: bool = False, message) -> str:
    """`text` for an action whose input is this one field: InvalidInput(`message`) names
    the field when it is wrong."""
    errors: dict[str, list[str]] = {}
    value = text(value, name, errors, max_len=max_len, required=required)
    if errors:
        raise InvalidInput(message, errors)
    return value
