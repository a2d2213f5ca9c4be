"""The page where a logged-in user creates and revokes their own API tokens."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker import clock
from tracker.auth.tokens import DEFAULT_DAYS, create_token, own_token, revoke_token, tokens_of
from tracker.errors import InvalidInput
from tracker.extensions import db

bp = Blueprint("account", __name__, url_prefix="/account")

DAY_CHOICES = (30, 90, 180, 365)


def _page(status: int = 200, *, raw: str | None = None, errors: dict | None = None,
          name: str = "", days: int = DEFAULT_DAYS):
    response = render_template(
        "account/tokens.html", tokens=tokens_of(current_user), now=clock.now(), raw=raw,
        errors=errors or {}, name=name, days=days, day_choices=DAY_CHOICES)
    # The raw token is on this page once: keep it out of every cache.
    return response, status, {"Cache-Control": "no-store"}


@bp.route("/tokens")
@login_required
def tokens():
    return _page()


@bp.route("/tokens", methods=["POST"])
@login_required
def token_create():
    name = request.form.get("name", "")[:1000]
    try:
        days = int(request.form.get("days", DEFAULT_DAYS))
    except ValueError:
        days = -1
    try:
        _token, raw = create_token(current_user, current_user, name=name, days=days,
                                   now=clock.now())
    except InvalidInput as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _page(422, errors=exc.fields, name=name, days=days)
    db.session.commit()
    # Shown in this answer only (not flashed: the session cookie is signed, not secret).
    return _page(raw=raw)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def token_revoke(token_id: int):
    token = own_token(current_user, token_id)
    revoke_token(current_user, token, now=clock.now())
    db.session.commit()
    flash(_("The token has been revoked."), "success")
    return redirect(url_for("account.tokens"))
