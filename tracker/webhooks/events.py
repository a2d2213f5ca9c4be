"""The webhooks' outbox, written by the receivers of `tracker.signals` in the transaction of
the event (connected once by `connect`): a rolled-back write queues nothing, a committed
one is delivered by the worker after its commit (`delivery`). No receiver ever sends: a
slow or failing endpoint never slows the request that caused the event.

An endpoint hears of the tasks its unit's subtree sees (`scope.webhook_hears_of`, its SQL
twin `scope.heard_by` for batches), and of its own unit's figures at each cutoff.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import insert, select

from tracker import signals
from tracker.cutoff.models import TaskColourChange, UnitDayStat
from tracker.extensions import db
from tracker.scope import heard_by, webhook_hears_of
from tracker.tasks.models import Task
from tracker.units.models import Unit
from tracker.webhooks.models import WebhookDelivery, WebhookEndpoint
from tracker.webhooks.service import queue_row, utc_text


def _listening(event: str) -> list[WebhookEndpoint]:
    """The active endpoints that chose `event` (a small table, read once per event)."""
    endpoints = db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active))
    return [e for e in endpoints if event in e.event_list]


def _queue(rows: list[dict]) -> None:
    if rows:
        db.session.execute(insert(WebhookDelivery), rows)


def task_data(task: Task) -> dict:
    return {"id": task.id, "code": task.code, "title": task.title,
            "lead_unit": {"id": task.lead_unit_id, "name": task.lead_unit.name},
            "status": str(task.status), "progress": task.progress,
            "deadline": task.deadline.isoformat(), "colour": task.colour}


def _about_task(event: str, task: Task, now: datetime, **data) -> None:
    listening = _listening(event)
    if not listening:
        return
    payload = {"task": task_data(task), **data}
    _queue([queue_row(e.id, event, now, payload) for e in listening
            if webhook_hears_of(e.unit, task)])


def _actor(actor) -> dict | None:
    return None if actor is None else {"id": actor.id, "username": actor.username}


def on_created(task: Task, *, actor, now: datetime, **_kw) -> None:
    _about_task("task.created", task, now, actor=_actor(actor))


def _changed(change: str):
    def receiver(task: Task, *, actor, now: datetime, note: str | None = None,
                 changes: dict | None = None, request=None, **_kw) -> None:
        data = {"change": change, "actor": _actor(actor), "note": note}
        if changes:
            data["fields"] = sorted(changes)
        if request is not None:
            data["extension"] = {"status": request.status,
                                 "requested_deadline": request.requested_deadline.isoformat()}
        _about_task("task.changed", task, now, **data)
    receiver.__name__ = f"on_{change}"
    return receiver


def _decided(decision: str):
    def receiver(task: Task, *, actor, now: datetime, note: str | None = None,
                 **_kw) -> None:
        _about_task("completion.decided", task, now, decision=decision,
                    actor=_actor(actor), note=note)
    receiver.__name__ = f"on_{decision}"
    return receiver


def on_colour_changed(task: Task, *, old: str | None, new: str | None, now: datetime,
                      **_kw) -> None:
    _about_task("task.colour_changed", task, now, previous_colour=old, colour=new)


def _tasks_heard(endpoints: list[WebhookEndpoint], task_ids) -> dict[int, list[int]]:
    """endpoint id → the ids among `task_ids` it hears of (the SQL twin, one statement)."""
    unit = Unit.__table__.alias("endpoint_unit")
    rows = db.session.execute(
        select(WebhookEndpoint.id, Task.id)
        .join(unit, unit.c.id == WebhookEndpoint.unit_id)
        .join(Task, Task.id.in_(sorted(set(task_ids))))
        .where(WebhookEndpoint.id.in_([e.id for e in endpoints]),
               heard_by(unit.c.path, Task.id)))
    heard: dict[int, list[int]] = {}
    for endpoint_id, task_id in rows:
        heard.setdefault(endpoint_id, []).append(task_id)
    return heard


def _task_rows(task_ids) -> dict[int, dict]:
    rows = db.session.execute(
        select(Task.id, Task.code, Task.title, Task.lead_unit_id, Unit.name, Task.status,
               Task.progress, Task.deadline, Task.colour)
        .join(Unit, Unit.id == Task.lead_unit_id).where(Task.id.in_(sorted(set(task_ids)))))
    return {r.id: {"id": r.id, "code": r.code, "title": r.title,
                   "lead_unit": {"id": r.lead_unit_id, "name": r.name},
                   "status": str(r.status), "progress": r.progress,
                   "deadline": r.deadline.isoformat(), "colour": r.colour} for r in rows}


def on_updates_posted(_sender, *, reporter, now: datetime, updates: list[dict],
                      colour_changes: list[tuple], **_kw) -> None:
    """One batch of updates (one or a unit's thousand): one event per update, and one per
    colour the batch changed, each to the endpoints that hear of its task."""
    posted, recoloured = _listening("update.posted"), _listening("task.colour_changed")
    if colour_changes:
        recoloured_ids = [task_id for task_id, _old, _new in colour_changes]
    else:
        recoloured, recoloured_ids = [], []
    if not posted and not recoloured:
        return
    tasks = _task_rows([u["task_id"] for u in updates])
    rows = []
    author = {"id": reporter.user_id, "username": reporter.username}
    for endpoint_id, task_ids in (_tasks_heard(posted, tasks) if posted else {}).items():
        heard = set(task_ids)
        rows += [queue_row(endpoint_id, "update.posted", now, {
            "task": tasks[u["task_id"]], "actor": author,
            "update": {"id": u["id"], "progress": u["progress"], "work_done": u["work_done"],
                       "obstacles": u.get("obstacles"), "next_steps": u.get("next_steps"),
                       "evidence_url": u.get("evidence_url"),
                       "reporting_day": u["reporting_day"].isoformat(),
                       "created_at": utc_text(now)}})
            for u in updates if u["task_id"] in heard]
    changes = {task_id: (old, new) for task_id, old, new in colour_changes}
    for endpoint_id, task_ids in (_tasks_heard(recoloured, recoloured_ids)
                                  if recoloured else {}).items():
        rows += [queue_row(endpoint_id, "task.colour_changed", now, {
            "task": tasks[t], "previous_colour": changes[t][0], "colour": changes[t][1]})
            for t in sorted(task_ids)]
    _queue(rows)


def on_cutoff_done(day: date, *, summary: dict, now: datetime, rerun: bool = False,
                   **_kw) -> None:
    """Each endpoint hears of its own unit's figures at the cutoff (`cutoff.done`) and, the
    first time a day is processed, of the tasks it hears of whose colour the cutoff changed
    (`task.colour_changed`, with `at_cutoff`)."""
    rows = []
    done = _listening("cutoff.done")
    if done:
        stats = {s.unit_id: s for s in db.session.scalars(
            select(UnitDayStat).where(UnitDayStat.day == day,
                                      UnitDayStat.unit_id.in_({e.unit_id for e in done})))}
        for endpoint in done:
            stat = stats.get(endpoint.unit_id)
            figures = None if stat is None else {
                name: getattr(stat, name) for name in (
                    "colour", "total", "green", "yellow", "red", "missed", "done_on_time",
                    "done_late", "open_within_deadline", "open_overdue")}
            rows.append(queue_row(endpoint.id, "cutoff.done", now, {
                "day": day.isoformat(), "rerun": rerun,
                "unit": {"id": endpoint.unit_id, "name": endpoint.unit.name},
                "figures": figures}))
    recoloured = [] if rerun else _listening("task.colour_changed")
    for endpoint in recoloured:
        unit = Unit.__table__.alias("endpoint_unit")
        changes = db.session.execute(
            select(TaskColourChange.task_id, TaskColourChange.previous_colour,
                   TaskColourChange.colour)
            .join(unit, unit.c.id == endpoint.unit_id)
            .where(TaskColourChange.day == day, TaskColourChange.previous_colour.is_not(None),
                   TaskColourChange.previous_colour != TaskColourChange.colour,
                   heard_by(unit.c.path, TaskColourChange.task_id))
            .order_by(TaskColourChange.task_id)).all()
        tasks = _task_rows([c.task_id for c in changes]) if changes else {}
        rows += [queue_row(endpoint.id, "task.colour_changed", now, {
            "task": tasks[c.task_id], "previous_colour": c.previous_colour,
            "colour": c.colour, "at_cutoff": day.isoformat()})
            for c in changes if c.task_id in tasks]
    _queue(rows)


RECEIVERS = (
    (signals.task_created, on_created),
    (signals.task_edited, _changed("edited")),
    (signals.task_reassigned, _changed("reassigned")),
    (signals.task_cancelled, _changed("cancelled")),
    (signals.completion_submitted, _changed("submitted")),
    (signals.extension_decided, _changed("extension_decided")),
    (signals.completion_confirmed, _decided("confirmed")),
    (signals.completion_returned, _decided("returned")),
    (signals.colour_changed, on_colour_changed),
    (signals.updates_posted, on_updates_posted),
    (signals.cutoff_done, on_cutoff_done),
)


def connect() -> None:
    """Subscribe the outbox to the signals (idempotent; kept alive: some receivers are
    made here, and blinker holds receivers weakly by default)."""
    for signal, receiver in RECEIVERS:
        signal.connect(receiver, weak=False)
