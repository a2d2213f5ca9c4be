"""Load the demo through the same services users go through.

Tasks are drawn from the province's conclusions after the July 2025 merger (digitising
records, reorganising villages, surplus public assets …), with deadlines spread around
today and update histories, from the day after the assignment, that give every colour —
and a few requests still waiting for a supervisor's decision. `tracker.demo.history` then
judges the past days as they happened.
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from tracker.auth.models import User
from tracker.auth.service import create_user
from tracker.extensions import db
from tracker.rules.store import load_calendar
from tracker.tasks.colour import refresh_colour
from tracker.tasks.lifecycle import (
    confirm_completion,
    request_extension,
    return_completion,
    submit_completion,
)
from tracker.tasks.models import Task
from tracker.tasks.service import create_task
from tracker.units.importer import find_province, import_units
from tracker.units.models import Unit, UnitKind
from tracker.updates.service import post_update

PROVINCE = "Quảng Ninh"
DEMO_COMMUNES = ["ha_long", "co_to", "bai_chay", "mong_cai_1", "van_don", "tien_yen",
                 "uong_bi", "binh_lieu"]

AUTHORITY = "Ban Chỉ đạo tỉnh Quảng Ninh"
DOC = ("05-TB/BCĐ", -40)  # number, days before today

# (title, description, expected output, field, deadline offset in days, scenario)
DIRECTIVES = [
    ("Số hoá hồ sơ, tài liệu lưu trữ sau sắp xếp",
     "Số hoá toàn bộ hồ sơ, tài liệu lưu trữ tiếp nhận từ cấp huyện và các xã cũ, cập nhật "
     "vào kho lưu trữ điện tử của tỉnh.",
     "Kho hồ sơ điện tử đã được cập nhật; báo cáo số lượng hồ sơ đã số hoá.",
     "Chuyển đổi số", 20, "on_time"),
    ("Sắp xếp, tổ chức lại thôn, tổ dân phố",
     "Xây dựng phương án sắp xếp thôn, tổ dân phố phù hợp với quy mô đơn vị hành chính mới; "
     "lấy ý kiến cử tri và trình HĐND xã.",
     "Nghị quyết của HĐND xã về sắp xếp thôn, tổ dân phố.",
     "Tổ chức bộ máy", 2, "on_time"),
    ("Rà soát, xử lý tài sản công dôi dư sau sắp xếp",
     "Rà soát trụ sở, xe ô tô và tài sản công dôi dư sau hợp nhất; đề xuất phương án "
     "xử lý theo quy định.",
     "Danh mục tài sản dôi dư và phương án xử lý trình UBND tỉnh.",
     "Tài chính – tài sản công", -3, "late"),
    ("Vận hành Trung tâm phục vụ hành chính công cấp xã",
     "Bảo đảm Trung tâm phục vụ hành chính công vận hành thông suốt, không để ách tắc "
     "hồ sơ của người dân, doanh nghiệp.",
     "Báo cáo kết quả giải quyết thủ tục hành chính hằng tuần.",
     "Cải cách hành chính", 45, "missed_two"),
    ("Chuyển giao hồ sơ đất đai về cấp xã",
     "Tiếp nhận, kiểm đếm hồ sơ địa chính, hồ sơ đất đai do cấp huyện cũ bàn giao.",
     "Biên bản bàn giao và danh mục hồ sơ đất đai đã tiếp nhận.",
     "Đất đai", 12, "missed_one"),
    ("Giải quyết chế độ cho cán bộ dôi dư",
     "Rà soát, lập danh sách và giải quyết chế độ, chính sách cho cán bộ, công chức dôi dư "
     "theo Nghị định 178/2024/NĐ-CP.",
     "Quyết định giải quyết chế độ cho từng trường hợp.",
     "Tổ chức bộ máy", -15, "done_on_time"),
]


# A few of the units' requests, each on one commune's task of one directive (by its place
# in DIRECTIVES): completions waiting for confirmation, extension requests waiting for a
# decision, a completion returned with its reason.
REQUESTS = {
    ("ha_long", 0): "submitted",
    ("bai_chay", 0): "submitted",
    ("co_to", 2): "extension",
    ("van_don", 4): "extension",
    ("mong_cai_1", 1): "returned",
}
RETURN_REASON = ("Chưa có nghị quyết của HĐND xã; bổ sung nghị quyết và biên bản lấy ý kiến "
                 "cử tri rồi gửi lại.")
EXTENSION_REASON = ("Khối lượng hồ sơ tiếp nhận lớn hơn dự kiến; đề nghị gia hạn để hoàn "
                    "thành kiểm đếm và số hoá.")


# The days a "missed_two" unit slips over before it stops reporting.
SLIP_DAYS = 10


class DemoExists(Exception):
    pass


def _local(day, hour: int, minute: int = 0) -> datetime:
    zone = ZoneInfo(current_app.config["TRACKER_TIMEZONE"])
    return datetime.combine(day, time(hour, minute), zone)


def _passwords(usernames: list[str]) -> dict[str, str]:
    shared = os.environ.get("TRACKER_DEMO_PASSWORD")
    return {u: shared or secrets.token_urlsafe(9) for u in usernames}


def admin_note() -> str:
    """The line under the demo's logins when admins must use two-factor login."""
    if current_app.config.get("TRACKER_ADMIN_2FA", "required") == "optional":
        return ""
    return ("(admin: at the first login, set up an authenticator app such as Google "
            "Authenticator — two-factor login is required for admins; "
            "TRACKER_ADMIN_2FA=optional lifts it)")


