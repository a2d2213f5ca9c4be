"""The early warning proved against the stored history (`tracker forecast evaluate`).

For each past cutoff day D in the range whose whole horizon has been judged, every task open
and not red at D's cutoff is forecast as of that moment — its facts as they stood then
(`tasks.facts.facts_at`), only the updates, missed days, returns and refusals stamped by
then — and the answer is checked against what happened: whether the task was red at the
cutoff of any of the next N working days (the red list the cutoff kept, `red_task_days`).
The baseline is "the deadline is within N working days". Precision and recall, overall and
per province: docs/forecast.md.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, or_, select

from tracker.cutoff.models import CutoffRun, MissedUpdate, RedTaskDay
from tracker.extensions import db
from tracker.forecast.loader import TaskState, load_histories
from tracker.rules.colours import TaskFacts
from tracker.rules.forecast import HORIZON_DAYS, baseline, forecast, horizon_end, record_days
from tracker.rules.store import load_calendar, load_policy
from tracker.tasks.facts import FACTS, facts_at
from tracker.tasks.models import Task, TaskFactsUntil
from tracker.units.models import Unit, UnitKind
from tracker.units.tree import subtree_ids

CHUNK = 5000  # task ids per query of the loader
NATIONAL = "national"


@dataclass
class Tally:
    """Forecasts against outcomes: true positives, false positives, false negatives."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, predicted: bool, happened: bool) -> None:
        if predicted and happened:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif happened:
            self.fn += 1

    @property
    def precision(self) -> float | None:
        flagged = self.tp + self.fp
        return self.tp / flagged if flagged else None

    @property
    def recall(self) -> float | None:
        turned = self.tp + self.fn
        return self.tp / turned if turned else None


@dataclass
class Scores:
    """The forecast's and the baseline's tallies for one area, and how many times a task
    turned red within the horizon of a scored day."""

    forecast: Tally = field(default_factory=Tally)
    baseline: Tally = field(default_factory=Tally)
    turned_red: int = 0


@dataclass
class Evaluation:
    """The evaluation's result: the days scored and the scores by area (NATIONAL, then each
    province's name)."""

    days: list[date]
    horizon: int
    areas: dict[str, Scores]


def _provinces() -> dict[int, str]:
    """Each unit's province's name (the nation itself: NATIONAL)."""
    units = db.session.execute(select(Unit.id, Unit.path, Unit.kind, Unit.name)).all()
    names = {u.id: u.name for u in units if u.kind == UnitKind.PROVINCE}
    found = {}
    for unit_id, path, _kind, _name in units:
        ids = [int(x) for x in path.strip("/").split("/") if x]
        found[unit_id] = next((names[i] for i in ids if i in names), NATIONAL)
    return found


def scored_days(first: date, last: date, horizon: int) -> list[date]:
    """The judged cutoff days in [first, last] whose N following working days have all
    been judged too."""
    calendar = load_calendar()
    judged = set(db.session.scalars(select(CutoffRun.day).where(
        CutoffRun.day >= first, CutoffRun.finished_at.is_not(None))))
    latest = db.session.scalar(select(CutoffRun.day).where(CutoffRun.finished_at.is_not(None))
                               .order_by(CutoffRun.day.desc()).limit(1))
    return sorted(d for d in judged if d <= last and latest is not None
                  and horizon_end(calendar, calendar.cutoff_moment(d), horizon) <= latest)


@dataclass(frozen=True)
class Case:
    """One task at one past cutoff: where it was led, what the forecast and the baseline
    said, and whether it turned red within the horizon."""

    task_id: int
    unit_id: int
    predicted: bool
    guessed: bool
    turned: bool


