"""Admin pages: the users of the admin's subtree — list, create, edit their contact
details, deactivate and reactivate, reset a password, list and revoke their API tokens,
unlink their single sign-on account or let the next login link it.
(Nested under the `admin` blueprint; admins only.)"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker import clock
from tracker.auth.models import User
from tracker.auth.service import (
    CONTACT_FIELDS,
    change_contact,
    create_user,
    set_active,
    set_password,
    set_role_and_unit,
)
from tracker.auth.tokens import revoke_token, token_of, tokens_for
from tracker.errors import Conflict, InvalidInput
from tracker.extensions import db
from tracker.paging import paginate, requested_page
from tracker.rules.vietnamese_sql import by_name
from tracker.scope import ADMINS, can_see_user, get_unit, requires, visible_users
from tracker.search import SEARCH_MAX, user_matches
from tracker.sso.service import allow_next_link, unlink_identity
from tracker.units.models import Unit
from tracker.units.tree import subtree_ids
from tracker.web.helpers import MAX_ID, ROLE_LABELS, form_id, unit_options

bp = Blueprint("users", __name__, url_prefix="/users")


def _user(user_id: int) -> User:
    """A user in the admin's subtree; 404 otherwise, so that ids do not leak."""
    user = db.session.get(User, user_id) if user_id <= MAX_ID else None
    if user is None or not can_see_user(current_user, user):
        abort(404)
    return user


@bp.route("")
@requires(*ADMINS)
def user_list():
    unit = current_user.unit
    unit_id = form_id(request.args.get("unit"))
    if unit_id is not None:
        if not isinstance(unit_id, int) or not unit_id:
            abort(404)
        unit = get_unit(current_user, unit_id)
    query = visible_users(current_user).join(Unit, Unit.id == User.unit_id) \
        .where(User.unit_id.in_(subtree_ids(unit)))
    q = request.args.get("q", "").strip()[:SEARCH_MAX]
    if q:
        query = query.where(user_matches(q))  # the API's search (tracker.search)
    role = request.args.get("role", "")
    if role in ROLE_LABELS:
        query = query.where(User.role == role)
    state = request.args.get("state", "")
    if state in ("active", "inactive"):
        query = query.where(User.active.is_(state == "active"))
    page = paginate(query.order_by(by_name(Unit.name), by_name(User.full_name), User.username),
                    requested_page())
    return render_template("admin/users.html", page=page, q=q, role=role, state=state,
                           unit=unit, ROLE_LABELS=ROLE_LABELS)


def _passwords_differ(form) -> dict[str, list[str]]:
    """The form's second password is the page's own check against a typing mistake in a
    masked field; everything the service receives, the service checks."""
    if form.get("password", "") != form.get("password2", ""):
        return {"password2": [_("The two passwords differ.")]}
    return {}


@bp.route("/new", methods=["GET", "POST"])
@requires(*ADMINS)
def user_new():
    values = {"role": "member", "unit_id": request.args.get("unit", "")}
    errors: dict[str, list[str]] = {}
    message = None
    if request.method == "POST":
        values = request.form.to_dict()
        errors = _passwords_differ(values)
        try:
            user = create_user(current_user, username=values.get("username"),
                               password=values.get("password"), role=values.get("role"),
                               unit=values.get("unit_id"), full_name=values.get("full_name"),
                               email=values.get("email"), phone=values.get("phone"))
        except InvalidInput as exc:
            errors = {**errors, **exc.fields}
        if errors:
            db.session.rollback()
            message = _("The user could not be created.")
        else:
            db.session.commit()
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("admin.users.user_detail", user_id=user.id))
    status = 422 if message else 200
    return render_template("admin/user_new.html", values=values, errors=errors,
                           message=message, units=unit_options(current_user),
                           ROLE_LABELS=ROLE_LABELS), status


def _detail(user, errors=None, status=200, contact=None):
    values = {"role": user.role, "unit_id": user.unit_id}
    if contact is None:
        contact = {name: getattr(user, name) for name in CONTACT_FIELDS}
    return render_template("admin/user_detail.html", user=user, errors=errors or {},
                           values=values, contact=contact,
                           units=unit_options(current_user, keep=user.unit_id),
                           tokens=tokens_for(current_user, user), now=clock.now(),
                           ROLE_LABELS=ROLE_LABELS), status


@bp.route("/<int:user_id>")
@requires(*ADMINS)
def user_detail(user_id: int):
    return _detail(_user(user_id))


