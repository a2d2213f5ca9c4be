"""Workbooks a spreadsheet user can work with — the one way Tracker writes XLSX files (the
daily report, the task list, the import template).

- Cells keep their types: whole numbers as numbers ("#,##0"), percentages as fractions
  shown "0%" (`Percent`), dates as date cells shown dd/mm/yyyy; so a user can sort, sum and
  filter them. Text is a string cell and never a formula (tracker.downloads.xlsx_cells).
- Every table sheet has its header row frozen, a filter over its columns, column widths
  that fit its first rows, and prints on A4 landscape, one page wide, the header repeated.
- Sheets are written row by row (openpyxl's write-only mode), so that a national file is
  never held whole; `saved` sends the file from a temporary file kept in memory up to
  8 MB and on disk beyond.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date

from tracker.downloads import chunks_of, xlsx_cells

MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "dd/mm/yyyy"
PERCENT_FORMAT = "0%"
INTEGER_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.00"
MAX_SHEET_NAME = 31  # Excel's limit
_NOT_IN_SHEET_NAMES = str.maketrans({c: "-" for c in "[]:*?/\\"})
SAMPLE_ROWS = 200  # rows that set the column widths


class Percent(float):
    """A share (0.85) that a workbook shows as "85%" and CSV or PDF as the same text."""

    def __str__(self) -> str:
        return f"{self:.0%}"


def sheet_name(text: str) -> str:
    """A valid sheet name: without the characters Excel refuses, at most 31 of them."""
    return str(text).translate(_NOT_IN_SHEET_NAMES)[:MAX_SHEET_NAME].strip() or "Sheet"


def typed_cells(sheet, values: Iterable) -> list:
    """Cells for `sheet.append`: text as inert string cells, numbers, percentages and dates
    as typed cells with a Vietnamese number format."""
    cells = xlsx_cells(sheet, [None if v == "" else v for v in values])  # blank: no cell
    for cell in cells:
        value = cell.value
        if isinstance(value, Percent):
            cell.number_format = PERCENT_FORMAT
        elif isinstance(value, bool):
            continue
        elif isinstance(value, date):
            cell.number_format = DATE_FORMAT
        elif isinstance(value, int):
            cell.number_format = INTEGER_FORMAT
        elif isinstance(value, float):
            cell.number_format = DECIMAL_FORMAT
    return cells


def _width(value) -> int:
    if isinstance(value, date):
        return 10
    if isinstance(value, Percent):
        return 5
    lines = str("" if value is None else value).splitlines() or [""]
    return max(len(line) for line in lines)


class TableSheet:
    """One table on one sheet of a write-only workbook: optional lines above it (a title),
    then its bold header, frozen and filtered, then its rows, written by `write` (the
    filter's range, set last, needs the last row)."""

    def __init__(self, book, name: str, header: list, rows: Iterable[Iterable], *,
                 above: Iterable[Iterable] = (), min_width: int = 10, max_width: int = 60):
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter
        from openpyxl.worksheet.properties import PageSetupProperties

        self.sheet = sheet = book.create_sheet(sheet_name(name))
        self._rows = iter(rows)
        self._first = [list(row) for row in itertools.islice(self._rows, SAMPLE_ROWS)]
        self._above = [list(line) for line in above]
        self.header_row = len(self._above) + 1
        self.columns = max(1, len(header))
        # What precedes the rows in the file must be set before the first row is written.
        for index, values in enumerate(zip(header, *self._first, strict=False), start=1):
            width = max(_width(v) for v in values)
            sheet.column_dimensions[get_column_letter(index)].width = \
                min(max_width, max(min_width, width + 2))
        sheet.freeze_panes = f"A{self.header_row + 1}"
        sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        for line in self._above:
            sheet.append(typed_cells(sheet, line))
        bold = xlsx_cells(sheet, header)
        for cell in bold:
            cell.font = Font(bold=True)
        sheet.append(bold)
        self._last_row = self.header_row

    def write(self) -> TableSheet:
        for row in itertools.chain(self._first, self._rows):
            self.sheet.append(typed_cells(self.sheet, row))
            self._last_row += 1
        self._first = []
        return self._finish()

    def _finish(self) -> TableSheet:
        from openpyxl.utils import get_column_letter
        from openpyxl.worksheet.worksheet import Worksheet

        sheet = self.sheet
        last_column = get_column_letter(self.columns)
        sheet.auto_filter.ref = f"A{self.header_row}:{last_column}{self._last_row}"
        sheet.print_title_rows = f"{self.header_row}:{self.header_row}"
        setup = sheet.page_setup
        setup.orientation = "landscape"
        setup.paperSize = Worksheet.PAPERSIZE_A4
        setup.fitToWidth = 1
        setup.fitToHeight = 0  # as many pages down as the rows need
        sheet.print_options.gridLines = True
        return self


def new_book():
    """An empty write-only workbook (no default sheet)."""
    from openpyxl import Workbook

    return Workbook(write_only=True)


def saved(book, in_memory: int = 8 << 20) -> Iterator[bytes]:
    """The workbook's file, a chunk at a time. It is written now, inside the request, to a
    file kept in memory up to `in_memory` bytes and on disk beyond; closed once sent."""
    out = tempfile.SpooledTemporaryFile(max_size=in_memory)  # noqa: SIM115 (closed by chunks_of)
    book.save(out)
    out.seek(0)
    return chunks_of(out)


def to_bytes(book) -> bytes:
    return b"".join(saved(book))