def _save_logins(logins: list[tuple[str, str]]) -> None:
    """Kept (owner-only) so that `make run` can print generated passwords again."""
    path = Path(current_app.instance_path) / "demo-logins.txt"
    note = admin_note()
    path.write_text("".join(f"{u} {p}\n" for u, p in logins) + (f"{note}\n" if note else ""))
    path.chmod(0o600)


def load_demo(*, now: datetime) -> list[tuple[str, str]]:
    """Load the demo; the caller commits. Returns (username, password) pairs."""
    if db.session.scalar(select(func.count()).select_from(User)):
        raise DemoExists
    import_units([find_province(PROVINCE)])
    db.session.flush()
    province = db.session.scalar(
        select(Unit).where(Unit.kind == UnitKind.PROVINCE, Unit.name == PROVINCE)
    )
    communes = {
        u.short_name: u
        for u in db.session.scalars(select(Unit).where(Unit.parent_id == province.id))
    }
    usernames = ["admin", "supervisor", "viewer", *DEMO_COMMUNES]
    passwords = _passwords(usernames)
    admin = create_user(None, username="admin", password=passwords["admin"], role="admin",
                        unit=province, full_name="Quản trị hệ thống tỉnh")
    supervisor = create_user(None, username="supervisor", password=passwords["supervisor"],
                             role="supervisor", unit=province,
                             full_name="Tổ công tác giám sát tỉnh")
    create_user(None, username="viewer", password=passwords["viewer"], role="viewer",
                unit=province, full_name="Lãnh đạo tỉnh")
    members = {}
    for short in DEMO_COMMUNES:
        commune = communes[short]
        members[short] = create_user(None, username=short, password=passwords[short],
                                     role="member", unit=commune,
                                     full_name=f"Cán bộ {commune.name}")

    calendar = load_calendar()
    today = calendar.local_date(now)
    assigned = now - timedelta(days=30)
    doc_date = today + timedelta(days=DOC[1])
    tasks: list[tuple[Task, str, str, str | None]] = []
    for index, short in enumerate(DEMO_COMMUNES):
        commune = communes[short]
        # Each commune gets most directives; shifting the scenarios gives every colour.
        for offset, (title, desc, output, field, due, scenario) in enumerate(DIRECTIVES):
            if (index + offset) % 7 == 6:
                continue
            task = create_task(admin, {
                "title": f"{title} – {commune.name}",
                "description": desc,
                "lead_unit_id": commune.id,
                "owner_name": f"Chủ tịch UBND {commune.name}",
                "start_date": (today - timedelta(days=28)).isoformat(),
                "deadline": (today + timedelta(days=due + index % 3)).isoformat(),
                "leader_in_charge": "Phó Chủ tịch UBND tỉnh phụ trách",
                "expected_output": output,
                "assigning_authority": AUTHORITY,
                "source_doc_number": DOC[0],
                "source_doc_date": doc_date.isoformat(),
                "field": field,
                "priority": "high" if due < 5 else "normal",
            }, now=assigned)
            tasks.append((task, short, scenario, REQUESTS.get((short, offset))))

    for task, short, scenario, request in tasks:
        _play(task, members[short], supervisor, scenario, request, calendar, now)
    for task, *_rest in tasks:
        refresh_colour(task, now)
    logins = [(u, passwords[u]) for u in usernames]
    _save_logins(logins)
    return logins


