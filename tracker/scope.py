"""Every authorization decision, in one place: who may use a page or an API operation (the
role gate, `requires`), and what a user may see and change — the scope rule: only what lies
in their home unit's subtree, and only while their account is active.

Each decision is a Python predicate on loaded objects (`can_…`, `may_…`) and, where a query
needs one, its SQL form beside it (`visible_…`, `tasks_to_report`, `in_reporters_subtree`);
tests/test_scope_twins.py runs both over generated users, units and tasks on SQLite and
PostgreSQL and proves they agree. The web pages, the API, the services and the CLI ask
these; none decides access on its own. A unit the user may see (their home unit, or one
`get_unit` returned) may then narrow a list to its subtree with `units.tree.subtree_ids`:
that is a filter, not a decision.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import wraps
from typing import Protocol

from flask import abort, current_app, g, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import aliased

from tracker.audit.models import SecurityEvent
from tracker.auth.models import Role, User
from tracker.errors import Forbidden, NotFound
from tracker.extensions import db
from tracker.kiennghi.models import Recommendation
from tracker.tasks.models import Task, task_coordinating_units
from tracker.types import MAX_ID
from tracker.units.models import Unit, UnitKind
from tracker.units.tree import among, path_within, subtree_ids

# --- roles --------------------------------------------------------------------------------


class Acting(Protocol):
    """Who acts: a user, a token's `tracker.auth.tokens.Identity`, or (not authenticated)
    Flask-Login's anonymous user."""

    role: str
    active: bool


ADMINS = (Role.ADMIN,)
MEMBERS = (Role.MEMBER,)
# Supervise the tasks of their subtree: acknowledge, nudge, confirm or return a
# completion, decide an extension; the red queue.
SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)
# The dashboard, the daily report and the colour summaries: everyone but members.
REPORT_READERS = (Role.SUPERVISOR, Role.ADMIN, Role.VIEWER)


def has_role(who: Acting, *roles: Role) -> bool:
    """`who` (a user, a token's identity, or Flask-Login's anonymous user) is active and
    has one of `roles`."""
    return bool(getattr(who, "is_authenticated", True)) and who.active and who.role in roles


def require_role(who: Acting, *roles: Role) -> None:
    if not has_role(who, *roles):
        raise Forbidden("not allowed for this role")


def requires(*roles: Role, elsewhere: Mapping[Role, str] | None = None):
    """The role gate of a page or an API operation: the one way a view says who may use it.

    On a page: anonymous (a deactivated user's sessions are gone, so they are anonymous
    too) → the login page; a role named in `elsewhere` → that page (a member asking for
    the dashboard goes to their tasks); any other role not in `roles` → 403. On the API,
    whose token was checked before any view (401 without one), a role not in `roles` →
    403. Put it right above the view function, under flask-smorest's decorators, so that
    an operation parses its input first, as it always has."""
    def decorator(view):
        @wraps(view)
        def gated(*args, **kwargs):
            identity = g.get("api_identity")  # set by tracker.api.base.authenticate
            if identity is not None:
                require_role(identity, *roles)
            elif not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            elif elsewhere and current_user.role in elsewhere:
                return redirect(url_for(elsewhere[current_user.role]))
            elif not has_role(current_user, *roles):
                abort(403)
            return view(*args, **kwargs)

        gated.roles = roles
        return gated
    return decorator


def may_open(who: Acting, endpoint: str) -> bool:
    """Whether the role gate of `endpoint`'s view lets `who` in (views without one: yes);
    the navigation shows a link only when it does."""
    roles = getattr(current_app.view_functions[endpoint], "roles", None)
    return roles is None or has_role(who, *roles)


# --- units --------------------------------------------------------------------------------


def visible_unit_ids(user: User) -> Select:
    """The ids of every unit the user may see: their home unit and all below it (none
    once deactivated). SQL twin of `can_see_unit`."""
    if not user.active:
        return select(Unit.id).where(false())
    return subtree_ids(user.unit)


