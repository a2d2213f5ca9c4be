"""Web forms for tasks. They carry CSRF and render fields; the services validate."""

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField


def new_key() -> str:
    """A fresh idempotency key for a form being rendered (tracker.web.once)."""
    return uuid.uuid4().hex


class UpdateForm(FlaskForm):
    progress = StringField(_l("Progress (%)"))
    work_done = TextAreaField(_l("What was done"))
    obstacles = TextAreaField(_l("Obstacles"))
    next_steps = TextAreaField(_l("Next steps"))
    evidence_url = StringField(_l("Evidence link"))
    # Made when the form is rendered; a second sending of the same form records nothing.
    idempotency_key = HiddenField(default=new_key)

    def raw(self) -> dict:
        """The submitted values as typed, for the service to validate."""
        return {
            "progress": self.progress.data or None,
            "work_done": self.work_done.data,
            "obstacles": self.obstacles.data,
            "next_steps": self.next_steps.data,
            "evidence_url": self.evidence_url.data,
        }
