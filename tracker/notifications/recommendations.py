"""Who hears of what happens to a kiến nghị (tracker.kiennghi), by signal:

- raised, or forwarded up: everyone who may route it (`scope.routers_of`);
- routed: the responsible unit's members (what to answer, by when) and the raising unit's
  (who answers, by when); merged: the duplicate's raising unit (which one answers it);
- answered: the raising unit of it and of every duplicate merged into it;
- asked again or accepted: the responsible unit's members;
- overdue: the responsible unit's members and the supervisor who routed it.

Never to the actor. Messages are stored in the deployment's language, like the tasks'.
Each links to the kiến nghị's page — for a merged duplicate's raisers, the duplicate's,
which shows the answer of the one it joined."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from tracker.auth.models import User
from tracker.extensions import db
from tracker.kiennghi.models import Recommendation
from tracker.labels import dmy
from tracker.notifications.quoting import quote as _quote
from tracker.notifications.service import add_notifications, members_of
from tracker.scope import routers_of


def _notify(user_ids, actor: User | None, rec: Recommendation, kind: str, now: datetime,
            message, *, page: int | None = None) -> int:
    """Tell `user_ids` (not the actor); the notification links to the kiến nghị's page —
    `page`, the id of the one the readers see, when that is not `rec`."""
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "vi")):
        text = message()
    skip = actor.id if actor is not None else None
    return add_notifications([
        {"user_id": u, "kind": kind, "task_id": rec.task_id,
         "recommendation_id": page or rec.id, "message": text, "created_at": now}
        for u in sorted(set(user_ids)) if u != skip])


def _members(*unit_ids) -> list[int]:
    found = members_of([u for u in unit_ids if u is not None])
    return [user for unit in found.values() for user in unit]


def _raisers(rec: Recommendation) -> list[tuple[list[int], int]]:
    """The members of the raising unit of `rec` and of every duplicate merged into it, each
    with the kiến nghị whose page they see: (user ids, kiến nghị id), `rec`'s first. A
    member who sees both hears once, of `rec`."""
    duplicates = db.session.execute(select(Recommendation.id, Recommendation.raising_unit_id)
                                    .where(Recommendation.merged_into_id == rec.id)
                                    .order_by(Recommendation.id)).all()
    told = set(_members(rec.raising_unit_id))
    groups = [(sorted(told), rec.id)]
    for dup_id, unit_id in duplicates:
        users = [u for u in _members(unit_id) if u not in told]
        told.update(users)
        groups.append((users, dup_id))
    return groups


def on_raised(rec: Recommendation, *, actor: User, now: datetime, **_kw) -> None:
    routers = db.session.scalars(routers_of(rec).with_only_columns(User.id))
    _notify(routers, actor, rec, "kn_raised", now, lambda: _(
        "%(code)s: %(unit)s raised “%(title)s”. Route it to one responsible unit with a "
        "deadline, merge it or forward it up.", code=rec.code, unit=rec.raising_unit.name,
        title=_quote(rec.title)))


def on_routed(rec: Recommendation, *, actor: User, now: datetime, forwarded: bool = False,
              merged_into: Recommendation | None = None, **_kw) -> None:
    if forwarded:
        on_raised(rec, actor=actor, now=now)
        return
    if merged_into is not None:
        _notify(_members(rec.raising_unit_id), actor, rec, "kn_routed", now, lambda: _(
            "%(code)s was merged into %(into)s, which answers it; you will hear of its "
            "answer.", code=rec.code, into=merged_into.code))
        return
    due = dmy(rec.response_due)
    _notify(_members(rec.responsible_unit_id), actor, rec, "kn_routed", now, lambda: _(
        "%(code)s: your unit is to answer “%(title)s” by %(due)s.", code=rec.code,
        title=_quote(rec.title), due=due))
    for users, page in _raisers(rec):
        _notify(users, actor, rec, "kn_routed", now, lambda: _(
            "%(code)s: %(unit)s is to answer by %(due)s.", code=rec.code,
            unit=rec.responsible_unit.name, due=due), page=page)


def on_answered(rec: Recommendation, *, actor: User, now: datetime, **_kw) -> None:
    codes = dict(db.session.execute(select(Recommendation.id, Recommendation.code).where(
        Recommendation.merged_into_id == rec.id)).all())
    for users, page in _raisers(rec):
        if page == rec.id:
            def message():
                return _("%(code)s: %(unit)s answered: “%(answer)s”. Accept the answer or "
                         "ask again.", code=rec.code, unit=rec.responsible_unit.name,
                         answer=_quote(rec.answer))
        else:
            def message(page=page):
                return _("%(code)s, merged into %(into)s: %(unit)s answered: “%(answer)s”.",
                         code=codes[page], into=rec.code, unit=rec.responsible_unit.name,
                         answer=_quote(rec.answer))
        _notify(users, actor, rec, "kn_answered", now, message, page=page)


def on_judged(rec: Recommendation, *, actor: User, now: datetime, accepted: bool,
              reason: str | None = None, **_kw) -> None:
    if accepted:
        def message():
            return _("%(code)s: %(unit)s accepted your answer.", code=rec.code,
                     unit=rec.raising_unit.name)
    else:
        def message():
            return _("%(code)s: %(unit)s asks for a new answer: %(reason)s. Answer by "
                     "%(due)s.", code=rec.code, unit=rec.raising_unit.name,
                     reason=_quote(reason, before_full_stop=True),
                     due=dmy(rec.response_due))
    _notify(_members(rec.responsible_unit_id), actor, rec, "kn_answered" if accepted
            else "kn_routed", now, message)


def on_overdue(rec: Recommendation, *, actor: User | None, now: datetime, **_kw) -> None:
    users = _members(rec.responsible_unit_id)
    if rec.routed_by_id is not None:
        users.append(rec.routed_by_id)
    _notify(users, actor, rec, "kn_overdue", now, lambda: _(
        "%(code)s: the answer was due %(due)s and has not been given (%(unit)s).",
        code=rec.code, due=dmy(rec.response_due), unit=rec.responsible_unit.name))
