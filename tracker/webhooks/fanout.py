"""The worker's first step: the job rows (`WebhookJob`) that a batch of updates or the cutoff
queued, expanded into deliveries — a page (`PAGE` tasks) per short transaction of its own,
so that neither the write that caused them nor the worker ever holds a long transaction,
and no statement carries more than a page of ids.

A page's deliveries and the job's new `position` are written in the same transaction,
which first moves the position on only if it is still where this worker read it: two
workers never expand the same page twice, and a crash mid-way starts again from the page
not yet committed. A job is deleted with its last page.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import delete, insert, select, update

from tracker.cutoff.models import TaskColourChange
from tracker.extensions import db
from tracker.scope import heard_by
from tracker.tasks.models import Task
from tracker.units.models import Unit
from tracker.updates.models import ProgressUpdate
from tracker.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookJob
from tracker.webhooks.service import queue_row, utc_text

PAGE = 500

_TASK_COLUMNS = (Task.id.label("task_id"), Task.code, Task.title, Task.lead_unit_id,
                 Unit.name.label("lead_unit_name"), Task.status, Task.progress,
                 Task.deadline, Task.colour)


def _task(row) -> dict:
    return {"id": row.task_id, "code": row.code, "title": row.title,
            "lead_unit": {"id": row.lead_unit_id, "name": row.lead_unit_name},
            "status": str(row.status), "progress": row.progress,
            "deadline": row.deadline.isoformat(), "colour": row.colour}


def _tasks(task_ids: list[int]) -> dict[int, dict]:
    """The tasks of one page (at most `PAGE` ids), as the bodies give them."""
    rows = db.session.execute(select(*_TASK_COLUMNS).join(Unit, Unit.id == Task.lead_unit_id)
                              .where(Task.id.in_(task_ids)))
    return {row.task_id: _task(row) for row in rows}


def _heard(event: str, task_ids: list[int]) -> dict[int, set[int]]:
    """endpoint id → the ids among one page's `task_ids` it hears of, for the active
    endpoints listening to `event` now (one statement, the SQL twin `heard_by`)."""
    endpoints = [e.id for e in db.session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.active)) if event in e.event_list]
    if not endpoints or not task_ids:
        return {}
    unit = Unit.__table__.alias("endpoint_unit")
    rows = db.session.execute(
        select(WebhookEndpoint.id, Task.id)
        .join(unit, unit.c.id == WebhookEndpoint.unit_id)
        .join(Task, Task.id.in_(sorted(set(task_ids))))
        .where(WebhookEndpoint.id.in_(endpoints), heard_by(unit.c.path, Task.id)))
    heard: dict[int, set[int]] = {}
    for endpoint_id, task_id in rows:
        heard.setdefault(endpoint_id, set()).add(task_id)
    return heard


def _updates_page(event: str, data: dict, position: int,
                  now: datetime) -> tuple[list[dict], int, bool]:
    if event == "update.posted":
        ids = data["ids"][position:position + PAGE]
        updates = db.session.execute(
            select(ProgressUpdate.id, ProgressUpdate.task_id, ProgressUpdate.progress,
                   ProgressUpdate.work_done, ProgressUpdate.obstacles,
                   ProgressUpdate.next_steps, ProgressUpdate.evidence_url,
                   ProgressUpdate.created_at)
            .where(ProgressUpdate.id.in_(ids)).order_by(ProgressUpdate.id)).all()
        tasks = _tasks(sorted({u.task_id for u in updates}))
        rows = [queue_row(endpoint_id, event, now, {
            "task": tasks[u.task_id], "actor": data["actor"],
            "update": {"id": u.id, "progress": u.progress, "work_done": u.work_done,
                       "obstacles": u.obstacles, "next_steps": u.next_steps,
                       "evidence_url": u.evidence_url,
                       "reporting_day": data["reporting_day"],
                       "created_at": utc_text(u.created_at)}})
            for endpoint_id, heard in sorted(_heard(event, list(tasks)).items())
            for u in updates if u.task_id in heard]
        total = len(data["ids"])
    else:  # task.colour_changed of a batch: [task id, old, new] each
        changes = data["changes"][position:position + PAGE]
        tasks = _tasks([task_id for task_id, _old, _new in changes])
        rows = [queue_row(endpoint_id, event, now, {
            "task": tasks[task_id], "previous_colour": old, "colour": new})
            for endpoint_id, heard in sorted(_heard(event, list(tasks)).items())
            for task_id, old, new in changes if task_id in heard]
        total = len(data["changes"])
    position += PAGE
    return rows, position, position < total


def _cutoff_page(endpoint_id: int, day: date, after: int,
                 now: datetime) -> tuple[list[dict], int, bool]:
    """The next page of the tasks whose colour the cutoff of `day` changed, that the
    endpoint hears of (joined, never an id list)."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or not endpoint.active \
            or "task.colour_changed" not in endpoint.event_list:
        return [], after, False
    unit = Unit.__table__.alias("endpoint_unit")
    changes = db.session.execute(
        select(TaskColourChange.previous_colour, TaskColourChange.colour.label("new"),
               *_TASK_COLUMNS)
        .join(Task, Task.id == TaskColourChange.task_id)
        .join(Unit, Unit.id == Task.lead_unit_id)
        .join(unit, unit.c.id == endpoint.unit_id)
        .where(TaskColourChange.day == day, TaskColourChange.task_id > after,
               TaskColourChange.previous_colour.is_not(None),
               TaskColourChange.previous_colour != TaskColourChange.colour,
               heard_by(unit.c.path, TaskColourChange.task_id))
        .order_by(TaskColourChange.task_id).limit(PAGE)).all()
    rows = [queue_row(endpoint_id, "task.colour_changed", now, {
        "task": _task(c), "previous_colour": c.previous_colour, "colour": c.new,
        "at_cutoff": day.isoformat()}) for c in changes]
    return rows, (changes[-1].task_id if changes else after), len(changes) == PAGE


def expand_page(job_id: int) -> bool:
    """Expand the next page of one job in a transaction of its own; whether more of it
    remains for this worker (False: done, or another worker has moved it on)."""
    job = db.session.get(WebhookJob, job_id)
    if job is None:
        db.session.rollback()
        return False
    kind, event, position, now = job.kind, job.event, job.position, job.created_at
    if kind == "cutoff_colours":
        rows, moved, more = _cutoff_page(job.endpoint_id, job.day, position, now)
    else:
        rows, moved, more = _updates_page(event, json.loads(job.data), position, now)
    mine = WebhookJob.id == job_id, WebhookJob.position == position
    statement = (update(WebhookJob).where(*mine).values(position=moved) if more
                 else delete(WebhookJob).where(*mine))
    if db.session.execute(statement, execution_options={"synchronize_session": False}) \
            .rowcount != 1:
        db.session.rollback()  # another worker expanded this page
        return False
    if rows:
        db.session.execute(insert(WebhookDelivery), rows)
    db.session.commit()
    db.session.expire_all()
    return more


def expand_jobs(*, limit: int = 100) -> int:
    """Expand the oldest `limit` jobs, each a page per transaction; returns how many
    pages were written."""
    jobs = list(db.session.scalars(select(WebhookJob.id).order_by(WebhookJob.id)
                                   .limit(limit)))
    db.session.commit()
    pages = 0
    for job_id in jobs:
        more = True
        while more:
            more = expand_page(job_id)
            pages += 1
    return pages
