"""The scheduler process: it only decides *when*; the jobs are plain functions.

- at each cutoff moment (16:00 ICT by default): catch up every due working day, in order;
- at the reminder times (14:00 and 15:30 by default): remind units that still owe updates;
- just after midnight: refresh stored colours (deadlines pass and warning windows move
  with the date, not only at cutoffs);
- on start: catch up every cutoff missed while the scheduler was down.

Every job runs in its own app context and transaction, and sends e-mail only after its
commit. Running two schedulers is safe: each cutoff day is processed exactly once.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from tracker import clock
from tracker.extensions import db

log = logging.getLogger("tracker.scheduler")


def catch_up(app) -> list[dict]:
    """Process every due cutoff, oldest first, each in its own transaction."""
    from tracker.cutoff.job import CutoffRefused, due_days, run_cutoff
    from tracker.notifications.service import deliver_emails

    results = []
    with app.app_context():
        days = due_days(clock.now(), max_days=app.config["TRACKER_CATCH_UP_DAYS"])
        db.session.rollback()
        for day in days:
            try:
                summary = run_cutoff(day, now=clock.now())
                db.session.commit()
            except CutoffRefused as exc:
                db.session.rollback()
                log.warning("cutoff %s refused: %s", day, exc)
                continue
            except Exception:
                db.session.rollback()
                log.exception("cutoff %s failed; it will be retried", day)
                break
            results.append(summary.public())
            log.info("cutoff %s: %s", day, summary.public())
        _deliver(deliver_emails)
    return results


def remind(app) -> int:
    from tracker.notifications.service import deliver_emails, send_reminders

    with app.app_context():
        count = send_reminders(clock.now())
        db.session.commit()
        _deliver(deliver_emails)
        log.info("reminders: %s", count)
        return count


def recolour(app) -> int:
    from tracker.cutoff.recolour import recolour_all

    with app.app_context():
        changed = recolour_all(clock.now())
        db.session.commit()
        log.info("recoloured %s task(s)", changed)
        return changed


def _deliver(deliver_emails) -> None:
    try:
        deliver_emails(clock.now())
    except Exception:  # mail trouble must not stop the schedule; the outbox keeps it
        db.session.rollback()
        log.exception("e-mail delivery failed; will retry")


def build_scheduler(app) -> BlockingScheduler:
    zone = app.config["TRACKER_TIMEZONE"]
    scheduler = BlockingScheduler(timezone=zone, job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
    hour, minute = app.config["TRACKER_CUTOFF_TIME"].split(":")
    # A second after the cutoff: updates at exactly 16:00:00 still count for the day.
    scheduler.add_job(catch_up, CronTrigger(hour=int(hour), minute=int(minute), second=1,
                                            timezone=zone), args=[app], id="cutoff")
    for n, at in enumerate(t for t in app.config["TRACKER_REMINDER_TIMES"].split(",") if t):
        h, m = at.strip().split(":")
        scheduler.add_job(remind, CronTrigger(hour=int(h),
                                              minute=int(m), timezone=zone),
                          args=[app], id=f"reminder-{n}")
    scheduler.add_job(recolour, CronTrigger(hour=0, minute=0, second=5, timezone=zone),
                      args=[app], id="midnight-recolour")
    return scheduler


def run_scheduler(app) -> None:
    scheduler = build_scheduler(app)
    caught = catch_up(app)
    log.info("started; caught up %s day(s)", len(caught))
    scheduler.start()