def replay(tasks: Select, day: date, horizon: int = HORIZON_DAYS) -> list[Case]:
    """Every task of `tasks` (a select of Task) that the forecast or the baseline flagged at
    `day`'s cutoff, or that turned red within the horizon after it — each open and not red
    at that cutoff, judged on what was known then. The tasks neither flagged nor turned
    red are left out: precision and recall need none of them."""
    calendar, policy = load_calendar(), load_policy()
    moment = calendar.cutoff_moment(day)
    end = horizon_end(calendar, moment, horizon)
    red = _red_by_day(day, end)
    inner = tasks.subquery()
    past = facts_at(moment, select(inner.c.id))
    recorded = record_days(calendar, moment)
    in_record = select(MissedUpdate.task_id).where(
        MissedUpdate.day >= recorded[0], MissedUpdate.day <= recorded[-1])
    soon = calendar.next_working_day(end)  # a deadline before it is within the horizon
    turned_ids = set().union(*(ids for d, ids in red.items() if d > day)) - red.get(day, set())
    rows = db.session.execute(
        select(inner.c.id, inner.c.created_at, inner.c.lead_unit_id, inner.c.status,
               *(inner.c[n] for n in FACTS))
        .where(inner.c.created_at <= moment,
               # The deadline as of the moment is the current one, or that kept by the
               # task's first change since: either way, one of these is early.
               or_(inner.c.deadline < soon,
                   inner.c.id.in_(in_record),
                   inner.c.id.in_(select(TaskFactsUntil.task_id)
                                  .where(TaskFactsUntil.until > moment,
                                         TaskFactsUntil.deadline < soon)),
                   inner.c.id.in_(select(RedTaskDay.task_id)
                                  .where(RedTaskDay.day > day, RedTaskDay.day <= end))))).all()
    states: list[tuple[TaskState, int]] = []
    for task_id, created_at, unit_id, status_now, *now_facts in rows:
        if task_id in red.get(day, ()):
            continue
        values = past.get(task_id) or dict(zip(FACTS, now_facts, strict=True))
        facts = TaskFacts(**{**values, "status": str(values["status"])})
        if facts.is_open:
            states.append((TaskState(task_id, created_at, facts, str(status_now)), unit_id))
    histories = {}
    for i in range(0, len(states), CHUNK):
        chunk = [state for state, _unit in states[i:i + CHUNK]]
        ids = select(Task.id).where(Task.id.in_([s.id for s in chunk]))
        histories.update(load_histories(chunk, ids, calendar, moment))
    cases = []
    for state, unit_id in states:
        case = Case(state.id, unit_id,
                    forecast(histories[state.id], calendar, policy, moment, horizon).likely,
                    baseline(state.facts, calendar, moment, horizon),
                    state.id in turned_ids)
        if case.predicted or case.guessed or case.turned:
            cases.append(case)
    return cases


def likely_at(unit: Unit, day: date) -> int:
    """How many tasks led in the unit's subtree the forecast called likely to turn red at
    `day`'s cutoff (the daily report's count), replayed from the history."""
    tasks = select(Task).where(Task.lead_unit_id.in_(subtree_ids(unit)))
    return sum(case.predicted for case in replay(tasks, day))


def evaluate(first: date, last: date, horizon: int = HORIZON_DAYS) -> Evaluation:
    """Replay the history of the cutoff days from `first` to `last` (module docstring)."""
    province = _provinces()
    areas: dict[str, Scores] = defaultdict(Scores)
    days = scored_days(first, last, horizon)
    for day in days:
        for case in replay(select(Task), day, horizon):
            for area in {NATIONAL, province.get(case.unit_id, NATIONAL)}:
                scores = areas[area]
                scores.forecast.add(case.predicted, case.turned)
                scores.baseline.add(case.guessed, case.turned)
                scores.turned_red += case.turned
        db.session.rollback()  # nothing written; let go of the snapshot between days
    ordered = dict(sorted(areas.items(), key=lambda kv: (kv[0] != NATIONAL, kv[0])))
    return Evaluation(days, horizon, ordered)


def _red_by_day(day: date, end: date) -> dict[date, set[int]]:
    """The tasks red at each cutoff from `day` to `end` (the cutoff's red list)."""
    found: dict[date, set[int]] = defaultdict(set)
    for d, task_id in db.session.execute(select(RedTaskDay.day, RedTaskDay.task_id)
                                         .where(RedTaskDay.day >= day, RedTaskDay.day <= end)):
        found[d].add(task_id)
    return found


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def report_lines(result: Evaluation) -> list[str]:
    """The evaluation as the command prints it: one line per area."""
    first = result.days[0].isoformat() if result.days else "–"
    last = result.days[-1].isoformat() if result.days else "–"
    lines = [f"Cutoff days scored: {len(result.days)} ({first} … {last}); "
             f"horizon: {result.horizon} working days",
             f"{'area':<28} {'red':>5} {'flagged':>8}  {'forecast P':>10} {'R':>7}  "
             f"{'baseline P':>10} {'R':>7}  beats"]
    for area, s in result.areas.items():
        beats = beats_baseline(s)
        lines.append(
            f"{area:<28} {s.turned_red:>5} {s.forecast.tp + s.forecast.fp:>8}  "
            f"{_percent(s.forecast.precision):>10} "
            f"{_percent(s.forecast.recall):>7}  {_percent(s.baseline.precision):>10} "
            f"{_percent(s.baseline.recall):>7}  {'yes' if beats else 'no'}")
    return lines


def beats_baseline(scores: Scores) -> bool:
    """Whether the forecast is better than the baseline on both precision and recall."""
    f, b = scores.forecast, scores.baseline
    if None in (f.precision, f.recall):
        return False
    return f.precision > (b.precision or 0) and f.recall > (b.recall or 0)
