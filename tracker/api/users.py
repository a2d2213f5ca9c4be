"""Users: who you are (any role); the accounts of your subtree (admin)."""

from __future__ import annotations

from flask_babel import gettext as _

from tracker.api.base import (
    MAX_ID,
    ApiBlueprint,
    actor,
    commit,
    json_object,
    unit_in_scope,
)
from tracker.api.schemas import UserCreateSchema, UserPageSchema, UserQuerySchema, UserSchema
from tracker.auth.models import User
from tracker.auth.service import create_user, set_active
from tracker.errors import NotFound
from tracker.extensions import db
from tracker.paging import paginate
from tracker.scope import (
    ADMINS,
    can_see_user,
    requires,
    visible_users,
)
from tracker.units.tree import subtree_ids

bp = ApiBlueprint("users", __name__,
                  description="Accounts: yourself; the users of your subtree (admin).")

USER = f"/users/<int(max={MAX_ID}):user_id>"


def _user_in_scope(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not can_see_user(actor(), user):
        raise NotFound(_("user not found"))
    return user


@bp.route("/me")
@bp.response(200, UserSchema)
def me():
    """The user the token belongs to: role and home unit decide what the API allows."""
    return actor()


@bp.route("/users")
@bp.arguments(UserQuerySchema, location="query")
@bp.response(200, UserPageSchema)
@requires(*ADMINS)
def user_list(args):
    """Users whose home unit is in your subtree, by id (admin)."""
    query = visible_users(actor())
    if "unit_id" in args:
        unit = unit_in_scope(args["unit_id"], "unit_id")
        query = query.where(User.unit_id.in_(subtree_ids(unit)))
    if "role" in args:
        query = query.where(User.role == args["role"])
    if "active" in args:
        query = query.where(User.active.is_(args["active"]))
    return paginate(query.order_by(User.id), args["page"], args["per_page"])


@bp.route("/users", methods=["POST"])
@bp.doc(requestBody={"required": True,
                     "content": {"application/json": {"schema": UserCreateSchema}}})
@bp.response(201, UserSchema)
@requires(*ADMINS)
def user_create():
    """Create an account at a unit of your subtree (admin). The answer to a refusal names
    every field at fault, as the admin page does."""
    raw = json_object()
    user = create_user(actor(), username=raw.get("username"), password=raw.get("password"),
                       role=raw.get("role"), unit=raw.get("unit_id"),
                       full_name=raw.get("full_name"), email=raw.get("email"))
    commit()
    return user


@bp.route(USER)
@bp.response(200, UserSchema)
@requires(*ADMINS)
def user_detail(user_id: int):
    return _user_in_scope(user_id)


@bp.route(f"{USER}/deactivate", methods=["POST"])
@bp.response(200, UserSchema)
@requires(*ADMINS)
def user_deactivate(user_id: int):
    """Deactivate (admin): their sessions end and their API tokens stop working at once."""
    user = _user_in_scope(user_id)
    set_active(actor(), user, False)
    commit()
    return user


@bp.route(f"{USER}/activate", methods=["POST"])
@bp.response(200, UserSchema)
@requires(*ADMINS)
def user_activate(user_id: int):
    user = _user_in_scope(user_id)
    set_active(actor(), user, True)
    commit()
    return user
