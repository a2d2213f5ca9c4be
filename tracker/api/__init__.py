"""The REST API under /api/v1 (flask-smorest): marshmallow schemas, an OpenAPI 3 document
at /api/v1/openapi.json, personal Bearer tokens, the same roles and scope as the web UI.

Every view calls the same service functions as the web UI and commits once; a service
error becomes a JSON 4xx (`tracker.web.errors`) and rolls the transaction back.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_smorest import Api

from tracker.api.schemas import ErrorSchema
from tracker.errors import is_api_path


class TrackerApi(Api):
    """flask-smorest, documenting Tracker's error body. The app's own error handlers
    (`tracker.web.errors`) answer every error, on the API as on the pages: `create_app`
    registers them after this, so they replace the JSON handler flask-smorest adds.

    `register_blueprint` is the one place that repeats flask-smorest's internals: it is
    the library's own, but with the OpenAPI tag named after the blueprint's `tag` (a
    blueprint's name must be unique in the app, and the web already has `tasks`). The
    library is pinned in setup.cfg, and tests/api/test_library_contracts.py fails if its
    `register_blueprint` starts doing anything else."""

    ERROR_SCHEMA = ErrorSchema

    def register_blueprint(self, blp, **options):
        """As flask-smorest's, but the OpenAPI tag is the blueprint's `tag`."""
        self._app.extensions["flask-smorest"]["blp_name_to_api"][blp.name] = self
        self._app.register_blueprint(blp, **options)
        blp.register_views_in_doc(self, self._app, self.spec, name=blp.name, parameters=None)
        self.spec.tag({"name": blp.tag, "description": blp.description})


class NoCookieSessionForTheApi(SecureCookieSessionInterface):
    """The web's signed-cookie session, but none for a request to the API: it is
    authenticated by its Bearer token alone and ignores cookies (`tracker.api.base`), so
    its requests get Flask's null session — empty, never saved, never sent as a cookie —
    instead of a session read and verified from a cookie they may carry."""

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        if is_api_path(request.path):
            return self.make_null_session(app)
        return super().open_session(app, request)


def init_app(app: Flask) -> TrackerApi:
    from tracker.api import (
        calendar,
        dashboard,
        evidence,
        forecast,
        notifications,
        recommendation_files,
        recommendations,
        report_settings,
        reports,
        security,
        task_import,
        tasks,
        units,
        updates,
        users,
        workflow,
    )
    from tracker.api.base import config_defaults
    from tracker.extensions import csrf

    config_defaults(app)
    app.session_interface = NoCookieSessionForTheApi()
    api = TrackerApi(app)
    for module in (units, users, tasks, task_import, updates, evidence, workflow, reports,
                   report_settings, security, forecast, dashboard, calendar, notifications,
                   recommendations, recommendation_files):
        api.register_blueprint(module.bp)
        # Bearer tokens only, never cookies: a browser cannot be tricked into an API call.
        csrf.exempt(module.bp)
    app.extensions["tracker-api"] = api
    return api
