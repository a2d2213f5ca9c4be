"""What every API blueprint shares: Bearer-token authentication, input parsing that
answers 4xx (never 500) with the fields at fault, the ETag/If-Match check.

Errors are `tracker.errors` exceptions, which `tracker.web.errors` turns into JSON
``{"code", "message", "fields"}`` and whose transaction it rolls back.
"""

from __future__ import annotations

import contextlib
import json

from flask import current_app, g, jsonify, request
from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import ValidationError
from webargs import core
from webargs.flaskparser import FlaskParser

from tracker import clock
from tracker.auth.models import User
from tracker.auth.sessions import token_hash
from tracker.auth.tokens import Identity, identity_for_token
from tracker.errors import InvalidInput, NotFound, TrackerError
from tracker.extensions import db, limiter
from tracker.fence import stamp
from tracker.rules.vietnamese import nfc_deep
from tracker.scope import can_see_unit, get_task, visible_tasks
from tracker.tasks.models import Task
from tracker.tasks.schemas import EARLIEST, LATEST
from tracker.types import MAX_ID
from tracker.units.models import Unit

# The dates the services accept (anything outside is a typing mistake).
FIRST_DATE, LAST_DATE = EARLIEST, LATEST


class Unauthorized(TrackerError):
    status = 401
    code = "unauthorized"


class BadBody(TrackerError):
    status = 400
    code = "bad_json"


class PreconditionFailed(TrackerError):
    status = 412
    code = "precondition_failed"


class PreconditionRequired(TrackerError):
    status = 428
    code = "precondition_required"


