"""Personal API tokens: Bearer only, hashed at rest, expiring, revocable, tied to an
active user; created on the account page and from the command line."""

from __future__ import annotations

import hashlib
import re

from flask_babel import force_locale, gettext
from sqlalchemy import select

from tests.api.conftest import bearer
from tests.conftest import csrf_token
from tracker import clock
from tracker.auth.service import set_active
from tracker.auth.tokens import ApiToken, create_token
from tracker.extensions import db


def test_a_request_without_a_token_is_refused_with_401_and_a_bearer_challenge(client, users):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["code"] == "unauthorized"


def test_a_valid_token_acts_as_its_user(api):
    body = api("co_to").get("/me").get_json()
    assert body["username"] == "co_to" and body["role"] == "member"


def test_an_unknown_or_malformed_token_is_refused(client, users):
    for header in ("Bearer trk_nope", "Bearer", "Basic YWRtaW46eA==", "trk_x",
                   "Bearer " + "x" * 5000):
        assert client.get("/api/v1/me", headers={"Authorization": header}).status_code == 401


def test_the_token_is_stored_only_as_its_sha256(app, users, tokens):
    raw = tokens["co_to"]
    stored = db.session.scalars(select(ApiToken.token_hash)).all()
    assert hashlib.sha256(raw.encode()).hexdigest() in stored
    assert raw not in stored and all(len(h) == 64 for h in stored)


def test_an_expired_token_is_refused(client, clock, users):
    _token, raw = create_token(None, users["co_to"], days=1, now=clock())
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 200
    clock.advance(days=1)
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 401


def test_tokens_expire_after_90_days_by_default(clock, users):
    token, _raw = create_token(None, users["co_to"], now=clock())
    assert (token.expires_at - clock()).days == 90


def test_a_revoked_token_is_refused_at_once(api, tokens, users):
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == users["co_to"].id))
    token.revoked_at = clock.now()
    db.session.commit()
    assert api("co_to").get("/me").status_code == 401


def test_a_deactivated_users_tokens_stop_working(api, users):
    set_active(None, users["co_to"], False)
    db.session.commit()
    assert api("co_to").get("/me").status_code == 401


def test_an_admin_deactivating_a_user_through_the_api_revokes_their_tokens_for_good(
        api, users):
    user_id = users["co_to"].id
    assert api("admin").post(f"/users/{user_id}/deactivate").status_code == 200
    assert api("co_to").get("/me").status_code == 401
    assert api("admin").post(f"/users/{user_id}/activate").get_json()["active"] is True
    # Reactivated, the user logs in again, but the old token stays revoked.
    assert api("co_to").get("/me").status_code == 401
    db.session.rollback()
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user_id))
    assert token.revoked_at == clock.now()


def test_last_use_is_recorded_at_most_once_a_minute(api, clock, users):
    def last_used():
        db.session.rollback()
        return db.session.scalar(select(ApiToken.last_used_at)
                                 .where(ApiToken.user_id == users["co_to"].id))

    api("co_to").get("/me")
    first = last_used()
    assert first == clock()
    clock.advance(seconds=59)
    api("co_to").get("/me")
    assert last_used() == first
    clock.advance(seconds=1)
    api("co_to").get("/me")
    assert last_used() == clock()


def test_a_session_cookie_does_not_authenticate_the_api(login_as):
    client = login_as("co_to")
    assert client.get("/tasks").status_code == 200  # logged in on the web
    assert client.get("/api/v1/me").status_code == 401


def test_an_api_request_reads_no_cookie_session(app, login_as, tokens):
    """A browser's session cookie neither authenticates an API request nor shapes it: the
    API opens no session (its answer does not vary with cookies, its language is not the
    session's), and the web session is left as it was."""
    client = login_as("co_to")
    client.get("/lang/en")  # the web session's language: English
    with app.test_request_context(), force_locale("vi"):
        vietnamese = gettext("Some fields are not valid.")
    response = client.get("/api/v1/tasks?per_page=many", headers=bearer(tokens["ha_long"]))
    assert response.status_code == 422
    assert response.get_json()["message"] == vietnamese != "Some fields are not valid."
    assert "Cookie" not in response.headers.get("Vary", "")
    assert "Set-Cookie" not in response.headers
    page = client.get("/tasks")  # still signed in on the web, still in English
    assert page.status_code == 200 and 'lang="en"' in page.get_data(as_text=True)


def test_the_api_needs_no_csrf_token_and_sets_no_cookie(api, world):
    response = api("ha_long").post(f"/tasks/{world.fresh.id}/updates",
                                   json={"progress": 40, "work_done": "Đã số hoá thêm"})
    assert response.status_code == 201, response.get_json()
    assert "Set-Cookie" not in response.headers


def test_cli_token_create_prints_the_token_alone_on_its_last_line(app, users, client):
    result = app.test_cli_runner().invoke(
        args=["tracker", "token", "create", "co_to", "--days", "30", "--name", "portal"])
    assert result.exit_code == 0, result.output
    raw = result.output.strip().splitlines()[-1]
    assert re.fullmatch(r"trk_[A-Za-z0-9_-]{40,}", raw)
    token = db.session.scalar(select(ApiToken).where(ApiToken.name == "portal"))
    assert (token.expires_at - clock.now()).days == 30
    assert client.get("/api/v1/me", headers=bearer(raw)).get_json()["username"] == "co_to"


def test_cli_token_create_refuses_an_unknown_user_and_bad_days(app, users):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["tracker", "token", "create", "nobody"]).exit_code == 2
    assert runner.invoke(args=["tracker", "token", "create", "co_to", "--days", "0"]).exit_code == 2
    assert db.session.scalars(select(ApiToken)).all() == []


def test_the_account_page_creates_a_token_shown_once(login_as, client):
    login_as("co_to")
    page = client.post("/account/tokens", data={
        "name": "Cổng tỉnh", "days": "30", "csrf_token": csrf_token(client, "/account/tokens")})
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    raw = re.search(r'<code class="token">(trk_[^<]+)</code>', page.get_data(as_text=True))[1]
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 200
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert "Cổng tỉnh" in listing and raw not in listing


def test_the_account_page_needs_the_csrf_token(login_as, client):
    login_as("co_to")
    assert client.post("/account/tokens", data={"name": "x", "days": "30"}).status_code == 400
    assert db.session.scalars(select(ApiToken)).all() == []


def test_the_account_page_revokes_only_ones_own_tokens(login_as, client, users, tokens):
    login_as("co_to")
    own = db.session.scalar(select(ApiToken).where(ApiToken.user_id == users["co_to"].id))
    other = db.session.scalar(select(ApiToken).where(ApiToken.user_id == users["ha_long"].id))
    own_id, other_id = own.id, other.id
    csrf = csrf_token(client, "/account/tokens")
    assert client.post(f"/account/tokens/{other_id}/revoke",
                       data={"csrf_token": csrf}).status_code == 404
    assert client.post(f"/account/tokens/{own_id}/revoke",
                       data={"csrf_token": csrf}).status_code == 302
    assert db.session.get(ApiToken, own_id).revoked_at is not None
    assert db.session.get(ApiToken, other_id).revoked_at is None
    assert client.get("/api/v1/me", headers=bearer(tokens["co_to"])).status_code == 401


def test_the_account_page_needs_a_login(client):
    assert client.get("/account/tokens").status_code == 302
