"""Files handed to users — CSV, XLSX, PDF downloads — made so that opening them runs
nothing and their names inject nothing. Every download of the app goes through here.

- CSV cells: a text that a spreadsheet would take for a formula (OWASP "CSV injection":
  it starts with = + - @, a tab or a carriage return) gets a leading apostrophe, which
  spreadsheets read as "this is text". Numbers stay numbers, and so does a text that is a
  plain number such as "-5". (The `defusedcsv` package does the same but misses the tab
  and the carriage return, and rewrites every "|" in the text.)
- XLSX cells: text is written as a string cell (`data_type = "s"`); openpyxl would
  otherwise store any text starting with "=" as a live formula. Numbers and dates keep
  their types.
- PDF: text goes into reportlab's Paragraph, which reads a mini-markup (<img>, <a>,
  <font>…); `pdf_text` escapes it so that it is printed as written.
- DOCX: text goes into a run's text (python-docx escapes it, and Word reads no field or
  formula from a run's text); `docx_text` drops the characters XML cannot hold.
- File names: `content_disposition` builds the header of RFC 6266 with an ASCII
  `filename=` and the exact name as `filename*=UTF-8''…` (RFC 5987); quotes, control
  characters (CR/LF) and path separators never reach the header.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator
from numbers import Number
from typing import IO
from urllib.parse import quote
from xml.sax.saxutils import escape

from flask import Response

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9][0-9.,]*")
_ASCII_SAFE = re.compile(r"[^A-Za-z0-9._ ()+-]")
# Characters an XLSX file cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE): dropped.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(value):
    """A CSV cell that no spreadsheet will evaluate: see the module docstring."""
    if value is None or isinstance(value, Number):
        return value
    text = str(value)
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


class _NeutralWriter:
    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row: Iterable):
        return self._writer.writerow([neutralise(v) for v in row])

    def writerows(self, rows: Iterable[Iterable]):
        for row in rows:
            self.writerow(row)


def csv_writer(out, **options) -> _NeutralWriter:
    """csv.writer whose every cell is neutralised."""
    return _NeutralWriter(csv.writer(out, **options))


def xlsx_cells(sheet, values: Iterable) -> list:
    """openpyxl cells for `sheet.append`: text as string cells, never formulas (for
    normal and write-only sheets alike)."""
    from openpyxl.cell.cell import Cell

    cells = []
    for value in values:
        if isinstance(value, Cell):
            cells.append(value)
            continue
        if isinstance(value, str):
            cell = Cell(sheet, row=1, column=1, value=_XML_ILLEGAL.sub("", value))
            cell.data_type = "s"
        else:
            cell = Cell(sheet, row=1, column=1, value=value)
        cells.append(cell)
    return cells


def pdf_text(value) -> str:
    """Text for a reportlab Paragraph, printed as written: no markup is read from it."""
    return escape("" if value is None else str(value))


def docx_text(value) -> str:
    """Text for a python-docx run, printed as written (see the module docstring)."""
    return _XML_ILLEGAL.sub("", "" if value is None else str(value))


def _ascii_fallback(name: str) -> str:
    name = name.replace("đ", "d").replace("Đ", "D")
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return _ASCII_SAFE.sub("_", name)


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """`attachment; filename="ascii"; filename*=UTF-8''exact` for any name at all."""
    name = unicodedata.normalize("NFC", filename)
    # Control characters (CR, LF, NUL…), separators of paths, quotes and backslashes
    # have no place in a file name given to a browser.
    name = "".join("_" if (unicodedata.category(c)[0] in "CZ" and c != " ") or c in '/\\"'
                   else c for c in name)
    name = name.strip(" .") or "download"
    fallback = _ascii_fallback(name).strip(" .") or "download"
    value = f'{disposition}; filename="{fallback}"'
    if fallback != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value


def chunks_of(out: IO[bytes]) -> Iterator[bytes]:
    """A file's content for a streamed download, a chunk at a time; the file is closed once
    sent."""
    with out:
        while chunk := out.read(1 << 16):
            yield chunk


def attachment(body, filename: str, mimetype: str) -> Response:
    """A download: `body` (bytes or an iterator of them) under a safe file name, kept
    by no cache (the downloads hold data of one's scope)."""
    # A type with its parameters ("text/csv; charset=utf-8") is sent as it is: given as a
    # mimetype, Werkzeug would add a second charset to it.
    kind = {"content_type": mimetype} if ";" in mimetype else {"mimetype": mimetype}
    return Response(body, **kind, headers={
        "Content-Disposition": content_disposition(filename),
        "Cache-Control": "private, no-store",
    })
