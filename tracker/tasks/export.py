"""The task files Tracker writes, in the columns of tracker.tasks.columns: the import
template (XLSX with a guide sheet, or CSV) and the task list's export (XLSX), which the
importer reads back.

Both speak Vietnamese whatever the page's language: the headers, the sheet names ("Nhiệm
vụ", "Hướng dẫn"), the priorities and statuses, and the guide. In the workbooks dates are
date cells shown dd/mm/yyyy and the progress a percentage (tracker.xlsx); in the CSV
template dates are written dd/mm/yyyy.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Select
from sqlalchemy.orm import selectinload

from tracker.audit.security import record_report_export
from tracker.auth.models import User
from tracker.downloads import csv_writer
from tracker.extensions import db
from tracker.rules.vietnamese_sql import by_name
from tracker.scope import visible_tasks, visible_units
from tracker.tasks.columns import (
    COLUMNS,
    GUIDE_SHEET,
    IMPORTED,
    TASK_SHEET,
    Column,
    choices,
    write_choice,
)
from tracker.tasks.listing import TaskFilter
from tracker.tasks.models import Task
from tracker.tasks.sixro import SIX_RO
from tracker.units.models import Unit
from tracker.xlsx import Percent, TableSheet, new_book, saved, to_bytes

# The rows of a task list read from the database at a time.
BATCH = 1000


def unit_text(unit: Unit) -> str:
    """A unit as the export writes it and the importer finds it: "Phường Hạ Long (06685)"."""
    return f"{unit.name} ({unit.code})"


def _value(column: Column, task: Task):
    if column.kind == "unit":
        return unit_text(task.lead_unit)
    if column.kind == "units":
        return "; ".join(unit_text(u) for u in task.coordinating_units)
    if column.kind in ("priority", "status", "colour"):
        return write_choice(column.kind, getattr(task, column.key))
    if column.kind == "percent":
        return Percent(task.progress / 100)
    return getattr(task, column.key)


def task_row(task: Task) -> list:
    """A task's cells, in the order of COLUMNS: dates as dates, the progress a Percent."""
    return [_value(column, task) for column in COLUMNS]


def export_query(actor: User, chosen: TaskFilter) -> Select:
    """The tasks of the list as `chosen` narrows it, within the actor's scope, oldest first
    (the order in which they were assigned)."""
    return (chosen.apply(visible_tasks(actor))
            .options(selectinload(Task.coordinating_units)).order_by(Task.id))


def _rows(query: Select) -> Iterator[list]:
    for task in db.session.scalars(query.execution_options(yield_per=BATCH)):
        yield task_row(task)


def tasks_xlsx(actor: User, chosen: TaskFilter, *, at: datetime) -> Iterator[bytes]:
    """The task list as a workbook the importer reads back, a chunk at a time; the rows
    are read and written in batches, never all held at once. The download is recorded as
    a security event (a report exported); the caller commits."""
    book = new_book()
    TableSheet(book, TASK_SHEET, [c.header for c in COLUMNS],
               _rows(export_query(actor, chosen))).write()
    data = saved(book)
    record_report_export(actor, report="task_list", unit=chosen.unit or actor.unit,
                         day=_local_day(at), fmt="xlsx", at=at)
    return data


def _local_day(at: datetime) -> date:
    return at.astimezone(ZoneInfo(current_app.config["TRACKER_TIMEZONE"])).date()


def export_filename(at: datetime) -> str:
    """The export's file name: "nhiem-vu-2026-11-17.xlsx" (the day in ICT)."""
    return f"nhiem-vu-{_local_day(at).isoformat()}.xlsx"


# --- the import template ------------------------------------------------------------------


def _example(unit: Unit | None, today: date) -> list:
    example = {
        "title": "Số hoá hồ sơ, tài liệu lưu trữ sau sắp xếp",
        "description": "Số hoá hồ sơ, tài liệu tiếp nhận từ các đơn vị cũ.",
        "lead_unit": unit_text(unit) if unit else "",
        "owner_name": "Chủ tịch UBND xã",
        "start_date": today,
        "deadline": date(today.year + (today.month == 12), today.month % 12 + 1,
                         min(today.day, 28)),
        "leader_in_charge": "Phó Chủ tịch UBND tỉnh",
        "expected_output": "Kho hồ sơ điện tử; báo cáo kết quả",
        "assigning_authority": "Ban Chỉ đạo tỉnh",
        "source_doc_number": "05-TB/BCĐ",
        "source_doc_date": today,
        "field": "Chuyển đổi số",
        "priority": write_choice("priority", "normal"),
    }
    return [example.get(column.key, "") for column in IMPORTED]


def template_csv(unit: Unit | None, today: date) -> bytes:
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\r\n")
    writer.writerow([c.header for c in IMPORTED])
    writer.writerow([v.strftime("%d/%m/%Y") if isinstance(v, date) else v
                     for v in _example(unit, today)])
    return out.getvalue().encode("utf-8-sig")  # the BOM lets Excel see UTF-8


def _required() -> set[str]:
    return {field for fields in SIX_RO.values() for field in fields}


def guide_rows() -> Iterable[list]:
    """The guide sheet's rows: each column, whether it is required, what it holds."""
    required = _required()
    for column in COLUMNS:
        note = str(column.help)
        if column.kind in ("priority", "status"):
            note += " " + _("Values: %(words)s.", words=", ".join(choices(column.kind)))
        yield [column.header, column.key,
               _("yes") if column.field in required else "", note]


def template_xlsx(unit: Unit | None, today: date) -> bytes:
    """The template: the sheet "Nhiệm vụ" with the headers and one example row, and the
    guide "Hướng dẫn", in Vietnamese."""
    book = new_book()
    TableSheet(book, TASK_SHEET, [c.header for c in IMPORTED], [_example(unit, today)],
               min_width=14).write()
    with force_locale("vi"):
        TableSheet(book, GUIDE_SHEET,
                   [_("Column"), _("English name"), _("Required"), _("What it holds")],
                   list(guide_rows()), max_width=90).write()
    return to_bytes(book)


def example_unit(actor: User) -> Unit | None:
    """A unit to show in the template: the first commune-level unit in the admin's scope."""
    return db.session.scalar(
        visible_units(actor).order_by(Unit.depth.desc(), by_name(Unit.name)).limit(1))
