"""Login, logout, sessions and the failed-login throttle."""

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token, login
from tracker.auth.models import UserSession
from tracker.auth.passwords import verify_password
from tracker.auth.service import set_active
from tracker.extensions import db
from tracker.web.helpers import safe_next


def test_login_page_has_username_password_and_a_csrf_token(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'name="username"' in page and 'name="password"' in page
    assert 'name="csrf_token"' in page


def test_right_password_logs_in_and_opens_the_task_list(client, users):
    response = login(client, "ha_long")
    assert response.status_code == 302
    assert client.get("/tasks").status_code == 200


def test_passwords_are_stored_as_argon2_hashes(users):
    user = users["ha_long"]
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, "correct horse battery")


def test_wrong_password_is_refused_with_a_clear_message(client, users):
    response = login(client, "ha_long", "wrong password!")
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.get_data(as_text=True)
    assert client.get("/tasks").status_code == 302  # still not logged in


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client, users):
    response = login(client, "nobody", "whatever password")
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.get_data(as_text=True)


def test_an_empty_login_is_refused_in_vietnamese(client, users):
    page = client.get("/login")
    response = client.post("/login", data={"csrf_token": csrf_token(client, "/login"),
                                           "username": "", "password": ""})
    text = response.get_data(as_text=True)
    assert page.status_code == 200 and "Không được để trống." in text
    assert "This field is required" not in text


def test_login_without_csrf_token_is_refused_and_writes_nothing(client, users):
    response = client.post("/login", data={"username": "ha_long",
                                           "password": "correct horse battery"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0


def test_failed_logins_are_throttled_even_for_the_right_password(client, users):
    for _ in range(5):
        assert login(client, "ha_long", "bad password").status_code == 401
    response = login(client, "ha_long")
    assert response.status_code == 429
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0


def test_throttle_lifts_after_the_lock_period(client, users, clock):
    for _ in range(5):
        login(client, "ha_long", "bad password")
    clock.advance(minutes=16)
    assert login(client, "ha_long").status_code == 302


def test_session_cookie_is_httponly_and_samesite(client, users):
    response = login(client, "ha_long")
    cookie = response.headers.get("Set-Cookie")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_login_starts_a_fresh_session(client, users):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login(client, "ha_long")
    with client.session_transaction() as session:
        assert "planted" not in session


def test_logout_ends_the_session_on_the_server(client, users):
    login(client, "ha_long")
    with client.session_transaction() as session:
        stolen = dict(session)
    token = csrf_token(client, "/tasks")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0
    # Replaying the old cookie does not bring the session back.
    with client.session_transaction() as session:
        session.update(stolen)
    assert client.get("/tasks").status_code == 302


def test_logout_needs_a_post_with_csrf(client, users):
    login(client, "ha_long")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/tasks").status_code == 200


def test_deactivated_user_cannot_log_in(client, users):
    set_active(None, users["ha_long"], False)
    db.session.commit()
    assert login(client, "ha_long").status_code == 401


def test_deactivating_a_user_ends_their_open_sessions(client, users):
    login(client, "ha_long")
    set_active(None, users["ha_long"], False)
    db.session.commit()
    assert client.get("/tasks").status_code == 302


def test_next_parameter_cannot_redirect_off_site(client, users):
    token = csrf_token(client, "/login")
    response = client.post("/login?next=https://evil.example/", data={
        "username": "ha_long", "password": "correct horse battery", "csrf_token": token})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", [
    "/\\evil.example", "/\\/evil.example", "\\\\evil.example", "/\t/evil.example",
    "/\n/evil.example", "/\r\n/evil.example", "/tasks\x00", "//evil.example",
    "https://evil.example/", "evil.example"])
def test_next_refuses_what_a_browser_reads_as_another_site(app, target):
    with app.test_request_context():
        assert safe_next(target) == "/"


def test_next_keeps_a_path_of_this_site(app):
    with app.test_request_context():
        assert safe_next("/tasks/7?page=2#updates") == "/tasks/7?page=2#updates"


def test_the_login_does_not_redirect_through_a_backslash(client, users):
    token = csrf_token(client, "/login")
    response = client.post("/login?next=/%5Cevil.example", data={
        "username": "ha_long", "password": "correct horse battery", "csrf_token": token})
    assert response.headers["Location"] == "/"
