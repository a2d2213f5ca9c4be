"""The "6 rõ" rule: a task names its work, person, time, responsibility, product and
authority, or it is not accepted — and the refusal names each missing "rõ"."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

SIX_RO: dict[str, tuple[str, ...]] = {
    "viec": ("title", "description"),
    "nguoi": ("lead_unit_id", "owner_name"),
    "thoi_gian": ("start_date", "deadline"),
    "trach_nhiem": ("leader_in_charge",),
    "san_pham": ("expected_output",),
    "tham_quyen": ("assigning_authority", "source_doc_number", "source_doc_date"),
}

RO_LABELS = {
    "viec": _l("clear task (rõ việc)"),
    "nguoi": _l("clear person (rõ người)"),
    "thoi_gian": _l("clear time (rõ thời gian)"),
    "trach_nhiem": _l("clear responsibility (rõ trách nhiệm)"),
    "san_pham": _l("clear product (rõ sản phẩm)"),
    "tham_quyen": _l("clear authority (rõ thẩm quyền)"),
}

FIELD_LABELS = {
    "code": _l("Code"),
    "title": _l("Title"),
    "description": _l("Description"),
    "lead_unit_id": _l("Lead unit"),
    "owner_name": _l("Accountable owner"),
    "coordinating_unit_ids": _l("Coordinating units"),
    "start_date": _l("Start date"),
    "deadline": _l("Deadline"),
    "leader_in_charge": _l("Leader in charge"),
    "expected_output": _l("Expected output"),
    "assigning_authority": _l("Assigning authority"),
    "source_doc_number": _l("Source document number"),
    "source_doc_date": _l("Source document date"),
    "field": _l("Field"),
    "priority": _l("Priority"),
}


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def missing_ro(data: dict) -> dict[str, list[str]]:
    """Each missing "rõ" with the fields that are missing for it; empty if complete."""
    missing: dict[str, list[str]] = {}
    for ro, names in SIX_RO.items():
        absent = [name for name in names if _blank(data.get(name))]
        if absent:
            missing[ro] = absent
    return missing
