"""The application log: each line names its request (method, path, user, address), user
text cannot forge a line, and refused access and bad CSRF tokens are logged."""

from __future__ import annotations

import io
import logging

import pytest

from tests.factories import make_task
from tracker.logs import FORMAT, RequestContext


@pytest.fixture
def log_lines(app):
    """What the app's handler would write, captured: same format, same filter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RequestContext())
    logger = logging.getLogger("tracker")
    logger.addHandler(handler)
    yield lambda: stream.getvalue().splitlines()
    logger.removeHandler(handler)


def test_user_text_cannot_forge_a_log_line(app, log_lines):
    logging.getLogger("tracker.test").warning("title %s", "x\r\n2026-11-18 INFO forged line")
    [line] = log_lines()
    assert "x\\x0d\\x0a2026-11-18 INFO forged line" in line


def test_a_refused_request_is_logged_with_path_user_and_address(client, users, units,
                                                                 login_as, log_lines):
    task = make_task(users["admin"], units["ha_long"])
    login_as("co_to")  # a member of another commune
    response = client.post(f"/tasks/{task.id}/comments", data={"body": "x"},
                           environ_overrides={"REMOTE_ADDR": "198.51.100.9"})
    assert response.status_code in (400, 403, 404)
    refused = [line for line in log_lines() if "tracker.security" in line]
    assert refused, log_lines()
    assert "addr=198.51.100.9" in refused[-1] and f"/tasks/{task.id}/comments" in refused[-1]
    assert "user=co_to" in refused[-1] or "CSRF" in refused[-1]


def test_a_forbidden_action_names_the_user(client, users, units, login_as, log_lines):
    from tests.conftest import csrf_token

    task = make_task(users["admin"], units["ha_long"])
    login_as("ha_long")  # a member may not confirm
    token = csrf_token(client, f"/tasks/{task.id}")
    response = client.post(f"/supervise/tasks/{task.id}/confirm", data={"csrf_token": token})
    assert response.status_code == 403, response.status_code
    [line] = [line for line in log_lines() if "tracker.security" in line]
    assert "refused 403" in line and "user=ha_long" in line and "POST" in line


def test_a_rate_limit_reached_is_logged(app, client, users, log_lines):
    from werkzeug.exceptions import TooManyRequests

    @app.route("/_limited")
    def _limited():
        raise TooManyRequests("60 per 1 minute")

    assert client.get("/_limited", environ_overrides={"REMOTE_ADDR": "198.51.100.7"}) \
        .status_code == 429
    [line] = [line for line in log_lines() if "tracker.security" in line]
    assert "refused 429" in line and "addr=198.51.100.7" in line


def test_the_calendar_feeds_secret_address_stays_out_of_the_log(app, log_lines):
    with app.test_request_context("/calendar/cal_s3cr3tT0ken.ics"):
        logging.getLogger("tracker.feeds").warning("feed served")
    with app.test_request_context("/tasks/7"):
        logging.getLogger("tracker.test").warning("task page")
    feed, task = log_lines()
    assert "[GET /calendar/…ics " in feed and "s3cr3t" not in feed
    assert "[GET /tasks/7 " in task
