"""Log in and log out."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from tracker import clock
from tracker.auth.sessions import (
    authenticate,
    clear_failures,
    end_session,
    is_throttled,
    start_session,
)
from tracker.auth.two_factor import second_step_due, start_challenge
from tracker.extensions import db
from tracker.web.auth_forms import LoginForm
from tracker.web.helpers import safe_next

bp = Blueprint("auth", __name__)

CHALLENGE_KEY = "login_challenge"  # the token of a login waiting for its code


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        now = clock.now()
        username = form.username.data.strip().lower()
        address = request.remote_addr or "unknown"
        if is_throttled(username, address, now=now):
            flash(_("Too many failed attempts. Please wait a few minutes and try again."),
                  "error")
            return render_template("auth/login.html", form=form), 429
        user = authenticate(username, form.password.data, address, now=now)
        if user is None:
            db.session.commit()  # keep the failed attempt
            flash(_("Wrong username or password, or the account is deactivated."), "error")
            status = 401
        else:
            next_url = safe_next(request.args.get("next"))
            # The second step (two-factor login): the session starts only after the code.
            if second_step_due(user):
                session.clear()
                session[CHALLENGE_KEY] = start_challenge(user, next_url, now=now)
                db.session.commit()
                return redirect(url_for("login_code.code"))
            return complete_login(user, next_url, now=now)
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


def complete_login(user, next_url: str, *, now):
    """Start the session of a user who passed every step of the login (the password, and
    the code when they use two-factor login: tracker.web.login_code)."""
    session.clear()  # a fresh session: nothing carried over from before login
    start_session(user, now=now, user_agent=request.headers.get("User-Agent"))
    clear_failures(user.username)
    db.session.commit()
    login_user(user)
    return redirect(next_url)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    end_session(current_user.get_id())
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))
