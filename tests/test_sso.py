"""Single sign-on with OpenID Connect (docs/sso.md), against a real provider on 127.0.0.1
(tests/oidc_provider.py): the code flow with PKCE, state and nonce, the ID token checked,
the claim mapped to an existing user, and local passwords turned off."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select

from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_user
from tests.oidc_provider import Provider, expired, provider_answer, rsa_key, start_login
from tracker.audit.models import SecurityEvent
from tracker.auth import two_factor
from tracker.auth.models import User
from tracker.extensions import db


@pytest.fixture
def provider(app, clock):
    with Provider(clock) as running:
        running.user = {"sub": "qn-0001", "preferred_username": "ha_long"}
        app.config.update(running.settings())
        yield running


def _events(kind: str) -> list[SecurityEvent]:
    db.session.rollback()
    return db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == kind)
                              .order_by(SecurityEvent.id)).all()


def sso_login(client, next_url: str | None = None):
    started = start_login(client, next_url)
    assert started.status_code == 302, started.get_data(as_text=True)
    return client.get(provider_answer(started))


def _logged_in_as(client) -> str | None:
    """Whose session the client holds: the user of its last login, if a page opens."""
    if client.get("/account/password").status_code != 200:
        return None
    return db.session.get(User, _events("login")[-1].user_id).username


def test_the_login_page_offers_the_configured_button(client, provider, app):
    app.config["TRACKER_OIDC_LABEL"] = "Đăng nhập bằng tài khoản công vụ tỉnh"
    page = client.get("/login").get_data(as_text=True)
    assert "Đăng nhập bằng tài khoản công vụ tỉnh" in page
    assert 'name="password"' in page


def test_no_button_without_settings(client, app):
    assert 'data-testid="sso"' not in client.get("/login").get_data(as_text=True)
    assert client.get("/login/sso").status_code == 404


def test_a_provider_login_opens_the_users_session(client, users, provider):
    answer = sso_login(client, next_url="/tasks")
    assert answer.status_code == 302 and answer.location == "/tasks"
    assert client.get("/today").status_code == 200
    [event] = _events("login")
    assert event.user_id == users["ha_long"].id and event.detail == "sso"


def test_the_flow_uses_pkce_state_and_nonce(client, users, provider):
    sso_login(client)
    [asked] = provider.authorize_requests
    assert asked["code_challenge_method"] == "S256" and asked["state"] and asked["nonce"]
    [exchanged] = provider.token_requests
    assert len(exchanged["code_verifier"]) >= 43


def test_the_role_and_unit_stay_those_set_in_tracker(client, users, provider):
    provider.user["role"] = "admin"  # whatever the provider says
    sso_login(client)
    assert client.get("/dashboard").location.endswith("/today")  # a member's page
    page = client.get("/today").get_data(as_text=True)
    assert f"ha_long · {users['ha_long'].unit.name}" in page


def test_an_unknown_user_is_refused_and_recorded(client, users, provider):
    provider.user = {"sub": "qn-0999", "preferred_username": "nguyen.van.a"}
    answer = sso_login(client)
    assert answer.status_code == 403
    assert "không gắn với tài khoản nào" in answer.get_data(as_text=True)
    assert client.get("/today").status_code == 302  # not logged in
    [event] = _events("login_failed")
    assert event.username == "nguyen.van.a" and event.user_id is None
    assert event.detail == "sso: no account for preferred_username nguyen.van.a (sub qn-0999)"
    assert db.session.scalar(select(User).where(User.username == "nguyen.van.a")) is None


def test_a_deactivated_user_is_refused(client, users, provider):
    users["ha_long"].active = False
    db.session.commit()
    answer = sso_login(client)
    assert answer.status_code == 403
    assert "đã bị vô hiệu hoá" in answer.get_data(as_text=True)
    [event] = _events("login_failed")
    assert event.user_id == users["ha_long"].id and event.detail == "sso: deactivated"


def test_a_wrong_state_is_refused(client, users, provider):
    started = start_login(client)
    back = provider_answer(started)
    answer = client.get(back.replace("state=", "state=forged"))
    assert answer.status_code == 401
    assert not provider.token_requests  # the code was never exchanged
    assert "mismatching_state" in _events("login_failed")[0].detail


def test_a_callback_is_used_once(client, users, provider):
    started = start_login(client)
    back = provider_answer(started)
    assert client.get(back).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/today")})
    assert client.get(back).status_code == 401


def test_a_wrong_nonce_is_refused(client, users, provider):
    provider.tamper = {"nonce": "another-login"}
    answer = sso_login(client)
    assert answer.status_code == 401
    assert client.get("/today").status_code == 302
    assert "nonce" in _events("login_failed")[0].detail


def test_an_expired_id_token_is_refused(client, users, provider, clock):
    provider.tamper = expired(clock)
    answer = sso_login(client)
    assert answer.status_code == 401
    assert "expired" in _events("login_failed")[0].detail.lower()


def test_an_id_token_for_another_client_is_refused(client, users, provider):
    provider.tamper = {"aud": "another-system"}
    assert sso_login(client).status_code == 401
    assert any(claim in _events("login_failed")[0].detail for claim in ("aud", "azp"))


def test_an_id_token_for_another_client_naming_us_as_azp_is_refused(client, users,
                                                                     provider):
    # A token the provider made for another system of the province, replayed here: its
    # `azp` names this client, its audience does not.
    provider.tamper = {"aud": "another-system", "azp": provider.client_id}
    assert sso_login(client).status_code == 401
    assert client.get("/today").status_code == 302
    assert "aud" in _events("login_failed")[0].detail


def test_several_audiences_need_azp_naming_this_client(client, users, provider):
    provider.tamper = {"aud": [provider.client_id, "another-system"],
                       "azp": "another-system"}
    assert sso_login(client).status_code == 401
    assert "azp" in _events("login_failed")[0].detail
    provider.tamper = {"aud": [provider.client_id, "another-system"]}
    assert sso_login(client).status_code == 401
    assert "azp" in _events("login_failed")[-1].detail
    provider.tamper = {"aud": [provider.client_id, "another-system"],
                       "azp": provider.client_id}
    assert sso_login(client).status_code == 302 and _logged_in_as(client) == "ha_long"


def test_an_id_token_from_another_issuer_is_refused(client, users, provider):
    provider.tamper = {"iss": "http://127.0.0.1:1/evil"}
    assert sso_login(client).status_code == 401
    assert "iss" in _events("login_failed")[0].detail


def test_an_id_token_signed_by_another_key_is_refused(client, users, provider):
    provider.sign_with = rsa_key(provider.key.kid)  # same key id, another key
    assert sso_login(client).status_code == 401
    assert client.get("/today").status_code == 302
    assert _events("login_failed")


def test_an_unreachable_provider_is_a_clear_refusal(client, users, app):
    app.config.update({"TRACKER_OIDC_ISSUER": "http://127.0.0.1:9",
                       "TRACKER_OIDC_CLIENT_ID": "tracker-qn", "TRACKER_OIDC_TIMEOUT": 2})
    answer = start_login(client)
    assert answer.status_code == 502
    assert "Không kết nối được dịch vụ đăng nhập một lần" in answer.get_data(as_text=True)


def test_the_email_claim_maps_to_a_verified_address(client, units, provider, app):
    make_user("tran.thi.b", "member", units["co_to"], email="Tran.Thi.B@quangninh.gov.vn")
    db.session.commit()
    app.config["TRACKER_OIDC_CLAIM"] = "email"
    provider.user = {"sub": "qn-7", "email": "tran.thi.b@quangninh.gov.vn",
                     "email_verified": True}
    assert sso_login(client).status_code == 302
    assert _logged_in_as(client) == "tran.thi.b"


def test_an_unverified_email_is_refused(client, units, provider, app):
    make_user("tran.thi.b", "member", units["co_to"], email="tran.thi.b@quangninh.gov.vn")
    db.session.commit()
    app.config["TRACKER_OIDC_CLAIM"] = "email"
    provider.user = {"sub": "qn-7", "email": "tran.thi.b@quangninh.gov.vn",
                     "email_verified": False}
    assert sso_login(client).status_code == 403
    assert _events("login_failed")[0].detail == \
        "sso: e-mail tran.thi.b@quangninh.gov.vn not verified"


# --- two-factor login ---------------------------------------------------------------------

def test_an_enrolled_user_still_gives_the_code(client, users, provider, clock):
    secret = two_factor.secret_text(two_factor.begin_enrolment(users["ha_long"], now=clock()))
    two_factor.confirm_enrolment(users["ha_long"], pyotp.TOTP(secret).at(clock()), now=clock())
    db.session.commit()
    answer = sso_login(client)
    assert answer.location.endswith("/login/code")
    db.session.rollback()
    assert users["ha_long"].sso_subject is None  # bound only once the login completes
    clock.advance(seconds=30)
    answer = client.post("/login/code", data={"csrf_token": csrf_token(client, "/login"),
                                              "code": pyotp.TOTP(secret).at(clock())})
    assert answer.status_code == 302 and _logged_in_as(client) == "ha_long"
    assert _events("login")[0].detail == "sso"
    assert users["ha_long"].sso_subject == "qn-0001"


def test_an_admin_must_enrol_unless_the_providers_mfa_is_trusted(client, users, provider, app):
    app.config.update({"TRACKER_ADMIN_2FA": "required", "TRACKER_OIDC_LINK_ADMINS": True})
    provider.user = {"sub": "qn-1", "preferred_username": "admin", "amr": ["pwd", "otp", "mfa"]}
    sso_login(client)
    assert client.get("/dashboard").location.startswith("/account/two-factor")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account/two-factor")})

    app.config["TRACKER_OIDC_TRUST_MFA"] = True
    sso_login(client)
    assert client.get("/dashboard").status_code == 200
    assert _events("login")[-1].detail == "sso, mfa by provider"


def test_a_trusted_provider_without_mfa_leaves_the_admin_to_enrol(client, users, provider,
                                                                  app):
    app.config.update({"TRACKER_ADMIN_2FA": "required", "TRACKER_OIDC_TRUST_MFA": True,
                       "TRACKER_OIDC_LINK_ADMINS": True})
    provider.user = {"sub": "qn-1", "preferred_username": "admin", "amr": ["pwd"]}
    sso_login(client)
    assert client.get("/dashboard").location.startswith("/account/two-factor")


# --- users without a password, and local passwords off --------------------------------

def test_with_sso_an_admin_creates_a_user_without_password(client, users, provider, login_as,
                                                           units):
    login_as("admin")
    answer = client.post("/admin/users/new", data={
        "csrf_token": csrf_token(client, "/admin/users/new"), "username": "le.van.c",
        "role": "member", "unit_id": units["ha_long"].id, "password": "", "password2": ""})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.username == "le.van.c"))
    assert not user.has_password and not user.must_change_password
    client.post("/logout", data={"csrf_token": csrf_token(client, "/today")})
    assert login(client, "le.van.c", "").status_code == 400
    assert login(client, "le.van.c", "anything at all").status_code == 401
    provider.user = {"sub": "qn-3", "preferred_username": "le.van.c"}
    assert sso_login(client).status_code == 302 and _logged_in_as(client) == "le.van.c"


def test_without_sso_a_password_is_still_required(client, users, login_as, units):
    login_as("admin")
    answer = client.post("/admin/users/new", data={
        "csrf_token": csrf_token(client, "/admin/users/new"), "username": "le.van.c",
        "role": "member", "unit_id": units["ha_long"].id, "password": "", "password2": ""})
    assert answer.status_code == 422


@pytest.fixture
def passwords_off(app, provider):
    # No password to log in with: the admin's account is bound at its first login.
    app.config.update({"TRACKER_LOCAL_PASSWORDS": False, "TRACKER_OIDC_LINK_ADMINS": True})
    return provider


def test_passwords_off_the_password_form_refuses(client, users, passwords_off, app):
    app.config["TRACKER_LOCAL_PASSWORDS"] = True
    token = csrf_token(client, "/login")  # a form drawn before the setting changed
    app.config["TRACKER_LOCAL_PASSWORDS"] = False
    page = client.get("/login").get_data(as_text=True)
    assert 'name="password"' not in page and 'data-testid="sso"' in page
    answer = client.post("/login", data={"username": "ha_long", "password": PASSWORD,
                                         "csrf_token": token})
    assert answer.status_code == 403
    assert "không sử dụng mật khẩu" in answer.get_data(as_text=True)
    assert client.get("/today").status_code == 302
    assert sso_login(client).status_code == 302 and _logged_in_as(client) == "ha_long"


def test_passwords_off_admins_create_users_without_one(client, users, passwords_off, units):
    passwords_off.user = {"sub": "qn-1", "preferred_username": "admin"}
    sso_login(client)
    page = client.get("/admin/users/new").get_data(as_text=True)
    assert 'name="password"' not in page
    token = csrf_token(client, "/admin/users/new")
    answer = client.post("/admin/users/new", data={
        "csrf_token": token, "username": "le.van.c", "role": "member",
        "unit_id": units["ha_long"].id})
    assert answer.status_code == 302
    answer = client.post("/admin/users/new", data={
        "csrf_token": token, "username": "le.van.d", "role": "member",
        "unit_id": units["ha_long"].id, "password": "a long passphrase here",
        "password2": "a long passphrase here"})
    assert answer.status_code == 422
    assert "không sử dụng mật khẩu" in answer.get_data(as_text=True)


def test_passwords_off_reset_and_change_refuse(client, users, passwords_off):
    passwords_off.user = {"sub": "qn-1", "preferred_username": "admin"}
    sso_login(client)
    user_id = users["ha_long"].id
    detail = client.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert "user_reset_password" not in detail and f"/admin/users/{user_id}/password" not in detail
    answer = client.post(f"/admin/users/{user_id}/password", data={
        "csrf_token": csrf_token(client, f"/admin/users/{user_id}"),
        "password": "a long passphrase here", "password2": "a long passphrase here"})
    assert answer.status_code == 422
    assert 'data-testid="no-password"' in client.get("/account/password").get_data(as_text=True)
    answer = client.post("/account/password", data={
        "csrf_token": csrf_token(client, "/account/password"),
        "current_password": "x", "new_password": "another long phrase",
        "new_password2": "another long phrase"})
    assert answer.status_code == 422
    assert not _events("password_reset") and not _events("password_changed")


def test_passwords_off_the_api_refuses_passwords(client, users, passwords_off, units, app):
    from tracker.auth.tokens import create_token

    raw = create_token(None, users["admin"], name="script", days=30, now=app.config["CLOCK"]())[1]
    db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    answer = client.post("/api/v1/users", headers=headers, json={
        "username": "le.van.e", "role": "member", "unit_id": units["ha_long"].id,
        "password": "a long passphrase here"})
    assert answer.status_code == 422 and "password" in answer.get_json()["fields"]
    answer = client.post("/api/v1/users", headers=headers, json={
        "username": "le.van.e", "role": "member", "unit_id": units["ha_long"].id})
    assert answer.status_code == 201
    answer = client.post("/api/v1/me/password", headers=headers, json={
        "current_password": "x", "new_password": "another long phrase"})
    assert answer.status_code == 422


def test_the_command_line_creates_a_user_for_single_sign_on(app, units, provider, client):
    result = app.test_cli_runner().invoke(args=[
        "tracker", "users", "create", "pham.van.g", "--role", "member", "--unit", "ha_long",
        "--no-password"])
    assert result.exit_code == 0, result.output
    provider.user = {"sub": "qn-8", "preferred_username": "pham.van.g"}
    assert sso_login(client).status_code == 302 and _logged_in_as(client) == "pham.van.g"


def test_without_sso_the_command_line_needs_a_password(app, units):
    result = app.test_cli_runner().invoke(args=[
        "tracker", "users", "create", "pham.van.g", "--role", "member", "--unit", "ha_long",
        "--no-password"])
    assert result.exit_code != 0
    assert db.session.scalar(select(User).where(User.username == "pham.van.g")) is None


def test_passwords_off_the_command_line_refuses_a_reset(app, users, passwords_off):
    result = app.test_cli_runner().invoke(args=["tracker", "users", "set-password", "ha_long"],
                                          input="a long passphrase here\n")
    assert result.exit_code != 0
    assert not _events("password_reset")
