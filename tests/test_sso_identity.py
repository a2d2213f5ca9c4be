"""The single sign-on identity bound to an account (docs/sso.md, "The account's identity"):
the first login binds the ID token's (iss, sub); a later login with the same username but
another sub is refused; an admin's account is bound only when allowed; an admin sees and
unlinks the binding on the user page. Against the real provider of tests/oidc_provider.py."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token
from tests.factories import make_user
from tests.oidc_provider import Provider, provider_answer, start_login
from tracker.audit.models import SecurityEvent
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


def sso_login(client):
    started = start_login(client)
    assert started.status_code == 302, started.get_data(as_text=True)
    return client.get(provider_answer(started))


def _logout(client):
    client.post("/logout", data={"csrf_token": csrf_token(client, "/today")})


def _post(client, url: str, page: str):
    return client.post(url, data={"csrf_token": csrf_token(client, page)})


def test_the_first_login_binds_the_providers_identity(client, users, provider):
    assert sso_login(client).status_code == 302
    db.session.rollback()
    user = users["ha_long"]
    assert (user.sso_issuer, user.sso_subject) == (provider.issuer, "qn-0001")
    [event] = _events("sso_linked")
    assert event.user_id == user.id and event.detail == "sub qn-0001"


def test_a_later_login_with_the_same_identity_opens_the_session(client, users, provider):
    assert sso_login(client).status_code == 302
    _logout(client)
    assert sso_login(client).status_code == 302
    assert client.get("/today").status_code == 200
    assert len(_events("sso_linked")) == 1


def test_another_subject_with_the_same_username_is_refused(client, users, provider):
    assert sso_login(client).status_code == 302
    _logout(client)
    # The provider gave the username to someone else (or an attacker renamed an account).
    provider.user = {"sub": "qn-6666", "preferred_username": "ha_long"}
    answer = sso_login(client)
    assert answer.status_code == 403
    assert "không phải tài khoản đã gắn" in answer.get_data(as_text=True)
    assert client.get("/today").status_code == 302
    [event] = _events("login_failed")
    assert event.user_id == users["ha_long"].id
    assert event.detail == "sso: ha_long is linked to another sign-on identity " \
                           "(sub qn-6666 presented)"
    assert users["ha_long"].sso_subject == "qn-0001"


def test_the_same_subject_from_another_issuer_is_refused(client, users, provider):
    users["ha_long"].sso_issuer, users["ha_long"].sso_subject = "http://other-idp", "qn-0001"
    db.session.commit()
    assert sso_login(client).status_code == 403
    assert "linked to another" in _events("login_failed")[0].detail


def test_an_identity_bound_to_another_user_names_nobody_else(client, users, provider):
    assert sso_login(client).status_code == 302
    _logout(client)
    provider.user = {"sub": "qn-0001", "preferred_username": "co_to"}
    assert sso_login(client).status_code == 403
    assert client.get("/today").status_code == 302
    assert _events("login_failed")[0].detail == "sso: sub qn-0001 is linked to ha_long, " \
                                                "not co_to"
    db.session.rollback()
    assert users["co_to"].sso_subject is None


def test_an_admin_is_not_bound_at_the_first_login(client, users, provider):
    provider.user = {"sub": "qn-1", "preferred_username": "admin"}
    answer = sso_login(client)
    assert answer.status_code == 403
    assert "quản trị" in answer.get_data(as_text=True)
    assert client.get("/today").status_code == 302
    assert _events("login_failed")[0].detail == "sso: admin admin not linked (sub qn-1)"
    assert users["admin"].sso_subject is None and not _events("sso_linked")


def test_the_setting_binds_admins_at_the_first_login(client, users, provider, app):
    app.config["TRACKER_OIDC_LINK_ADMINS"] = True
    provider.user = {"sub": "qn-1", "preferred_username": "admin"}
    assert sso_login(client).status_code == 302
    db.session.rollback()
    assert users["admin"].sso_subject == "qn-1"


def test_an_admin_allows_the_next_login_once(client, users, units, provider, login_as):
    second = make_user("admin2", "admin", units["province"])
    db.session.commit()
    page = f"/admin/users/{second.id}"
    login_as("admin")
    assert "Liên kết ở lần đăng nhập một lần tiếp theo" in client.get(page).get_data(
        as_text=True)
    assert _post(client, f"{page}/sso/allow", page).status_code == 302
    [allowed] = _events("sso_link_allowed")
    assert allowed.actor_id == users["admin"].id and allowed.user_id == second.id
    _logout(client)

    provider.user = {"sub": "qn-2", "preferred_username": "admin2"}
    assert sso_login(client).status_code == 302
    db.session.rollback()
    assert second.sso_subject == "qn-2" and not second.sso_link_next  # used up
    _logout(client)

    login_as("admin")
    assert _post(client, f"{page}/sso/unlink", page).status_code == 302
    _logout(client)
    assert sso_login(client).status_code == 403  # the switch was used: allowed again only
    db.session.rollback()
    assert second.sso_subject is None


def test_the_user_page_shows_the_binding_and_unlinks_it(client, users, provider, login_as):
    assert sso_login(client).status_code == 302
    _logout(client)
    page = f"/admin/users/{users['ha_long'].id}"
    login_as("admin")
    shown = client.get(page).get_data(as_text=True)
    assert "qn-0001" in shown and provider.issuer in shown
    assert _post(client, f"{page}/sso/unlink", page).status_code == 302
    [event] = _events("sso_unlinked")
    assert event.actor_id == users["admin"].id and event.detail == "sub qn-0001"
    assert users["ha_long"].sso_subject is None and users["ha_long"].sso_issuer is None
    assert "qn-0001" not in client.get(page).get_data(as_text=True)
    _logout(client)

    provider.user = {"sub": "qn-0002", "preferred_username": "ha_long"}  # a new account
    assert sso_login(client).status_code == 302
    db.session.rollback()
    assert users["ha_long"].sso_subject == "qn-0002"


def test_allowing_a_bound_account_is_refused(client, users, provider, login_as):
    assert sso_login(client).status_code == 302
    _logout(client)
    page = f"/admin/users/{users['ha_long'].id}"
    login_as("admin")
    answer = _post(client, f"{page}/sso/allow", page)
    assert answer.status_code == 302
    assert "đề nghị huỷ liên kết trước" in client.get(page).get_data(as_text=True)
    assert not _events("sso_link_allowed")


def test_only_an_admin_over_the_user_changes_the_binding(client, users, units, provider,
                                                        login_as):
    assert sso_login(client).status_code == 302
    _logout(client)
    commune_admin = make_user("co_to_admin", "admin", units["co_to"])
    db.session.commit()
    page = f"/admin/users/{users['ha_long'].id}"
    login_as("co_to_admin")
    token = csrf_token(client, "/account/password")
    assert client.post(f"{page}/sso/unlink", data={"csrf_token": token}).status_code == 404
    _logout(client)
    login_as("supervisor")
    token = csrf_token(client, "/account/password")
    assert client.post(f"{page}/sso/unlink", data={"csrf_token": token}).status_code == 403
    db.session.rollback()
    assert users["ha_long"].sso_subject == "qn-0001" and commune_admin.sso_subject is None


def test_the_command_line_allows_an_admin_and_unlinks(app, users, client, provider):
    # The first admin of a deployment without local passwords: the operator allows it.
    provider.user = {"sub": "qn-1", "preferred_username": "admin"}
    cli = app.test_cli_runner()
    result = cli.invoke(args=["tracker", "users", "sso-allow", "admin"])
    assert result.exit_code == 0, result.output
    assert sso_login(client).status_code == 302
    db.session.rollback()
    assert users["admin"].sso_subject == "qn-1"
    assert cli.invoke(args=["tracker", "users", "sso-allow", "admin"]).exit_code != 0
    result = cli.invoke(args=["tracker", "users", "sso-unlink", "admin"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    assert users["admin"].sso_subject is None
    [event] = _events("sso_unlinked")
    assert event.actor_id is None and event.user_id == users["admin"].id
