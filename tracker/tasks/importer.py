"""Import tasks from a spreadsheet (XLSX) or a CSV file — all or nothing.

The first row names the columns (`COLUMNS`; Vietnamese headings such as "Đơn vị chủ trì"
work too); every further non-empty row is one task. Each row goes through
`tasks.service.create_task`, the one write path, inside its own savepoint, so that every
row is checked and every fault reported — row number, column, message — and if any row is
wrong the caller rolls the whole transaction back: nothing is imported.

The file is parsed and checked with no database transaction open (on SQLite every
transaction holds the write lock from its first statement, so a slow parse inside one
would stall every other request): the caller's transaction is ended, the file is read
within `ImportLimits`, what the checks need from the database (the admin's units, the
codes in use) is read in one short transaction, every row is checked, and only a file
without a fault is written — in one short transaction that the caller commits.

Cells are read as text; dates may be dd/mm/yyyy or yyyy-mm-dd (or date cells); a unit is
named by its code (`22`, `06685`), its short name (`ha_long`) or its full name
("Phường Hạ Long"), and must lie in the importing admin's subtree.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from tracker.auth.models import Role, User
from tracker.dates import to_iso_date
from tracker.downloads import csv_writer, xlsx_cells
from tracker.errors import InvalidInput
from tracker.extensions import db
from tracker.fence import stamp
from tracker.rules import vietnamese
from tracker.rules.vietnamese_sql import by_name
from tracker.scope import require_role, visible_units
from tracker.tasks.import_files import ImportLimits, ImportRejected, RowError, read_table
from tracker.tasks.models import Priority, Task
from tracker.tasks.service import create_task, parse_task_input
from tracker.tasks.sixro import SIX_RO
from tracker.units.models import Unit

# Column → (the service's field, what it holds). The order is the template's.
COLUMNS: dict[str, tuple[str, object]] = {
    "code": ("code", _l("Optional; a unique code. Left empty, one is given.")),
    "title": ("title", _l("Title of the task.")),
    "description": ("description", _l("What is to be done.")),
    "lead_unit": ("lead_unit_id", _l("The one lead unit: code (e.g. 06685), short name "
                                     "(e.g. ha_long) or full name.")),
    "owner_name": ("owner_name", _l("The accountable owner, e.g. the chairman of the "
                                    "commune.")),
    "coordinating_units": ("coordinating_unit_ids", _l("Optional; units separated by ';'.")),
    "start_date": ("start_date", _l("dd/mm/yyyy or yyyy-mm-dd.")),
    "deadline": ("deadline", _l("dd/mm/yyyy or yyyy-mm-dd.")),
    "leader_in_charge": ("leader_in_charge", _l("The leader in charge.")),
    "expected_output": ("expected_output", _l("The product expected.")),
    "assigning_authority": ("assigning_authority", _l("Who assigns the task.")),
    "source_doc_number": ("source_doc_number", _l("Number/symbol of the source document.")),
    "source_doc_date": ("source_doc_date", _l("Date of the source document.")),
    "field": ("field", _l("Optional; the field or group (lĩnh vực).")),
    "priority": ("priority", _l("Optional: normal, high or urgent.")),
}
FIELD_TO_COLUMN = {field: column for column, (field, _help) in COLUMNS.items()}
REQUIRED = [FIELD_TO_COLUMN[f] for fields in SIX_RO.values() for f in fields]
DATE_COLUMNS = ("start_date", "deadline", "source_doc_date")

# Vietnamese (and English) headings accepted for each column, compared accent-folded.
ALIASES = {
    "ma": "code", "ma nhiem vu": "code",
    "ten nhiem vu": "title", "nhiem vu": "title", "tieu de": "title",
    "noi dung": "description", "mo ta": "description",
    "don vi chu tri": "lead_unit", "lead unit": "lead_unit",
    "nguoi chiu trach nhiem": "owner_name", "dau moi": "owner_name", "owner": "owner_name",
    "don vi phoi hop": "coordinating_units",
    "ngay bat dau": "start_date", "han hoan thanh": "deadline", "thoi han": "deadline",
    "lanh dao phu trach": "leader_in_charge",
    "san pham": "expected_output", "ket qua dau ra": "expected_output",
    "co quan giao": "assigning_authority", "tham quyen": "assigning_authority",
    "so ky hieu": "source_doc_number", "so van ban": "source_doc_number",
    "ngay van ban": "source_doc_date", "ngay ban hanh": "source_doc_date",
    "linh vuc": "field", "muc do uu tien": "priority", "uu tien": "priority",
}
PRIORITY_ALIASES = {
    "binh thuong": Priority.NORMAL, "thuong": Priority.NORMAL,
    "cao": Priority.HIGH, "quan trong": Priority.HIGH,
    "khan": Priority.URGENT, "khan cap": Priority.URGENT, "gap": Priority.URGENT,
}


def fold(text: str) -> str:
    """Lower case, no accents, single spaces, "_" as a space (tracker.rules.vietnamese):
    "Đơn vị  chủ_trì" → "don vi chu tri"."""
    return vietnamese.fold(text.replace("_", " "))


def _header(cells: list[str], number: int) -> tuple[list[str | None], list[RowError]]:
    """Each cell's column (None for a blank heading) and the faults of the header, which
    is row `number`."""
    errors, columns, seen = [], [], set()
    for cell in cells:
        if not cell:
            columns.append(None)
            continue
        key = fold(cell)
        column = key.replace(" ", "_") if key.replace(" ", "_") in COLUMNS else ALIASES.get(key)
        if column is None:
            errors.append(RowError(number, cell, _("Unknown column.")))
        elif column in seen:
            errors.append(RowError(number, cell, _("This column appears twice.")))
        seen.add(column)
        columns.append(column)
    for column in REQUIRED:
        if column not in seen:
            errors.append(RowError(number, column, _("The column is missing.")))
    return columns, errors


# --- from cells to the service's input ----------------------------------------------------


class UnitFinder:
    """Units in the admin's subtree by code, short name or full name."""

    def __init__(self, actor: User):
        self.by_key: dict[str, list[int]] = {}
        for unit in db.session.scalars(visible_units(actor)):
            keys = {unit.code, (unit.short_name or "").casefold(),
                    (unit.codename or "").casefold(), unit.name.casefold(), fold(unit.name)}
            for key in keys - {""}:
                self.by_key.setdefault(key, []).append(unit.id)

    def find(self, text: str) -> tuple[int | None, str | None]:
        """(unit id, None) or (None, why not)."""
        candidates = [text, text.casefold(), fold(text)]
        if text.isdigit():
            candidates += [text.zfill(2), text.zfill(5)]  # Excel drops leading zeros
        for key in candidates:
            ids = list(dict.fromkeys(self.by_key.get(key, [])))
            if len(ids) == 1:
                return ids[0], None
            if len(ids) > 1:
                return None, _("“%(name)s” matches several units; give its code.", name=text)
        return None, _("No unit “%(name)s” in your scope.", name=text)


