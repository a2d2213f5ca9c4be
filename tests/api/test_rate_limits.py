"""Request rate limits (Flask-Limiter): POST /login per client address, the API per token;
past a limit, 429 with Retry-After. The defaults are generous (README settings)."""

from __future__ import annotations

from tests.api.conftest import bearer
from tests.conftest import csrf_token


def test_posting_the_login_form_too_often_from_one_address_is_refused(app, users):
    app.config["TRACKER_LOGIN_RATE_LIMIT"] = "3/minute"
    client = app.test_client()
    token = csrf_token(client, "/login")
    data = {"username": "nobody", "password": "whatever it is", "csrf_token": token}
    for _ in range(3):
        assert client.post("/login", data=data).status_code == 401
    response = client.post("/login", data=data)
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert client.get("/login").status_code == 200  # reading the page is not limited
    other = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.post("/login", data=data, environ_base=other).status_code == 401


def test_the_api_limits_each_token_on_its_own(app, client, tokens):
    app.config["TRACKER_API_RATE_LIMIT"] = "5/minute"
    for _ in range(5):
        assert client.get("/api/v1/me", headers=bearer(tokens["co_to"])).status_code == 200
    response = client.get("/api/v1/units", headers=bearer(tokens["co_to"]))
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert response.get_json()["code"] == "429"
    assert client.get("/api/v1/me", headers=bearer(tokens["ha_long"])).status_code == 200


def test_the_default_limits_let_a_busy_client_through(app, client, tokens):
    """600 a minute for the API: a batch client posting a unit's day one task at a time."""
    assert app.config["TRACKER_API_RATE_LIMIT"] == "600/minute"
    for _ in range(100):
        assert client.get("/api/v1/me", headers=bearer(tokens["co_to"])).status_code == 200
