"""The push copies of notifications (Web Push, docs/push.md): to each phone or browser a
user subscribed, for the groups of kinds they chose to have pushed, right after the commit
that wrote them (one background sender thread fed by a bounded queue, so a request never
waits for a push service and a burst of commits never starts a burst of threads).
Deactivated users are never pushed to.

A push is a nudge to look, not a record: the notification is in the app whatever happens
to its push. One a push service refuses for now is not retried (the next one will come);
a subscription the push service says is gone (404, 410) is removed."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Iterable

import requests
from flask import current_app, has_app_context, url_for
from sqlalchemy import delete, event, select

from tracker.auth.models import User
from tracker.extensions import db
from tracker.notifications.kinds import GROUP_OF, kind_label
from tracker.notifications.models import Notification, NotificationPreference
from tracker.push import vapid
from tracker.push.models import PushSubscription

log = logging.getLogger("tracker.push")

_PENDING = "tracker_push_now"  # session.info: notification ids to push after the commit
MAX_BODY = 300  # characters of the message a phone shows; the rest is in the app
MAX_WAITING = 1000  # commits whose pushes wait for the sender; beyond, they are dropped
_waiting: queue.Queue = queue.Queue(MAX_WAITING)
_sender: threading.Thread | None = None
_sender_lock = threading.Lock()


def push_for(user_ids, kinds) -> set[tuple[int, str]]:
    """(user id, kind) pairs to be pushed: the user has a subscription and has not turned
    push off for the kind's group."""
    user_ids = set(user_ids)
    if not user_ids:
        return set()
    subscribed = set(db.session.scalars(
        select(PushSubscription.user_id).distinct()
        .join(User, User.id == PushSubscription.user_id)
        .where(PushSubscription.user_id.in_(user_ids), User.active.is_(True))))
    if not subscribed:
        return set()
    off = {(u, g) for u, g in db.session.execute(
        select(NotificationPreference.user_id, NotificationPreference.kind_group)
        .where(NotificationPreference.user_id.in_(subscribed),
               NotificationPreference.push.is_(False)))}
    return {(u, k) for u in subscribed for k in set(kinds)
            if (u, GROUP_OF.get(k, "")) not in off}


def after_commit_push(ids: Iterable[int]) -> None:
    """Have the notifications `ids` (just written) pushed right after the commit."""
    ids = list(ids)
    if ids:
        db.session.info.setdefault(_PENDING, []).extend(ids)


def _committed(session) -> None:
    ids = session.info.pop(_PENDING, None)
    if not ids or not has_app_context():
        return
    app = current_app._get_current_object()
    if not app.config.get("TRACKER_PUSH_AT_ONCE", True):
        return
    _start_sender()
    try:
        _waiting.put_nowait((app, ids))
    except queue.Full:
        log.warning("push queue full: %s notification(s) not pushed (they are in the app)",
                    len(ids))


def _start_sender() -> None:
    global _sender
    with _sender_lock:
        if _sender is None or not _sender.is_alive():
            _sender = threading.Thread(target=_send_forever, name="push-sender", daemon=True)
            _sender.start()


def _send_forever() -> None:
    while True:
        app, ids = _waiting.get()
        try:
            _push_in_background(app, ids)
        except Exception:
            log.exception("push sender")
        finally:
            _waiting.task_done()


def _rolled_back(session) -> None:
    session.info.pop(_PENDING, None)


def _push_in_background(app, ids: list[int]) -> None:
    with app.app_context(), app.test_request_context(base_url=_base(app)):
        try:
            deliver_pushes(ids)
        except Exception:
            db.session.rollback()
            log.exception("push right after the commit failed")
        finally:
            db.session.remove()


def _base(app) -> str:
    return app.config.get("TRACKER_BASE_URL") or "http://localhost/"


def wait(timeout: float = 10.0) -> None:
    """Wait until the pushes queued so far are sent (tests; a process about to stop)."""
    deadline = time.monotonic() + timeout
    with _waiting.all_tasks_done:
        while _waiting.unfinished_tasks:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            _waiting.all_tasks_done.wait(left)


def install() -> None:
    """Listen to the commits of the app's database session (once per process)."""
    if not event.contains(db.session, "after_commit", _committed):
        event.listen(db.session, "after_commit", _committed)
        event.listen(db.session, "after_rollback", _rolled_back)


def payload(notification: Notification) -> str:
    """What the phone shows: the kind as title, the message, the page a tap opens."""
    target = (url_for("tasks.task_detail", task_id=notification.task_id)
              if notification.task_id else url_for("notifications.notification_list"))
    message = notification.message
    if len(message) > MAX_BODY:
        message = message[:MAX_BODY - 1] + "…"
    return json.dumps({"title": kind_label(notification.kind), "body": message,
                       "url": target, "tag": f"tracker-{notification.id}"},
                      ensure_ascii=False)


def deliver_pushes(ids: list[int]) -> int:
    """Push each of the notifications `ids` to every subscription of its user; returns
    how many messages the push services accepted. No database lock is held while a push
    service is talked to."""
    rows = db.session.execute(
        select(Notification, PushSubscription.id, PushSubscription.endpoint,
               PushSubscription.p256dh, PushSubscription.auth)
        .join(PushSubscription, PushSubscription.user_id == Notification.user_id)
        .join(User, User.id == Notification.user_id)
        .where(Notification.id.in_(ids), User.active.is_(True))
        .order_by(Notification.id, PushSubscription.id)).all()
    messages = [(payload(n), sid, endpoint, p256dh, auth)
                for n, sid, endpoint, p256dh, auth in rows]
    db.session.commit()
    accepted, gone = 0, set()
    for body, sid, endpoint, p256dh, auth in messages:
        if sid in gone:
            continue
        try:
            sent = vapid.send(endpoint, p256dh, auth, body)
        except requests.RequestException as exc:
            log.warning("push to subscription %s failed: %s", sid, type(exc).__name__)
            continue
        if sent.gone:
            gone.add(sid)
        elif 200 <= sent.status < 300:
            accepted += 1
        else:
            log.warning("push to subscription %s refused: %s", sid, sent.status)
    if gone:
        db.session.execute(delete(PushSubscription).where(PushSubscription.id.in_(gone)))
        db.session.commit()
        log.info("removed %s push subscription(s) the push service says are gone", len(gone))
    return accepted