def flatten(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as ``{"items.2.progress": ["…"]}``."""
    if isinstance(messages, dict):
        out: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                name = prefix or "body"
            for field, texts in flatten(value, name).items():
                out.setdefault(field, []).extend(texts)
        return out
    if isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            return {prefix or "body": [str(m) for m in messages]}
        out = {}
        for item in messages:
            for field, texts in flatten(item, prefix).items():
                out.setdefault(field, []).extend(texts)
        return out
    return {prefix or "body": [str(messages)]}


def unstorable_text(value, path: str = "") -> dict[str, list[str]]:
    """The fields holding strings PostgreSQL cannot store (NUL) or UTF-8 cannot encode
    (lone surrogates), found without recursion however deep the JSON is."""
    found: dict[str, list[str]] = {}
    stack = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                found[where or "body"] = [_("Not valid text.")]
                continue
            if "\x00" in item:
                found[where or "body"] = [_("Must not contain NUL characters.")]
        elif isinstance(item, dict):
            for key, child in item.items():
                stack += [(where or "body", key), (f"{where}.{key}" if where else str(key), child)]
        elif isinstance(item, list):
            stack += [(f"{where}.{i}" if where else str(i), child)
                      for i, child in enumerate(item)]
    return found


_BAD_JSON = object()


def load_body():
    """The request body as JSON, whatever the Content-Type says, its text in NFC;
    `missing` if empty. Parsed once per request."""
    if "api_body" not in g:
        data = request.get_data(cache=True)
        try:
            # Text in one form (NFC) from here on (tracker.inputs).
            g.api_body = nfc_deep(json.loads(data)) if data.strip() else core.missing
        except (ValueError, RecursionError):
            g.api_body = _BAD_JSON
    if g.api_body is _BAD_JSON:
        raise BadBody(_("The request body is not valid JSON."), {"body": [_("Not valid JSON.")]})
    return g.api_body


class Parser(FlaskParser):
    """webargs, answering like the rest of Tracker: a TrackerError naming the fields.

    The "json" location is `load_body` (webargs' public `load_json` hook): the body is
    JSON whatever the Content-Type says, parsed once, and bad JSON is a 400 naming it."""

    def load_json(self, req, schema):
        return load_body()

    def handle_error(self, error: ValidationError, req, schema, *, error_status_code,
                     error_headers):
        fields = {}
        for location, messages in error.normalized_messages().items():
            prefix = "" if location in ("json", "query", "querystring") else location
            fields.update(flatten(messages, prefix))
        raise InvalidInput(_("Some fields are not valid."), fields)


def json_object() -> dict:
    """The body as a JSON object, for services that validate raw input themselves."""
    data = load_body()
    if data is core.missing:
        data = {}
    if not isinstance(data, dict):
        raise InvalidInput(_("The request body must be a JSON object."),
                           {"body": [_("Must be a JSON object.")]})
    return data


def only_fields(data: dict, allowed) -> dict:
    """`data` if it names no field but those `allowed`; else a refusal naming each other
    one (a field sent and silently ignored would answer 200 for a change never made)."""
    others = sorted(name for name in data if name not in allowed)
    if others:  # in the words of the task's edit (tracker.tasks.editing)
        raise InvalidInput(_("These fields cannot be changed here."),
                           {name: [_("Not editable.")] for name in others})
    return data


def identity() -> Identity:
    """Who the request acts for, as plain values (no ORM object)."""
    return g.api_identity


def actor() -> User:
    """The request's user as an ORM object, loaded on first use."""
    if "api_user" not in g:
        g.api_user = db.session.get(User, g.api_identity.user_id)
    return g.api_user


def authenticate() -> None:
    """Every API request carries `Authorization: Bearer <token>`; cookies are ignored."""
    scheme, _sep, raw = request.headers.get("Authorization", "").partition(" ")
    found, touched = None, False
    if scheme.lower() == "bearer" and raw.strip():
        found, touched = identity_for_token(raw.strip(), now=clock.now())
    if found is None:
        db.session.rollback()
        raise Unauthorized(_("A valid API token is needed: Authorization: Bearer <token>."))
    if touched:  # the token's last use was recorded
        db.session.commit()
    g.api_identity = found
    refuse_unstorable_text()


def refuse_unstorable_text() -> None:
    """Refuse text the database cannot store before any view sees it: NUL characters
    would make PostgreSQL fail (a 500) where SQLite accepts them."""
    found: dict[str, list[str]] = {}
    for name, values in request.args.lists():
        for value in (name, *values):
            found.update(unstorable_text(value, name))
    # An upload (multipart) is read by its view alone, within that view's size limit.
    with contextlib.suppress(BadBody):  # the view reports it, if it reads a body at all
        body = load_body() if request.mimetype != "multipart/form-data" else core.missing
        if body is not core.missing:
            found.update(unstorable_text(body))
    if found:
        raise InvalidInput(_("Some fields are not valid."), found)


def unauthorized(exc: Unauthorized):
    db.session.rollback()
    response = jsonify({"code": exc.code, "message": exc.message, "fields": exc.fields})
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="tracker"'
    return response


def rate_key() -> str:
    """Whose budget a request spends (Flask-Limiter, before the token is checked): its
    token's, by the token's hash; without one, its address's."""
    scheme, _sep, raw = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and raw.strip():
        return "token:" + token_hash(raw.strip())[:32]
    return "address:" + (request.remote_addr or "unknown")


def _api_rate() -> str:
    return current_app.config["TRACKER_API_RATE_LIMIT"]


class ApiBlueprint(Blueprint):
    """A flask-smorest blueprint whose every view needs a valid token. `tag` names its
    section of the OpenAPI document (the blueprint's own name must be unique in the app)."""

    ARGUMENTS_PARSER = Parser()

    def __init__(self, tag: str, import_name: str, **kwargs):
        super().__init__(f"api_{tag}", import_name, url_prefix="/api/v1", **kwargs)
        self.tag = tag
        self.before_request(authenticate)
        self.register_error_handler(Unauthorized, unauthorized)
        # One budget per token over the whole API (TRACKER_API_RATE_LIMIT): 429 with
        # Retry-After past it.
        limiter.shared_limit(_api_rate, scope="api", key_func=rate_key)(self)

    def route(self, rule, *, parameters=None, tags=None, **options):
        return super().route(rule, parameters=parameters, tags=tags or [self.tag], **options)

    def arguments(self, schema, *args, **kwargs):
        """As flask-smorest's, but a schema class is instantiated once, here, rather than
        by webargs on every request."""
        return super().arguments(schema() if isinstance(schema, type) else schema, *args,
                                 **kwargs)


# --- objects in scope: units, and tasks loaded for a change with their ETag ------------


def unit_in_scope(unit_id: int, field: str) -> Unit:
    """A unit named in the input (not the path): unknown or outside scope is a 422 on
    that field, which tells nothing about units one may not see."""
    unit = db.session.get(Unit, unit_id)
    if unit is None or not can_see_unit(actor(), unit):
        raise InvalidInput(_("Unknown unit or outside your scope."),
                           {field: [_("Unknown unit or outside your scope.")]})
    return unit



def load_task(task_id: int) -> Task:
    return get_task(actor(), task_id)


def lock_task(task_id: int, *, if_match: str = "optional") -> Task:
    """The task in scope, locked for this transaction and freshly read, so that two
    clients cannot both act on the same version. `if_match`: "required" → 428 without
    the header; "optional" → a given If-Match must equal the task's ETag (else 412);
    "ignore" → the header is about something else."""
    if not 0 < task_id <= MAX_ID:
        raise NotFound(_("task not found"))
    stamp()  # inside the cutoff's fence before taking any row lock (tracker.fence)
    # One statement: the scope check, the row lock (FOR NO KEY UPDATE, as the update
    # path's: rows referring to the task are not held up) and a fresh read.
    task = db.session.scalar(
        visible_tasks(actor()).where(Task.id == task_id)
        .with_for_update(of=Task, key_share=True)
        .execution_options(populate_existing=True))
    if task is None:
        raise NotFound(_("task not found"))
    if if_match != "ignore":
        check_if_match(task.version, required=if_match == "required")
    return task


def check_if_match(version: int, *, required: bool = False) -> None:
    """A given If-Match must name the task's current `version` (else 412); `required`:
    428 without the header."""
    if request.headers.get("If-Match") is None:
        if required:
            raise PreconditionRequired(
                _("Send If-Match with the task's ETag (its version) to change it."),
                {"If-Match": [_("Required.")]})
        return
    if not request.if_match.contains(str(version)):
        raise PreconditionFailed(
            _("The task was changed by someone else; reload it and try again."),
            {"If-Match": [_("The current version is %(v)s.", v=version)]})


def etag(task: Task) -> dict[str, str]:
    return {"ETag": f'"{task.version}"'}


def commit() -> None:
    db.session.commit()


DESCRIPTION = (
    "Tracker's REST API: everything a member, supervisor or admin does in the web UI, with "
    "the same roles and unit scope. Authenticate with a personal token, "
    "`Authorization: Bearer trk_…` (create one at /account/tokens or with "
    "`flask --app wsgi tracker token create USERNAME`). Every error is JSON "
    "`{code, message, fields}`; objects outside your scope answer 404."
)


def config_defaults(app) -> None:
    app.config.setdefault("API_TITLE", "Tracker API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": DESCRIPTION},
        "components": {"securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer",
                           "description": "A personal API token (trk_…)."}}},
        "security": [{"bearerAuth": []}],
    })