def _is_iso_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _row_input(cells: dict[str, str], units: UnitFinder) -> tuple[dict, list[tuple[str, str]]]:
    """The service's raw input for one row, and the (column, message) faults found here."""
    raw: dict = {}
    errors: list[tuple[str, str]] = []
    for column, text in cells.items():
        field = COLUMNS[column][0]
        if column in DATE_COLUMNS:
            raw[field] = to_iso_date(text) if text else None
            if text and not _is_iso_date(raw[field]):
                errors.append((column, _("“%(value)s” is not a date: write dd/mm/yyyy.",
                                         value=text)))
                raw[field] = None  # reported here, so not also as a missing "rõ"
        elif column == "lead_unit":
            if text:
                unit_id, problem = units.find(text)
                if problem:
                    errors.append((column, problem))
                raw[field] = unit_id or 0  # 0: known missing, so not also "rõ người"
        elif column == "coordinating_units":
            ids = []
            for name in filter(None, (n.strip() for n in re.split(r"[;\n]", text))):
                unit_id, problem = units.find(name)
                if problem:
                    errors.append((column, problem))
                else:
                    ids.append(unit_id)
            raw[field] = ids
        elif column == "priority":
            raw[field] = PRIORITY_ALIASES.get(fold(text), fold(text)) if text else None
            if raw[field] is None:
                del raw[field]
        else:
            raw[field] = text or None
    return raw, errors


# --- the import ---------------------------------------------------------------------------


def _add_faults(faults: list[tuple[str, str]], exc: InvalidInput) -> None:
    """The service's refusal as (column, message) faults, beside those found already."""
    reported = {column for column, _message in faults}
    for field, messages in exc.fields.items():
        column = FIELD_TO_COLUMN.get(field, field)
        if column not in reported:
            faults.extend((column, str(m)) for m in messages)
    if not exc.fields:
        faults.append(("", exc.message))


def _codes_in_use(body, columns) -> set[str]:
    if "code" not in columns:
        return set()
    index = columns.index("code")
    codes = sorted({row[index] for _n, row in body if index < len(row) and row[index]})
    return set(db.session.scalars(select(Task.code).where(Task.code.in_(codes)))) \
        if codes else set()


def _checked(actor: User, columns, body) -> list[tuple[int, dict]]:
    """Each row's input for the service, or ImportRejected naming every fault. Reads the
    admin's units and the codes in use in one short transaction, then checks the rows
    with none open."""
    units = UnitFinder(actor)
    taken = _codes_in_use(body, columns)
    db.session.commit()  # end the short read
    rows, errors = [], []
    for number, row in body:
        cells = {c: (row[i] if i < len(row) else "") for i, c in enumerate(columns) if c}
        raw, faults = _row_input(cells, units)
        try:
            parse_task_input(raw)
        except InvalidInput as exc:
            _add_faults(faults, exc)
        code = raw.get("code")
        if code and code in taken and "code" not in {c for c, _m in faults}:
            faults.append(("code", _("Already used.")))
        if code:
            taken.add(code)
        errors.extend(RowError(number, column, message) for column, message in faults)
        rows.append((number, raw))
    if errors:
        raise _rows_rejected(errors)
    return rows


