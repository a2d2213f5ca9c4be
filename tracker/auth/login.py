"""Flask-Login wiring: the cookie carries a session token, looked up on the server."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from tracker import clock
from tracker.auth.sessions import load_session_user


def init(app, login_manager) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"
    # Our sessions live on the server; the "remember me" cookie is not offered.
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def _load(token: str):
        return load_session_user(token, now=clock.now())
