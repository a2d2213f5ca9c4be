"""Friendly error pages (and JSON for API clients); a service error never becomes a 500."""

from __future__ import annotations

import contextlib

from flask import current_app, jsonify, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from tracker.database import nul_character, unavailable
from tracker.errors import TrackerError, is_api_path
from tracker.extensions import db
from tracker.logs import refused


def _wants_json() -> bool:
    return is_api_path(request.path) or (
        request.accept_mimetypes.best == "application/json"
    )


def _render(status: int, title: str, message: str, fields: dict | None = None, code=None):
    if _wants_json():
        body = {"code": code or str(status), "message": message, "fields": fields or {}}
        return jsonify(body), status
    try:
        return render_template("errors/error.html", status=status, title=title,
                               message=message, fields=fields or {}), status
    except Exception:  # the error page itself must never fail
        return f"{status} {title}: {message}", status, {"Content-Type": "text/plain"}


def register(app) -> None:
    @app.errorhandler(TrackerError)
    def _tracker_error(exc: TrackerError):
        db.session.rollback()
        if exc.status == 403:
            refused(403, exc.message)
        titles = {403: _("Not allowed"), 404: _("Not found"), 409: _("Not possible now")}
        return _render(exc.status, titles.get(exc.status, _("Please check your input")),
                       exc.message, exc.fields, exc.code)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        refused(400, f"CSRF: {exc.description}")
        return _render(400, _("The form has expired"),
                       _("Please reload the page and submit the form again."),
                       code="csrf")

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        messages = {
            400: (_("Bad request"), _("The request could not be understood.")),
            403: (_("Not allowed"), _("You do not have permission to see this page.")),
            404: (_("Not found"), _("The page or item does not exist, or is outside "
                                    "your scope.")),
            405: (_("Not allowed"), _("This action is not allowed here.")),
            413: (_("Too large"), _("The file is too large.")),
            429: (_("Too many requests"), _("Too many requests. Please wait a moment and "
                                            "try again.")),
        }
        title, message = messages.get(exc.code, (exc.name, exc.description or ""))
        if exc.code in (403, 429):  # refused access, a rate limit reached (ASVS 16.3.3)
            refused(exc.code, exc.description or "")
        return _render(exc.code or 500, title, message)

    @app.errorhandler(SQLAlchemyError)
    def _database_error(exc: SQLAlchemyError):
        if nul_character(exc):
            with contextlib.suppress(Exception):
                db.session.rollback()
            return _render(400, _("Please check your input"),
                           _("Must not contain NUL characters."), code="nul_character")
        if not unavailable(exc):
            return _unexpected(exc)
        # One line, no traceback: an outage would otherwise flood the log. The statement's
        # parameters never appear (hide_parameters, tracker.config.engine_options).
        app.logger.warning("database unavailable: %s", type(getattr(exc, "orig", exc)).__name__)
        with contextlib.suppress(Exception):
            db.session.rollback()
        return _unavailable()

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unexpected error")
        with contextlib.suppress(Exception):
            db.session.rollback()
        return _render(500, _("Something went wrong"),
                       _("The error has been logged. Please try again in a moment."))


def _unavailable():
    """503 with Retry-After: the database is down, frozen or busy. The page reads nothing
    from the database (not even who is logged in), so it is answered at once."""
    retry = str(current_app.config.get("TRACKER_RETRY_AFTER_SECONDS", 10))
    title = _("Temporarily unavailable")
    message = _("The system cannot reach its database at the moment. Your last change may "
                "not have been saved. Please try again in a few minutes.")
    headers = {"Retry-After": retry}
    if _wants_json():
        body = {"code": "unavailable", "message": message, "fields": {}}
        return jsonify(body), 503, headers
    try:
        # Straight from the template, without the context processors: they would ask the
        # database who is logged in.
        page = current_app.jinja_env.get_template("errors/unavailable.html").render(
            title=title, message=message, request=request, get_locale=get_locale)
        return page, 503, headers
    except Exception:  # the error page itself must never fail
        return f"503 {title}: {message}", 503, {**headers, "Content-Type": "text/plain"}
