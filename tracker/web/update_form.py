"""Web forms for tasks. They carry CSRF and render fields; the services validate."""

import uuid

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField

from tracker.kiennghi import service as kiennghi
from tracker.kiennghi.wording import LEVEL_LABELS


def new_key() -> str:
    """A fresh idempotency key for a form being rendered (tracker.web.once)."""
    return uuid.uuid4().hex


class UpdateForm(FlaskForm):
    progress = StringField(_l("Progress (%)"))
    work_done = TextAreaField(_l("What was done"))
    obstacles = TextAreaField(_l("Obstacles"))
    next_steps = TextAreaField(_l("Next steps"))
    evidence_url = StringField(_l("Evidence link"))
    # "Nêu thành kiến nghị": the obstacle raised as a kiến nghị in the same submission.
    raise_obstacle = BooleanField(_l("Raise this obstacle as a recommendation to my "
                                     "supervisor"))
    field = StringField(_l("Field"))
    legal_basis = StringField(_l("Legal or policy basis"))
    level_asked = StringField(_l("Level asked to answer"))
    LEVELS = LEVEL_LABELS
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


def raise_ticked_obstacle(form: UpdateForm, actor, task, update: dict) -> list[str]:
    """When the member ticked "raise this obstacle", raise it as a kiến nghị on the task
    through the kiến nghị's service, in the update's transaction and at its stamp; returns
    what the member is told. Refusals name the form's fields (obstacles, field, …)."""
    if not form.raise_obstacle.data:
        return []
    rec = kiennghi.raise_obstacle(actor, task, obstacles=form.obstacles.data, raw={
        "field": form.field.data, "legal_basis": form.legal_basis.data,
        "level_asked": form.level_asked.data}, now=update["created_at"])
    return [_("Recommendation %(code)s has been sent to your supervisor.", code=rec.code)]
