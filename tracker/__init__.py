"""Tracker: task-and-mission monitoring with the daily 16:00 cutoff and xanh hoá colours."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the application. No migrations, no scheduler, no network happen here."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("TRACKER_INSTANCE_PATH", str(ROOT / "instance")),
        template_folder=str(ROOT / "templates"),
    )
    from tracker.config import from_environment

    app.config.from_mapping(from_environment(app.instance_path))
    if config:
        app.config.from_mapping(config)

    register_extensions(app)
    register_blueprints(app)
    register_commands(app)
    from tracker.web import errors, formatting, hardening

    # After the blueprints: the app's handler for HTTPException replaces the one
    # flask-smorest registers, so the API's errors have Tracker's body too.
    errors.register(app)
    formatting.register(app)
    hardening.register(app)
    return app


def register_extensions(app: Flask) -> None:
    from tracker import models  # noqa: F401  (every table known to the metadata)
    from tracker.auth import login
    from tracker.database import configure_engine_events
    from tracker.extensions import babel, csrf, db, login_manager, migrate
    from tracker.web.i18n import select_locale, select_timezone

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    with app.app_context():
        configure_engine_events(db.engine, app.config)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(ROOT / "tracker" / "translations"),
    )
    login.init(app, login_manager)


def register_blueprints(app: Flask) -> None:
    from tracker import api
    from tracker.web import (
        account,
        admin,
        auth,
        dashboard,
        member,
        notifications,
        supervise,
        tasks,
        views,
    )

    for module in (views, auth, tasks, notifications, member, supervise, admin, dashboard,
                   account):
        app.register_blueprint(module.bp)
    api.init_app(app)  # /api/v1 (Bearer tokens, no CSRF)


def register_commands(app: Flask) -> None:
    from tracker.cli import tracker_cli

    app.cli.add_command(tracker_cli)
