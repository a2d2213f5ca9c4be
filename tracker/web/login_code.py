"""The second step of a login (xác thực hai lớp): the 6-digit code from the authenticator
app, or a recovery code. Part of the login's pages (tracker.web.auth), which start the
session once the code is right; until then the browser holds only the waiting login's
token and reaches no other page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker import clock
from tracker.auth.two_factor import CHALLENGE_MINUTES, answer_challenge, load_challenge
from tracker.extensions import db
from tracker.web.auth import CHALLENGE_KEY, LOGIN_METHOD_KEY, SSO_IDENTITY_KEY, complete_login
from tracker.web.helpers import safe_next

bp = Blueprint("login_code", __name__)

CODE_MAX = 64


def _back_to_password(message: str):
    session.pop(CHALLENGE_KEY, None)
    flash(message, "error")
    return redirect(url_for("auth.login"))


@bp.route("/login/code", methods=["GET", "POST"])
def code():
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    now = clock.now()
    challenge = load_challenge(session.get(CHALLENGE_KEY), now=now)
    if challenge is None:
        return _back_to_password(_("Your login has expired. Please enter your password again."))
    status = 200
    if request.method == "POST":
        answer = answer_challenge(challenge, request.form.get("code", "")[:CODE_MAX], now=now)
        if answer.passed:
            next_url = safe_next(challenge.next_url or None)
            return complete_login(challenge.user, next_url, now=now,
                                  method=session.get(LOGIN_METHOD_KEY),
                                  sso_identity=session.get(SSO_IDENTITY_KEY))
        db.session.commit()  # keep the failure (and the spent challenge)
        if answer.throttled:
            flash(_("Too many wrong codes. Please wait a few minutes and try again."), "error")
            status = 429
        elif not answer.again:
            return _back_to_password(
                _("Too many wrong codes. Please enter your password again."))
        else:
            flash(_("The code is not right, or it has already been used."), "error")
            status = 401
    return render_template("auth/code.html", minutes=CHALLENGE_MINUTES), status, \
        {"Cache-Control": "no-store"}
