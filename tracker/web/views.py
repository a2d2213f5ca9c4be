"""The home page, the language switch and the health checks: `/healthz` (the web and its
database, for a load balancer) and `/healthz/cutoff` (the cutoff, for monitoring)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, jsonify, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from tracker import clock
from tracker.cutoff.backlog import cutoff_status
from tracker.extensions import db
from tracker.scope import ADMINS, has_role
from tracker.scope import may_open as scope_may_open
from tracker.web.helpers import safe_next
from tracker.web.i18n import LANGUAGES

bp = Blueprint("web", __name__)


@bp.app_template_global()
def may_open(endpoint: str) -> bool:
    """Whether the current user may open `endpoint` (its role gate): the navigation's links."""
    return scope_may_open(current_user, endpoint)


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    # Each role starts where its daily work is.
    start = {"member": "member.today", "supervisor": "supervise.red_queue"}
    return redirect(url_for(start.get(current_user.role, "dashboard.overview")))


@bp.route("/lang/<code>")
def set_language(code: str):
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next")))


def _unhealthy():
    db.session.rollback()
    response = jsonify({"status": "error", "database": "unreachable"})
    response.status_code = 503
    response.headers["Retry-After"] = "10"
    return response


@bp.route("/healthz")
def health():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return _unhealthy()
    return {"status": "ok"}


@bp.route("/healthz/cutoff")
def cutoff_health():
    """Where the cutoff stands: the last processed day, every due day not yet processed
    and how late it is, whether a scheduler is alive. 503 when an operator must act (a
    day late beyond TRACKER_CUTOFF_LATE_SECONDS, no scheduler, the scheduler failing),
    and on PostgreSQL which scheduler is the active one and which stand by. The
    schedulers' names and errors are shown to admins only."""
    grace = timedelta(seconds=current_app.config["TRACKER_CUTOFF_LATE_SECONDS"])
    try:
        public = cutoff_status(clock.now()).public(grace)
    except SQLAlchemyError:
        return _unhealthy()
    if not has_role(current_user, *ADMINS):
        public["schedulers"] = [{"role": s["role"], "state": s["state"], "alive": s["alive"]}
                                for s in public["schedulers"]]
        if public["active_scheduler"]:
            public["active_scheduler"].pop("name")
    response = jsonify(public)
    response.status_code = 503 if public["problems"] else 200
    return response
