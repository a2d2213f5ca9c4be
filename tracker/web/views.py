"""The home page, the language switch and a health check."""

from __future__ import annotations

from flask import Blueprint, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from tracker.auth.views import _safe_next
from tracker.extensions import db
from tracker.web.i18n import LANGUAGES

bp = Blueprint("web", __name__)


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
    return redirect(_safe_next(request.args.get("next")))


@bp.route("/healthz")
def health():
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}
