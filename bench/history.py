"""`make bench-history`: a national history to replay the early warning against.

`python -m bench.history --name trk_hist [--tasks-per-unit 30 --days 25 --seed 16]`

Creates a fresh PostgreSQL database (DATABASE_URL's server, default 127.0.0.1:5432),
migrates it, imports the real unit tree (34 provinces, 3,321 communes), gives each commune
K tasks, then lives D working days of the units' behaviour, day by day, with the app's
clock set to each moment: the units' daily updates through the real service
(`tracker.updates.service.post_updates`, one batch per unit and reporting), completions,
returns, extension requests and their decisions, cancellations through the real lifecycle
(`tracker.tasks.lifecycle`), and each day's real cutoff (`tracker.cutoff.backlog.process_due`,
as `tracker cutoff run --date D` runs it). Finally it runs the real
`tracker forecast evaluate` over the scored days and prints its output, with the time each
phase took. The behaviour model (`Behaviour`) was chosen from SPEC.md before any
measurement; it and its parameters are written out in docs/forecast.md.

Only the starting state is written by COPY (users, and the tasks as the deployment found
them on its first morning), as bench/seed.py does; everything after goes through the
services. The database is kept for inspection (dropped and made again by the next run).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import make_url

from bench.harness import ROOT, env_for

ICT = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST_DAY = date(2026, 10, 5)  # a Monday; no public holiday in the five weeks after it
# The pace and the record the forecast reads look ten working days back (PACE_DAYS,
# RECORD_DAYS in tracker/rules/forecast.py); the first day owes nothing (a task owes from
# the first whole window after its assignment). So the first scored day is the 12th: its
# windows lie wholly inside the simulated period, after the first day.
WARM_UP_DAYS = 11


@dataclass(frozen=True)
class Behaviour:
    """The behaviour model, fixed before any measurement (docs/forecast.md tells why each
    figure is what it is). Probabilities are per working day unless said otherwise."""

    # Diligence classes: (share of units, lowest and highest chance of reporting a day).
    diligence: tuple = ((0.45, 0.97, 1.00),   # every day
                        (0.35, 0.88, 0.97),   # regular
                        (0.15, 0.70, 0.88),   # irregular
                        (0.05, 0.45, 0.70))   # often missing
    coverage: tuple = (0.95, 1.00)  # share of its owed tasks a reporting unit covers
    late: tuple = (0.00, 0.05)  # chance that a day's report arrives after 16:00
    speed_sigma: float = 0.35  # unit speed: exp(N(0.1, σ)) × the pace the deadline needs
    speed_mu: float = 0.1
    task_sigma: float = 0.25  # each task's own factor: exp(N(0, σ))
    stall_share: float = 0.08  # tasks that stop progressing at some point
    silent_share: float = 0.06  # units that go silent for a stretch once
    silent_days: tuple = (3, 10)  # how long (working days)
    slip_days: tuple = (5, 10)  # before a gradual silence: days of irregular reporting
    slip_chance: float = 0.6  # the chance of reporting a day while slipping
    gradual_share: float = 0.5  # of the silent units, those that slip first
    start_spread: tuple = (-40, 10)  # start dates: working days from the first/last day
    duration: tuple = (15, 90)  # start → deadline, working days
    confirm_share: float = 0.9  # a submission is confirmed next morning (else returned)
    returned_to: tuple = (85, 95)  # a returned task's real progress
    extension_share: float = 0.25  # a task short of its deadline asks for more time, once
    extension_days: tuple = (10, 20)  # calendar days asked
    approve_share: float = 0.7
    cancel_chance: float = 0.0003  # an open task cancelled by an admin, per day


@dataclass
class UnitProfile:
    unit_id: int
    member_id: int
    province_id: int
    report: float
    coverage: float
    late: float
    speed: float
    silent: range = range(0)  # indexes of the days it is silent
    slipping: range = range(0)  # indexes of the days before, when it reports irregularly


@dataclass
class TaskState:
    task_id: int
    unit_id: int
    start: date
    deadline: date
    pace: float  # real progress per working day
    actual: float  # real progress (the unit reports it rounded)
    status: str
    stall_at: int | None = None  # the day index from which it stops progressing
    asked: bool = False  # an extension was requested (once per task)


@dataclass
class Timings:
    phases: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, name: str, seconds: float) -> None:
        self.phases[name] = self.phases.get(name, 0.0) + seconds


def local(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=ICT)


def draw_units(rng: random.Random, communes, members, b: Behaviour, days: int):
    """A profile per commune (`communes`: (unit id, province id))."""
    profiles = {}
    weights = [c[0] for c in b.diligence]
    for unit_id, province_id in communes:
        _share, low, high = rng.choices(b.diligence, weights)[0]
        profile = UnitProfile(
            unit_id, members[unit_id], province_id, rng.uniform(low, high),
            rng.uniform(*b.coverage), rng.uniform(*b.late),
            math.exp(rng.gauss(b.speed_mu, b.speed_sigma)))
        if rng.random() < b.silent_share and days > 6:
            first = rng.randint(3, days - 3)
            profile.silent = range(first, first + rng.randint(*b.silent_days))
            if rng.random() < b.gradual_share:
                profile.slipping = range(max(1, first - rng.randint(*b.slip_days)), first)
        profiles[unit_id] = profile
    return profiles


def create_database(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
        # A simulation, not a durability test: a commit does not wait for the disk (each
        # of the ~100,000 transactions a run makes would otherwise wait for an fsync).
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')


def seed_start(app, url: str, rng: random.Random, per_unit: int, days: list[date],
               b: Behaviour, provinces: int | None):
    """The deployment's first morning: the unit tree, an admin, a supervisor per province,
    a member per commune, and each commune's tasks as they stand (COPY). Returns the unit
    profiles, the task states and the ids of the people acting."""
    from sqlalchemy import select

    from bench.seed import DESCRIPTION, LEADER, OWNER, code_and_title, seeded_search_text
    from tracker.auth.passwords import hash_password
    from tracker.extensions import db
    from tracker.rules.store import load_calendar
    from tracker.rules.vietnamese import fold_fields
    from tracker.units.importer import all_provinces, import_units
    from tracker.units.models import Unit, UnitKind

    entered = local(days[0], 7)
    with app.app_context():
        chosen = all_provinces()
        import_units(chosen if provinces is None else chosen[:provinces])
        db.session.commit()
        nation = db.session.scalar(select(Unit.id).where(Unit.kind == UnitKind.NATION))
        province_ids = list(db.session.scalars(
            select(Unit.id).where(Unit.kind == UnitKind.PROVINCE).order_by(Unit.id)))
        communes = db.session.execute(select(Unit.id, Unit.parent_id).where(
            Unit.kind == UnitKind.COMMUNE).order_by(Unit.id)).all()
        names = dict(db.session.execute(select(Unit.id, Unit.name)).all())
        calendar = load_calendar()
        password = hash_password("benchmark password")
    before = calendar.working_days(days[0] - timedelta(days=90), days[0])[:-1]
    after = calendar.working_days(days[-1], days[-1] + timedelta(days=200))[1:]
    span = before + days + after  # working days, for start dates and durations
    first = len(before)

    people = {"admin": 1, "supervisors": {}, "members": {}}
    rows = [(1, "hist_admin", "Quản trị quốc gia", "admin", nation)]
    for n, province in enumerate(province_ids, start=2):
        people["supervisors"][province] = n
        rows.append((n, f"sup{province}", f"Tổ công tác {names[province]}", "supervisor",
                     province))
    n = len(rows)
    for unit_id, _parent in communes:
        n += 1
        people["members"][unit_id] = n
        rows.append((n, f"m{unit_id}", f"Cán bộ {names[unit_id]}", "member", unit_id))
    profiles = draw_units(rng, communes, people["members"], b, len(days))

    states: dict[int, TaskState] = {}
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy("COPY users (id, username, full_name, password_hash, role, unit_id, "
                      "active, created_at, search_text) FROM STDIN") as copy:
            for user_id, username, full_name, role, unit_id in rows:
                copy.write_row((user_id, username, full_name, password, role, unit_id, True,
                                entered, fold_fields(username, full_name)))
        cur.execute("SELECT setval('users_id_seq', %s)", (n,))
        task_id = 0
        leads: dict[int, int] = {}  # each task's lead unit
        with cur.copy(
            "COPY tasks (id, code, title, description, lead_unit_id, owner_name, start_date, "
            "deadline, original_deadline, leader_in_charge, expected_output, "
            "assigning_authority, source_doc_number, source_doc_date, priority, progress, "
            "status, duty_since, submitted_at, confirmed_at, colour_days, created_at, "
            "updated_at, version) FROM STDIN"
        ) as copy:
            for unit_id, _parent in communes:
                profile = profiles[unit_id]
                for _ in range(per_unit):
                    task_id += 1
                    s = first + rng.randint(b.start_spread[0], len(days) + b.start_spread[1])
                    duration = rng.randint(*b.duration)
                    start, deadline = span[s], span[min(s + duration, len(span) - 1)]
                    pace = 100 / duration * profile.speed * math.exp(rng.gauss(0, b.task_sigma))
                    # The work done before the deployment (from the start date to its
                    # first morning), as the spreadsheets it replaced had it.
                    actual = max(0, first - s) * pace
                    status, submitted, confirmed, progress = "not_started", None, None, 0
                    if actual >= 100:  # finished before the deployment
                        status, progress = "done", 100
                        submitted = entered - timedelta(days=rng.randint(1, 20))
                        confirmed = submitted + timedelta(hours=3)
                    elif start < days[0]:
                        status, progress = "in_progress", int(actual)
                    code, title = code_and_title("H", task_id)
                    leads[task_id] = unit_id
                    copy.write_row((
                        task_id, code, title, DESCRIPTION, unit_id, OWNER,
                        start, deadline, deadline, LEADER,
                        "Báo cáo kết quả", "Ban Chỉ đạo", "02-KH/BCĐTW",
                        days[0] - timedelta(days=100), "normal", progress, status, entered,
                        submitted, confirmed, 0, entered, entered, 1))
                    if status != "done":
                        stall = None
                        if rng.random() < b.stall_share:
                            stall = rng.randint(0, len(days) - 1)
                        states[task_id] = TaskState(task_id, unit_id, start, deadline, pace,
                                                    actual, status, stall)
        cur.execute("SELECT setval('tasks_id_seq', %s)", (task_id,))
        with cur.copy("COPY task_search_texts (task_id, search_text) FROM STDIN") as copy:
            for task_id, unit_id in leads.items():
                copy.write_row((task_id, seeded_search_text("H", task_id, names[unit_id])))
        conn.commit()
        cur.execute("ANALYZE")
    return profiles, states, people, task_id


class Simulation:
    """The days lived one by one (module docstring) by the units of some provinces: each
    day's events in time order, each through the real service with the app's clock at its
    moment. Each province draws from its own random stream, so a run is the same however
    the provinces are shared among worker processes."""

    def __init__(self, clock, seed: int, b: Behaviour, profiles, states, people,
                 timings: Timings):
        self.clock, self.b = clock, b
        self.profiles, self.states, self.people = profiles, states, people
        self.t = timings
        self.rngs = {p.province_id: random.Random(seed * 100_000 + p.province_id)
                     for p in profiles.values()}
        self.by_unit: dict[int, list[TaskState]] = defaultdict(list)
        for state in states.values():
            self.by_unit[state.unit_id].append(state)
        self.submitted: list[int] = []  # waiting for a supervisor (next working morning)
        self.extensions: list[tuple[int, int]] = []  # (request id, task id) waiting
        self.identities: dict[int, object] = {}
        self.later: list[tuple] = []  # the day's events after its cutoff

    def _rng(self, unit_id: int) -> random.Random:
        return self.rngs[self.profiles[unit_id].province_id]

    # -- who acts
    def _user(self, user_id: int):
        from tracker.auth.models import User
        from tracker.extensions import db
        return db.session.get(User, user_id)

    def _identity(self, user_id: int):
        from tracker.auth.tokens import Identity
        if user_id not in self.identities:
            self.identities[user_id] = Identity.of(self._user(user_id))
        return self.identities[user_id]

    # -- a day
    def before_cutoff(self, index: int, day: date) -> None:
        """The day up to its cutoff; the events after it wait for `after_cutoff`."""
        b = self.b
        events: list[tuple[datetime, int, str, int]] = []
        for task_id in self.submitted:
            rng = self._rng(self.states[task_id].unit_id)
            events.append((local(day, 8) + timedelta(seconds=rng.randint(0, 3 * 3600 - 1)),
                           task_id, "decide_completion", task_id))
        for request_id, task_id in self.extensions:
            rng = self._rng(self.states[task_id].unit_id)
            events.append((local(day, 9, rng.randint(0, 59)), task_id, "decide_extension",
                           request_id))
        self.submitted, self.extensions = [], []
        for state in self.states.values():  # the day's real work
            working = state.status in ("in_progress", "returned") or (
                state.status == "not_started" and state.start <= day)
            if working and (state.stall_at is None or index < state.stall_at):
                state.actual += state.pace * self._rng(state.unit_id).uniform(0.5, 1.5)
        for unit_id, profile in self.profiles.items():
            rng = self._rng(unit_id)
            if index in profile.silent:
                continue
            chance = min(profile.report, b.slip_chance) if index in profile.slipping \
                else profile.report
            if rng.random() >= chance:
                continue
            if rng.random() < profile.late:
                moment = local(day, 16, 5) + timedelta(seconds=rng.randint(0, 3 * 3600))
            else:
                moment = local(day, 8) + timedelta(seconds=rng.randint(0, 7 * 3600 + 3000))
            events.append((moment, unit_id, "report", unit_id))
        for state in self.states.values():
            if state.status in ("not_started", "in_progress", "returned") and \
                    self._rng(state.unit_id).random() < b.cancel_chance:
                events.append((local(day, 10, self._rng(state.unit_id).randint(0, 59)),
                               state.task_id, "cancel", state.task_id))
        events.sort(key=lambda e: (e[0], e[1], e[2]))
        cutoff = local(day, 16)
        self.later = [e for e in events if e[0] > cutoff]
        self._play([e for e in events if e[0] <= cutoff], day)

    def after_cutoff(self, day: date) -> None:
        self._play(self.later, day)
        self.later = []

    def _play(self, events, day: date) -> None:
        for moment, _n, kind, payload in events:
            started = time.perf_counter()
            self.clock.set(moment)
            getattr(self, f"_{kind}")(moment, day, payload)
            self.t.add(kind, time.perf_counter() - started)
            self.t.counts[kind] += 1

    def _owed(self, unit_id: int, day: date) -> list[TaskState]:
        return [s for s in self.by_unit[unit_id] if s.status in ("in_progress", "returned")
                or (s.status == "not_started" and s.start <= day)]

    def _report(self, moment: datetime, day: date, unit_id: int) -> None:
        from tracker.extensions import db
        from tracker.rules.store import load_calendar
        from tracker.tasks.lifecycle import request_extension, submit_completion
        from tracker.tasks.models import Task
        from tracker.updates.service import post_updates

        profile, rng, b = self.profiles[unit_id], self._rng(unit_id), self.b
        chosen = [s for s in self._owed(unit_id, day) if rng.random() < profile.coverage]
        if not chosen:
            return
        items = [(s.task_id, {"progress": min(100, int(s.actual)),
                              "work_done": "Đã triển khai các phần việc trong ngày."})
                 for s in chosen]
        post_updates(self._identity(profile.member_id), items, now=moment, unit_id=unit_id,
                     data_loaded=True)
        self.t.counts["updates"] += len(items)
        for s in chosen:
            s.status = "in_progress"
        member = None
        calendar = load_calendar()
        for s in chosen:
            if s.actual >= 100:  # done: the completion goes in right after the update
                member = member or self._user(profile.member_id)
                submit_completion(member, db.session.get(Task, s.task_id),
                                  result="Đã hoàn thành; gửi kèm báo cáo kết quả.",
                                  now=moment + timedelta(minutes=2))
                s.status = "submitted"
                self.submitted.append(s.task_id)
                self.t.counts["submitted"] += 1
            elif not s.asked and moment < local(day, 16) and \
                    0 <= calendar.working_days_between(day, s.deadline) <= 3:
                left = calendar.working_days_between(day, s.deadline)
                if s.actual + s.pace * left < 100 and rng.random() < b.extension_share:
                    s.asked = True
                    member = member or self._user(profile.member_id)
                    request = request_extension(
                        member, db.session.get(Task, s.task_id),
                        new_deadline=s.deadline + timedelta(days=rng.randint(*b.extension_days)),
                        reason="Khối lượng công việc lớn hơn dự kiến.",
                        now=moment + timedelta(minutes=3))
                    self.extensions.append((request.id, s.task_id))
                    self.t.counts["extension_requests"] += 1
        db.session.commit()

    def _supervisor_of(self, unit_id: int):
        return self._user(self.people["supervisors"][self.profiles[unit_id].province_id])

    def _decide_completion(self, moment: datetime, _day: date, task_id: int) -> None:
        from tracker.extensions import db
        from tracker.tasks.lifecycle import confirm_completion, return_completion
        from tracker.tasks.models import Task

        state = self.states[task_id]
        rng = self._rng(state.unit_id)
        task = db.session.get(Task, task_id)
        supervisor = self._supervisor_of(state.unit_id)
        if rng.random() < self.b.confirm_share:
            confirm_completion(supervisor, task, now=moment)
            state.status = "done"
            self.t.counts["confirmed"] += 1
        else:
            return_completion(supervisor, task, now=moment,
                              note="Sản phẩm chưa đạt yêu cầu; đề nghị bổ sung.")
            state.status = "returned"
            state.actual = rng.uniform(*self.b.returned_to)
            self.t.counts["returned"] += 1
        db.session.commit()

    def _decide_extension(self, moment: datetime, _day: date, request_id: int) -> None:
        from tracker.extensions import db
        from tracker.tasks.lifecycle import decide_extension
        from tracker.tasks.models import ExtensionRequest

        request = db.session.get(ExtensionRequest, request_id)
        state = self.states[request.task_id]
        if state.status in ("done", "cancelled"):  # nothing to decide on any more
            return
        approve = self._rng(state.unit_id).random() < self.b.approve_share
        decide_extension(self._supervisor_of(state.unit_id), request, approve=approve,
                         note=None if approve else "Không có căn cứ gia hạn.", now=moment)
        if approve:
            state.deadline = request.requested_deadline
        self.t.counts["extensions_approved" if approve else "extensions_rejected"] += 1
        db.session.commit()

    def _cancel(self, moment: datetime, _day: date, task_id: int) -> None:
        from tracker.extensions import db
        from tracker.tasks.lifecycle import cancel_task
        from tracker.tasks.models import Task

        state = self.states[task_id]
        if state.status not in ("not_started", "in_progress", "returned"):
            return
        cancel_task(self._user(self.people["admin"]), db.session.get(Task, task_id),
                    note="Nhiệm vụ không còn phù hợp sau sắp xếp.", now=moment)
        state.status = "cancelled"
        self.t.counts["cancelled"] += 1
        db.session.commit()


def _app(url: str, clock):
    from tracker import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": url.replace("postgresql://",
                                                              "postgresql+psycopg://"),
                       "CLOCK": clock, "SECRET_KEY": "bench-history"})


def worker(conn, url: str, seed: int, b: Behaviour, profiles, states, people) -> None:
    """A process living the days of some provinces' units, step by step as the main
    process asks (it runs each cutoff between a day's two halves)."""
    from tracker.clock import FixedClock

    clock = FixedClock(local(FIRST_DAY, 7))
    app = _app(url, clock)
    timings = Timings()
    with app.app_context():
        sim = Simulation(clock, seed, b, profiles, states, people, timings)
        while True:
            command, *rest = conn.recv()
            if command == "before":
                sim.before_cutoff(*rest)
            elif command == "after":
                sim.after_cutoff(*rest)
            else:
                conn.send((timings.phases, dict(timings.counts)))
                return
            conn.send("ok")


def run_cutoff_as_cli(app, clock, day: date) -> None:
    """The day's cutoff, a minute after its moment, as `tracker cutoff run --date D`
    runs it (`process_due` through the day)."""
    from tracker.cutoff.backlog import process_due
    from tracker.cutoff.job import refuse_unless_passed

    with app.app_context():
        moment = local(day, 16, 1)
        clock.set(moment)
        refuse_unless_passed(day, moment)
        summaries = process_due(through=day, wait_seconds=30)
        mine = [s for s in summaries if s.date == day.isoformat()]
        if not mine:
            raise RuntimeError(f"the cutoff of {day} was not processed")
        s = mine[0]
        print(f"  cutoff {day}: {s.tasks} tasks, missed {s.missed}, green {s.green}, "
              f"yellow {s.yellow}, red {s.red}", end="", flush=True)


def share(profiles: dict[int, UnitProfile], workers: int) -> list[set[int]]:
    """The provinces shared among the workers, the biggest first, to the least loaded."""
    size: dict[int, int] = defaultdict(int)
    for p in profiles.values():
        size[p.province_id] += 1
    groups = [set() for _ in range(workers)]
    loads = [0] * workers
    for province, n in sorted(size.items(), key=lambda kv: -kv[1]):
        i = loads.index(min(loads))
        groups[i].add(province)
        loads[i] += n
    return groups


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="trk_hist", help="the database to (re)create")
    parser.add_argument("--tasks-per-unit", type=int, default=30)
    parser.add_argument("--days", type=int, default=25, help="working days to simulate")
    parser.add_argument("--seed", type=int, default=16, help="the random draw")
    parser.add_argument("--workers", type=int, default=2,
                        help="processes living the units' days (the result is the same)")
    parser.add_argument("--provinces", type=int, default=None,
                        help="only the first N provinces (a quick trial; default: all 34)")
    args = parser.parse_args()
    if args.days <= WARM_UP_DAYS + 3:
        parser.error(f"--days must be more than {WARM_UP_DAYS + 3}")
    if args.name == "trk_nat":
        parser.error("trk_nat is not this tool's to replace")
    timings = Timings()
    b = Behaviour()

    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    admin_url = make_url(base).set(drivername="postgresql", database="postgres")
    url = admin_url.set(database=args.name).render_as_string(hide_password=False)
    started = time.perf_counter()
    create_database(admin_url.render_as_string(hide_password=False), args.name)
    entered = local(FIRST_DAY, 7)
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                   cwd=ROOT, env=env_for(url, entered), check=True, capture_output=True)
    timings.add("create and migrate the database", time.perf_counter() - started)

    os.environ.update(DATABASE_URL=url)
    from tracker.clock import FixedClock
    from tracker.extensions import db
    from tracker.rules.store import load_calendar
    from tracker.tasks.colour import mark_colours, recolour_all

    clock = FixedClock(entered)
    app = _app(url, clock)
    with app.app_context():
        calendar = load_calendar()
        days = calendar.working_days(FIRST_DAY, FIRST_DAY + timedelta(days=3 * args.days))
        days = days[:args.days]
    started = time.perf_counter()
    profiles, states, people, task_count = seed_start(
        app, url, random.Random(args.seed), args.tasks_per_unit, days, b, args.provinces)
    with app.app_context():
        recolour_all(entered)  # as `tracker colours refresh`
        db.session.commit()
        mark_colours(calendar.epoch(entered))
        db.engine.dispose()  # no connection carried into the workers
    timings.add("seed (units, users, tasks: COPY)", time.perf_counter() - started)
    print(f"{len(profiles)} communes, {task_count} tasks ({len(states)} not done at the "
          f"start), {args.days} working days {days[0]} … {days[-1]}", flush=True)
    print(f"units going silent once: {sum(1 for p in profiles.values() if p.silent)} "
          f"({sum(1 for p in profiles.values() if p.slipping)} of them after slipping)",
          flush=True)

    context = multiprocessing.get_context("fork")
    pipes, procs = [], []
    for provinces in share(profiles, args.workers):
        mine = {u: p for u, p in profiles.items() if p.province_id in provinces}
        tasks = {t: s for t, s in states.items() if s.unit_id in mine}
        here, there = context.Pipe()
        proc = context.Process(target=worker, args=(there, url, args.seed, b, mine, tasks,
                                                    people))
        proc.start()
        pipes.append(here)
        procs.append(proc)

    def step(*command) -> list:
        for pipe in pipes:
            pipe.send(command)
        answers = [pipe.recv() for pipe in pipes]
        if any(a != "ok" for a in answers) and command[0] != "stop":
            raise RuntimeError(f"a worker failed: {answers}")
        return answers

    try:
        for index, day in enumerate(days):
            t0 = time.perf_counter()
            step("before", index, day)
            t1 = time.perf_counter()
            run_cutoff_as_cli(app, clock, day)
            t2 = time.perf_counter()
            step("after", day)
            t3 = time.perf_counter()
            timings.add("units' and supervisors' day (services)", (t1 - t0) + (t3 - t2))
            timings.add("cutoffs", t2 - t1)
            print(f"; day {index + 1}: {t1 - t0 + t3 - t2:.1f} s, cutoff {t2 - t1:.1f} s",
                  flush=True)
        counts: dict[str, int] = defaultdict(int)
        busy: dict[str, float] = defaultdict(float)
        for phases, numbers in step("stop"):
            for k, v in numbers.items():
                counts[k] += v
            for k, v in phases.items():
                busy[k] += v
    finally:
        for proc in procs:
            proc.join(timeout=60)
            if proc.is_alive():
                proc.terminate()

    first_scored, last = days[WARM_UP_DAYS], days[-1]
    print(f"\n$ flask --app wsgi tracker forecast evaluate --from {first_scored} "
          f"--to {last}", flush=True)
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "tracker",
                          "forecast", "evaluate", "--from", first_scored.isoformat(),
                          "--to", last.isoformat()], cwd=ROOT,
                         env=env_for(url, local(last, 23)), capture_output=True, text=True)
    timings.add("tracker forecast evaluate", time.perf_counter() - started)
    print(out.stdout, end="")
    if out.returncode:
        print(out.stderr, file=sys.stderr)
        return out.returncode

    print(f"\nphase (wall, {args.workers} workers)               seconds")
    for name, seconds in timings.phases.items():
        print(f"{name:<44} {seconds:8.1f}")
    print("time inside the services, summed over the workers: " + ", ".join(
        f"{k} {v:.0f} s" for k, v in busy.items()))
    print("what happened: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
