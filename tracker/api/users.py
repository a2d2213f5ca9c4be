"""Users: who you are and your password (any role); the accounts of your subtree and
their API tokens (admin)."""

from __future__ import annotations

from flask_babel import gettext as _

from tracker import clock
from tracker.api.base import (
    MAX_ID,
    ApiBlueprint,
    actor,
    commit,
    json_object,
    only_fields,
    rate_key,
    unit_in_scope,
)
from tracker.api.schemas import (
    PasswordChangedSchema,
    PasswordChangeSchema,
    TokenSchema,
    UserContactSchema,
    UserCreateSchema,
    UserPageSchema,
    UserQuerySchema,
    UserSchema,
)
from tracker.auth.models import User
from tracker.auth.service import (
    CONTACT_FIELDS,
    change_contact,
    change_own_password,
    create_user,
    set_active,
)
from tracker.auth.tokens import revoke_token, token_of, tokens_for
from tracker.errors import InvalidInput, NotFound
from tracker.extensions import db, limiter
from tracker.paging import paginate
from tracker.scope import (
    ADMINS,
    can_see_user,
    requires,
    visible_users,
)
from tracker.search import user_matches
from tracker.units.tree import subtree_ids

bp = ApiBlueprint("users", __name__,
                  description="Accounts: yourself; the users of your subtree (admin).")

USER = f"/users/<int(max={MAX_ID}):user_id>"
TOKEN = f"{USER}/tokens/<int(max={MAX_ID}):token_id>"
USER_FIELDS = ("username", "password", "role", "unit_id", *CONTACT_FIELDS)


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


def _contact(raw: dict) -> dict:
    """The contact fields sent; any other field is refused by name."""
    return only_fields(raw, CONTACT_FIELDS)


@bp.route("/me", methods=["PATCH"])
@bp.doc(requestBody={"required": True,
                     "content": {"application/json": {"schema": UserContactSchema}}})
@bp.response(200, UserSchema)
def me_change():
    """Change your own contact details: full name, e-mail, phone (as on /account/profile)."""
    user = actor()
    change_contact(user, user, _contact(json_object()), now=clock.now())
    commit()
    return user


@bp.route("/me/password", methods=["POST"])
@bp.doc(requestBody={"required": True,
                     "content": {"application/json": {"schema": PasswordChangeSchema}}})
@bp.response(200, PasswordChangedSchema)
@limiter.limit("10/hour", key_func=rate_key, scope="own-password")
def my_password():
    """Change your own password, giving the current one; with `end_other_sessions`, every
    web session of yours ends. Your API tokens stay (revoke them one by one if needed)."""
    raw = only_fields(json_object(), ("current_password", "new_password", "end_other_sessions"))
    end_others = raw.get("end_other_sessions", False)
    if not isinstance(end_others, bool):
        raise InvalidInput(_("Some fields are not valid."),
                           {"end_other_sessions": [_("Not a valid boolean.")]})
    ended = change_own_password(actor(), current=raw.get("current_password"),
                                new=raw.get("new_password"), end_other_sessions_too=end_others,
                                now=clock.now())
    commit()
    return {"sessions_ended": ended}


@bp.route("/users")
@bp.arguments(UserQuerySchema, location="query")
@bp.response(200, UserPageSchema)
@requires(*ADMINS)
def user_list(args):
    """Users whose home unit is in your subtree, by id (admin); `q` searches as the
    admin's user list does."""
    query = visible_users(actor())
    if "unit_id" in args:
        unit = unit_in_scope(args["unit_id"], "unit_id")
        query = query.where(User.unit_id.in_(subtree_ids(unit)))
    if "role" in args:
        query = query.where(User.role == args["role"])
    if "active" in args:
        query = query.where(User.active.is_(args["active"]))
    if args.get("q"):
        query = query.where(user_matches(args["q"]))
    return paginate(query.order_by(User.id), args["page"], args["per_page"])


@bp.route("/users", methods=["POST"])
@bp.doc(requestBody={"required": True,
                     "content": {"application/json": {"schema": UserCreateSchema}}})
@bp.response(201, UserSchema)
@requires(*ADMINS)
def user_create():
    """Create an account at a unit of your subtree (admin). The answer to a refusal names
    every field at fault, as the admin page does."""
    raw = only_fields(json_object(), USER_FIELDS)
    user = create_user(actor(), username=raw.get("username"), password=raw.get("password"),
                       role=raw.get("role"), unit=raw.get("unit_id"),
                       full_name=raw.get("full_name"), email=raw.get("email"),
                       phone=raw.get("phone"))
    commit()
    return user


@bp.route(USER)
@bp.response(200, UserSchema)
@requires(*ADMINS)
def user_detail(user_id: int):
    return _user_in_scope(user_id)


@bp.route(USER, methods=["PATCH"])
@bp.doc(requestBody={"required": True,
                     "content": {"application/json": {"schema": UserContactSchema}}})
@bp.response(200, UserSchema)
@requires(*ADMINS)
def user_change(user_id: int):
    """Change a user's contact details — full name, e-mail, phone (admin); refused fields
    are named as on the user's page."""
    user = _user_in_scope(user_id)
    change_contact(actor(), user, _contact(json_object()), now=clock.now())
    commit()
    return user


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


@bp.route(f"{USER}/tokens")
@bp.response(200, TokenSchema(many=True))
@requires(*ADMINS)
def user_tokens(user_id: int):
    """A user's API tokens, newest first, revoked and expired ones included (admin)."""
    return tokens_for(actor(), _user_in_scope(user_id))


@bp.route(f"{TOKEN}/revoke", methods=["POST"])
@bp.response(200, TokenSchema)
@requires(*ADMINS)
def user_token_revoke(user_id: int, token_id: int):
    """Revoke one of a user's API tokens at once (admin); revoking twice changes
    nothing."""
    token = token_of(actor(), _user_in_scope(user_id), token_id)
    revoke_token(actor(), token, now=clock.now())
    commit()
    return token
