"""The floor: a minimal WSGI app doing the SQL of posting one update — token lookup, the
cutoff's fence (tracker.fence), scope check, insert the update, update the task,
append the audit row — through the same driver (psycopg 3) and the same server (gunicorn),
with nothing else. Our app's throughput is judged against it.

A GET is the floor of reading a commune's page of open overdue tasks (bench.run's
OVERDUE_LIST): token lookup, the count and the page of the same tasks with the same
columns and the coordinating units' ids, as JSON — nothing else (no rate count, no
scope beyond the member's own unit, no session)."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from datetime import UTC, datetime

import psycopg

URL = os.environ["FLOOR_DATABASE_URL"]
_local = threading.local()


def _conn() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = _local.conn = psycopg.connect(URL)
    return conn


def _answer(start_response, status: str, body: dict):
    data = json.dumps(body, default=_iso).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(data)))])
    return [data]


LIST_COLUMNS = (
    "t.id, t.code, t.title, t.description, t.lead_unit_id, t.owner_name, t.start_date,"
    " t.deadline, t.original_deadline, t.leader_in_charge, t.expected_output,"
    " t.assigning_authority, t.source_doc_number, t.source_doc_date, t.field, t.priority,"
    " t.progress, t.result, t.status, t.colour, t.colour_reason, t.colour_days,"
    " t.last_update_at, t.submitted_at, t.confirmed_at, t.cancelled_at, t.created_at,"
    " t.updated_at, t.version")
# The unit's own tasks and those it coordinates, as the app's scope reads them.
OVERDUE = ("(t.lead_unit_id = %(unit)s OR t.id = ANY(ARRAY(SELECT c.task_id FROM"
           " task_coordinating_units c WHERE c.unit_id = %(unit)s)))"
           " AND t.status IN ('not_started', 'in_progress', 'returned')"
           " AND t.deadline < %(today)s")


def _iso(value):
    return value.isoformat()


def _user(cur, environ, now: datetime):
    """(user id, unit id, unit path) of the request's token, or None."""
    token = environ.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ")
    cur.execute(
        "SELECT u.id, u.unit_id, un.path FROM api_tokens t JOIN users u ON u.id = t.user_id "
        "JOIN units un ON un.id = u.unit_id WHERE t.token_hash = %s "
        "AND t.revoked_at IS NULL AND t.expires_at > %s AND u.active",
        (hashlib.sha256(token.encode()).hexdigest(), now))
    return cur.fetchone()


def _as_user(environ, start_response, handle):
    """`handle(cur, user, now)` in one transaction, for the token's user; 401 without one."""
    now = datetime.now(UTC)
    conn = _conn()
    with conn.transaction(), conn.cursor() as cur:
        user = _user(cur, environ, now)
        if user is None:
            return _answer(start_response, "401 Unauthorized", {"code": "unauthorized"})
        return _answer(start_response, *handle(cur, user, now))


def overdue_list(cur, user, now):
    unit = user[1]
    # The app's day (bench.harness.env_for sets its clock), so both read the same tasks.
    today = datetime.fromisoformat(os.environ.get("TRACKER_NOW", now.isoformat())).date()
    cur.execute(f"SELECT count(*) FROM tasks t WHERE {OVERDUE}", {"unit": unit, "today": today})
    total = cur.fetchone()[0]
    cur.execute(
        f"SELECT {LIST_COLUMNS}, un.id, un.code, un.name, ARRAY(SELECT c.unit_id FROM"
        " task_coordinating_units c WHERE c.task_id = t.id)"
        f" FROM tasks t JOIN units un ON un.id = t.lead_unit_id WHERE {OVERDUE}"
        " ORDER BY t.id LIMIT 100", {"unit": unit, "today": today})
    width = LIST_COLUMNS.count(",") + 1
    names = [d.name for d in cur.description[:width]]
    items = []
    for row in cur:
        item = dict(zip(names, row[:width], strict=True))
        unit_id, code, name, coordinating = row[width:]
        item["lead_unit"] = {"id": unit_id, "code": code, "name": name}
        item["coordinating_unit_ids"] = coordinating
        items.append(item)
    return "200 OK", {"items": items, "total": total, "page": 1, "per_page": 100,
                      "total_exact": True}


def post_update(cur, user, now, task_id: int, progress: int, work_done: str):
    # The fence's key: the half-day of the stamp (the floor ignores the cutoff time).
    cur.execute("SELECT pg_advisory_xact_lock_shared(5526091, %s)",
                (2 * now.date().toordinal(),))
    cur.execute(
        "SELECT t.id, t.progress FROM tasks t JOIN units un ON un.id = t.lead_unit_id "
        "WHERE t.id = %s AND un.path LIKE %s FOR UPDATE OF t", (task_id, user[2] + "%"))
    task = cur.fetchone()
    if task is None:
        return "404 Not Found", {"code": "not_found"}
    cur.execute(
        "INSERT INTO progress_updates (task_id, author_id, created_at, progress, "
        "work_done) VALUES (%s, %s, %s, %s, %s) RETURNING id",
        (task_id, user[0], now, progress, work_done))
    update_id = cur.fetchone()[0]
    cur.execute("UPDATE tasks SET progress = %s, last_update_at = %s, updated_at = %s, "
                "version = version + 1 WHERE id = %s", (progress, now, now, task_id))
    cur.execute("INSERT INTO audit_entries (task_id, actor_id, at, action, field, "
                "old_value, new_value) VALUES (%s, %s, %s, 'progress_update', "
                "'progress', %s, %s)", (task_id, user[0], now, str(task[1]), str(progress)))
    return "201 Created", {"id": update_id, "task_id": task_id}


def app(environ, start_response):
    if environ["REQUEST_METHOD"] == "GET":
        return _as_user(environ, start_response, overdue_list)
    parts = environ["PATH_INFO"].strip("/").split("/")  # api/v1/tasks/<id>/updates
    try:
        task_id = int(parts[3])
        body = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
        progress = int(body["progress"])
    except (ValueError, KeyError, IndexError):
        return _answer(start_response, "400 Bad Request", {"code": "invalid"})
    return _as_user(environ, start_response, lambda cur, user, now: post_update(
        cur, user, now, task_id, progress, body.get("work_done", "")))
