"""Reading a task list from an XLSX or CSV file into rows of text cells, within limits
(`ImportLimits`): the file's size; for XLSX the zip and its parts, checked before parsing
(tracker.tasks.import_limits); then, while the rows stream in, the rows, cells per row,
cells and tasks. Faults are reported the importer's way (`ImportRejected`, one `RowError`
each). Nothing here touches the database: the importer parses with no transaction open."""

from __future__ import annotations

import csv
import io
import unicodedata
import warnings
from datetime import date, datetime

from flask_babel import gettext as _

from tracker.tasks.columns import fold
from tracker.tasks.import_limits import (
    ImportLimits,
    ImportRejected,
    LimitExceeded,
    RowError,
    check_xlsx,
    refuse_size,
)

MAX_COLUMNS = 40  # columns read; those beyond are not the template's
EXTENSIONS = ("xlsx", "csv")


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unicodedata.normalize("NFC", str(value)).strip()


def _collect(rows, limits: ImportLimits) -> list[list[str]]:
    """Every row of the file (blank rows too, so that row numbers stay true), stopping as
    soon as there are more tasks, rows or cells than allowed."""
    collected: list[list[str]] = []
    filled = cells = 0
    for row in rows:
        collected.append(row)
        filled += any(row)
        cells += len(row)
        if filled > limits.max_tasks + 1:  # the header and one task too many: the
            break                          # importer names the row
        if len(collected) > limits.max_rows:
            raise LimitExceeded("max_rows", _("The file has more than %(n)s rows.",
                                              n=limits.max_rows))
        if cells > limits.max_cells:
            raise LimitExceeded("max_cells", _("The file has more than %(n)s cells.",
                                               n=limits.max_cells))
    return collected


def _sheet(book, names: tuple[str, ...]):
    """The first sheet whose name, folded, is one of `names`; else the first sheet."""
    folded = {fold(sheet.title): sheet for sheet in book.worksheets}
    return next((folded[name] for name in names if name in folded), book.worksheets[0])


def _read_xlsx(data: bytes, limits: ImportLimits, sheets: tuple[str, ...]) -> list[list[str]]:
    import openpyxl

    check_xlsx(data, limits)  # the zip and every part within bounds, before openpyxl
    try:
        # Files from other tools often lack styles and the like; openpyxl warns about what
        # it does not read, which says nothing about the cells.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # read_only: the sheet is streamed row by row, never held whole.
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheet = _sheet(book, sheets)
                cells = sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
                rows = _collect(([_cell_text(v) for v in row] for row in cells), limits)
            finally:
                book.close()
    except ImportRejected:
        raise
    except Exception as exc:  # a damaged or foreign file: zip, XML, openpyxl errors alike
        raise ImportRejected(_("The file could not be read as an XLSX spreadsheet."),
                             [RowError(0, "", _("The file could not be read as an XLSX "
                                                "spreadsheet."))]) from exc
    return rows


def _csv_rows(reader, limits: ImportLimits):
    for row in reader:
        if len(row) > limits.max_columns:
            raise LimitExceeded("max_columns", _("A row has more than %(n)s cells.",
                                                 n=limits.max_columns))
        yield [cell.strip() for cell in row[:MAX_COLUMNS]]


def _read_csv(data: bytes, limits: ImportLimits) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on a Vietnamese Windows saves "CSV" in Windows-1258.
        text = data.decode("cp1258", errors="replace")
    text = unicodedata.normalize("NFC", text)
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = _collect(_csv_rows(reader, limits), limits)
    except csv.Error as exc:
        raise ImportRejected(_("The file could not be read as CSV."),
                             [RowError(reader.line_num, "", str(exc))]) from exc
    return rows


def read_table(filename: str, data: bytes, limits: ImportLimits,
               sheets: tuple[str, ...] = ()) -> list[list[str]]:
    """The file's rows as text cells, blank rows included (so that row numbers are the
    file's), read until more than `limits.max_tasks` non-blank rows follow the header. Of
    an XLSX file, the first sheet named one of `sheets` (folded: no accents, lower case)
    is read, else the first sheet."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in EXTENSIONS:
        raise ImportRejected(_("Upload an .xlsx or a .csv file."),
                             [RowError(0, "", _("Upload an .xlsx or a .csv file."))])
    refuse_size(limits, len(data))
    return _read_xlsx(data, limits, sheets) if extension == "xlsx" else _read_csv(data, limits)


__all__ = ["ImportLimits", "ImportRejected", "LimitExceeded", "RowError", "read_table"]