@bp.route("/<int:user_id>/contact", methods=["POST"])
@requires(*ADMINS)
def user_contact(user_id: int):
    """Change the user's full name, e-mail and phone (checked as at creation)."""
    user = _user(user_id)
    raw = {name: request.form.get(name, "") for name in CONTACT_FIELDS}
    try:
        changed = change_contact(current_user, user, raw)
    except InvalidInput as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _detail(_user(user_id), exc.fields, 422, contact=raw)
    db.session.commit()
    if changed:
        flash(_("The contact details of %(name)s were saved.", name=user.username), "success")
    return redirect(url_for("admin.users.user_detail", user_id=user.id))


@bp.route("/<int:user_id>/role", methods=["POST"])
@requires(*ADMINS)
def user_set_role(user_id: int):
    """Change the role and the home unit (hence the scope); the user's sessions end."""
    user = _user(user_id)
    unit_id = form_id(request.form.get("unit_id"))
    unit = db.session.get(Unit, unit_id) if isinstance(unit_id, int) and unit_id else None
    try:
        set_role_and_unit(current_user, user, role=request.form.get("role", ""), unit=unit)
    except InvalidInput as exc:
        db.session.rollback()
        return _detail(_user(user_id), exc.fields, 422)
    db.session.commit()
    flash(_("The role and unit of %(name)s were changed; their sessions were ended.",
            name=user.username), "success")
    return redirect(url_for("admin.users.user_detail", user_id=user.id))


@bp.route("/<int:user_id>/active", methods=["POST"])
@requires(*ADMINS)
def user_set_active(user_id: int):
    user = _user(user_id)
    active = request.form.get("active") == "1"
    try:
        set_active(current_user, user, active)
    except Conflict as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("admin.users.user_detail", user_id=user_id))
    db.session.commit()
    flash(_("%(name)s can log in again.", name=user.username) if active else
          _("%(name)s is deactivated and logged out.", name=user.username), "success")
    if request.form.get("back") == "list":
        return redirect(url_for("admin.users.user_list"))
    return redirect(url_for("admin.users.user_detail", user_id=user.id))


@bp.route("/<int:user_id>/password", methods=["POST"])
@requires(*ADMINS)
def user_reset_password(user_id: int):
    user = _user(user_id)
    password = request.form.get("password", "")
    errors = _passwords_differ(request.form)
    if not errors:
        try:
            set_password(current_user, user, password)
        except InvalidInput as exc:
            db.session.rollback()
            errors = {"password": [exc.message]}
    if errors:
        return _detail(_user(user_id), errors, 422)
    db.session.commit()
    flash(_("The password of %(name)s was reset; their sessions were ended and their API "
            "tokens revoked.",
            name=user.username), "success")
    return redirect(url_for("admin.users.user_detail", user_id=user.id))


@bp.route("/<int:user_id>/tokens/<int:token_id>/revoke", methods=["POST"])
@requires(*ADMINS)
def user_token_revoke(user_id: int, token_id: int):
    """Revoke one API token of a user of the admin's subtree, at once."""
    user = _user(user_id)
    token = token_of(current_user, user, token_id)
    revoke_token(current_user, token, now=clock.now())
    db.session.commit()
    flash(_("The token %(name)s of %(user)s has been revoked.", name=token.name,
            user=user.username), "success")
    return redirect(url_for("admin.users.user_detail", user_id=user_id))


@bp.route("/<int:user_id>/sso/unlink", methods=["POST"])
@requires(*ADMINS)
def user_sso_unlink(user_id: int):
    """Free the account from its single sign-on identity (tracker.sso.service)."""
    user = _user(user_id)
    if unlink_identity(current_user, user, now=clock.now()):
        flash(_("The single sign-on account of %(name)s was unlinked; their next single "
                "sign-on login links a new one.", name=user.username), "success")
    db.session.commit()
    return redirect(url_for("admin.users.user_detail", user_id=user_id))


@bp.route("/<int:user_id>/sso/allow", methods=["POST"])
@requires(*ADMINS)
def user_sso_allow(user_id: int):
    """Let the next single sign-on login link this account, once (an admin's account)."""
    user = _user(user_id)
    try:
        allow_next_link(current_user, user, now=clock.now())
    except Conflict as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("admin.users.user_detail", user_id=user_id))
    db.session.commit()
    flash(_("The next single sign-on login of %(name)s will link their account.",
            name=user.username), "success")
    return redirect(url_for("admin.users.user_detail", user_id=user_id))
