"""Friendly error pages (and JSON for API clients); a service error never becomes a 500."""

from __future__ import annotations

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from tracker.errors import TrackerError
from tracker.extensions import db
from tracker.logs import refused


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (
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
        if exc.code == 403:
            refused(403, exc.description or "")
        return _render(exc.code or 500, title, message)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unexpected error")
        db.session.rollback()
        return _render(500, _("Something went wrong"),
                       _("The error has been logged. Please try again in a moment."))
