"""Seed a benchmark database fast: the real unit tree, one member (with an API token) per
commune, tasks with realistic deadlines and states, and recent update histories — all
written with PostgreSQL COPY, not one ORM object at a time."""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import psycopg

SCALES = {
    # name: (provinces, communes per province or None for all, tasks per commune)
    "tiny": (["Quảng Ninh"], 6, 20),
    "province": (["Quảng Ninh"], None, 1000),
    "national": (None, None, 300),
    "max": (None, None, 1000),  # SPEC §9's upper bound: 3,321 units × 1,000 ≈ 3.3 M tasks
}
# Titles in turn (no random draw, so the states drawn below stay those of earlier runs):
# what the search read (bench.run) looks for.
TITLES = ("Rà soát, sắp xếp trụ sở làm việc sau hợp nhất", "Số hoá hồ sơ, tài liệu lưu trữ",
          "Đẩy mạnh giải ngân vốn đầu tư công", "Chuyển đổi số thủ tục hành chính",
          "Xây dựng đề án phát triển du lịch", "Kiểm tra công tác phòng cháy chữa cháy",
          "Đôn đốc thu ngân sách nhà nước", "Hoàn thiện quy chế làm việc của Uỷ ban")
# The fields every seeded task has alike: description, owner, leader in charge.
DESCRIPTION, OWNER, LEADER = "Mô tả nhiệm vụ", "Chủ tịch UBND", "Phó Chủ tịch UBND tỉnh"
HISTORY_DAYS = 5  # closed working days of update history per open task (plus the rush
# day's morning)


@dataclass
class Seeded:
    units: list[int]
    tokens: dict[int, str]  # unit id → raw API token of that unit's member
    tasks: dict[int, list[int]]  # unit id → open task ids
    admin_token: str
    seconds: float
    task_count: int
    update_count: int


def code_and_title(prefix: str, task_id: int) -> tuple[str, str]:
    """A seeded task's code and title."""
    return f"{prefix}-{task_id:07d}", f"{TITLES[task_id % len(TITLES)]} ({task_id})"