def _play(task, member, supervisor, scenario, request, calendar, now) -> None:
    """Post the history a scenario calls for, each at its own past moment: an update on
    every reporting day from the first one owed (from the start date, after the
    assignment), but for
    the days a scenario misses; then the unit's `request`, if any."""
    today = calendar.local_date(now)
    first = max(calendar.local_date(task.created_at) + timedelta(days=1), task.start_date)
    days = [d for d in calendar.working_days(first, today) if _local(d, 10) < now]
    stop = {"missed_two": 2, "missed_one": 1}.get(scenario, 0)
    worked = days[: len(days) - stop] if stop else days
    if stop and _local(today, 16) > now and worked and worked[-1] == today:
        worked = worked[:-1]
    if scenario == "done_on_time":
        worked = [d for d in worked if d < task.deadline]
    if scenario in ("late", "missed_one", "missed_two"):
        # A day missed now and then, made good the next day: the trends move.
        worked = [d for n, d in enumerate(worked) if n % 7 != 3 or d == worked[-1]]
    if scenario == "missed_two":
        # A unit that slips before it stops: every other day missed in its last two weeks
        # (made good the next day, but where a periodic miss falls beside one) — the
        # record the early warning reads (docs/forecast.md).
        slipped = set(worked[-SLIP_DAYS:-1][::-2])
        worked = [d for d in worked if d not in slipped]
    # The unit's request, on the working day before the last one (its update first).
    asked = days[-2] if request and len(days) > 3 else None
    if request in ("submitted", "returned") and asked:
        worked = [d for d in worked if d <= asked]  # a returned task: not updated since
    n = 0
    for day in days:
        if day in worked:
            n += 1
            post_update(member, task, {
                "progress": min(95, round(100 * n / (len(days) + 5))),
                "work_done": f"Đã thực hiện phần việc ngày {day:%d/%m/%Y}.",
                "obstacles": "Thiếu nhân lực chuyên môn." if n % 5 == 0 else "",
                "next_steps": "Tiếp tục triển khai theo kế hoạch.",
            }, now=_local(day, 9 + n % 6, 15))
        if asked and day == asked:
            _ask(task, member, supervisor, request, calendar, day)
    if scenario == "done_on_time" and worked:
        submit_moment = _local(worked[-1], 15)
        submit_completion(member, task, result="Đã hoàn thành, có văn bản kèm theo.",
                          now=submit_moment)
        confirm_completion(supervisor, task, now=submit_moment + timedelta(hours=1))


def _ask(task, member, supervisor, request, calendar, day) -> None:
    """The unit's request on `day`, after its update; a return comes the next working
    day at 08:30, and the unit has not updated since."""
    if request == "extension":
        request_extension(member, task, new_deadline=task.deadline + timedelta(days=21),
                          reason=EXTENSION_REASON, now=_local(day, 15, 30))
        return
    submit_completion(member, task, now=_local(day, 15, 30),
                      result="Đã hoàn thành; gửi kèm báo cáo kết quả.")
    if request == "returned":
        return_completion(supervisor, task, note=RETURN_REASON,
                          now=_local(calendar.next_working_day(day), 8, 30))
