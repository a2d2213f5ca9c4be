"""The application factory and its settings."""

from tracker import create_app
from tracker.config import database_url


def test_create_app_takes_a_config_dict(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "TESTING": True})
    assert app.config["TESTING"] is True
    assert app.config["BABEL_DEFAULT_LOCALE"] == "vi"


def test_default_database_is_a_sqlite_file_under_instance():
    assert database_url(None, "/srv/tracker/instance") == \
        "sqlite:////srv/tracker/instance/tracker.sqlite3"


def test_postgres_urls_use_psycopg3():
    assert database_url("postgres://u:p@h/db", "/x") == "postgresql+psycopg://u:p@h/db"
    assert database_url("postgresql://h/db", "/x") == "postgresql+psycopg://h/db"
    assert database_url("postgresql+psycopg://h/db", "/x") == "postgresql+psycopg://h/db"


def test_health_check_answers(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_session_cookie_settings_are_safe(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