def _rows_rejected(errors: list[RowError]) -> ImportRejected:
    rows_wrong = len({e.row for e in errors})
    return ImportRejected(
        _("%(n)s row(s) have errors; nothing was imported.", n=rows_wrong), errors)


def import_tasks(actor: User, filename: str, data: bytes, *, now: datetime | None = None,
                 limits: ImportLimits | None = None) -> list[Task]:
    """Create one task per row, or none: raises ImportRejected (LimitExceeded for a file
    past `limits`) listing every fault, after which the caller rolls back. The caller's
    transaction is committed first, so that nothing is held while the file is parsed; the
    caller commits the tasks on success."""
    require_role(actor, Role.ADMIN)
    limits = limits or ImportLimits.from_config(current_app.config)
    db.session.commit()  # parse with no transaction (and so no SQLite write lock) open
    rows = read_table(filename, data, limits)
    # The header is the first row that is not blank; row numbers are the file's own.
    top = next((i for i, row in enumerate(rows) if any(row)), None)
    if top is None:
        raise ImportRejected(_("The file is empty."), [RowError(0, "", _("The file is empty."))])
    columns, errors = _header(rows[top], top + 1)
    if errors:
        raise ImportRejected(_("The header row is not right; nothing was imported."), errors)
    body = [(n, row) for n, row in enumerate(rows[top + 1:], start=top + 2) if any(row)]
    del rows
    if not body:
        raise ImportRejected(_("The file has no tasks."),
                             [RowError(top + 2, "", _("The file has no tasks."))])
    if len(body) > limits.max_tasks:
        message = _("At most %(n)s tasks per file.", n=limits.max_tasks)
        raise ImportRejected(message, [RowError(body[limits.max_tasks][0], "", message)])
    checked = _checked(actor, columns, body)

    # The write: one transaction, each row through the one write path. The checks above
    # leave little to fail here (a code taken meanwhile); whatever does is reported alike.
    now = stamp(now)  # one stamp for the whole file
    tasks: list[Task] = []
    for number, raw in checked:
        faults: list[tuple[str, str]] = []
        savepoint = db.session.begin_nested()
        try:
            task = create_task(actor, raw, now=now)
        except InvalidInput as exc:
            savepoint.rollback()
            _add_faults(faults, exc)
        else:
            savepoint.commit()
            tasks.append(task)
        errors.extend(RowError(number, column, message) for column, message in faults)
    if errors:
        raise _rows_rejected(errors)
    return tasks


# --- the template -------------------------------------------------------------------------


def _example(unit: Unit | None, today: date) -> list[str]:
    example = {
        "title": "Số hoá hồ sơ, tài liệu lưu trữ sau sắp xếp",
        "description": "Số hoá hồ sơ, tài liệu tiếp nhận từ các đơn vị cũ.",
        "lead_unit": (unit.short_name or unit.code) if unit else "",
        "owner_name": "Chủ tịch UBND xã",
        "start_date": today.strftime("%d/%m/%Y"),
        "deadline": date(today.year + (today.month == 12), today.month % 12 + 1,
                         min(today.day, 28)).strftime("%d/%m/%Y"),
        "leader_in_charge": "Phó Chủ tịch UBND tỉnh",
        "expected_output": "Kho hồ sơ điện tử; báo cáo kết quả",
        "assigning_authority": "Ban Chỉ đạo tỉnh",
        "source_doc_number": "05-TB/BCĐ",
        "source_doc_date": today.strftime("%d/%m/%Y"),
        "field": "Chuyển đổi số",
        "priority": "normal",
    }
    return [example.get(column, "") for column in COLUMNS]


def template_csv(unit: Unit | None, today: date) -> bytes:
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerow(_example(unit, today))
    return out.getvalue().encode("utf-8-sig")  # the BOM lets Excel see UTF-8


def template_xlsx(unit: Unit | None, today: date) -> bytes:
    import openpyxl
    from openpyxl.styles import Font

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "tasks"
    sheet.append(list(COLUMNS))
    sheet.append(xlsx_cells(sheet, _example(unit, today)))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[openpyxl.utils.get_column_letter(index)].width = \
            max(14, len(column) + 4)
    guide = book.create_sheet("guide")
    guide.append([_("Column"), _("Required"), _("What it holds")])
    for column, (_field, help_text) in COLUMNS.items():
        guide.append(xlsx_cells(guide, [column, _("yes") if column in REQUIRED else "",
                                         str(help_text)]))
    guide.column_dimensions["A"].width = 22
    guide.column_dimensions["C"].width = 80
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def example_unit(actor: User) -> Unit | None:
    """A unit to show in the template: the first commune-level unit in the admin's scope."""
    return db.session.scalar(
        visible_units(actor).order_by(Unit.depth.desc(), by_name(Unit.name)).limit(1))



__all__ = ["COLUMNS", "REQUIRED", "ImportLimits", "ImportRejected", "RowError",
           "example_unit", "import_tasks", "template_csv", "template_xlsx", "to_iso_date"]
