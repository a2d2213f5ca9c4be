"""Credentials: the password policy (NIST SP 800-63B) for every way a password is set, a
user's own password change, API tokens revoked for good by a reset or a deactivation,
admins listing and revoking a user's tokens."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.api.conftest import bearer
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_user
from tracker import clock
from tracker.auth.models import UserSession
from tracker.auth.passwords import common_passwords, password_problem, verify_password
from tracker.auth.service import set_active, set_password
from tracker.auth.tokens import ApiToken, create_token
from tracker.errors import InvalidInput
from tracker.extensions import db

# --- the policy ----------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["1234567890", "password1", "Qwertyuiop",
                                      "iloveyou123", "12345678"])
def test_common_passwords_are_refused(app, password):
    assert "phổ biến" in password_problem(password, username="ha_long", role="member")


@pytest.mark.parametrize("password", ["aaaaaaaaaaaa", "123456789012", "abcabcabcabc",
                                      "zyxwvutsrqpo", "qwertyuiopas", "y" * 200])
def test_a_repeated_character_or_pattern_or_a_run_is_refused_even_from_an_admin(app,
                                                                               password):
    assert "phổ biến" in password_problem(password, username="ha_long", role="admin")


def test_the_list_of_common_passwords_ships_with_the_package(app):
    assert len(common_passwords()) > 19_000 and "1234567890" in common_passwords()


def test_length_is_the_rule_no_composition_rules(app):
    assert password_problem("short12", role="member") is not None
    assert password_problem("đồng bằng sông", role="member") is None  # spaces, diacritics
    assert password_problem("longer password", role="member") is None
    assert password_problem("x" * 1024 + "y", role="member") is not None
    assert password_problem("một câu thật dài " * 12, role="member") is None  # passphrases


def test_an_admin_needs_twelve_characters(app):
    assert password_problem("mười một ký", role="admin") is not None  # 11
    assert password_problem("mười hai ký!", role="admin") is None  # 12


def test_a_password_containing_the_username_is_refused(app):
    assert "tên đăng nhập" in password_problem("my HA_LONG password", username="ha_long")


def test_every_way_of_setting_a_password_applies_the_policy(app, users, units):
    with pytest.raises(InvalidInput) as caught:
        make_user("weak", "member", units["co_to"], password="1234567890")
    assert "password" in caught.value.fields
    with pytest.raises(InvalidInput):
        set_password(None, users["co_to"], "1234567890")
    db.session.rollback()
    result = app.test_cli_runner().invoke(
        args=["tracker", "users", "create", "boss", "--role", "member", "--unit", "co_to"],
        input="1234567890\n")
    assert result.exit_code != 0 and "phổ biến" in result.output


def test_the_admin_page_refuses_a_weak_password_naming_the_field(login_as, users):
    client = login_as("admin")
    response = client.post("/admin/users/new", data={
        "csrf_token": csrf_token(client, "/admin/users/new"), "username": "moi",
        "password": "1234567890", "password2": "1234567890", "role": "member",
        "unit_id": str(users["co_to"].unit_id)})
    assert response.status_code == 422
    assert "phổ biến" in response.get_data(as_text=True)  # Vietnamese first


# --- the user's own password ----------------------------------------------------------------


def _change(client, current=PASSWORD, new="a brand new passphrase", again=None, end=False):
    data = {"csrf_token": csrf_token(client, "/account/password"),
            "current_password": current, "new_password": new,
            "new_password2": new if again is None else again}
    if end:
        data["end_other_sessions"] = "1"
    return client.post("/account/password", data=data)


def test_a_user_changes_their_own_password_with_the_current_one(login_as, users):
    client = login_as("co_to")
    assert _change(client).status_code == 302
    db.session.rollback()
    assert verify_password(users["co_to"].password_hash, "a brand new passphrase")
    assert client.get("/tasks").status_code == 200  # this session stays


def test_a_wrong_current_password_changes_nothing(login_as, users):
    client = login_as("co_to")
    response = _change(client, current="not my password")
    assert response.status_code == 422
    db.session.rollback()
    assert verify_password(users["co_to"].password_hash, PASSWORD)


def test_a_weak_new_password_is_refused_on_the_account_page(login_as, users):
    client = login_as("co_to")
    assert _change(client, new="1234567890").status_code == 422
    assert _change(client, new="a good passphrase", again="a typo passphrase") \
        .status_code == 422


def _sessions_of(user) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(UserSession)
                             .where(UserSession.user_id == user.id))


def test_signing_out_the_other_sessions_keeps_this_one(app, users):
    phone, laptop = app.test_client(), app.test_client()
    login(phone, "co_to")
    login(laptop, "co_to")
    assert _sessions_of(users["co_to"]) == 2
    assert _change(laptop, end=True).status_code == 302
    assert _sessions_of(users["co_to"]) == 1
    assert laptop.get("/tasks").status_code == 200
    assert phone.get("/tasks").status_code == 302  # to the login page


def test_without_the_choice_the_other_sessions_stay(app, users):
    phone, laptop = app.test_client(), app.test_client()
    login(phone, "co_to")
    login(laptop, "co_to")
    assert _change(laptop).status_code == 302
    assert phone.get("/tasks").status_code == 200


def test_the_api_changes_ones_own_password(client, users):
    _token, raw = create_token(None, users["co_to"], now=clock.now())
    db.session.commit()
    response = client.post("/api/v1/me/password", headers=bearer(raw), json={
        "current_password": PASSWORD, "new_password": "1234567890"})
    assert response.status_code == 422
    assert "new_password" in response.get_json()["fields"]
    response = client.post("/api/v1/me/password", headers=bearer(raw), json={
        "current_password": PASSWORD, "new_password": "another good passphrase",
        "end_other_sessions": True})
    assert response.status_code == 200, response.get_json()
    db.session.rollback()
    assert verify_password(users["co_to"].password_hash, "another good passphrase")


# --- tokens: revoked for good by a reset or a deactivation ----------------------------------


@pytest.fixture
def co_to_token(users):
    _token, raw = create_token(None, users["co_to"], name="cổng tỉnh", now=clock.now())
    db.session.commit()
    return raw


def test_a_password_reset_revokes_the_users_tokens(client, users, co_to_token):
    assert client.get("/api/v1/me", headers=bearer(co_to_token)).status_code == 200
    set_password(users["admin"], users["co_to"], "a reset passphrase")
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(co_to_token)).status_code == 401


def test_a_reset_on_the_admin_page_revokes_the_tokens(login_as, users, co_to_token):
    client = login_as("admin")
    user_id = users["co_to"].id
    response = client.post(f"/admin/users/{user_id}/password", data={
        "csrf_token": csrf_token(client, f"/admin/users/{user_id}"),
        "password": "a reset passphrase", "password2": "a reset passphrase"})
    assert response.status_code == 302
    assert client.get("/api/v1/me", headers=bearer(co_to_token)).status_code == 401


def test_reactivation_does_not_bring_revoked_tokens_back(client, users, co_to_token):
    set_active(users["admin"], users["co_to"], False)
    db.session.commit()
    set_active(users["admin"], users["co_to"], True)
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(co_to_token)).status_code == 401
    revoked = db.session.scalar(select(ApiToken.revoked_at)
                                .where(ApiToken.user_id == users["co_to"].id))
    assert revoked == clock.now()


def test_an_admin_sees_and_revokes_a_users_tokens_on_the_user_page(login_as, users,
                                                                    co_to_token):
    client = login_as("admin")
    user_id = users["co_to"].id
    page = client.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert "cổng tỉnh" in page and co_to_token not in page
    token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == user_id))
    response = client.post(f"/admin/users/{user_id}/tokens/{token_id}/revoke",
                           data={"csrf_token": csrf_token(client, f"/admin/users/{user_id}")})
    assert response.status_code == 302
    assert client.get("/api/v1/me", headers=bearer(co_to_token)).status_code == 401


def test_an_admin_lists_and_revokes_a_users_tokens_through_the_api(client, users,
                                                                   co_to_token):
    _t, admin_raw = create_token(None, users["admin"], now=clock.now())
    db.session.commit()
    user_id = users["co_to"].id
    listed = client.get(f"/api/v1/users/{user_id}/tokens", headers=bearer(admin_raw))
    assert listed.status_code == 200
    [token] = listed.get_json()
    assert token["name"] == "cổng tỉnh" and token["revoked_at"] is None
    assert "token_hash" not in token
    response = client.post(f"/api/v1/users/{user_id}/tokens/{token['id']}/revoke",
                           headers=bearer(admin_raw))
    assert response.status_code == 200 and response.get_json()["revoked_at"]
    assert client.get("/api/v1/me", headers=bearer(co_to_token)).status_code == 401


def test_an_admin_outside_the_users_subtree_cannot_touch_their_tokens(client, users, units,
                                                                       co_to_token):
    other = make_user("other_admin", "admin", units["ha_long"])
    _t, raw = create_token(None, other, now=clock.now())
    db.session.commit()
    user_id = users["co_to"].id
    token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == user_id))
    assert client.get(f"/api/v1/users/{user_id}/tokens", headers=bearer(raw)).status_code == 404
    assert client.post(f"/api/v1/users/{user_id}/tokens/{token_id}/revoke",
                       headers=bearer(raw)).status_code == 404
    # Nor through a user they do see: the token must belong to the user in the path.
    own = users["ha_long"].id
    assert client.post(f"/api/v1/users/{own}/tokens/{token_id}/revoke",
                       headers=bearer(raw)).status_code == 404
    assert client.get("/api/v1/me", headers=bearer(co_to_token)).status_code == 200


# --- hashing holds no SQLite write lock -------------------------------------------------------


def test_setting_and_changing_passwords_hash_with_no_sqlite_write_lock(app, login_as, users,
                                                                      units, monkeypatch):
    """While a new password is hashed (an admin creating a user or resetting a password, a
    user changing their own, which also checks the current one), another writer with a
    50 ms busy timeout gets the write lock at once."""
    import sqlite3

    from tracker.auth import passwords, service

    if db.engine.dialect.name != "sqlite":
        pytest.skip("the write lock is SQLite's")
    path, unit_id = db.engine.url.database, units["co_to"].id
    db.session.rollback()
    locked: list[str] = []

    def another_writer(what):
        writer = sqlite3.connect(path, timeout=0.05, isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("UPDATE units SET name = name WHERE id = ?", (unit_id,))
            writer.execute("COMMIT")
        except sqlite3.OperationalError:
            locked.append(what)
        finally:
            writer.close()

    real_hash, real_verify = passwords.hash_password, service.verify_password
    calls = []

    def hashing(password):
        calls.append("hash")
        another_writer("hash")
        return real_hash(password)

    def verifying(stored, password):
        calls.append("verify")
        another_writer("verify")
        return real_verify(stored, password)

    monkeypatch.setattr(passwords, "hash_password", hashing)
    monkeypatch.setattr(service, "verify_password", verifying)
    admin = login_as("admin")
    page = f"/admin/users/{users['co_to'].id}"
    assert admin.post("/admin/users/new", data={
        "csrf_token": csrf_token(admin, "/admin/users/new"), "username": "moi",
        "password": "a long passphrase", "password2": "a long passphrase",
        "role": "member", "unit_id": str(unit_id)}).status_code == 302
    assert admin.post(f"{page}/password", data={
        "csrf_token": csrf_token(admin, page), "password": "a reset passphrase",
        "password2": "a reset passphrase"}).status_code == 302
    member = app.test_client()
    assert login(member, "moi", "a long passphrase").status_code == 302
    assert _change(member, current="a long passphrase").status_code == 302
    assert calls == ["hash", "hash", "verify", "hash"]
    assert locked == []
