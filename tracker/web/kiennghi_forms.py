"""Forms of the kiến nghị pages: CSRF and fields; the service validates."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import MultipleFileField, StringField, TextAreaField

FILES_LABEL = _l("Attachments (PDF, JPG, PNG, DOCX, XLSX; at most 10 MB each)")

# A choice is a StringField drawn as a <select> by the template (wtforms' SelectField
# warns of its tuple choices); the service refuses a value outside the choices, naming it.


class RaiseForm(FlaskForm):
    kind = StringField(_l("Kind"), default="recommendation")
    title = StringField(_l("Title"))
    content = TextAreaField(_l("Content"))
    field = StringField(_l("Field"))
    legal_basis = TextAreaField(_l("Legal or policy basis"))
    level_asked = StringField(_l("Level asked to answer"))
    files = MultipleFileField(FILES_LABEL)

    def raw(self) -> dict:
        return {name: getattr(self, name).data for name in
                ("kind", "title", "content", "field", "legal_basis", "level_asked")}


class RouteForm(FlaskForm):
    responsible_unit_id = StringField(_l("Responsible unit"))
    response_days = StringField(_l("Working days to answer"), default="10")
    note = TextAreaField(_l("Note (optional)"))


class ForwardForm(FlaskForm):
    note = TextAreaField(_l("Why forward it up a level?"))


class MergeForm(FlaskForm):
    into_id = StringField(_l("Merge into"))


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Answer"))
    answer_documents = StringField(_l("Documents (number, symbol)"))
    files = MultipleFileField(FILES_LABEL)


class AcceptForm(FlaskForm):
    pass


class AskAgainForm(FlaskForm):
    reason = TextAreaField(_l("Why does the answer not settle it?"))
