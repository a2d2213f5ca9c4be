"""Import tasks from a spreadsheet (XLSX) or a CSV file — all or nothing.

The first row names the columns (tracker.tasks.columns: the Vietnamese headers that the
template and the task list's export write, or their English names such as
`leader_in_charge`); every further non-empty row is one task. Each row goes through
`tasks.service.create_task`, the one write path, inside its own savepoint, so that every
row is checked and every fault reported — row number, column as the file names it,
message — and if any row is wrong the caller rolls the whole transaction back: nothing is
imported. An XLSX file is read from its sheet "Nhiệm vụ" (or "tasks"), else its first.

An import only adds tasks: a row whose code a task has already is refused, saying so (a
file exported from the task list imports into another Tracker, or here with its codes
cleared). The export's status, progress and colour are checked and not imported: a new
task starts not started.

The file is parsed and checked with no database transaction open (on SQLite every
transaction holds the write lock from its first statement, so a slow parse inside one
would stall every other request): the caller's transaction is ended, the file is read
within `ImportLimits`, what the checks need from the database (the admin's units, the
codes in use) is read in one short transaction, every row is checked, and only a file
without a fault is written — in one short transaction that the caller commits.

Cells are read as text; dates may be dd/mm/yyyy or yyyy-mm-dd (or date cells); a unit is
named by its code (`22`, `06685`), its short name (`ha_long`), its full name
("Phường Hạ Long") or both as the export writes them ("Phường Hạ Long (06685)"), and must
lie in the importing admin's subtree; priorities are Vietnamese or English words.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from tracker.auth.models import Role, User
from tracker.dates import to_iso_date
from tracker.errors import InvalidInput
from tracker.extensions import db
from tracker.fence import stamp
from tracker.scope import require_role, visible_units
from tracker.tasks.columns import (
    BY_FIELD,
    BY_KEY,
    TASK_SHEET_NAMES,
    Column,
    choices,
    find_column,
    fold,
    read_choice,
)
from tracker.tasks.import_files import ImportLimits, ImportRejected, RowError, read_table
from tracker.tasks.models import Task
from tracker.tasks.service import create_task, parse_task_input
from tracker.tasks.sixro import SIX_RO

REQUIRED = [BY_FIELD[f] for fields in SIX_RO.values() for f in fields]


class Header:
    """The file's header row: each cell's column (None for a blank heading), and how the
    file names each column, so that a fault names the column as the file does."""

    def __init__(self, cells: list[str], number: int):
        self.columns: list[Column | None] = []
        self.names: dict[str, str] = {}
        self.errors: list[RowError] = []
        for cell in cells:
            column = find_column(cell) if cell else None
            if cell and column is None:
                self.errors.append(RowError(number, cell, _("Unknown column.")))
            elif column is not None and column.key in self.names:
                self.errors.append(RowError(number, cell, _("This column appears twice.")))
            elif column is not None:
                self.names[column.key] = cell
            self.columns.append(column)
        # A missing column is named in the file's language: English if it names any
        # column by its English name, else Vietnamese.
        english = any(fold(name) == fold(key) for key, name in self.names.items())
        for column in REQUIRED:
            if column.key not in self.names:
                self.errors.append(RowError(number, column.key if english else column.header,
                                            _("The column is missing.")))

    def name(self, key: str) -> str:
        if key in self.names:
            return self.names[key]
        return BY_KEY[key].header if key in BY_KEY else key


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
        """(unit id, None) or (None, why not). "Name (code)", as the export writes a unit,
        is found by its code."""
        named = _NAME_AND_CODE.match(text)
        if named and len(set(self.by_key.get(named.group(2), []))) == 1:
            return self.by_key[named.group(2)][0], None
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


_NAME_AND_CODE = re.compile(r"^(.*\S)\s*\(\s*([^()\s]+)\s*\)$")


def _is_iso_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _cell_input(column: Column, text: str, units: UnitFinder, raw: dict) -> str | None:
    """Put one cell's value into the service's raw input; the fault found, if any."""
    field = column.field
    if column.kind == "date":
        raw[field] = to_iso_date(text) if text else None
        if text and not _is_iso_date(raw[field]):
            raw[field] = None  # reported here, so not also as a missing "rõ"
            return _("“%(value)s” is not a date: write dd/mm/yyyy.", value=text)
    elif column.kind == "unit":
        if text:
            unit_id, problem = units.find(text)
            raw[field] = unit_id or 0  # 0: known missing, so not also "rõ người"
            return problem
        raw[field] = None
    elif column.kind == "units":
        ids, problems = [], []
        for name in filter(None, (n.strip() for n in re.split(r"[;\n]", text))):
            unit_id, problem = units.find(name)
            if problem:
                problems.append(problem)
            else:
                ids.append(unit_id)
        raw[field] = ids
        return " ".join(problems) or None
    elif column.kind == "priority":
        if text:
            raw[field] = read_choice("priority", text) or text  # the service names it
    else:
        raw[field] = text or None
    return None


def _row_input(cells: dict[Column, str], units: UnitFinder) -> tuple[dict, list[tuple[str, str]]]:
    """The service's raw input for one row, and the (column, message) faults found here."""
    raw: dict = {}
    errors: list[tuple[str, str]] = []
    for column, text in cells.items():
        if column.imported:
            problem = _cell_input(column, text, units, raw)
        elif text and column.kind in ("status", "colour") and not read_choice(column.kind,
                                                                              text):
            problem = _("“%(value)s” is not one of: %(words)s.", value=text,
                        words=", ".join(choices(column.kind)))
        else:
            problem = None  # the progress: reported by the export, not imported
        if problem:
            errors.append((column.key, problem))
    return raw, errors


