"""Forms for the member's, the supervisor's and the admin's actions on a task.

They carry CSRF and render the fields; the services validate (one set of rules for the
web UI and the API). Several forms share a page, so each has a prefix: the field ids stay
unique and a POST is read with the same prefix.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, StringField, TextAreaField

from tracker.web.update_form import UpdateForm, new_key


class EvidenceUpdateForm(UpdateForm):
    """The daily update, with an optional evidence file besides the link."""

    evidence_file = FileField(_l("Evidence file (PDF, JPG, PNG, DOCX, XLSX; at most 10 MB)"))


class CompletionForm(FlaskForm):
    result = TextAreaField(_l("Product / result"))
    evidence_url = StringField(_l("Evidence link"))
    evidence_file = FileField(_l("Evidence file (PDF, JPG, PNG, DOCX, XLSX; at most 10 MB)"))


class ExtensionForm(FlaskForm):
    requested_deadline = StringField(_l("New deadline"))
    reason = TextAreaField(_l("Reason"))


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Comment"))


class NudgeForm(FlaskForm):
    message = TextAreaField(_l("Message to the unit"))


class AcknowledgeForm(FlaskForm):
    body = TextAreaField(_l("Note"))


class ConfirmForm(FlaskForm):
    note = TextAreaField(_l("Note (optional)"))


class ReturnForm(FlaskForm):
    note = TextAreaField(_l("Why is it returned?"))


class DecisionForm(FlaskForm):
    note = TextAreaField(_l("Note (required to reject)"))


class ReassignForm(FlaskForm):
    """An admin gives the task to another lead unit or owner (the unit list is drawn by
    the template from the admin's scope; the service checks it)."""

    lead_unit_id = StringField(_l("Lead unit"))
    owner_name = StringField(_l("Accountable owner"))
    note = TextAreaField(_l("Why (optional)"))


class CancelForm(FlaskForm):
    note = TextAreaField(_l("Why is the task cancelled?"))


class CsrfOnlyForm(FlaskForm):
    """A form whose fields are read by hand (one row per task), for its CSRF check."""


class BulkUpdateForm(CsrfOnlyForm):
    """The page of all owed tasks (rows read by hand), with the key that makes sending it
    twice record its updates once (tracker.web.once)."""

    idempotency_key = HiddenField(default=new_key)


def action_forms(formdata=None) -> dict[str, FlaskForm]:
    """Every action form of the task page, empty, each with its prefix."""
    return {
        "update": EvidenceUpdateForm(formdata=formdata),
        "comment": CommentForm(formdata=formdata, prefix="comment"),
        "nudge": NudgeForm(formdata=formdata, prefix="nudge"),
        "acknowledge": AcknowledgeForm(formdata=formdata, prefix="ack"),
        "confirm": ConfirmForm(formdata=formdata, prefix="confirm"),
        "return": ReturnForm(formdata=formdata, prefix="return"),
        "decision": DecisionForm(formdata=formdata, prefix="decision"),
        "reassign": ReassignForm(formdata=formdata, prefix="reassign"),
        "cancel": CancelForm(formdata=formdata, prefix="cancel"),
    }


def apply_errors(form: FlaskForm, fields: dict[str, list[str]]) -> list[str]:
    """Put a service's field errors next to the fields; returns those with no field."""
    leftover = []
    for name, messages in fields.items():
        if name in form:
            form[name].errors = list(messages)
        else:
            leftover += [str(m) for m in messages]
    return leftover
