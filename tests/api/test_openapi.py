"""The OpenAPI document, and a property-based run of schemathesis against it: for every
operation, generated valid and invalid requests never get a 5xx, and every answer
matches the document (status, content type, headers, body schema)."""

from __future__ import annotations

import contextvars
import io
from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks as sc
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from tests.api.conftest import bearer
from tracker import clock, create_app
from tracker.evidence.service import attach_file
from tracker.extensions import db
from tracker.notifications.models import Notification
from tracker.notifications.service import add_notifications
from tracker.tasks.lifecycle import request_extension

CHECKS = [sc.not_a_server_error, sc.status_code_conformance, sc.content_type_conformance,
          sc.response_headers_conformance, sc.response_schema_conformance]

# Who calls each operation, so that the run gets past the role checks into the services.
MEMBER_ACTIONS = ("/updates", "/submit", "/extensions", "/evidence")
SUPERVISOR_ACTIONS = ("/confirm", "/return", "/nudge", "/approve", "/reject", "/comments")


class Isolated:
    """The app as a WSGI callable whose every request runs in its own context (its own
    app context and database session), as in production and as `IsolatedClient` does."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        return contextvars.Context().run(self.app, environ, start_response)


def test_the_document_is_served_without_a_token_and_describes_every_resource(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    paths = set(document["paths"])
    for path in ("/api/v1/tasks", "/api/v1/tasks/{task_id}", "/api/v1/units/{unit_id}/updates",
                 "/api/v1/tasks/{task_id}/submit", "/api/v1/extensions/{extension_id}/approve",
                 "/api/v1/tasks/{task_id}/nudge", "/api/v1/reports/daily",
                 "/api/v1/units/{unit_id}/summary", "/api/v1/tasks/{task_id}/audit",
                 "/api/v1/users", "/api/v1/calendar", "/api/v1/calendar/{day}",
                 "/api/v1/tasks/import", "/api/v1/tasks/import/template",
                 "/api/v1/notifications", "/api/v1/notifications/read",
                 "/api/v1/notifications/{notification_id}/read",
                 "/api/v1/tasks/{task_id}/evidence",
                 "/api/v1/tasks/{task_id}/evidence/{evidence_id}",
                 "/api/v1/users/{user_id}/tokens"):
        assert path in paths
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert set(document["components"]["schemas"]["Error"]["required"]) == {
        "code", "message", "fields"}


def _document() -> dict:
    """The document as the app serves it; it depends on the code only, not on data."""
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return app.test_client().get("/api/v1/openapi.json").get_json()


schema = schemathesis.openapi.from_dict(_document())


def _caller(case) -> str:
    path, method = case.operation.path, case.method.upper()
    if method == "POST" and path.endswith(MEMBER_ACTIONS):
        return "ha_long"
    if method == "POST" and path.endswith(SUPERVISOR_ACTIONS):
        return "supervisor"
    return "admin"


def test_the_document_is_valid_openapi():
    schema.validate()  # against the OpenAPI 3.0 meta-schema; raises on any error


@pytest.fixture
def known_ids(app, world, users, units, tmp_path):
    """Real ids to aim generated requests at, with a pending extension request, an
    evidence file and a notification of the admin's (who makes most calls)."""
    app.config["TRACKER_EVIDENCE_PATH"] = str(tmp_path / "evidence")
    extension = request_extension(users["ha_long"], world.overdue, reason="Chờ số liệu",
                                  new_deadline=date(2026, 12, 15), now=clock.now())
    evidence = attach_file(users["ha_long"], world.overdue,
                           FileStorage(io.BytesIO(b"%PDF-1.4\n%%EOF\n"), filename="a.pdf"),
                           now=clock.now())
    add_notifications([{"user_id": users["admin"].id, "kind": "report", "message": "Báo cáo",
                        "created_at": clock.now()}])
    db.session.commit()
    return {
        "task_id": [world.overdue.id, world.silent.id, world.fresh.id, world.co_to.id],
        "unit_id": [units["province"].id, units["ha_long"].id, units["co_to"].id],
        "user_id": [user.id for user in users.values()],
        "extension_id": [extension.id],
        "evidence_id": [evidence.id],
        "notification_id": list(db.session.scalars(select(Notification.id))),
    }


def _aim(case, known_ids) -> None:
    """Half the generated ids are swapped for real ones, so that requests reach the
    services as well as the 404s."""
    for name, ids in known_ids.items():
        value = (case.path_parameters or {}).get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value % 2 == 0:
            case.path_parameters[name] = ids[value // 2 % len(ids)]


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_answers_match_the_document(case, app, known_ids, tokens):
    _aim(case, known_ids)
    db.session.rollback()  # hold no transaction (on SQLite: no lock) during the request
    case.call_and_validate(app=Isolated(app), headers=bearer(tokens[_caller(case)]),
                           checks=CHECKS)
