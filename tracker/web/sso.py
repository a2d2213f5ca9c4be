"""Single sign-on pages (đăng nhập một lần): the login page's button sends the browser to
the province's OpenID Connect provider (a GET: the Content-Security-Policy's form-action
keeps forms on this site, and starting a login changes nothing that a forged request could
use — the state ties the callback to this browser), and the provider sends
it back to the callback, where the ID token is checked (tracker.sso.client) and its claim
names an existing Tracker user (tracker.sso.service). From there the login goes on as
after a password (tracker.web.auth.first_factor_verified): the second step, the session.
"""

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
from tracker.auth.passwords import local_passwords, passwordless_allowed
from tracker.extensions import db, limiter
from tracker.sso import client as oidc
from tracker.sso.service import login_user_for, refuse_login
from tracker.web.auth import client_address, first_factor_verified
from tracker.web.auth_forms import LoginForm
from tracker.web.helpers import safe_next

bp = Blueprint("sso", __name__, url_prefix="/login/sso")

NEXT_KEY = "sso_next"  # where to go once logged in, kept across the provider's pages


def _login_rate() -> str:
    return current_app.config["TRACKER_LOGIN_RATE_LIMIT"]


@bp.app_context_processor
def _login_choices() -> dict:
    """What the login and user pages offer: the single sign-on button and its label,
    Tracker's own passwords, a user without a password."""
    return {"sso_enabled": oidc.enabled(),
            "sso_label": current_app.config.get("TRACKER_OIDC_LABEL")
            or _("Log in with single sign-on (SSO)"),
            "local_passwords": local_passwords(),
            "passwordless_allowed": passwordless_allowed()}


def _redirect_uri() -> str:
    """The callback's address as the provider knows it: under TRACKER_BASE_URL when set
    (behind a proxy that rewrites the host), else this request's."""
    base = current_app.config.get("TRACKER_BASE_URL")
    if base:
        return base.rstrip("/") + url_for("sso.callback")
    return url_for("sso.callback", _external=True)


def _refused(message: str, status: int):
    flash(message, "error")
    return render_template("auth/login.html", form=LoginForm()), status


@bp.route("")
@limiter.limit(_login_rate, scope="login")
def start():
    """To the provider's authorization endpoint."""
    if not oidc.enabled():
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    next_url = safe_next(request.args.get("next"))
    try:
        response = oidc.authorize_redirect(_redirect_uri())
    except oidc.SsoFailure as exc:
        refuse_login(exc.reason, now=clock.now(), address=client_address())
        db.session.commit()
        return _refused(_("The single sign-on service cannot be reached. Please try again "
                          "in a few minutes."), 502)
    session[NEXT_KEY] = next_url
    return response


@bp.route("/callback")
@limiter.limit(_login_rate, scope="login")
def callback():
    """The provider's answer: the state, the code, the ID token checked; the user named."""
    if not oidc.enabled():
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    now = clock.now()
    address = client_address()
    next_url = safe_next(session.pop(NEXT_KEY, None))
    try:
        claims = oidc.checked_claims(now=now)
    except oidc.SsoFailure as exc:
        db.session.rollback()
        refuse_login(exc.reason, now=now, address=address)
        db.session.commit()
        return _refused(_("Single sign-on did not succeed: the answer of the sign-on "
                          "service could not be verified. Please log in again."), 401)
    config = current_app.config
    found = login_user_for(claims, claim=config["TRACKER_OIDC_CLAIM"], now=now,
                           address=address, link_admins=config["TRACKER_OIDC_LINK_ADMINS"])
    if found.user is None:
        db.session.commit()  # the refusal's security event
        if found.refused == "deactivated":
            return _refused(_("Your Tracker account is deactivated. Contact your unit's "
                              "administrator."), 403)
        if found.refused in ("other_identity", "identity_taken"):
            return _refused(_("Your single sign-on account is not the one linked to this "
                              "Tracker user. Ask your unit's administrator to check the "
                              "link on your user page."), 403)
        if found.refused == "admin_not_linked":
            return _refused(_("An administrator account is linked to single sign-on only "
                              "after an administrator allows it on the user page. Log in "
                              "with your password, or ask another administrator."), 403)
        return _refused(_("Your single sign-on account is not linked to any Tracker user. "
                          "Ask your unit's administrator to create your account with the "
                          "same username (or e-mail) as in the sign-on service."), 403)
    return first_factor_verified(
        found.user, now=now, next_url=next_url, method="sso",
        provider_mfa=found.provider_mfa and config.get("TRACKER_OIDC_TRUST_MFA", False),
        sso_identity=found.identity)
