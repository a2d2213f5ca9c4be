"""The account page where a user chooses, for each group of notifications, how they hear of
it: in the app only, by e-mail at once, or in the daily digest e-mail."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from tracker.errors import InvalidInput
from tracker.extensions import db
from tracker.notifications.kinds import GROUP_LABELS, GROUPS
from tracker.notifications.models import Delivery
from tracker.notifications.preferences import preferences_of, pushed_groups, set_preferences
from tracker.push.service import has_subscription
from tracker.web.task_forms import CsrfOnlyForm

bp = Blueprint("preferences", __name__, url_prefix="/account/notifications")

CHOICE_LABELS = {
    Delivery.APP: _l("In the app only"),
    Delivery.NOW: _l("In the app and by e-mail at once"),
    Delivery.DIGEST: _l("In the app and in the daily digest e-mail"),
}


def _page(chosen: dict, errors: dict | None = None, status: int = 200):
    return render_template(
        "account/notifications.html", form=CsrfOnlyForm(), chosen=chosen, errors=errors or {},
        pushed=pushed_groups(current_user), subscribed=has_subscription(current_user.id),
        groups=GROUPS, group_labels=GROUP_LABELS, choices=CHOICE_LABELS,
        digest_time=current_app.config["TRACKER_DIGEST_TIME"],
        mail_on=bool(current_app.config.get("TRACKER_SMTP_HOST")),
    ), status


@bp.route("")
@login_required
def edit():
    return _page(preferences_of(current_user))


@bp.route("", methods=["POST"])
@login_required
def save():
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    raw = {group: request.form.get(group, "")[:16] for group in GROUPS}
    push = ({group for group in GROUPS if request.form.get(f"push-{group}")}
            if request.form.get("push-shown") else None)
    try:
        set_preferences(current_user, current_user, raw, push)
    except InvalidInput as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _page({**preferences_of(current_user), **raw}, exc.fields, exc.status)
    db.session.commit()
    flash(_("Your choices have been saved."), "success")
    return redirect(url_for("preferences.edit"))
