"""The security events of logins, users, passwords and tokens: each is recorded with who did
it (actor), whom it concerns (user) and from where (the client's address)."""

from __future__ import annotations

from sqlalchemy import select

from tests.conftest import csrf_token
from tests.factories import PASSWORD
from tracker.audit.models import SecurityEvent
from tracker.auth.tokens import ApiToken
from tracker.extensions import db

ADDR = "203.0.113.7"
HERE = {"REMOTE_ADDR": ADDR}


def events(kind: str) -> list[SecurityEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == kind)
                                   .order_by(SecurityEvent.id)))


def post(client, url, data, page=None):
    data = {"csrf_token": csrf_token(client, page or url), **data}
    return client.post(url, data=data, environ_base=HERE)


def log_in(client, username, password=PASSWORD):
    return post(client, "/login", {"username": username, "password": password})


def test_a_login_is_recorded_with_the_user_and_the_address(app, users):
    assert log_in(app.test_client(), "co_to").status_code == 302
    [event] = events("login")
    assert (event.actor_id, event.user_id, event.address) == (users["co_to"].id,
                                                              users["co_to"].id, ADDR)
    assert event.unit_id == users["co_to"].unit_id


def test_a_failed_login_keeps_the_username_as_typed(app, users):
    log_in(app.test_client(), "  Co_To ", "wrong password")
    log_in(app.test_client(), "nobody", "wrong password")
    known, unknown = events("login_failed")
    assert (known.username, known.user_id, known.address) == ("  Co_To ",
                                                              users["co_to"].id, ADDR)
    assert (unknown.username, unknown.user_id, unknown.address) == ("nobody", None, ADDR)
    assert known.actor_id is None


def test_a_throttled_login_is_recorded(app, users):
    for _ in range(5):
        log_in(app.test_client(), "co_to", "wrong password")
    assert log_in(app.test_client(), "co_to").status_code == 429
    [event] = events("login_throttled")
    assert (event.username, event.address) == ("co_to", ADDR)
    assert "client" in event.detail


def test_a_logout_is_recorded(app, users):
    client = app.test_client()
    log_in(client, "co_to")
    post(client, "/logout", {}, page="/tasks")
    [event] = events("logout")
    assert (event.actor_id, event.user_id, event.address) == (users["co_to"].id,
                                                              users["co_to"].id, ADDR)


def test_an_own_password_change_and_the_sessions_it_ends_are_recorded(app, users):
    client = app.test_client()
    log_in(client, "co_to")
    response = post(client, "/account/password", {
        "current_password": PASSWORD, "new_password": "a fresh passphrase",
        "new_password2": "a fresh passphrase", "end_other_sessions": "1"})
    assert response.status_code == 302
    me = users["co_to"].id
    [changed] = events("password_changed")
    [ended] = events("sessions_ended")
    assert (changed.actor_id, changed.user_id, changed.address) == (me, me, ADDR)
    assert (ended.actor_id, ended.user_id, ended.address) == (me, me, ADDR)


def _admin(app):
    client = app.test_client()
    assert log_in(client, "admin").status_code == 302
    return client


def test_user_creation_access_change_deactivation_and_reset_are_recorded(app, users, units):
    client = _admin(app)
    admin = users["admin"].id
    post(client, "/admin/users/new", {
        "username": "moi", "password": "a long passphrase", "password2": "a long passphrase",
        "role": "member", "unit_id": str(units["co_to"].id)})
    [created] = [e for e in events("user_created") if e.username == "moi"]
    assert (created.actor_id, created.address) == (admin, ADDR)
    target = users["co_to"].id
    page = f"/admin/users/{target}"
    post(client, f"{page}/role", {"role": "viewer", "unit_id": str(units["co_to"].id)}, page)
    post(client, f"{page}/active", {"active": "0"}, page)
    post(client, f"{page}/active", {"active": "1"}, page)
    post(client, f"{page}/password", {"password": "a reset passphrase",
                                      "password2": "a reset passphrase"}, page)
    for kind in ("access_changed", "user_deactivated", "user_reactivated", "password_reset"):
        [event] = events(kind)
        assert (event.actor_id, event.user_id, event.address) == (admin, target, ADDR), kind
    assert "member → viewer" in events("access_changed")[0].detail


def test_token_creation_and_revocation_are_recorded(app, users):
    client = app.test_client()
    log_in(client, "co_to")
    post(client, "/account/tokens", {"name": "cổng tỉnh", "days": "30"})
    token_id = db.session.scalar(select(ApiToken.id))
    post(client, f"/account/tokens/{token_id}/revoke", {}, page="/account/tokens")
    me = users["co_to"].id
    [created] = events("token_created")
    [revoked] = events("token_revoked")
    for event in (created, revoked):
        assert (event.actor_id, event.user_id, event.address) == (me, me, ADDR)
        assert "cổng tỉnh" in event.detail


def test_a_reset_records_each_token_it_revokes(app, users):
    client = app.test_client()
    log_in(client, "co_to")
    for name in ("one", "two"):
        post(client, "/account/tokens", {"name": name, "days": "30"})
    admin = _admin(app)
    page = f"/admin/users/{users['co_to'].id}"
    post(admin, f"{page}/password", {"password": "a reset passphrase",
                                     "password2": "a reset passphrase"}, page)
    revoked = events("token_revoked")
    assert len(revoked) == 2
    assert all(e.actor_id == users["admin"].id and "password reset" in e.detail
               for e in revoked)


def test_the_operators_reset_at_the_command_line_is_recorded_without_an_actor(app, users):
    result = app.test_cli_runner().invoke(args=["tracker", "users", "set-password", "co_to"],
                                          input="a reset passphrase\n")
    assert result.exit_code == 0, result.output
    [event] = events("password_reset")
    assert (event.actor_id, event.user_id, event.address) == (None, users["co_to"].id, None)
