"""The bounds of an imported file, checked before anything is parsed into memory.

An XLSX file is a zip of XML parts, and a few hundred kilobytes of it can unpack into
gigabytes (a shared-strings table of millions of entries, one row of millions of cells).
So the zip is judged first by its directory alone — parts, unpacked sizes, compression
ratio, the size of the shared-strings table — and then every XML part is read once as a
stream (expat, a chunk at a time, nothing kept) counting rows, cells per row, cells and
shared strings, stopping at the first limit passed. Only a file within every bound is
then handed to openpyxl. A refusal names the limit and its setting (`ImportLimits`,
README "Settings").
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, fields
from xml.parsers import expat

from flask_babel import gettext as _

from tracker.errors import InvalidInput

MB = 1024 * 1024
CHUNK = 64 * 1024
# Elements a part other than a sheet's cells may hold (styles, workbook, relationships):
# a real workbook has a few thousand; openpyxl builds an object for each.
MAX_OTHER_ELEMENTS = 50_000
# Elements inside one cell or one shared string (rich-text runs and their properties).
MAX_ELEMENTS_IN_CELL = 200


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


SETTINGS = {  # each limit's setting
    "max_bytes": "TRACKER_IMPORT_MAX_MB",
    "max_unpacked_bytes": "TRACKER_IMPORT_MAX_UNPACKED_MB",
    "max_part_bytes": "TRACKER_IMPORT_MAX_PART_MB",
    "max_ratio": "TRACKER_IMPORT_MAX_RATIO",
    "max_parts": "TRACKER_IMPORT_MAX_PARTS",
    "max_strings_bytes": "TRACKER_IMPORT_MAX_STRINGS_MB",
    "max_strings": "TRACKER_IMPORT_MAX_STRINGS",
    "max_tasks": "TRACKER_IMPORT_MAX_TASKS",
    "max_rows": "TRACKER_IMPORT_MAX_ROWS",
    "max_columns": "TRACKER_IMPORT_MAX_COLUMNS",
    "max_cells": "TRACKER_IMPORT_MAX_CELLS",
}


@dataclass(frozen=True)
class ImportLimits:
    """What an import accepts; each field has its setting in SETTINGS (sizes in MB in
    the environment, in bytes here)."""

    max_bytes: int = 2 * MB  # the file as uploaded
    max_unpacked_bytes: int = 30 * MB  # every part of the zip, unpacked
    max_part_bytes: int = 15 * MB  # one part, unpacked
    max_ratio: int = 100  # unpacked / packed size of a part over 1 MB
    max_parts: int = 100  # files inside the zip
    max_strings_bytes: int = 8 * MB  # xl/sharedStrings.xml, unpacked
    max_strings: int = 100_000  # entries of the shared-strings table
    max_tasks: int = 2000  # tasks (non-blank rows after the header)
    max_rows: int = 50_000  # rows, blank ones included
    max_columns: int = 100  # cells in one row
    max_cells: int = 300_000  # cells in the whole sheet

    @classmethod
    def from_config(cls, config) -> ImportLimits:
        """The limits the app is configured with (tracker.config reads the environment)."""
        values = {f.name: config[SETTINGS[f.name]] for f in fields(cls)
                  if config.get(SETTINGS[f.name]) is not None}
        return cls(**values)


class LimitExceeded(ImportRejected):
    """The file passes one of the limits: refused whole, naming the limit's setting.
    Sizes answer 413 (too large), counts 422."""

    def __init__(self, limit: str | None, message: str, *, status: int = 422):
        setting = SETTINGS[limit] if limit else None
        text = _("%(message)s (limit %(setting)s).", message=message.rstrip("."),
                 setting=setting) if setting else message
        super().__init__(text, [RowError(0, "", text)])
        self.status = status
        self.limit = setting
        self.fields = {"file": [text]}


def _mb(size: int) -> str:
    return f"{size / MB:g}"


def refuse_size(limits: ImportLimits, size: int) -> None:
    if size > limits.max_bytes:
        raise LimitExceeded("max_bytes", _("The file is larger than %(mb)s MB.",
                                           mb=_mb(limits.max_bytes)), status=413)


def check_zip(archive: zipfile.ZipFile, limits: ImportLimits) -> None:
    """Judge the zip by its directory before any part is unpacked. (zipfile never
    unpacks more of a part than its directory entry declares, and checks its CRC.)"""
    infos = archive.infolist()
    if len(infos) > limits.max_parts:
        raise LimitExceeded("max_parts", _("The spreadsheet holds more than %(n)s parts.",
                                           n=limits.max_parts))
    total = 0
    for info in infos:
        if info.filename == "xl/sharedStrings.xml" and \
                info.file_size > limits.max_strings_bytes:
            raise LimitExceeded("max_strings_bytes", _(
                "The spreadsheet's table of texts unpacks to more than %(mb)s MB.",
                mb=_mb(limits.max_strings_bytes)), status=413)
        if info.file_size > limits.max_part_bytes:
            raise LimitExceeded("max_part_bytes", _(
                "A part of the spreadsheet unpacks to more than %(mb)s MB.",
                mb=_mb(limits.max_part_bytes)), status=413)
        if info.file_size > MB and info.file_size > limits.max_ratio * max(
                info.compress_size, 1):
            raise LimitExceeded("max_ratio", _(
                "A part of the spreadsheet is compressed more than %(n)s times: it is "
                "not an ordinary spreadsheet.", n=limits.max_ratio), status=413)
        total += info.file_size
        if total > limits.max_unpacked_bytes:
            raise LimitExceeded("max_unpacked_bytes", _(
                "The spreadsheet unpacks to more than %(mb)s MB.",
                mb=_mb(limits.max_unpacked_bytes)), status=413)


class _PartCounter:
    """Counts one XML part's elements as expat streams it, raising at the first limit."""

    def __init__(self, limits: ImportLimits, totals: dict[str, int]):
        self.limits = limits
        self.totals = totals
        self.kind = None  # "worksheet", "sst" or "other", from the root element
        self.depth = 0
        self.in_data = False  # inside <sheetData>
        self.item_depth = 0  # depth of the <c> or <si> being read, 0 outside one
        self.in_item = 0
        self.row_cells = 0
        self.other = 0

    def start(self, name: str, _attributes) -> None:
        local = name.rsplit(" ", 1)[-1]  # namespace_separator=" "
        self.depth += 1
        if self.kind is None:
            self.kind = local if local in ("worksheet", "sst") else "other"
        if self.item_depth:
            self.in_item += 1
            if self.in_item > MAX_ELEMENTS_IN_CELL:
                raise LimitExceeded(None, _(
                    "A cell holds more than %(n)s pieces of formatted text.",
                    n=MAX_ELEMENTS_IN_CELL))
            return
        if self.kind == "worksheet" and local == "sheetData":
            self.in_data = True
        elif self.in_data and local == "row":
            self.row_cells = 0
            self.totals["rows"] += 1
            if self.totals["rows"] > self.limits.max_rows:
                raise LimitExceeded("max_rows", _("The file has more than %(n)s rows.",
                                                  n=self.limits.max_rows))
        elif self.in_data and local == "c":
            self.item_depth, self.in_item = self.depth, 0
            self.row_cells += 1
            self.totals["cells"] += 1
            if self.row_cells > self.limits.max_columns:
                raise LimitExceeded("max_columns", _(
                    "A row has more than %(n)s cells.", n=self.limits.max_columns))
            if self.totals["cells"] > self.limits.max_cells:
                raise LimitExceeded("max_cells", _("The file has more than %(n)s cells.",
                                                   n=self.limits.max_cells))
        elif self.kind == "sst" and local == "si":
            self.item_depth, self.in_item = self.depth, 0
            self.totals["strings"] += 1
            if self.totals["strings"] > self.limits.max_strings:
                raise LimitExceeded("max_strings", _(
                    "The spreadsheet's table of texts has more than %(n)s entries.",
                    n=self.limits.max_strings))
        else:
            self.other += 1
            if self.other > MAX_OTHER_ELEMENTS:
                raise LimitExceeded(None, _(
                    "A part of the spreadsheet has more than %(n)s elements.",
                    n=MAX_OTHER_ELEMENTS))

    def end(self, name: str) -> None:
        if self.depth == self.item_depth:
            self.item_depth = 0
        elif name.rsplit(" ", 1)[-1] == "sheetData":
            self.in_data = False
        self.depth -= 1


