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
    from tracker.inputs import NFCRequest
    from tracker.jsonprovider import OrjsonProvider

    # Text enters in one Unicode form (NFC): query strings and forms (tracker.inputs).
    app.request_class = NFCRequest
    # JSON written by orjson, as Flask's own provider would write it (tracker.jsonprovider).
    app.json = OrjsonProvider(app)
    app.config.from_mapping(from_environment(app.instance_path))
    if config:
        app.config.from_mapping(config)
    trust_proxies(app)
    from tracker.fence import mark_received

    mark_received(app)  # outermost: when the server had each request (tracker.fence)

    from tracker import logs

    logs.configure(app)
    register_extensions(app)
    register_signals()
    register_blueprints(app)
    register_commands(app)
    from tracker.web import compress, errors, formatting, hardening

    # After the blueprints: the app's handler for HTTPException replaces the one
    # flask-smorest registers, so the API's errors have Tracker's body too.
    errors.register(app)
    formatting.register(app)
    hardening.register(app)
    compress.register(app)
    return app


def trust_proxies(app: Flask) -> None:
    """Behind `TRACKER_TRUSTED_PROXIES` reverse proxies, the client's address and scheme
    are the ones they forwarded (X-Forwarded-For, X-Forwarded-Proto), counted from the
    right: a client cannot pass off an address of its choosing. Without it (0) the
    forwarded headers are ignored."""
    hops = int(app.config.get("TRACKER_TRUSTED_PROXIES") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0,
                                x_port=0, x_prefix=0)


def register_extensions(app: Flask) -> None:
    from tracker import (
        models,  # noqa: F401  (every table known to the metadata)
        replica,
    )
    from tracker.auth import login
    from tracker.database import configure_engine_events
    from tracker.extensions import babel, csrf, db, limiter, login_manager, migrate
    from tracker.web.i18n import select_locale, select_timezone

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    with app.app_context():
        configure_engine_events(db.engine, app.config)
    replica.configure(app, configure_engine_events)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(ROOT / "tracker" / "translations"),
    )
    login.init(app, login_manager)

    @app.after_request
    def _outage_keeps_its_retry_after(response):
        # Registered before the limiter's, so run after it: Flask-Limiter writes its own
        # Retry-After (its window's reset) on every answer; an outage's 503 keeps the
        # database's (tracker.web.errors).
        if response.status_code == 503:
            response.headers["Retry-After"] = str(app.config.get("TRACKER_RETRY_AFTER_SECONDS", 10))
        return response

    from tracker import ratelimit  # noqa: F401  (registers tracker-memory://)

    limiter.init_app(app)


def register_signals() -> None:
    """What reacts to the operations' signals (tracker.signals): the notifications and
    their e-mail, the webhooks' outbox, the kiến nghị counted at each cutoff. Connecting
    twice keeps one connection."""
    from tracker.kiennghi import counts
    from tracker.notifications import events
    from tracker.webhooks import events as webhook_events

    events.connect()
    webhook_events.connect()
    counts.connect()


def register_blueprints(app: Flask) -> None:
    from tracker import api
    from tracker.web import (
        account,
        admin,
        auth,
        dashboard,
        early_warning,
        feed,
        inbox,
        kiennghi,
        login_code,
        member,
        notifications,
        offline,
        pastday,
        preferences,
        push,
        sso,
        supervise,
        tasks,
        two_factor,
        views,
        wall,
    )

    for module in (views, auth, login_code, sso, tasks, notifications, member, supervise, admin,
                   dashboard, pastday, account, two_factor, preferences, inbox,
                   early_warning, wall, feed, kiennghi, offline, push):
        app.register_blueprint(module.bp)
    api.init_app(app)  # /api/v1 (Bearer tokens, no CSRF)


def register_commands(app: Flask) -> None:
    from tracker.cli import tracker_cli

    app.cli.add_command(tracker_cli)
