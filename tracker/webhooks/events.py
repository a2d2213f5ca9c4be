"""The webhooks' outbox, written by the receivers of `tracker.signals` in the transaction of
the event (connected once by `connect`): a rolled-back write queues nothing, a committed
one is delivered by the worker after its commit (`delivery`). No receiver ever sends: a
slow or failing endpoint never slows the request that caused the event.

Each receiver runs in a savepoint and its errors are logged, never raised: a bug here can
never roll back the update or the cutoff that announced the event. With no active endpoint
hearing of an event (`service.listened_events`, read with the request's settings) a
receiver does nothing at all. What may be large — a batch's updates, the cutoff's colour
changes — is queued as one small job row (`WebhookJob`) that the worker expands into
deliveries in its own short transactions (`fanout`).

An endpoint hears of the tasks its unit's subtree sees (`scope.webhook_hears_of`, its SQL
twin `scope.heard_by` for batches), and of its own unit's figures at each cutoff.
"""

from __future__ import annotations

import functools
import json
import logging
from datetime import date, datetime

from sqlalchemy import insert, select

from tracker import signals
from tracker.cutoff.models import UnitDayStat
from tracker.extensions import db
from tracker.scope import webhook_hears_of
from tracker.tasks.models import Task
from tracker.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookJob
from tracker.webhooks.service import listened_events, queue_row

log = logging.getLogger("tracker.webhooks")


def _heard(*events: str) -> bool:
    """Whether some active endpoint may hear of one of `events` (no query: see module)."""
    listened = listened_events()
    return listened is None or any(e in listened for e in events)


def _guarded(*events: str):
    """Run the receiver only if one of `events` is heard of, in a savepoint; log and
    swallow its errors (the caller's write goes on without the webhook)."""
    def wrap(receiver):
        @functools.wraps(receiver)
        def guarded(*args, **kwargs):
            if not _heard(*events):
                return
            db.session.flush()  # the caller's own rows: their errors are the caller's
            try:
                with db.session.begin_nested():
                    receiver(*args, **kwargs)
            except Exception:
                log.exception("webhook receiver %s failed; the event is not queued",
                              receiver.__name__)
        return guarded
    return wrap


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


@_guarded("task.created")
def on_created(task: Task, *, actor, now: datetime, **_kw) -> None:
    _about_task("task.created", task, now, actor=_actor(actor))


def _changed(change: str):
    @_guarded("task.changed")
    def receiver(task: Task, *, actor, now: datetime, note: str | None = None,
                 changes: dict | None = None, request=None, **_kw) -> None:
        data = {"change": change, "actor": _actor(actor), "note": note}
        if changes:
            data["fields"] = sorted(changes)
        if request is not None:
            data["extension"] = {"status": request.status,
                                 "requested_deadline": request.requested_deadline.isoformat()}
        _about_task("task.changed", task, now, **data)
    receiver.__name__ = receiver.__wrapped__.__name__ = f"on_{change}"
    return receiver


def _decided(decision: str):
    @_guarded("completion.decided")
    def receiver(task: Task, *, actor, now: datetime, note: str | None = None,
                 **_kw) -> None:
        _about_task("completion.decided", task, now, decision=decision,
                    actor=_actor(actor), note=note)
    receiver.__name__ = receiver.__wrapped__.__name__ = f"on_{decision}"
    return receiver


@_guarded("task.colour_changed")
def on_colour_changed(task: Task, *, old: str | None, new: str | None, now: datetime,
                      **_kw) -> None:
    _about_task("task.colour_changed", task, now, previous_colour=old, colour=new)


def _job(kind: str, event: str, now: datetime, *, endpoint_id: int | None = None,
         day: date | None = None, data: dict | None = None) -> dict:
    return {"kind": kind, "event": event, "endpoint_id": endpoint_id, "day": day,
            "data": None if data is None else json.dumps(data, separators=(",", ":"),
                                                         default=str),
            "position": 0, "created_at": now}


@_guarded("update.posted", "task.colour_changed")
def on_updates_posted(_sender, *, reporter, now: datetime, updates: list[dict],
                      colour_changes: list[tuple], **_kw) -> None:
    """One batch of updates (one or a unit's thousand): one job row per event heard of —
    the update ids, the colour changes — that the worker fans out to the endpoints
    (`fanout`), never per update or per endpoint here, under the tasks' row locks."""
    listened = listened_events()
    if listened is None:
        listened = {e for endpoint in _listening_any() for e in endpoint.event_list}
    jobs = []
    if "update.posted" in listened and updates:
        jobs.append(_job("updates", "update.posted", now, data={
            "actor": {"id": reporter.user_id, "username": reporter.username},
            "reporting_day": updates[0]["reporting_day"].isoformat(),
            "ids": [u["id"] for u in updates]}))
    if "task.colour_changed" in listened and colour_changes:
        jobs.append(_job("updates", "task.colour_changed", now, data={
            "changes": [list(change) for change in colour_changes]}))
    if jobs:
        db.session.execute(insert(WebhookJob), jobs)


def _listening_any() -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active)))


@_guarded("cutoff.done", "task.colour_changed")
def on_cutoff_done(day: date, *, summary: dict, now: datetime, rerun: bool = False,
                   **_kw) -> None:
    """Each endpoint hears of its own unit's figures at the cutoff (`cutoff.done`: one
    row per endpoint) and, the first time a day is processed, of the tasks it hears of
    whose colour the cutoff changed (`task.colour_changed`, with `at_cutoff`): one job row
    per endpoint here, which the worker expands a page at a time (`fanout`)."""
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
    _queue(rows)
    recoloured = [] if rerun else _listening("task.colour_changed")
    jobs = [_job("cutoff_colours", "task.colour_changed", now, endpoint_id=endpoint.id,
                 day=day) for endpoint in recoloured]
    if jobs:
        db.session.execute(insert(WebhookJob), jobs)


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
