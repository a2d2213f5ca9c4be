"""A logged-in user's own account: their contact details (name, e-mail, phone), their
password (changed with the current one, other sessions ended if they choose) and their API
tokens (created and revoked)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker import clock
from tracker.auth.passwords import MAX_LENGTH, local_passwords, min_length
from tracker.auth.service import CONTACT_FIELDS, change_contact, change_own_password
from tracker.auth.tokens import DEFAULT_DAYS, create_token, own_token, revoke_token, tokens_of
from tracker.errors import Conflict, InvalidInput
from tracker.extensions import db, limiter

bp = Blueprint("account", __name__, url_prefix="/account")

DAY_CHOICES = (30, 90, 180, 365)
# What a user who must choose their own password may still open: the password page,
# the second factor's set-up (an admin may have to do both), logging out, the language,
# static files, health checks. (The API has its own credential, which a reset revokes.)
OPEN_WHILE_CHANGING = {"account.password", "account.password_change", "auth.logout",
                       "auth.login", "static", "web.set_language", "web.health",
                       "web.cutoff_health"}


@bp.before_app_request
def _own_password_first():
    """A password an admin chose (at creation or a reset) is changed at the first login,
    before any other page (ASVS 6.4.1)."""
    endpoint = request.endpoint or ""
    if (endpoint in OPEN_WHILE_CHANGING or endpoint.startswith(("two_factor.", "api"))
            or not current_user.is_authenticated):
        return None
    if current_user.must_change_password and local_passwords():
        flash(_("Your password was set by an administrator. Choose your own password to "
                "continue."), "info")
        return redirect(url_for("account.password"))
    return None


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


def _password_page(status: int = 200, errors: dict | None = None):
    # No form where there is no password to change: the page says why.
    return render_template("account/password.html", errors=errors or {},
                           local_passwords=local_passwords(),
                           has_password=current_user.has_password,
                           min_length=min_length(current_user.role),
                           max_length=MAX_LENGTH), status


def _own_key() -> str:
    return f"user:{current_user.id}"


@bp.route("/password")
@login_required
def password():
    return _password_page()


@bp.route("/password", methods=["POST"])
@login_required
@limiter.limit("10/hour", key_func=_own_key, scope="own-password")
def password_change():
    """The current password is asked for (a session left open is not enough to take the
    account); checked with no database lock held (tracker.auth.service)."""
    form = request.form
    errors: dict[str, list[str]] = {}
    if form.get("new_password", "") != form.get("new_password2", ""):
        errors["new_password2"] = [_("The two passwords differ.")]
    try:
        if errors:
            raise InvalidInput(_("The password was not changed."), errors)
        ended = change_own_password(
            current_user, current=form.get("current_password", "")[:MAX_LENGTH + 1],
            new=form.get("new_password", "")[:MAX_LENGTH + 1],
            end_other_sessions_too=form.get("end_other_sessions") == "1",
            session_token=current_user.get_id(), now=clock.now())
    except InvalidInput as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _password_page(422, {**errors, **exc.fields})
    except Conflict as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _password_page(409)
    db.session.commit()
    flash(_("Your password has been changed.") + (
        " " + _("Your other sessions (%(n)s) have ended.", n=ended) if ended else ""),
        "success")
    return redirect(url_for("account.password"))


def _profile_page(status: int = 200, errors: dict | None = None, values: dict | None = None):
    if values is None:
        values = {name: getattr(current_user, name) for name in CONTACT_FIELDS}
    return render_template("account/profile.html", errors=errors or {},
                           values=values), status


@bp.route("/profile")
@login_required
def profile():
    return _profile_page()


@bp.route("/profile", methods=["POST"])
@login_required
def profile_save():
    """The user's own name, e-mail and phone, checked as an admin's edit is."""
    raw = {name: request.form.get(name, "") for name in CONTACT_FIELDS}
    try:
        changed = change_contact(current_user, current_user, raw, now=clock.now())
    except InvalidInput as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _profile_page(422, exc.fields, raw)
    db.session.commit()
    if changed:
        flash(_("Your contact details have been saved."), "success")
    return redirect(url_for("account.profile"))
