"""Admin pages: the webhooks of the admin's units (nested under `admin`; admins only, each
endpoint only for an admin who manages its unit — the services ask tracker.scope). The
secret is shown once: the POST that made it redirects (a reload makes nothing twice) and
hands the secret, sealed, to the next page through the session, which shows and forgets
it, kept out of every cache."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from tracker import clock
from tracker.errors import InvalidInput
from tracker.extensions import db
from tracker.scope import ADMINS, requires
from tracker.sealing import seal, unseal
from tracker.web.helpers import MAX_ID, unit_options
from tracker.webhooks.service import (
    EVENTS,
    change_endpoint,
    create_endpoint,
    delete_endpoint,
    endpoint_of,
    log_of,
    managed_endpoints,
    new_secret,
    send_test,
)

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
SECRET_KEY = "webhook_secret"
_SEAL_INFO = b"tracker webhook secret, shown once"


def _aad(endpoint_id: int) -> bytes:
    return f"user:{current_user.id}:webhook:{endpoint_id}".encode()


def _hand_over(endpoint_id: int, secret: str):
    """Redirect to the endpoint's page, which shows `secret` once (sealed in the session:
    the session is a cookie)."""
    session[SECRET_KEY] = [endpoint_id, seal(secret.encode(), info=_SEAL_INFO,
                                             aad=_aad(endpoint_id))]
    return redirect(url_for("admin.webhooks.webhook_detail", endpoint_id=endpoint_id), 303)


def _handed_over(endpoint_id: int) -> str | None:
    held = session.pop(SECRET_KEY, None)
    if not isinstance(held, list) or len(held) != 2 or held[0] != endpoint_id:
        return None
    secret = unseal(held[1], info=_SEAL_INFO, aad=_aad(endpoint_id))
    return None if secret is None else secret.decode()


def _form() -> dict:
    return {"name": request.form.get("name", ""), "url": request.form.get("url", ""),
            "unit_id": request.form.get("unit_id", ""), "secret": request.form.get("secret", ""),
            "events": request.form.getlist("events"), "active": request.form.get("active")}


def _list_page(status: int = 200, *, values: dict | None = None, errors: dict | None = None,
               message: str | None = None):
    return render_template(
        "admin/webhooks.html", endpoints=db.session.scalars(managed_endpoints(current_user)).all(),
        events=EVENTS, units=unit_options(current_user),
        values=values or {"unit_id": current_user.unit_id, "events": list(EVENTS)},
        errors=errors or {}, message=message), status


def _endpoint(endpoint_id: int):
    if endpoint_id > MAX_ID:
        abort(404)
    return endpoint_of(current_user, endpoint_id)


def _detail_page(endpoint, status: int = 200, *, secret: str | None = None,
                 values: dict | None = None, errors: dict | None = None,
                 message: str | None = None):
    values = values or {"name": endpoint.name, "url": endpoint.url,
                        "events": endpoint.event_list, "active": endpoint.active}
    response = render_template(
        "admin/webhook.html", endpoint=endpoint, events=EVENTS, values=values,
        errors=errors or {}, message=message, secret=secret, log=log_of(endpoint),
        loopback=current_app.config["TRACKER_WEBHOOK_ALLOW_LOOPBACK"])
    return response, status, {"Cache-Control": "no-store"}


@bp.route("")
@requires(*ADMINS)
def webhook_list():
    return _list_page()


@bp.route("", methods=["POST"])
@requires(*ADMINS)
def webhook_create():
    values = _form()
    try:
        endpoint, secret = create_endpoint(current_user, values, now=clock.now())
    except InvalidInput as exc:
        db.session.rollback()
        return _list_page(422, values=values, errors=exc.fields, message=exc.message)
    db.session.commit()
    flash(_("The webhook was registered. Copy its secret now: it is shown only once."),
          "success")
    return _hand_over(endpoint.id, secret)


@bp.route("/<int:endpoint_id>")
@requires(*ADMINS)
def webhook_detail(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    return _detail_page(endpoint, secret=_handed_over(endpoint.id))


@bp.route("/<int:endpoint_id>", methods=["POST"])
@requires(*ADMINS)
def webhook_save(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    values = _form()
    try:
        changed = change_endpoint(current_user, endpoint, values, now=clock.now())
    except InvalidInput as exc:
        db.session.rollback()
        return _detail_page(endpoint, 422, values={**values, "active": bool(values["active"])},
                            errors=exc.fields, message=exc.message)
    db.session.commit()
    if changed:
        flash(_("The webhook was saved."), "success")
    return redirect(url_for("admin.webhooks.webhook_detail", endpoint_id=endpoint.id))


@bp.route("/<int:endpoint_id>/test", methods=["POST"])
@requires(*ADMINS)
def webhook_test(endpoint_id: int):
    """Queue a test (`ping`): sent by the worker within seconds, never in this request."""
    endpoint = _endpoint(endpoint_id)
    send_test(current_user, endpoint, now=clock.now())
    db.session.commit()
    flash(_("A test was queued; it is sent within a few seconds. Reload the page to see "
            "how it went."), "success")
    return redirect(url_for("admin.webhooks.webhook_detail", endpoint_id=endpoint.id))


@bp.route("/<int:endpoint_id>/secret", methods=["POST"])
@requires(*ADMINS)
def webhook_secret(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    secret = new_secret(current_user, endpoint, now=clock.now())
    db.session.commit()
    flash(_("A new secret was made; the old one no longer signs. Copy it now: it is shown "
            "only once."), "success")
    return _hand_over(endpoint.id, secret)


@bp.route("/<int:endpoint_id>/delete", methods=["POST"])
@requires(*ADMINS)
def webhook_delete(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    name = endpoint.name
    delete_endpoint(current_user, endpoint, now=clock.now())
    db.session.commit()
    flash(_("The webhook %(name)s was deleted.", name=name), "success")
    return redirect(url_for("admin.webhooks.webhook_list"))
