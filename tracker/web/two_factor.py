"""The user's own two-factor login (xác thực hai lớp) page: set up an authenticator app
(QR code drawn here, offline, and the secret as text), confirm it with a code, see the
recovery codes once, make new ones, turn it off. And the gate that sends an admin who must
use it (TRACKER_ADMIN_2FA=required) to this page before any other."""

from __future__ import annotations

import segno
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from tracker import clock
from tracker.auth import two_factor
from tracker.errors import Conflict, InvalidInput
from tracker.extensions import db
from tracker.scope import must_use_second_factor
from tracker.web.helpers import PROVIDER_MFA_KEY

bp = Blueprint("two_factor", __name__, url_prefix="/account/two-factor")

CODE_MAX = 64
PASSWORD_MAX = 1024
# What an admin who must enrol may still open: this page, logging out, the language,
# static files, health checks. (The API has its own credential: tokens.)
OPEN_WHILE_ENROLLING = {"auth.logout", "auth.login", "static", "web.set_language",
                        "web.health", "web.cutoff_health"}


@bp.before_app_request
def _enrol_first():
    endpoint = request.endpoint or ""
    if (endpoint in OPEN_WHILE_ENROLLING or endpoint.startswith(("two_factor.", "api"))
            or not current_user.is_authenticated):
        return None
    # A session begun by single sign-on whose provider used several factors, trusted for
    # it (TRACKER_OIDC_TRUST_MFA): the provider's factors stand for Tracker's.
    if session.get(PROVIDER_MFA_KEY):
        return None
    if two_factor.needs_enrolment(current_user):
        flash(_("Administrators must use two-factor login. Set up an authenticator app "
                "to continue."), "info")
        return redirect(url_for("two_factor.page"))
    return None


def _qr(uri: str) -> Markup:
    """The QR code as inline SVG, drawn here (no outside service sees the secret)."""
    return Markup(segno.make(uri, micro=False).svg_inline(scale=5, border=2))


def _page(status: int = 200, *, codes: list[str] | None = None, errors: dict | None = None):
    user = current_user
    factor = two_factor.factor_of(user)
    pending = factor is not None and factor.confirmed_at is None
    context = {"factor": factor, "pending": pending, "codes": codes, "errors": errors or {},
               "required": must_use_second_factor(user),
               "left": two_factor.recovery_codes_left(user) if factor else 0}
    if pending:
        secret = two_factor.secret_text(factor)
        context.update(qr=_qr(two_factor.provisioning_uri(user, factor)),
                       secret=two_factor.grouped(secret))
    # Secrets and recovery codes are on this page: keep it out of every cache.
    return render_template("account/two_factor.html", **context), status, \
        {"Cache-Control": "no-store"}


def _refused(exc: InvalidInput | Conflict):
    db.session.rollback()
    flash(exc.message, "error")
    return _page(422 if isinstance(exc, InvalidInput) else 409,
                 errors=getattr(exc, "fields", {}))


@bp.route("")
@login_required
def page():
    return _page()


def _changed(change, done: str | None = None, *, codes: bool = False):
    """Make one change to the current user's second factor: committed and said, with the
    new recovery codes shown once (`codes`), or refused with the reason."""
    try:
        result = change()
    except (InvalidInput, Conflict) as exc:
        return _refused(exc)
    db.session.commit()
    if done:
        flash(done, "success")
    return _page(codes=result) if codes else redirect(url_for("two_factor.page"))


def _form(name: str, limit: int) -> str:
    return request.form.get(name, "")[:limit]


@bp.route("/setup", methods=["POST"])
@login_required
def setup():
    return _changed(lambda: two_factor.begin_enrolment(current_user, now=clock.now()))


@bp.route("/confirm", methods=["POST"])
@login_required
def confirm():
    return _changed(lambda: two_factor.confirm_enrolment(
        current_user, _form("code", CODE_MAX), now=clock.now()),
        _("Two-factor login is on."), codes=True)


@bp.route("/recovery-codes", methods=["POST"])
@login_required
def recovery_codes():
    return _changed(lambda: two_factor.regenerate_recovery_codes(
        current_user, _form("code", CODE_MAX), now=clock.now()),
        _("New recovery codes were made; the old ones no longer work."), codes=True)


@bp.route("/disable", methods=["POST"])
@login_required
def disable():
    return _changed(lambda: two_factor.disable(
        current_user, code=_form("code", CODE_MAX), password=_form("password", PASSWORD_MAX),
        now=clock.now()), _("Two-factor login is off."))