# --- the import ---------------------------------------------------------------------------


def _add_faults(faults: list[tuple[str, str]], exc: InvalidInput) -> None:
    """The service's refusal as (column, message) faults, beside those found already."""
    reported = {column for column, _message in faults}
    for field, messages in exc.fields.items():
        column = BY_FIELD[field].key if field in BY_FIELD else field
        if column not in reported:
            faults.extend((column, str(m)) for m in messages)
    if not exc.fields:
        faults.append(("", exc.message))


def _codes_in_use(body, columns: list[Column | None]) -> set[str]:
    if BY_KEY["code"] not in columns:
        return set()
    index = columns.index(BY_KEY["code"])
    codes = sorted({row[index] for _n, row in body if index < len(row) and row[index]})
    return set(db.session.scalars(select(Task.code).where(Task.code.in_(codes)))) \
        if codes else set()


def _checked(actor: User, header: Header, body) -> list[tuple[int, dict]]:
    """Each row's input for the service, or ImportRejected naming every fault. Reads the
    admin's units and the codes in use in one short transaction, then checks the rows
    with none open."""
    units = UnitFinder(actor)
    existing = _codes_in_use(body, header.columns)
    taken = set(existing)
    db.session.commit()  # end the short read
    rows, errors = [], []
    for number, row in body:
        cells = {c: (row[i] if i < len(row) else "") for i, c in enumerate(header.columns) if c}
        raw, faults = _row_input(cells, units)
        try:
            parse_task_input(raw)
        except InvalidInput as exc:
            _add_faults(faults, exc)
        code = raw.get("code")
        if code and code in taken and "code" not in {c for c, _m in faults}:
            faults.append(("code", _("A task with the code %(code)s exists already: an "
                                     "import only adds tasks. Clear the code to add the "
                                     "row as a new task, or leave the row out.", code=code)
                           if code in existing else _("Already used.")))
        if code:
            taken.add(code)
        errors.extend(RowError(number, header.name(c), message) for c, message in faults)
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
    rows = read_table(filename, data, limits, sheets=TASK_SHEET_NAMES)
    # The header is the first row that is not blank; row numbers are the file's own.
    top = next((i for i, row in enumerate(rows) if any(row)), None)
    if top is None:
        raise ImportRejected(_("The file is empty."), [RowError(0, "", _("The file is empty."))])
    header = Header(rows[top], top + 1)
    if header.errors:
        raise ImportRejected(_("The header row is not right; nothing was imported."),
                             header.errors)
    body = [(n, row) for n, row in enumerate(rows[top + 1:], start=top + 2) if any(row)]
    del rows
    if not body:
        raise ImportRejected(_("The file has no tasks."),
                             [RowError(top + 2, "", _("The file has no tasks."))])
    if len(body) > limits.max_tasks:
        message = _("At most %(n)s tasks per file.", n=limits.max_tasks)
        raise ImportRejected(message, [RowError(body[limits.max_tasks][0], "", message)])
    checked = _checked(actor, header, body)

    # The write: one transaction, each row through the one write path. The checks above
    # leave little to fail here (a code taken meanwhile); whatever does is reported alike.
    now = stamp(now)  # one stamp for the whole file
    tasks: list[Task] = []
    errors: list[RowError] = []
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
        errors.extend(RowError(number, header.name(c), message) for c, message in faults)
    if errors:
        raise _rows_rejected(errors)
    return tasks


__all__ = ["REQUIRED", "Header", "ImportLimits", "ImportRejected", "RowError", "import_tasks",
           "to_iso_date"]
