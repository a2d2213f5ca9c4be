"""Load the real unit tree (after 1 July 2025) from the `vietnam-provinces` package.

Idempotent: units are matched by their official code; a re-run inserts nothing and
changes nothing unless the package's data changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from vietnam_provinces import Province, VietNamDivisionType, Ward

from tracker.extensions import db
from tracker.rules.vietnamese import fold
from tracker.units.models import Unit, UnitKind

NATION_CODE = "VN"
NATION_NAME = "Việt Nam"

_PREFIXES = {
    VietNamDivisionType.XA: "xa_",
    VietNamDivisionType.PHUONG: "phuong_",
    VietNamDivisionType.DAC_KHU: "dac_khu_",
}


@dataclass
class ImportResult:
    provinces: int = 0
    communes: int = 0
    created: int = 0
    updated: int = 0


def province_code(province: Province) -> str:
    return f"{int(province.code):02d}"


def commune_code(ward: Ward) -> str:
    return f"{int(ward.code):05d}"


def short_name(ward: Ward) -> str:
    """`phuong_ha_long` → `ha_long`: the name officials use in a username or a file name."""
    prefix = _PREFIXES.get(ward.division_type, "")
    return ward.codename.removeprefix(prefix)


def _fold(text: str) -> str:
    text = fold(text)
    for prefix in ("tinh ", "thanh pho "):
        text = text.removeprefix(prefix)
    return text.replace("_", " ").strip()


def find_province(query: str) -> Province:
    """A province by name ("Quảng Ninh", "Tỉnh Quảng Ninh"), codename or code ("22")."""
    wanted = _fold(query)
    for province in Province.iter_all():
        if wanted in {_fold(province.name), _fold(province.codename)} or (
            wanted.isdigit() and int(wanted) == int(province.code)
        ):
            return province
    raise LookupError(query)


def _ensure_nation(existing: dict[str, Unit], result: ImportResult) -> Unit:
    unit = existing.get(NATION_CODE)
    if unit is None:
        unit = Unit(code=NATION_CODE, name=NATION_NAME, kind=UnitKind.NATION, depth=0)
        db.session.add(unit)
        db.session.flush()
        unit.path = f"/{unit.id}/"
        existing[NATION_CODE] = unit
        result.created += 1
    return unit


def _upsert(existing: dict[str, Unit], parent: Unit, code: str, fields: dict, result) -> Unit:
    unit = existing.get(code)
    if unit is None:
        unit = Unit(code=code, parent_id=parent.id, depth=parent.depth + 1, **fields)
        db.session.add(unit)
        existing[code] = unit
        result.created += 1
        return unit
    changed = False
    for key, value in fields.items():
        if getattr(unit, key) != value:
            setattr(unit, key, value)
            changed = True
    if unit.parent_id != parent.id:
        unit.parent_id = parent.id
        unit.depth = parent.depth + 1
        unit.path = ""
        changed = True
    if changed:
        result.updated += 1
    return unit


def import_units(provinces: list[Province]) -> ImportResult:
    """Insert or refresh the given provinces and all their communes, in one transaction.

    The caller commits. Units are added in bulk and flushed once per level, so the whole
    country (34 provinces, 3,321 communes) takes a couple of seconds.
    """
    result = ImportResult()
    existing = {u.code: u for u in db.session.scalars(select(Unit))}
    root = _ensure_nation(existing, result)

    province_units: dict[int, Unit] = {}
    for province in provinces:
        fields = {
            "name": province.name,
            "kind": UnitKind.PROVINCE,
            "division_type": province.division_type.value,
            "codename": province.codename,
            "short_name": province.codename,
        }
        province_units[int(province.code)] = _upsert(
            existing, root, province_code(province), fields, result
        )
        result.provinces += 1
    db.session.flush()
    for unit in province_units.values():
        if not unit.path:
            unit.path = f"{root.path}{unit.id}/"

    wanted = set(province_units)
    communes = []
    for ward in Ward.iter_all():
        parent = province_units.get(int(ward.province_code))
        if parent is None or int(ward.province_code) not in wanted:
            continue
        fields = {
            "name": ward.name,
            "kind": UnitKind.COMMUNE,
            "division_type": ward.division_type.value,
            "codename": ward.codename,
            "short_name": short_name(ward),
        }
        communes.append((parent, _upsert(existing, parent, commune_code(ward), fields, result)))
        result.communes += 1
    db.session.flush()
    for parent, unit in communes:
        expected = f"{parent.path}{unit.id}/"
        if unit.path != expected:
            unit.path = expected
    return result


def all_provinces() -> list[Province]:
    return sorted(Province.iter_all(), key=lambda p: int(p.code))
