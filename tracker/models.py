"""Imports every model so that the metadata (and Alembic) knows every table."""

from tracker.audit.models import AuditEntry
from tracker.auth.models import LoginAttempt, User, UserSession
from tracker.cutoff.models import CalendarDay, Setting
from tracker.tasks.models import Task, task_coordinating_units
from tracker.units.models import Unit
from tracker.updates.models import ProgressUpdate

__all__ = [
    "AuditEntry",
    "CalendarDay",
    "LoginAttempt",
    "ProgressUpdate",
    "Setting",
    "Task",
    "Unit",
    "User",
    "UserSession",
    "task_coordinating_units",
]