def can_see_unit(user: User, unit: Unit) -> bool:
    return user.active and unit.is_within(user.unit)


def visible_units(user: User) -> Select:
    return select(Unit).where(Unit.id.in_(visible_unit_ids(user)))


def get_unit(user: User, unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None or not can_see_unit(user, unit):
        raise NotFound("unit not found")
    return unit


# Where a department (sở, ngành) hangs: under a province or the nation (SPEC §3).
DEPARTMENT_PARENTS = (UnitKind.NATION, UnitKind.PROVINCE)


def may_add_department(user: User, parent: Unit) -> bool:
    """An admin adds a department under the nation or a province of their subtree (a
    province's admin within their province only; a commune's admin nowhere)."""
    return (has_role(user, *ADMINS) and parent.kind in DEPARTMENT_PARENTS and parent.active
            and can_see_unit(user, parent))


def may_manage_department(user: User, unit: Unit) -> bool:
    """An admin renames, retires and reactivates the departments of their subtree — not
    their own home unit, nor the official units (nation, province, commune), whose names
    come from the official tree (`tracker units import`)."""
    return (has_role(user, *ADMINS) and unit.kind == UnitKind.DEPARTMENT
            and unit.id != user.unit_id and can_see_unit(user, unit))


def managed_departments(user: User) -> Select:
    """SQL twin of `may_manage_department`."""
    if not has_role(user, *ADMINS):
        return select(Unit).where(false())
    return select(Unit).where(Unit.id.in_(visible_unit_ids(user)),
                              Unit.kind == UnitKind.DEPARTMENT, Unit.id != user.unit_id)


def manages_deployment(user: User) -> bool:
    """Whether the user may change what holds for every unit (the calendar, the policy):
    an active admin whose subtree holds every unit but those above it — the nation's admin,
    or a province's in a one-province deployment; never a commune's among others."""
    if not has_role(user, *ADMINS):
        return False
    above = [int(x) for x in user.unit.path.strip("/").split("/")[:-1] if x]
    others = select(func.count()).select_from(Unit).where(
        ~path_within(Unit.path, user.unit.path), Unit.id.not_in(above))
    return db.session.scalar(others) == 0


def require_deployment_admin(actor: User | None) -> None:
    """`actor` None is the operator at the command line."""
    if actor is not None and not manages_deployment(actor):
        raise Forbidden(_("Only an admin of the whole deployment can change this."))


# --- tasks --------------------------------------------------------------------------------


def visible_tasks(user: User) -> Select:
    """Tasks led by, or coordinated with, a unit in the user's subtree.

    Written for the planner: each arm is an index condition (the lead unit among a list,
    the task among those coordinated, `tree.among`), so a commune's or a province's tasks
    are read from the index on the lead unit rather than picked out of every task in the
    country (a commune's page of open overdue tasks nationally: 1.1 s → a few ms); and a
    subtree that holds every unit (the nation's) needs no condition at all, since every
    task is led by a unit."""
    if not user.active:
        return select(Task).where(false())
    if sees_every_unit(user):
        return select(Task)
    # The subtree's units as a list: the planner then knows how many there are (a
    # commune's one: some hundred tasks), even in a generic plan, and does not combine the
    # lead unit's index with a filter's (a deadline's: a quarter of the country's tasks).
    unit_ids = list(db.session.scalars(visible_unit_ids(user)))
    coordinated = select(task_coordinating_units.c.task_id).where(
        task_coordinating_units.c.unit_id.in_(unit_ids))
    return select(Task).where(or_(Task.lead_unit_id.in_(unit_ids),
                                  among(Task.id, coordinated)))


def sees_every_unit(user: User) -> bool:
    """Whether every unit lies in the user's subtree (one root, and the user at it)."""
    return user.unit.parent_id is None and not db.session.scalar(
        select(exists().where(~path_within(Unit.path, user.unit.path))))


def get_task(user: User, task_id: int) -> Task:
    """The task if the user may see it; NotFound otherwise, so that ids do not leak."""
    if not 0 < task_id <= MAX_ID:
        raise NotFound("task not found")
    task = db.session.scalar(visible_tasks(user).where(Task.id == task_id))
    if task is None:
        raise NotFound("task not found")
    return task


def can_report_on(user: User, task: Task) -> bool:
    """Only a member of the lead unit's subtree posts its daily update, submits its
    completion, asks for an extension and adds evidence."""
    return has_role(user, *MEMBERS) and task.lead_unit.is_within(user.unit)


def tasks_to_report(user: User) -> Select:
    """The tasks whose daily update is the user's to post. SQL twin of `can_report_on`."""
    if not has_role(user, *MEMBERS):
        return select(Task).where(false())
    return select(Task).where(Task.lead_unit_id.in_(visible_unit_ids(user)))


def in_reporters_subtree(lead_unit_path, reporter_unit_path) -> ColumnElement[bool]:
    """SQL, for a statement compiled once (the update path's lock): the lead unit, by its
    path column, lies in the subtree of the reporter's unit, by its path (a bind
    parameter) — the unit half of `can_report_on`, whose role half is
    `has_role(reporter, *MEMBERS)`."""
    return path_within(lead_unit_path, reporter_unit_path)


def can_supervise(user: User, task: Task) -> bool:
    """A supervisor (or admin) whose subtree holds the task's lead unit acts on it: nudges,
    acknowledges, confirms or returns its completion, decides its extensions."""
    return has_role(user, *SUPERVISORS) and task.lead_unit.is_within(user.unit)


def supervised_unit_ids(user: User) -> Select:
    """The ids of the units whose tasks the user supervises: SQL twin of `can_supervise`
    over a task's lead unit."""
    if not has_role(user, *SUPERVISORS):
        return select(Unit.id).where(false())
    return visible_unit_ids(user)


def supervised_tasks(user: User) -> Select:
    """The tasks the user supervises (the inbox of decisions): SQL twin of `can_supervise`
    over the tasks."""
    return select(Task).where(Task.lead_unit_id.in_(supervised_unit_ids(user)))


def supervisors_of(task: Task) -> Select:
    """Everyone who may supervise `task` — who hears of its submitted completion, its
    extension request, a comment from its unit. SQL twin of `can_supervise` over the
    users: an active supervisor or admin whose home unit is the lead unit or above it."""
    above = [int(x) for x in task.lead_unit.path.strip("/").split("/") if x]
    return select(User).where(User.role.in_(SUPERVISORS), User.active,
                              User.unit_id.in_(above))


def is_unit_member(user: User, unit_id: int) -> bool:
    """A member whose home unit is `unit_id`: who is told of that unit's tasks — the
    reminders, a nudge, a decision on its request, a task turned red. (A member higher up
    may report on those tasks too, `can_report_on`, but is not told of each.)"""
    return has_role(user, *MEMBERS) and user.unit_id == unit_id


def unit_members(unit: ColumnElement | Collection[int]) -> ColumnElement[bool]:
    """SQL twin of `is_unit_member`, as a condition on `User`: `unit` is a column (the lead
    unit of a joined task) or a collection of unit ids."""
    home = User.unit_id.in_(list(unit)) if isinstance(unit, Collection) \
        else User.unit_id == unit
    return and_(home, User.role.in_(MEMBERS), User.active)


def can_comment(user: User, task: Task, kind: str = "comment") -> bool:
    """A comment by anyone who works on the task (viewers only read); an acknowledgement
    (ghi nhận) is a supervisor's note on a red item."""
    if kind == "acknowledge":
        return can_supervise(user, task)
    return can_supervise(user, task) or can_report_on(user, task)


def can_manage_task(user: User, task: Task) -> bool:
    """An admin of the lead unit's subtree edits and cancels the task."""
    return has_role(user, *ADMINS) and task.lead_unit.is_within(user.unit)


# --- accounts -----------------------------------------------------------------------------


def can_see_user(actor: User, user: User) -> bool:
    """Only admins see accounts: those whose home unit lies in their subtree."""
    return has_role(actor, *ADMINS) and can_see_unit(actor, user.unit)


def visible_users(actor: User) -> Select:
    """SQL twin of `can_see_user`."""
    if not has_role(actor, *ADMINS):
        return select(User).where(false())
    return select(User).where(User.unit_id.in_(visible_unit_ids(actor)))


def may_change_access(actor: User, user: User) -> bool:
    """An admin deactivates, and changes the role and home unit of, the accounts they see
    — never their own: nobody locks themselves out or widens their own scope."""
    return can_see_user(actor, user) and actor.id != user.id


def may_edit_contact(actor: User, user: User) -> bool:
    """A user's contact details (name, e-mail, phone) are changed by the user themselves,
    and by an admin who sees their account."""
    return (actor.active and acts_for(actor, user.id)) or can_see_user(actor, user)


def acts_for(actor: User, owner_id: int) -> bool:
    """Personal things (API tokens, the password) are created and changed by their owner
    alone."""
    return actor.id == owner_id


def may_manage_tokens(actor: User, owner: User) -> bool:
    """A user's API tokens are listed and revoked by their owner, and by an admin who sees
    the owner's account (a token outlives a forgotten script; an admin ends it). Only the
    owner creates them."""
    return (actor.active and acts_for(actor, owner.id)) or can_see_user(actor, owner)


# --- the second factor --------------------------------------------------------------------


def must_use_second_factor(user: User) -> bool:
    """Whether the user may not work without an authenticator app (xác thực hai lớp):
    admins, unless the deployment sets `TRACKER_ADMIN_2FA=optional`. Everyone else may
    choose. (API tokens are a credential of their own and are not concerned.)"""
    return (has_role(user, *ADMINS)
            and current_app.config.get("TRACKER_ADMIN_2FA", "required") != "optional")


def may_reset_second_factor(actor: User, user: User) -> bool:
    """An admin resets the second factor of the accounts they see (a lost phone) — never
    their own: that is done on their own account page, with a code or their password."""
    return may_change_access(actor, user)


# --- official reports ---------------------------------------------------------------------


def may_configure_reports(actor: User, unit: Unit) -> bool:
    """An admin sets the letterhead (issuing body, symbol, signer) and the signing
    certificate of each unit of their subtree."""
    return has_role(actor, *ADMINS) and can_see_unit(actor, unit)


def can_sign_report(actor: User, unit: Unit) -> bool:
    """Signing with a unit's certificate is that unit's own act (its seal): an active
    supervisor or admin whose home unit it is — never one of the units above it."""
    return has_role(actor, *SUPERVISORS) and actor.unit_id == unit.id


# --- security events ----------------------------------------------------------------------


def can_see_security_event(actor: User, event: SecurityEvent) -> bool:
    """Admins read the security events placed in their subtree; an event placed nowhere (a
    failed login for a name with no account) only the deployment's admin reads."""
    if not has_role(actor, *ADMINS):
        return False
    if event.unit_id is None:
        return manages_deployment(actor)
    unit = db.session.get(Unit, event.unit_id)
    return unit is not None and can_see_unit(actor, unit)


def visible_security_events(actor: User) -> Select:
    """SQL twin of `can_see_security_event`."""
    if not has_role(actor, *ADMINS):
        return select(SecurityEvent).where(false())
    placed = SecurityEvent.unit_id.in_(visible_unit_ids(actor))
    if manages_deployment(actor):
        return select(SecurityEvent).where(or_(placed, SecurityEvent.unit_id.is_(None)))
    return select(SecurityEvent).where(placed)


# --- webhooks and the calendar feed ---------------------------------------------------------


def may_manage_webhooks(actor: User, unit: Unit) -> bool:
    """An admin registers, changes and reads the webhooks of the units of their subtree (a
    province's admin for its own units only)."""
    return has_role(actor, *ADMINS) and can_see_unit(actor, unit)


def webhook_units(actor: User) -> Select:
    """The ids of the units whose webhooks `actor` manages. SQL twin of
    `may_manage_webhooks`."""
    if not has_role(actor, *ADMINS):
        return select(Unit.id).where(false())
    return visible_unit_ids(actor)


def webhook_hears_of(unit: Unit, task: Task) -> bool:
    """A webhook of `unit` hears of the tasks that unit's subtree sees (`visible_tasks`):
    led by, or coordinated with, a unit of its subtree."""
    return task.lead_unit.is_within(unit) or any(
        u.is_within(unit) for u in task.coordinating_units)


def heard_by(unit_path: ColumnElement, task_id: ColumnElement) -> ColumnElement[bool]:
    """SQL twin of `webhook_hears_of`: the task `task_id` (a column) is led by, or
    coordinated with, a unit within the subtree whose top has `unit_path` (a column)."""
    led = aliased(Task)  # not Task: `task_id` may be an outer query's Task.id
    lead = (select(Unit.id).join(led, led.lead_unit_id == Unit.id)
            .where(led.id == task_id, path_within(Unit.path, unit_path)))
    coordinated = (select(Unit.id)
                   .join(task_coordinating_units,
                         task_coordinating_units.c.unit_id == Unit.id)
                   .where(task_coordinating_units.c.task_id == task_id,
                          path_within(Unit.path, unit_path)))
    return or_(lead.exists(), coordinated.exists())


def feed_tasks(user: User) -> Select:
    """The tasks whose deadlines a user's calendar feed shows: those they may see
    (`visible_tasks`), while their account is active."""
    return visible_tasks(user)
# --- kiến nghị (tracker.kiennghi) ---------------------------------------------------------
# Public within scope: whoever's subtree holds the raising unit (or the responsible unit,
# which must read what it answers) sees the kiến nghị, its status, responsible unit,
# deadline and answer. A duplicate merged into another shows that one's answer on its own
# page, so the answer reaches every raiser without opening one commune's text to another.

RAISERS = (Role.MEMBER,)
ANSWERERS = (Role.MEMBER, Role.SUPERVISOR)


def can_see_recommendation(user: User, rec: Recommendation) -> bool:
    if not user.active:
        return False
    return rec.raising_unit.is_within(user.unit) or (
        rec.responsible_unit is not None and rec.responsible_unit.is_within(user.unit))


def visible_recommendations(user: User) -> Select:
    """SQL twin of `can_see_recommendation`."""
    units = visible_unit_ids(user)
    return select(Recommendation).where(or_(Recommendation.raising_unit_id.in_(units),
                                            Recommendation.responsible_unit_id.in_(units)))


def get_recommendation(user: User, rec_id: int) -> Recommendation:
    if not 0 < rec_id <= MAX_ID:
        raise NotFound("recommendation not found")
    rec = db.session.scalar(visible_recommendations(user).where(Recommendation.id == rec_id))
    if rec is None:
        raise NotFound("recommendation not found")
    return rec


def can_raise(user: User, task: Task | None = None) -> bool:
    """A member raises a kiến nghị in the name of their home unit — on a task only if it is
    theirs to report on (the daily update's rule)."""
    if not has_role(user, *RAISERS):
        return False
    return task is None or can_report_on(user, task)


def can_route(user: User, rec: Recommendation) -> bool:
    """The supervisor of the raising unit — or, once forwarded up, of the level it was
    forwarded to — accepts it, merges it, assigns its responsible unit or forwards it up."""
    return (has_role(user, *SUPERVISORS) and rec.status == "raised"
            and rec.routing_unit.is_within(user.unit))


def recommendations_to_route(user: User) -> Select:
    """SQL twin of `can_route`: the supervisor's kiến nghị waiting to be routed."""
    if not has_role(user, *SUPERVISORS):
        return select(Recommendation).where(false())
    return select(Recommendation).where(
        Recommendation.status == "raised",
        Recommendation.routing_unit_id.in_(visible_unit_ids(user)))


def can_merge_into(user: User, rec: Recommendation) -> bool:
    """A kiến nghị a duplicate may join: not itself merged nor closed, and supervised by the
    user (its raising unit in their subtree)."""
    return (has_role(user, *SUPERVISORS) and rec.status not in ("merged", "closed")
            and rec.raising_unit.is_within(user.unit))


def can_answer(user: User, rec: Recommendation) -> bool:
    """The responsible unit (đầu mối) answers: a member or supervisor whose subtree holds it,
    while an answer is owed."""
    return (has_role(user, *ANSWERERS) and rec.status in ("assigned", "reopened")
            and rec.responsible_unit is not None and rec.responsible_unit.is_within(user.unit))


def recommendations_to_answer(user: User) -> Select:
    """SQL twin of `can_answer`: the responsible unit's queue."""
    if not has_role(user, *ANSWERERS):
        return select(Recommendation).where(false())
    return select(Recommendation).where(
        Recommendation.status.in_(("assigned", "reopened")),
        Recommendation.responsible_unit_id.in_(visible_unit_ids(user)))


def can_judge_answer(user: User, rec: Recommendation) -> bool:
    """The raiser's side accepts the answer or asks again: a member whose subtree holds the
    raising unit."""
    return (has_role(user, *RAISERS) and rec.status == "answered"
            and rec.raising_unit.is_within(user.unit))


def answers_to_judge(user: User) -> Select:
    """SQL twin of `can_judge_answer`."""
    if not has_role(user, *RAISERS):
        return select(Recommendation).where(false())
    return select(Recommendation).where(
        Recommendation.status == "answered",
        Recommendation.raising_unit_id.in_(visible_unit_ids(user)))


def can_attach_to_recommendation(user: User, rec: Recommendation, purpose: str) -> bool:
    """Who adds a file to a kiến nghị (tracker.evidence, one upload path): to the kiến nghị
    itself ("recommendation") a member of the raising unit's subtree while it is open; to
    its answer ("answer") whoever may answer it now (`can_answer`)."""
    if purpose == "answer":
        return can_answer(user, rec)
    return (purpose == "recommendation" and has_role(user, *RAISERS) and user.active
            and rec.status not in ("merged", "closed") and rec.raising_unit.is_within(user.unit))


def can_see_recommendation_file(user: User, rec: Recommendation, purpose: str) -> bool:
    """A kiến nghị's files are seen by whoever sees the kiến nghị; its answer's documents
    also by whoever sees a duplicate merged into it (the answer reaches every raiser)."""
    if can_see_recommendation(user, rec):
        return True
    if purpose != "answer" or not user.active:
        return False
    duplicates = db.session.scalars(select(Recommendation).where(
        Recommendation.merged_into_id == rec.id))
    return any(can_see_recommendation(user, d) for d in duplicates)


def recommendation_file_visible(user: User, recommendation_id, purpose) -> ColumnElement[bool]:
    """SQL twin of `can_see_recommendation_file` over a file's columns (its kiến nghị's id
    and its purpose)."""
    if not user.active:
        return false()
    seen = visible_recommendations(user).with_only_columns(Recommendation.id)
    joined = (visible_recommendations(user).with_only_columns(Recommendation.merged_into_id)
              .where(Recommendation.merged_into_id.is_not(None)))
    return or_(recommendation_id.in_(seen), and_(purpose == "answer",
                                                 recommendation_id.in_(joined)))


def routers_of(rec: Recommendation) -> Select:
    """Everyone who may route `rec` while it waits to be routed — who hears that it was
    raised or forwarded to them. SQL twin of `can_route` over the users: an active
    supervisor or admin whose home unit is the routing unit or above it."""
    above = [int(x) for x in rec.routing_unit.path.strip("/").split("/") if x]
    return select(User).where(User.role.in_(SUPERVISORS), User.active,
                              User.unit_id.in_(above))
