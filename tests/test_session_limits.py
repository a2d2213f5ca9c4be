"""A session ends after a spell of inactivity (ASVS 7.3.1), and a password an admin chose
must be replaced by its user before anything else (ASVS 6.4.1)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, ict
from tracker.auth.service import create_user, set_password
from tracker.extensions import db

NEW_PASSWORD = "a quiet river near the commune"


@pytest.fixture
def idle_limit(app):
    app.config["TRACKER_SESSION_IDLE_MINUTES"] = 30


def test_a_session_idle_past_the_limit_ends(idle_limit, client, users, clock):
    clock.set(ict(2026, 11, 18, 9, 0))
    assert login(client, "ha_long").status_code == 302
    clock.set(ict(2026, 11, 18, 9, 29, 59))
    assert client.get("/today").status_code == 200
    clock.set(ict(2026, 11, 18, 9, 59, 0))  # 29 min after the last request: still alive
    assert client.get("/today").status_code == 200
    clock.set(ict(2026, 11, 18, 10, 29, 0))  # 30 min idle
    response = client.get("/today")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_activity_keeps_a_session_alive_up_to_its_lifetime(idle_limit, client, users, clock):
    start = ict(2026, 11, 18, 7, 0)
    clock.set(start)
    assert login(client, "ha_long").status_code == 302
    for minutes in range(20, 12 * 60, 20):  # a request every 20 minutes for 12 hours
        clock.set(start + timedelta(minutes=minutes))
        assert client.get("/today").status_code == 200, minutes
    clock.set(start + timedelta(hours=12))  # TRACKER_SESSION_HOURS: the lifetime ends it
    assert client.get("/today").status_code == 302


def test_without_an_idle_limit_only_the_lifetime_counts(app, client, users, clock):
    app.config["TRACKER_SESSION_IDLE_MINUTES"] = 0
    clock.set(ict(2026, 11, 18, 7, 0))
    assert login(client, "ha_long").status_code == 302
    clock.set(ict(2026, 11, 18, 18, 59))
    assert client.get("/today").status_code == 200


def test_a_user_created_by_an_admin_chooses_a_password_first(client, users, units):
    create_user(users["admin"], username="xa_moi", password=PASSWORD, role="member",
                unit=units["ha_long"])
    db.session.commit()
    assert login(client, "xa_moi").status_code == 302
    for page in ("/today", "/tasks", "/notifications", "/account/tokens"):
        response = client.get(page)
        assert response.status_code == 302, page
        assert response.headers["Location"].endswith("/account/password"), page
    token = csrf_token(client, "/account/password")
    response = client.post("/account/password", data={
        "csrf_token": token, "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get("/today").status_code == 200


def test_a_reset_by_an_admin_asks_again_the_users_own_change_does_not(client, users):
    member = users["ha_long"]
    assert not member.must_change_password  # the operator's CLI, as in the factories
    set_password(users["admin"], member, NEW_PASSWORD)
    db.session.commit()
    assert member.must_change_password
    assert login(client, "ha_long", NEW_PASSWORD).status_code == 302
    assert client.get("/today").headers["Location"].endswith("/account/password")
    set_password(None, member, PASSWORD)  # the operator at the command line
    db.session.commit()
    assert not member.must_change_password