def seeded_search_text(prefix: str, task_id: int, unit_name: str) -> str:
    """A seeded task's folded text, as the app keeps it (tracker.tasks.models.TaskSearchText):
    written beside the task's row, which COPY writes without the app."""
    from tracker.tasks.models import task_search_text

    return task_search_text((*code_and_title(prefix, task_id), DESCRIPTION, OWNER, LEADER),
                            unit_name, ())


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def seed(app, url: str, scale: str, today: date, now: datetime, rng_seed: int = 7) -> Seeded:
    """Fill the (migrated, empty) database at `url`; `now` is the benchmark's moment."""
    from sqlalchemy import select

    from tracker.auth.passwords import hash_password
    from tracker.extensions import db
    from tracker.rules.store import load_calendar
    from tracker.rules.vietnamese import fold_fields
    from tracker.units.importer import all_provinces, find_province, import_units
    from tracker.units.models import Unit, UnitKind

    started = time.perf_counter()
    rng = random.Random(rng_seed)
    provinces, per_province, per_unit = SCALES[scale]
    with app.app_context():
        chosen = all_provinces() if provinces is None else [find_province(p) for p in provinces]
        import_units(chosen)
        db.session.commit()
        communes = db.session.execute(
            select(Unit.id, Unit.parent_id).where(Unit.kind == UnitKind.COMMUNE)
            .order_by(Unit.id)).all()
        unit_names = dict(db.session.execute(select(Unit.id, Unit.name)).all())
        if per_province:
            kept, seen = [], {}
            for unit_id, parent in communes:
                seen[parent] = seen.get(parent, 0) + 1
                if seen[parent] <= per_province:
                    kept.append((unit_id, parent))
            communes = kept
        nation = db.session.scalar(select(Unit.id).where(Unit.kind == UnitKind.NATION))
        calendar = load_calendar()
        # The rush day so far (updates posted this morning, up to `now`) and the five
        # closed working days before it.
        history_days = [calendar.reporting_day(now)]
        day = calendar.last_cutoff_day(now)
        while len(history_days) < HISTORY_DAYS + 1:
            history_days.append(day)
            day = calendar.previous_working_day(day)
        windows = {d: (start, min(end, now))
                   for d in history_days for start, end in [calendar.window(d)]}
        password = hash_password("benchmark password")

    unit_ids = [u for u, _ in communes]
    tokens = {u: f"trk_bench_{u}_{rng.getrandbits(64):016x}" for u in unit_ids}
    admin_token = f"trk_bench_admin_{rng.getrandbits(64):016x}"
    expires = now + timedelta(days=30)
    assigned = now - timedelta(days=40)
    # Entered into Tracker on the morning of the last closed day (the 17th): the tasks were
    # assigned — and owe updates — since `assigned`, but the deployment's first cutoff, and
    # so the first day due, is that day's; the older history is the updates' only.
    entered = calendar.window(calendar.last_cutoff_day(now))[1] - timedelta(hours=8)
    open_tasks: dict[int, list[int]] = {u: [] for u in unit_ids}
    updates = 0
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy("COPY users (id, username, full_name, password_hash, role, unit_id, "
                      "active, created_at, search_text) FROM STDIN") as copy:
            copy.write_row((1, "bench_admin", "Benchmark admin", password, "admin", nation,
                            True, now, fold_fields("bench_admin", "Benchmark admin")))
            for n, unit_id in enumerate(unit_ids, start=2):
                copy.write_row((n, f"m{unit_id}", f"Member {unit_id}", password, "member",
                                unit_id, True, now,
                                fold_fields(f"m{unit_id}", f"Member {unit_id}")))
        cur.execute("SELECT setval('users_id_seq', %s)", (len(unit_ids) + 1,))
        with cur.copy("COPY api_tokens (user_id, name, token_hash, created_at, expires_at) "
                      "FROM STDIN") as copy:
            copy.write_row((1, "bench", _hash(admin_token), now, expires))
            for n, unit_id in enumerate(unit_ids, start=2):
                copy.write_row((n, "bench", _hash(tokens[unit_id]), now, expires))

        task_id = 0
        with cur.copy(
            "COPY tasks (id, code, title, description, lead_unit_id, owner_name, start_date, "
            "deadline, original_deadline, leader_in_charge, expected_output, "
            "assigning_authority, source_doc_number, source_doc_date, priority, progress, "
            "status, duty_since, submitted_at, confirmed_at, cancelled_at, colour_days, "
            "last_update_at, created_at, updated_at, version) FROM STDIN"
        ) as copy:
            for unit_id in unit_ids:
                for _n in range(per_unit):
                    task_id += 1
                    roll = rng.random()
                    status = ("done" if roll < 0.10 else "submitted" if roll < 0.13 else
                              "cancelled" if roll < 0.15 else "not_started" if roll < 0.20
                              else "in_progress")
                    deadline = today + timedelta(days=rng.randint(-20, 120))
                    submitted = now - timedelta(days=rng.randint(1, 10)) \
                        if status in ("done", "submitted") else None
                    code, title = code_and_title("B", task_id)
                    copy.write_row((
                        task_id, code, title,
                        DESCRIPTION, unit_id, OWNER, today - timedelta(60),
                        deadline, deadline, LEADER, "Báo cáo kết quả",
                        "Ban Chỉ đạo", "02-KH/BCĐTW", today - timedelta(70), "normal", 40,
                        status, assigned, submitted,
                        submitted + timedelta(hours=2) if status == "done" else None,
                        now - timedelta(days=3) if status == "cancelled" else None, 0,
                        None, entered, assigned, 1,
                    ))
                    if status in ("in_progress", "not_started"):
                        open_tasks[unit_id].append(task_id)
        cur.execute("SELECT setval('tasks_id_seq', %s)", (task_id,))
        with cur.copy("COPY task_search_texts (task_id, search_text) FROM STDIN") as copy:
            task_id = 0
            for unit_id in unit_ids:
                for _n in range(per_unit):
                    task_id += 1
                    copy.write_row((task_id,
                                    seeded_search_text("B", task_id, unit_names[unit_id])))

        last_update: dict[int, datetime] = {}
        author = {u: n for n, u in enumerate(unit_ids, start=2)}
        with cur.copy("COPY progress_updates (task_id, author_id, created_at, progress, "
                      "work_done) FROM STDIN") as copy:
            for unit_id, ids in open_tasks.items():
                diligence = rng.random()  # some units report every day, some often miss
                for tid in ids:
                    for d in reversed(history_days):
                        if rng.random() > 0.55 + 0.44 * diligence:
                            continue
                        start, end = windows[d]
                        at = start + (end - start) * rng.uniform(0.3, 0.99)
                        copy.write_row((tid, author[unit_id], at, 40, "Đã thực hiện"))
                        last_update[tid] = at
                        updates += 1
        cur.execute("CREATE TEMP TABLE lu (id int, at timestamptz) ON COMMIT DROP")
        with cur.copy("COPY lu (id, at) FROM STDIN") as copy:
            for tid, at in last_update.items():
                copy.write_row((tid, at))
        cur.execute("UPDATE tasks SET last_update_at = lu.at FROM lu WHERE tasks.id = lu.id")
        cur.execute("UPDATE tasks SET status = 'in_progress' WHERE status = 'not_started' "
                    "AND last_update_at IS NOT NULL")
        conn.commit()
        cur.execute("ANALYZE")
    return Seeded(units=unit_ids, tokens=tokens, tasks=open_tasks, admin_token=admin_token,
                  seconds=time.perf_counter() - started, task_count=task_id,
                  update_count=updates)


def utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)