def _no_dtd(*_args) -> None:
    raise ValueError("a DTD or an entity in a spreadsheet part")


def _scan_part(stream, counter: _PartCounter, limit: int) -> None:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = counter.start
    parser.EndElementHandler = counter.end
    # A spreadsheet has no DTD; one is how entity-expansion bombs begin.
    parser.StartDoctypeDeclHandler = _no_dtd
    parser.EntityDeclHandler = _no_dtd
    read = 0
    while chunk := stream.read(CHUNK):
        read += len(chunk)
        if read > limit:  # never more than the directory said, whatever the part claims
            raise LimitExceeded("max_part_bytes", _(
                "A part of the spreadsheet unpacks to more than %(mb)s MB.",
                mb=_mb(limit)), status=413)
        parser.Parse(chunk, False)
    parser.Parse(b"", True)


def check_xlsx(data: bytes, limits: ImportLimits) -> None:
    """Refuse an XLSX file that passes a limit, before openpyxl reads it. Raises
    LimitExceeded, or ImportRejected if the file is not a readable spreadsheet."""
    unreadable = _("The file could not be read as an XLSX spreadsheet.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_zip(archive, limits)
            totals = {"rows": 0, "cells": 0, "strings": 0}
            for info in archive.infolist():
                if not info.filename.endswith((".xml", ".rels")):
                    continue  # pictures and the like: openpyxl does not parse them
                with archive.open(info) as stream:
                    _scan_part(stream, _PartCounter(limits, totals), limits.max_part_bytes)
    except ImportRejected:
        raise
    except (zipfile.BadZipFile, expat.ExpatError, ValueError, OSError, EOFError,
            NotImplementedError, RuntimeError) as exc:
        raise ImportRejected(unreadable, [RowError(0, "", unreadable)]) from exc
