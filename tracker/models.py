"""Imports every model so that the metadata (and Alembic) knows every table."""

from tracker.audit.models import AuditEntry, SecurityEvent
from tracker.auth.models import LoginAttempt, User, UserSession
from tracker.auth.tokens import ApiToken
from tracker.auth.two_factor_models import LoginChallenge, RecoveryCode, SecondFactor
from tracker.cutoff.models import (
    CutoffRun,
    MissedUpdate,
    RedTaskDay,
    SchedulerHeartbeat,
    SchedulerLease,
    TaskColourChange,
    UnitDayStat,
)
from tracker.evidence.models import Evidence
from tracker.feeds.models import CalendarFeed
from tracker.forecast.models import ForecastDay, TaskForecast
from tracker.idempotency.models import IdempotencyKey
from tracker.kiennghi.models import Recommendation
from tracker.notifications.models import Notification, NotificationPreference
from tracker.push.models import PushSubscription
from tracker.ratelimit import RateCount
from tracker.reports.models import UnitReportSettings, UnitSigningKey
from tracker.rules.models import CalendarDay, Setting
from tracker.tasks.counts import TaskCount, TaskCountDelta
from tracker.tasks.models import Comment, ExtensionRequest, Task, task_coordinating_units
from tracker.units.models import Unit
from tracker.updates.models import ProgressUpdate
from tracker.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookJob

__all__ = [
    "ApiToken",
    "AuditEntry",
    "CalendarDay",
    "CalendarFeed",
    "Comment",
    "CutoffRun",
    "Evidence",
    "ExtensionRequest",
    "ForecastDay",
    "IdempotencyKey",
    "LoginAttempt",
    "LoginChallenge",
    "MissedUpdate",
    "Notification",
    "NotificationPreference",
    "ProgressUpdate",
    "PushSubscription",
    "RateCount",
    "Recommendation",
    "RecoveryCode",
    "RedTaskDay",
    "SchedulerHeartbeat",
    "SchedulerLease",
    "SecondFactor",
    "SecurityEvent",
    "Setting",
    "Task",
    "TaskColourChange",
    "TaskCount",
    "TaskCountDelta",
    "TaskForecast",
    "Unit",
    "UnitDayStat",
    "UnitReportSettings",
    "UnitSigningKey",
    "User",
    "UserSession",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookJob",
    "task_coordinating_units",
]
