"""Domain errors raised by services; views and the API turn them into 4xx answers."""

from __future__ import annotations


def is_api_path(path: str) -> bool:
    """Whether a request is the REST API's (tracker.api): its errors are answered as JSON
    (tracker.web.errors) and it opens no cookie session (tracker.api)."""
    return path.startswith("/api/")


class TrackerError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class InvalidInput(TrackerError):
    status = 422
    code = "invalid"


class NotFound(TrackerError):
    """Also used for objects outside the user's scope, so that ids do not leak."""

    status = 404
    code = "not_found"


class Forbidden(TrackerError):
    status = 403
    code = "forbidden"


class Conflict(TrackerError):
    """The object is not in a state that allows the action (e.g. update on a done task)."""

    status = 409
    code = "conflict"
