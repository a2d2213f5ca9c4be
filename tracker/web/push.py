"""Web Push subscriptions from the browser (js/push.js, on the page where a user chooses how
they are notified): the server's public key, subscribing this browser, unsubscribing it.
JSON in and out; the CSRF token comes in the X-CSRFToken header. The endpoints subscribed
are remembered in the session, so that the logout forgets them (tracker.web.auth)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request, session
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker import clock
from tracker.errors import Conflict, InvalidInput
from tracker.extensions import db
from tracker.push import vapid
from tracker.push.service import subscribe, unsubscribe
from tracker.web.helpers import MAX_PUSH_ENDPOINTS, PUSH_ENDPOINTS_KEY

bp = Blueprint("push", __name__, url_prefix="/push")

NO_STORE = {"Cache-Control": "no-store"}


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput(_("Send the subscription as a JSON object."),
                           {"body": [_("Send the subscription as a JSON object.")]})
    return body


def _refused(exc: InvalidInput):
    db.session.rollback()
    return jsonify({"message": exc.message, "fields": exc.fields}), exc.status, NO_STORE


@bp.route("/key")
@login_required
def key():
    return jsonify({"public_key": vapid.public_key()}), 200, NO_STORE


@bp.route("/subscriptions", methods=["POST"])
@login_required
def add():
    try:
        found = subscribe(current_user, _body(), now=clock.now())
    except (InvalidInput, Conflict) as exc:
        return _refused(exc)
    db.session.commit()
    kept = [e for e in session.get(PUSH_ENDPOINTS_KEY, []) if e != found.endpoint]
    session[PUSH_ENDPOINTS_KEY] = [*kept, found.endpoint][-MAX_PUSH_ENDPOINTS:]
    return jsonify({"subscribed": True}), 201, NO_STORE


@bp.route("/subscriptions/delete", methods=["POST"])
@login_required
def remove():
    endpoint = None
    try:
        endpoint = _body().get("endpoint")
        removed = unsubscribe(current_user, endpoint)
    except InvalidInput as exc:
        return _refused(exc)
    db.session.commit()
    session[PUSH_ENDPOINTS_KEY] = [e for e in session.get(PUSH_ENDPOINTS_KEY, [])
                                   if e != endpoint]
    return jsonify({"removed": removed}), 200, NO_STORE
