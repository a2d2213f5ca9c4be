"""The calendar feed: parsed with icalendar, scoped to the user's units, the old address
dead after a reset, and fetched by a real HTTP client from a real server."""

from __future__ import annotations

import re
import threading
import urllib.request
from datetime import date, datetime

import pytest
from icalendar import Calendar
from werkzeug.serving import make_server

from tests.conftest import csrf_token
from tests.factories import ict, make_task
from tracker.extensions import db
from tracker.feeds.service import build_feed, reset_feed

NOW = ict(2026, 11, 18, 10, 0)


def _feed_url(client) -> str:
    token = csrf_token(client, "/account/calendar")
    page = client.post("/account/calendar/reset", data={"csrf_token": token})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    return re.search(r"(http://[^<\s]+/calendar/cal_[^<\s]+\.ics)", page.get_data(as_text=True)
                     ).group(1)


def _events(body: bytes) -> dict[str, object]:
    calendar = Calendar.from_ical(body)
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


@pytest.fixture
def tasks(users, units):
    return {"ha_long": make_task(users["admin"], units["ha_long"], at=NOW,
                                 deadline="2026-12-01"),
            "co_to": make_task(users["admin"], units["co_to"], at=NOW,
                               deadline="2026-12-02"),
            "far": make_task(users["admin"], units["co_to"], at=NOW, deadline="2027-06-01")}


def test_the_feed_holds_the_deadlines_in_scope_and_the_cutoffs(users, tasks):
    member, admin = users["ha_long"], users["admin"]
    reset_feed(member, now=NOW)
    events = _events(build_feed(member, now=NOW, host="tracker.test"))
    deadline = events[f"task-{tasks['ha_long'].id}-deadline@tracker.test"]
    assert deadline["dtstart"].dt == date(2026, 12, 1)
    assert tasks["ha_long"].code in str(deadline["summary"])
    assert f"task-{tasks['co_to'].id}-deadline@tracker.test" not in events  # another commune
    assert f"task-{tasks['far'].id}-deadline@tracker.test" not in events  # beyond 60 days
    cutoffs = [e for uid, e in events.items() if uid.startswith("cutoff-")]
    # working days from 18/11/2026 to 17/01/2027: weekends and 1 January left out
    assert "cutoff-20261118@tracker.test" in events
    assert "cutoff-20261121@tracker.test" not in events  # a Saturday
    assert "cutoff-20270101@tracker.test" not in events  # New Year's Day
    start = events["cutoff-20261118@tracker.test"]["dtstart"].dt
    assert isinstance(start, datetime) and start == ict(2026, 11, 18, 16, 0)
    assert len(cutoffs) > 35
    admin_events = _events(build_feed(admin, now=NOW, host="tracker.test"))
    assert {f"task-{tasks[k].id}-deadline@tracker.test" for k in ("ha_long", "co_to")} \
        <= admin_events.keys()


def test_a_done_task_leaves_the_feed(users, tasks):
    from tracker.tasks.lifecycle import cancel_task

    cancel_task(users["admin"], tasks["ha_long"], note="Không còn cần", now=NOW)
    db.session.commit()
    events = _events(build_feed(users["ha_long"], now=NOW, host="t"))
    assert f"task-{tasks['ha_long'].id}-deadline@t" not in events


def test_a_reset_kills_the_old_address(users, tasks, login_as):
    client = login_as("ha_long")
    first = _feed_url(client)
    path = first.split("localhost", 1)[1]
    assert client.get(path).status_code == 200
    second = _feed_url(client)
    assert second != first
    assert client.get(path).status_code == 404
    assert client.get(second.split("localhost", 1)[1]).status_code == 200
    token = csrf_token(client, "/account/calendar")
    client.post("/account/calendar/off", data={"csrf_token": token})
    assert client.get(second.split("localhost", 1)[1]).status_code == 404


def test_the_address_is_under_the_configured_base_url(app, users, login_as):
    app.config["TRACKER_BASE_URL"] = "https://tracker.quangninh.gov.vn/"
    client = login_as("ha_long")
    token = csrf_token(client, "/account/calendar")
    page = client.post("/account/calendar/reset", data={"csrf_token": token}
                       ).get_data(as_text=True)  # the request's host is "localhost"
    assert re.search(r"https://tracker\.quangninh\.gov\.vn/calendar/cal_[^<\s/]+\.ics", page)
    assert "localhost/calendar" not in page


def test_a_real_http_client_fetches_the_feed(app, users, tasks, login_as):
    ids = {name: task.id for name, task in tasks.items()}
    client = login_as("co_to")
    path = _feed_url(client).split("localhost", 1)[1]
    db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://127.0.0.1:{server.server_port}{path}", timeout=10) as r:
            assert r.headers["Content-Type"].startswith("text/calendar")
            events = _events(r.read())
    finally:
        server.shutdown()
    assert f"task-{ids['co_to']}-deadline@127.0.0.1" in events
    assert f"task-{ids['ha_long']}-deadline@127.0.0.1" not in events
