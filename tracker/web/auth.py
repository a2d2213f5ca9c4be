"""Log in and log out.

A login goes: the throttle and the password (`authenticate`, no database lock held while
the password is hashed) — or the province's single sign-on (tracker.web.sso) →
`first_factor_verified` → the second step when the user has two-factor login
(tracker.web.login_code) → the session (`complete_login`). With TRACKER_LOCAL_PASSWORDS=0
the password form is refused and the page offers single sign-on alone.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from tracker import clock
from tracker.auth import devices, sessions
from tracker.auth.passwords import local_passwords, local_passwords_off_message
from tracker.auth.two_factor import second_step_due, start_challenge
from tracker.extensions import db, limiter
from tracker.push.service import forget_browser
from tracker.sso.service import link_identity
from tracker.web.auth_forms import LoginForm
from tracker.web.helpers import PROVIDER_MFA_KEY, PUSH_ENDPOINTS_KEY, safe_next

bp = Blueprint("auth", __name__)

CHALLENGE_KEY = "login_challenge"  # the token of a login waiting for its code
LOGIN_METHOD_KEY = "login_method"  # how the first factor was passed, when not by password
# The single sign-on identity (iss, sub) to bind to the user once the code is right.
SSO_IDENTITY_KEY = "sso_identity"


def client_address() -> str:
    """The client's address: the connection's, or with `TRACKER_TRUSTED_PROXIES` set, the
    one the trusted proxies forwarded (ProxyFix, in create_app)."""
    return (request.remote_addr or "unknown")[:64]


def _login_rate() -> str:
    return current_app.config["TRACKER_LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate, methods=["POST"], scope="login")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm()
    status = 200
    if not local_passwords():
        if request.method == "POST":
            flash(local_passwords_off_message(), "error")
            status = 403
        return render_template("auth/login.html", form=form), status
    if form.validate_on_submit():
        now = clock.now()
        typed = form.username.data
        device = devices.trusted_device(request.cookies.get(devices.cookie_name()),
                                        typed.strip().lower())
        outcome = sessions.authenticate(typed, form.password.data, address=client_address(),
                                        device=device, now=now)
        if outcome.user is not None:
            return first_factor_verified(outcome.user, now=now)
        if outcome.retry_after:
            flash(_("Too many failed attempts. Please wait a few minutes and try again."),
                  "error")
            return render_template("auth/login.html", form=form), 429, \
                {"Retry-After": str(outcome.retry_after)}
        flash(_("Wrong username or password, or the account is deactivated."), "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


def first_factor_verified(user, *, now, next_url: str | None = None,
                          method: str | None = None, provider_mfa: bool = False,
                          sso_identity: tuple[str, str] | None = None):
    """The password was right (`authenticate` has marked the attempt succeeded in the open
    transaction, which either branch commits), or the single sign-on provider named this
    user (`method` "sso"; `sso_identity` to bind to the account when the login completes).
    With two-factor login the session starts only after the code (tracker.web.login_code)
    — unless the provider's several factors are trusted (`provider_mfa`,
    TRACKER_OIDC_TRUST_MFA)."""
    next_url = next_url or safe_next(request.args.get("next"))
    if second_step_due(user) and not provider_mfa:
        session.clear()
        session[CHALLENGE_KEY] = start_challenge(user, next_url, now=now)
        if method:
            session[LOGIN_METHOD_KEY] = method
        if sso_identity:
            session[SSO_IDENTITY_KEY] = list(sso_identity)
        db.session.commit()
        return redirect(url_for("login_code.code"))
    return complete_login(user, next_url, now=now, method=method, provider_mfa=provider_mfa,
                          sso_identity=sso_identity)


def complete_login(user, next_url: str, *, now, method: str | None = None,
                   provider_mfa: bool = False, sso_identity=None):
    """Start the session of a user who passed every step of the login (the password or
    single sign-on, and the code when they use two-factor login): the provider's identity
    bound to a user who had none (tracker.sso.service), a fresh session, the login
    recorded, this browser trusted for this username from now on (tracker.auth.devices)."""
    session.clear()  # a fresh session: nothing carried over from before login
    if sso_identity:
        issuer, subject = sso_identity
        link_identity(user, (issuer, subject), now=now)
    if provider_mfa:
        method = f"{method or 'sso'}, mfa by provider"
    sessions.complete_login(user, now=now, address=client_address(),
                            user_agent=request.headers.get("User-Agent"), method=method)
    db.session.commit()
    login_user(user)
    if provider_mfa:
        session[PROVIDER_MFA_KEY] = True
    response = redirect(next_url)
    response.set_cookie(devices.cookie_name(),
                        devices.remember(request.cookies.get(devices.cookie_name()), user.username),
                        max_age=devices.max_age(), httponly=True, samesite="Lax", path="/",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """End the session; forget the push subscriptions this browser made during it (the next
    user of the phone gets none of this user's pushes), and have the browser drop its
    cached pages (Clear-Site-Data; the service worker empties the pages it kept)."""
    sessions.log_out(current_user, current_user.get_id(), now=clock.now())
    forget_browser(current_user, session.get(PUSH_ENDPOINTS_KEY))
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    response = redirect(url_for("auth.login"))
    response.headers["Clear-Site-Data"] = '"cache"'
    return response
