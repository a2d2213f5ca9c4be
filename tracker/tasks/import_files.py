"""Reading a task list from an XLSX or CSV file into rows of text cells, within limits:
the file's size, the rows scanned, the tasks per file. Faults are reported the importer's
way (`ImportRejected`, one `RowError` each)."""

from __future__ import annotations

import csv
import io
import unicodedata
import warnings
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _

from tracker.errors import InvalidInput

MAX_BYTES = 2 * 1024 * 1024  # 2 MB: some thousands of rows
MAX_COLUMNS = 40
MAX_SCANNED = 50_000  # rows read at most, blank ones included
EXTENSIONS = ("xlsx", "csv")


@dataclass(frozen=True)
class RowError:
    """One fault: the row as the file numbers it (0: the file as a whole), the column, the
    message."""

    row: int
    column: str
    message: str


class ImportRejected(InvalidInput):
    """The file was refused; `errors` lists every fault found. Nothing was imported."""

    def __init__(self, message: str, errors: list[RowError]):
        fields: dict[str, list[str]] = {}
        for error in errors:
            fields.setdefault(f"row {error.row}" + (f" {error.column}" if error.column else ""),
                              []).append(error.message)
        super().__init__(message, fields)
        self.errors = errors


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


def _collect(rows, max_rows: int) -> list[list[str]]:
    """Every row of the file (blank rows too, so that row numbers stay true), stopping as
    soon as there are more tasks than allowed: the caller then says so."""
    collected: list[list[str]] = []
    filled = 0
    for row in rows:
        collected.append(row)
        filled += any(row)
        if filled > max_rows + 1:  # the header and one task too many
            break
        if len(collected) > MAX_SCANNED:
            message = _("The file has more than %(n)s rows.", n=MAX_SCANNED)
            raise ImportRejected(message, [RowError(len(collected), "", message)])
    return collected


def _read_xlsx(data: bytes, max_rows: int) -> list[list[str]]:
    import openpyxl

    try:
        # Files from other tools often lack styles and the like; openpyxl warns about what
        # it does not read, which says nothing about the cells.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheet = book.worksheets[0]
                cells = sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
                rows = _collect(([_cell_text(v) for v in row] for row in cells), max_rows)
            finally:
                book.close()
    except ImportRejected:
        raise
    except Exception as exc:  # a damaged or foreign file: zip, XML, openpyxl errors alike
        raise ImportRejected(_("The file could not be read as an XLSX spreadsheet."),
                             [RowError(0, "", _("The file could not be read as an XLSX "
                                                "spreadsheet."))]) from exc
    return rows


def _read_csv(data: bytes, max_rows: int) -> list[list[str]]:
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
        rows = _collect(([cell.strip() for cell in row[:MAX_COLUMNS]] for row in reader),
                        max_rows)
    except csv.Error as exc:
        raise ImportRejected(_("The file could not be read as CSV."),
                             [RowError(reader.line_num, "", str(exc))]) from exc
    return rows


def read_table(filename: str, data: bytes, *, max_rows: int) -> list[list[str]]:
    """The file's rows as text cells, blank rows included (so that row numbers are the
    file's), read until more than `max_rows` non-blank rows follow the header."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in EXTENSIONS:
        raise ImportRejected(_("Upload an .xlsx or a .csv file."),
                             [RowError(0, "", _("Upload an .xlsx or a .csv file."))])
    if len(data) > MAX_BYTES:
        message = _("The file is larger than %(mb)s MB.", mb=MAX_BYTES // (1024 * 1024))
        raise ImportRejected(message, [RowError(0, "", message)])
    return _read_xlsx(data, max_rows) if extension == "xlsx" else _read_csv(data, max_rows)
