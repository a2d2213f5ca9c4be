"""Headers and small holes (issue 12, item 6): the security headers on every answer,
pages without inline script or style, HTTPS cookies, NUL characters and absurd numbers
answered 4xx on both databases, and no hashes in the error log."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from tests.conftest import csrf_token, login, make_app
from tests.factories import PASSWORD, make_task
from tracker import clock
from tracker.auth.models import UserSession
from tracker.auth.tokens import create_token
from tracker.extensions import db
from tracker.tasks.models import Comment
from tracker.web.hardening import CONTENT_SECURITY_POLICY

ROOT = Path(__file__).resolve().parent.parent
HUGE = "99999999999999999999"


# --- headers ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/login", "/static/css/app.css", "/no-such-page",
                                 "/api/v1/openapi.json", "/api/v1/tasks", "/healthz"])
def test_every_answer_carries_the_security_headers(client, url):
    response = client.get(url)
    response.close()
    csp = dict(part.split(" ", 1) for part in response.headers["Content-Security-Policy"]
               .split("; "))
    assert csp["default-src"] == csp["script-src"] == csp["style-src"] == "'self'"
    assert csp["object-src"] == "'none'" and csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'none'" and csp["form-action"] == "'self'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP: not configured


def test_no_template_has_inline_script_style_or_event_handlers():
    """What the policy forbids the pages must not need: every script is a file."""
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        page = path.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"\sstyle\s*=", r"<style\b",
                        r"\son[a-z]+\s*=", r"javascript:"):
            found += [f"{path.relative_to(ROOT)}: {m.group(0)}"
                      for m in re.finditer(pattern, page, re.IGNORECASE)]
    assert found == []
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY


def test_the_dashboard_draws_its_bars_without_inline_style(login_as, users):
    make_task(users["admin"], users["ha_long"].unit)
    page = login_as("admin").get("/dashboard").get_data(as_text=True)
    assert 'class="bar bar-' in page and "style=" not in page


def test_over_https_cookies_are_secure_host_only_and_hsts_is_sent(migrated, monkeypatch, users):
    monkeypatch.setenv("TRACKER_HTTPS", "1")
    app = make_app(migrated)
    try:
        _log_in_over_https(app.test_client())
    finally:
        with app.app_context():
            db.engine.dispose()


def _log_in_over_https(client) -> None:
    base = "https://tracker.example.vn"
    page = client.get("/login", base_url=base).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", base_url=base, headers={"Referer": f"{base}/login"},
                           data={"username": "ha_long", "password": PASSWORD,
                                 "csrf_token": token})
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    assert sorted(c.split("=")[0] for c in cookies) == ["__Host-session",
                                                         "__Host-tracker_device"]
    for cookie in cookies:  # the session, and the owner's trusted browser
        attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
        assert {"secure", "httponly", "path"} <= attributes and "domain" not in attributes
        assert "Path=/" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert client.get("/today", base_url=base).status_code == 200  # the cookie works


def test_without_https_the_session_cookie_keeps_its_plain_name(app):
    assert app.config["SESSION_COOKIE_NAME"] == "session"
    assert app.config["SESSION_COOKIE_SECURE"] is False


# --- NUL characters -------------------------------------------------------------------------


def test_a_nul_in_the_login_form_is_never_a_500(app, client, users):
    """The login form reads no service that checks its text: PostgreSQL's driver refuses
    the NUL (a 400 on every route), SQLite compares it (a wrong login, 401)."""
    token = csrf_token(client, "/login")
    expected = 400 if db.engine.dialect.name == "postgresql" else 401  # a wrong login
    for data in ({"username": "ad\x00min", "password": "x"},
                 {"username": "admin\x00", "password": PASSWORD}):
        response = client.post("/login", data={**data, "csrf_token": token})
        assert response.status_code == expected, response.get_data(as_text=True)[:500]
    assert client.get("/login?next=%00").status_code == 200  # only a path to go back to


def test_a_nul_in_a_form_a_service_checks_is_named_by_that_service(app, login_as, users):
    task = make_task(users["admin"], users["ha_long"].unit)
    client = login_as("ha_long")
    token = csrf_token(client, f"/tasks/{task.id}")
    response = client.post(f"/tasks/{task.id}/comments",
                           data={"csrf_token": token, "body": "Đã xong\x00"})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 0


# --- absurd numbers, signs and NULs on every page and API read ---------------------------


def _get_rules(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.rule.startswith("/static"):
            yield rule.rule


def _fill(rule: str, number: str) -> str:
    strings = {"code": "en", "fmt": "csv", "extension": "csv", "day": "2026-12-24"}
    return re.sub(r"<(?:([^<>:]*):)?(\w+)>",
                  lambda m: strings.get(m.group(2), number) if not m.group(1) or
                  m.group(1).startswith("int") or m.group(2) in strings else "x", rule)


QUERIES = [f"page={HUGE}&per_page={HUGE}&unit={HUGE}&year={HUGE}&lead={HUGE}&under={HUGE}"
           f"&date={HUGE}&task={HUGE}&limit={HUGE}",
           f"page=-{HUGE}&unit=-{HUGE}&year=-{HUGE}&under=-1&per_page=0&date=-1",
           "page=1e400&unit=NaN&year=inf&date=9999-99-99",
           "page=%00&unit=%00&year=%00&date=%00&q=%00&colour=%00&reason=%00&role=%00&state=%00"
           "&status=%00&overdue=%00&unit_id=%00&deadline_from=%00&next=%00&%00=%00"]


@pytest.mark.parametrize("role", ["admin", "ha_long", "supervisor"])
def test_absurd_numbers_never_give_a_server_error(app, users, role):
    make_task(users["admin"], users["ha_long"].unit)
    raw = create_token(None, users[role], name="sweep", now=clock.now())[1]
    db.session.commit()
    client = app.test_client()
    assert login(client, role).status_code == 302
    errors = []
    for rule in sorted(_get_rules(app)):
        for number in (HUGE, "1"):
            for query in QUERIES:
                url = f"{_fill(rule, number)}?{query}"
                response = client.get(url, headers={"Authorization": f"Bearer {raw}"})
                if response.status_code >= 500 and rule != "/healthz/cutoff":  # 503: no scheduler
                    errors.append(f"{url} → {response.status_code}")
    assert errors == [], "\n".join(errors)


# --- no secrets in the log ------------------------------------------------------------------


def test_a_database_error_logs_no_parameters_so_no_hash(app, users, caplog):
    """Hashes of sessions, tokens and passwords are bound parameters: a failed statement
    names its SQL in the log, never the values."""
    secret = "f" * 64

    @app.route("/_test/broken")
    def broken():  # a statement that fails while it carries a hash
        db.session.execute(insert(UserSession), [{
            "token_hash": secret, "user_id": 2_000_000_000,
            "created_at": clock.now(), "expires_at": clock.now()}])
        db.session.commit()
        return "unreachable"

    caplog.set_level(logging.DEBUG)
    response = app.test_client().get("/_test/broken")
    assert response.status_code == 500
    assert "unexpected error" in caplog.text and "INSERT INTO user_sessions" in caplog.text
    assert secret not in caplog.text
    assert users["admin"].password_hash[-20:] not in caplog.text


# --- caching --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/today", "/tasks", "/dashboard", "/account/password",
                                 "/no-such-page", "/manifest.webmanifest"])
def test_a_logged_in_users_answers_are_not_stored(login_as, users, url):
    client = login_as("ha_long")
    answer = client.get(url)
    assert answer.headers["Cache-Control"] == "no-store"


def test_an_api_answer_to_a_token_is_not_stored(client, users):
    raw = create_token(None, users["ha_long"], name="script", days=30, now=clock.now())[1]
    db.session.commit()
    answer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"


def test_caching_an_answer_chose_is_kept_and_static_files_stay_cacheable(login_as, users):
    client = login_as("ha_long")
    assert client.get("/sw.js").headers["Cache-Control"] == "no-cache"
    style = client.get("/static/css/app.css")
    assert "no-store" not in style.headers.get("Cache-Control", "")
    style.close()


def test_an_anonymous_page_is_left_to_the_defaults(client):
    assert "Cache-Control" not in client.get("/no-such-page").headers
