"""Web Push subscriptions from the browser (js/push.js, on the page where a user chooses how
they are notified): the server's public key, subscribing this browser, unsubscribing it.
JSON in and out; the CSRF token comes in the X-CSRFToken header."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker import clock
from tracker.errors import InvalidInput
from tracker.extensions import db
from tracker.push import vapid
from tracker.push.service import subscribe, unsubscribe

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
        subscribe(current_user, _body(), now=clock.now())
    except InvalidInput as exc:
        return _refused(exc)
    db.session.commit()
    return jsonify({"subscribed": True}), 201, NO_STORE


@bp.route("/subscriptions/delete", methods=["POST"])
@login_required
def remove():
    try:
        removed = unsubscribe(current_user, _body().get("endpoint"))
    except InvalidInput as exc:
        return _refused(exc)
    db.session.commit()
    return jsonify({"removed": removed}), 200, NO_STORE
