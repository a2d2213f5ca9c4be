"""The columns of a task file — one table for the import template, its guide sheet, the
importer and the task list's export, so that a file exported can be imported back.

Each column has its Vietnamese header (what Tracker writes), its English name (what older
templates have: `leader_in_charge`), more headers that people write, and the kind of value
it holds. A header is recognised accent-, case- and space-folded ("LÃNH ĐẠO PHỤ TRÁCH",
"lanh dao phu trach" and "Leader in charge" alike). Priorities, statuses and colours are
written in Vietnamese and read in Vietnamese or English.

The last three columns (status, progress, colour) are what the export reports of a task's
life; the template leaves them out, and the importer checks them and sets nothing from
them: an imported task starts as every new task does, not started.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from tracker.rules import vietnamese
from tracker.tasks.models import Priority, Status


def fold(text: str) -> str:
    """Lower case, no accents, single spaces, "_" as a space (tracker.rules.vietnamese):
    "Đơn vị  chủ_trì" → "don vi chu tri"."""
    return vietnamese.fold(text.replace("_", " "))


@dataclass(frozen=True, eq=False)  # one object per column: compared and hashed by identity
class Column:
    key: str  # the English name, as the API and older templates have it
    header: str  # the Vietnamese header Tracker writes
    kind: str  # text, date, unit, units, priority, status, percent, colour
    help: object  # what it holds (lazy text, for the guide and the import page)
    field: str | None = None  # the task service's field; None: reported, not imported
    aliases: tuple[str, ...] = ()  # more headers accepted, Vietnamese or English

    @property
    def imported(self) -> bool:
        return self.field is not None

    def names(self) -> set[str]:
        """Every header, folded, that names this column."""
        return {fold(name) for name in (self.key, self.header, *self.aliases)}


_DATE_HELP = _l("A date: dd/mm/yyyy (a date cell or text such as 31/12/2026).")

COLUMNS: tuple[Column, ...] = (
    Column("code", "Mã nhiệm vụ", "text", _l("Optional; a unique code. Left empty, one is "
                                             "given."), "code", ("Mã", "Code")),
    Column("title", "Tên nhiệm vụ", "text", _l("Title of the task."), "title",
           ("Nhiệm vụ", "Tiêu đề", "Title")),
    Column("description", "Nội dung", "text", _l("What is to be done."), "description",
           ("Mô tả", "Description")),
    Column("lead_unit", "Đơn vị chủ trì", "unit",
           _l("The one lead unit: code (e.g. 06685), short name (e.g. ha_long), full name, "
              "or full name and code as the export writes it: Phường Hạ Long (06685)."),
           "lead_unit_id", ("Lead unit",)),
    Column("owner_name", "Người chịu trách nhiệm", "text",
           _l("The accountable owner, e.g. the chairman of the commune."), "owner_name",
           ("Đầu mối", "Owner", "Accountable owner")),
    Column("coordinating_units", "Đơn vị phối hợp", "units",
           _l("Optional; units separated by ';'."), "coordinating_unit_ids",
           ("Coordinating units",)),
    Column("start_date", "Ngày bắt đầu", "date", _DATE_HELP, "start_date", ("Start date",)),
    Column("deadline", "Hạn hoàn thành", "date", _DATE_HELP, "deadline",
           ("Thời hạn", "Thời hạn hoàn thành", "Deadline")),
    Column("leader_in_charge", "Lãnh đạo phụ trách", "text", _l("The leader in charge."),
           "leader_in_charge", ("Leader in charge",)),
    Column("expected_output", "Sản phẩm đầu ra", "text", _l("The product expected."),
           "expected_output", ("Sản phẩm", "Kết quả đầu ra", "Expected output")),
    Column("assigning_authority", "Cơ quan giao nhiệm vụ", "text",
           _l("Who assigns the task."), "assigning_authority",
           ("Cơ quan giao", "Thẩm quyền", "Assigning authority")),
    Column("source_doc_number", "Số/ký hiệu văn bản giao nhiệm vụ", "text",
           _l("Number/symbol of the source document."), "source_doc_number",
           ("Số ký hiệu", "Số, ký hiệu văn bản", "Số văn bản", "Source document number")),
    Column("source_doc_date", "Ngày ban hành văn bản giao nhiệm vụ", "date",
           _l("Date of the source document: dd/mm/yyyy."), "source_doc_date",
           ("Ngày văn bản", "Ngày ban hành", "Source document date")),
    Column("field", "Lĩnh vực", "text", _l("Optional; the field or group (lĩnh vực)."),
           "field", ("Field",)),
    Column("priority", "Mức độ ưu tiên", "priority",
           _l("Optional: Bình thường, Quan trọng or Khẩn (normal, high or urgent)."),
           "priority", ("Ưu tiên", "Priority")),
    Column("status", "Trạng thái", "status",
           _l("Written by the export; checked on import, which always starts a task as not "
              "started."), aliases=("Status",)),
    Column("progress", "Tiến độ", "percent",
           _l("Written by the export, from 0 to 100 percent; not imported."),
           aliases=("Progress",)),
    Column("colour", "Màu", "colour", _l("Written by the export; not imported."),
           aliases=("Màu cảnh báo", "Colour", "Color")),
)
IMPORTED = tuple(c for c in COLUMNS if c.imported)
BY_KEY = {c.key: c for c in COLUMNS}
BY_FIELD = {c.field: c for c in IMPORTED}
_BY_NAME = {name: c for c in COLUMNS for name in c.names()}

# The sheets: Tracker writes the Vietnamese names; the importer reads the first sheet of
# these names that the file has (else its first sheet).
TASK_SHEET, GUIDE_SHEET = "Nhiệm vụ", "Hướng dẫn"
TASK_SHEET_NAMES = (fold(TASK_SHEET), "tasks")

# Values written in Vietnamese (the first word) and read in any of these words, folded.
PRIORITY_WORDS = {
    Priority.NORMAL: ("Bình thường", "Thường", "normal"),
    Priority.HIGH: ("Quan trọng", "Cao", "high"),
    Priority.URGENT: ("Khẩn", "Khẩn cấp", "Gấp", "Hoả tốc", "urgent"),
}
STATUS_WORDS = {
    Status.NOT_STARTED: ("Chưa thực hiện", "Chưa bắt đầu", "not started"),
    Status.IN_PROGRESS: ("Đang thực hiện", "in progress"),
    Status.SUBMITTED: ("Chờ xác nhận", "submitted", "awaiting confirmation"),
    Status.RETURNED: ("Bị trả lại", "Trả lại", "returned"),
    Status.DONE: ("Hoàn thành", "Đã hoàn thành", "done"),
    Status.CANCELLED: ("Đã huỷ", "Huỷ", "cancelled", "canceled"),
}
COLOUR_WORDS = {"green": ("Xanh", "green"), "yellow": ("Vàng", "yellow"),
                "red": ("Đỏ", "red")}


def _reader(words: dict) -> dict[str, str]:
    return {fold(word): str(value) for value, names in words.items()
            for word in (*names, str(value))}


_VALUES = {"priority": _reader(PRIORITY_WORDS), "status": _reader(STATUS_WORDS),
           "colour": _reader(COLOUR_WORDS)}
_WRITTEN = {"priority": PRIORITY_WORDS, "status": STATUS_WORDS, "colour": COLOUR_WORDS}


def find_column(header: str) -> Column | None:
    """The column a header names, or None."""
    return _BY_NAME.get(fold(header))


def read_choice(kind: str, text: str) -> str | None:
    """The stored value of a priority, status or colour written in either language."""
    return _VALUES[kind].get(fold(text))


def write_choice(kind: str, value: str | None) -> str:
    """A stored priority, status or colour in Vietnamese."""
    words = _WRITTEN[kind].get(value) if value is not None else None
    return words[0] if words else (value or "")


def choices(kind: str) -> list[str]:
    """The Vietnamese words of a priority, status or colour, for the guide."""
    return [names[0] for names in _WRITTEN[kind].values()]
