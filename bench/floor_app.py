"""The floor: a minimal WSGI app doing the SQL of posting one update — token lookup, the
cutoff's fence (tracker.fence), scope check, insert the update, update the task,
append the audit row — through the same driver (psycopg 3) and the same server (gunicorn),
with nothing else. Our app's throughput is judged against it."""

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
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(data)))])
    return [data]


def app(environ, start_response):
    parts = environ["PATH_INFO"].strip("/").split("/")  # api/v1/tasks/<id>/updates
    token = environ.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ")
    try:
        task_id = int(parts[3])
        body = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
        progress = int(body["progress"])
    except (ValueError, KeyError, IndexError):
        return _answer(start_response, "400 Bad Request", {"code": "invalid"})
    now = datetime.now(UTC)
    conn = _conn()
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(
            "SELECT u.id, un.path FROM api_tokens t JOIN users u ON u.id = t.user_id "
            "JOIN units un ON un.id = u.unit_id WHERE t.token_hash = %s "
            "AND t.revoked_at IS NULL AND t.expires_at > %s AND u.active",
            (hashlib.sha256(token.encode()).hexdigest(), now))
        user = cur.fetchone()
        if user is None:
            return _answer(start_response, "401 Unauthorized", {"code": "unauthorized"})
        # The fence's key: the half-day of the stamp (the floor ignores the cutoff time).
        cur.execute("SELECT pg_advisory_xact_lock_shared(5526091, %s)",
                    (2 * now.date().toordinal(),))
        cur.execute(
            "SELECT t.id, t.progress FROM tasks t JOIN units un ON un.id = t.lead_unit_id "
            "WHERE t.id = %s AND un.path LIKE %s FOR UPDATE OF t", (task_id, user[1] + "%"))
        task = cur.fetchone()
        if task is None:
            return _answer(start_response, "404 Not Found", {"code": "not_found"})
        cur.execute(
            "INSERT INTO progress_updates (task_id, author_id, created_at, progress, "
            "work_done) VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (task_id, user[0], now, progress, body.get("work_done", "")))
        update_id = cur.fetchone()[0]
        cur.execute("UPDATE tasks SET progress = %s, last_update_at = %s, updated_at = %s, "
                    "version = version + 1 WHERE id = %s", (progress, now, now, task_id))
        cur.execute("INSERT INTO audit_entries (task_id, actor_id, at, action, field, "
                    "old_value, new_value) VALUES (%s, %s, %s, 'progress_update', "
                    "'progress', %s, %s)", (task_id, user[0], now, str(task[1]), str(progress)))
    return _answer(start_response, "201 Created", {"id": update_id, "task_id": task_id})
