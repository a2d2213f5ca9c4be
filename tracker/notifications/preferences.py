"""Each user's choice, per group of kinds, of how they hear of a notification: in the app
only, by e-mail at once, or in the daily digest. The choice is read when a notification is
written (`mail_for`), so changing it never sends or withholds what was already written."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import String, and_, case, delete, func, literal, select

from tracker.auth.models import User
from tracker.errors import Forbidden, InvalidInput
from tracker.extensions import db
from tracker.notifications.kinds import GROUP_OF, GROUPS
from tracker.notifications.models import Delivery, NotificationPreference
from tracker.scope import acts_for

CHOICES = (Delivery.APP, Delivery.NOW, Delivery.DIGEST)
DEFAULT = Delivery.NOW


def preferences_of(user: User) -> dict[str, str]:
    """Every group's delivery for `user` (the default where they chose nothing)."""
    chosen = dict(db.session.execute(
        select(NotificationPreference.kind_group, NotificationPreference.delivery)
        .where(NotificationPreference.user_id == user.id)).all())
    return {group: chosen.get(group, DEFAULT) for group in GROUPS}


def pushed_groups(user: User) -> set[str]:
    """The groups `user` has pushed to their subscribed phones (all but those turned off)."""
    off = set(db.session.scalars(
        select(NotificationPreference.kind_group)
        .where(NotificationPreference.user_id == user.id,
               NotificationPreference.push.is_(False))))
    return {group for group in GROUPS if group not in off}


def set_preferences(actor: User, user: User, raw: dict,
                    push: set[str] | None = None) -> dict[str, str]:
    """Store `user`'s choices from `raw` ({group: "app" | "now" | "digest"}); every group
    must be given. `push`: the groups also pushed to the user's phones (None: as they
    were). Only the user sets their own."""
    if not acts_for(actor, user.id):
        raise Forbidden(_("Only the user chooses how they are notified."))
    errors = {group: [_("Not a valid value.")] for group in GROUPS
              if not isinstance(raw.get(group), str) or raw[group] not in CHOICES}
    if errors:
        raise InvalidInput(_("Choose how you want to hear of each kind."), errors)
    pushed = pushed_groups(user) if push is None else set(push) & set(GROUPS)
    db.session.execute(delete(NotificationPreference)
                       .where(NotificationPreference.user_id == user.id))
    db.session.add_all(NotificationPreference(user_id=user.id, kind_group=group,
                                              delivery=raw[group], push=group in pushed)
                       for group in GROUPS)
    db.session.flush()
    return {group: raw[group] for group in GROUPS}


def _outbox(delivery: str | None, email: str | None) -> str | None:
    """The notification's outbox state for a user's choice and address."""
    if not email or delivery == Delivery.APP:
        return None
    return delivery or DEFAULT


def mail_for(user_ids, kinds) -> dict[tuple[int, str], str | None]:
    """(user id, kind) → the outbox state ("now", "digest" or None) of a notification of
    that kind for that user, as their address and choices stand now."""
    user_ids = set(user_ids)
    if not user_ids:
        return {}
    emails = dict(db.session.execute(
        select(User.id, User.email).where(User.id.in_(user_ids))).all())
    chosen = {(u, g): d for u, g, d in db.session.execute(
        select(NotificationPreference.user_id, NotificationPreference.kind_group,
               NotificationPreference.delivery)
        .where(NotificationPreference.user_id.in_(user_ids)))}
    return {(u, k): _outbox(chosen.get((u, GROUP_OF.get(k, ""))), emails.get(u))
            for u in user_ids for k in set(kinds)}


def mail_sql(user_id, email, kind: str):
    """SQL twin of `mail_for` for one kind, over a statement's user id and e-mail columns
    (the cutoff writes a national day's notifications in one INSERT … SELECT)."""
    chosen = (select(NotificationPreference.delivery)
              .where(NotificationPreference.user_id == user_id,
                     NotificationPreference.kind_group == GROUP_OF.get(kind, ""))
              .scalar_subquery())
    return case(
        (email.is_(None), literal(None, String)),
        (email == "", literal(None, String)),
        (and_(chosen.is_not(None), chosen == Delivery.APP), literal(None, String)),
        else_=func.coalesce(chosen, literal(DEFAULT, String)))
